/// Device IDs (virtio 1.2 section 5): what a transport reports as DeviceID.
public enum VirtioDeviceType: UInt32, Sendable {
    case network = 1
    case block = 2
    case console = 3
    case entropy = 4
    case balloon = 5
    case socket = 19
}

/// How a device raises its interrupts without knowing its transport: the MMIO transport turns
/// these into InterruptStatus bits and a PLIC line, a PCI transport would use MSI-X vectors.
public protocol VirtioInterrupt: AnyObject {
    /// A used buffer notification for `queue` (2.3): the device put buffers in its used ring and
    /// the ring's suppression state asked for a notification (`Virtqueue.needsNotification()`).
    func usedBuffers(queue: Int)
    /// A configuration change notification (2.3): the device changed its configuration space.
    func configurationChanged()
    /// The device found the driver broke a queue outside `queueNotified` (virtio-console input
    /// arriving from the host): the transport sets DEVICE_NEEDS_RESET as for a thrown error.
    func deviceFailed(_ error: VirtioError)
}

/// A virtio device as the transport sees it: its identity, features, queues and configuration
/// space. Devices never learn which transport serves them (MMIO today, PCI later) nor which
/// engine runs the guest; they see guest memory only through their `Virtqueue`s.
///
/// The transport owns the device status, feature negotiation, the queues' configuration and
/// the interrupt; it calls `activate` once the driver sets DRIVER_OK and `reset` when the
/// driver writes 0 to the status. A `VirtioError` thrown from `activate` or `queueNotified`
/// makes the transport set DEVICE_NEEDS_RESET and stop calling the device until reset.
public protocol VirtioDevice: AnyObject {
    var deviceType: VirtioDeviceType { get }
    /// Device-type bits (0 to 23) the device offers. The virtio core adds `VirtioFeatures.core`.
    var deviceFeatures: VirtioFeatures { get }
    /// Largest size of each queue; the count is the number of queues.
    var queueMaxSizes: [UInt16] { get }

    /// Reads `size` bytes (1, 2, 4 or 8) of the device configuration space, little-endian (2.5).
    /// Bytes beyond the structure read as 0.
    func readConfig(offset: Int, size: Int) -> UInt64
    /// Writes the configuration space; read-only fields ignore writes.
    func writeConfig(offset: Int, size: Int, value: UInt64)

    /// Whether the device can work with the features the driver accepted (a subset of the
    /// offer); false keeps FEATURES_OK clear (2.2.1). Most devices take any subset.
    func accepts(_ features: VirtioFeatures) -> Bool
    /// The driver set DRIVER_OK: the device may use `queues` (those the driver made ready) from now on.
    func activate(features: VirtioFeatures, queues: [Virtqueue], interrupt: VirtioInterrupt) throws(VirtioError)
    /// Back to the power-on state (2.4): forget queues, negotiated features and requests in flight.
    func reset()
    /// The driver notified `queue` that it has new available buffers (2.9).
    func queueNotified(_ queue: Virtqueue) throws(VirtioError)

    /// What the device did since it was built, by counter name (`--stats`, docs/running.md).
    /// Devices count with plain increments of stored integers where the work happens; this
    /// dictionary is built only when asked, at the end of a run.
    var statistics: [String: UInt64] { get }
}

extension VirtioDevice {
    public func accepts(_ features: VirtioFeatures) -> Bool { true }
    public func writeConfig(offset: Int, size: Int, value: UInt64) {}
}
