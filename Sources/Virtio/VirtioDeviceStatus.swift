/// The device status field (virtio 1.2 section 2.1). The driver sets bits as it initialises the
/// device (3.1.1: ACKNOWLEDGE, DRIVER, features, FEATURES_OK, queues, DRIVER_OK); writing 0
/// resets the device (2.4). DEVICE_NEEDS_RESET is the only bit the device sets.
public struct VirtioDeviceStatus: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// The guest found the device and recognised it as a virtio device.
    public static let acknowledge = VirtioDeviceStatus(rawValue: 1)
    /// The guest knows how to drive the device.
    public static let driver = VirtioDeviceStatus(rawValue: 2)
    /// The driver is set up and ready to drive the device: queues may be used from now on.
    public static let driverOK = VirtioDeviceStatus(rawValue: 4)
    /// The driver acknowledged the features it understands; negotiation is complete. The device
    /// leaves this bit clear when it refuses the accepted subset (2.2.1).
    public static let featuresOK = VirtioDeviceStatus(rawValue: 8)
    /// The device hit an error it cannot recover from (a malformed queue); only a reset helps (2.1.2).
    public static let needsReset = VirtioDeviceStatus(rawValue: 64)
    /// The driver gave up on the device.
    public static let failed = VirtioDeviceStatus(rawValue: 128)
}
