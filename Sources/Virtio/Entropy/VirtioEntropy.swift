import CShims

/// The entropy device, virtio-rng (device ID 4, virtio 1.2 section 5.4): one request queue of
/// device-writable buffers that the device fills with random bytes from the host kernel
/// (getrandom(2)). It has no feature bits and no configuration space.
///
/// Linux reads it through /dev/hwrng and feeds the kernel's entropy pool from it. QEMU adds it
/// with `-device virtio-rng-device`; Trapeze's board always has one.
public final class VirtioEntropy: VirtioDevice {
    public static let queueSize: UInt16 = 64
    /// Bytes given per request at most; the used length tells the driver how many it got
    /// (5.4.6.2 lets the device fill less than the buffer). Bounds the work one chain can ask
    /// for, whatever the buffers' sizes.
    static let maxBytesPerRequest: UInt64 = 64 << 10

    public let deviceType = VirtioDeviceType.entropy
    public let deviceFeatures: VirtioFeatures = []
    public let queueMaxSizes = [VirtioEntropy.queueSize]
    private var chain = DescriptorChain(capacity: Int(VirtioEntropy.queueSize))
    private weak var interrupt: VirtioInterrupt?
    /// Requests served and random bytes given, for `--stats`.
    public private(set) var requests: UInt64 = 0
    public private(set) var bytes: UInt64 = 0

    public init() {}

    public func readConfig(offset: Int, size: Int) -> UInt64 { 0 }

    public var statistics: [String: UInt64] { ["requests": requests, "bytes": bytes] }

    public func activate(features: VirtioFeatures, queues: [Virtqueue], interrupt: VirtioInterrupt) throws(VirtioError) {
        self.interrupt = interrupt
    }

    public func reset() { interrupt = nil }

    public func queueNotified(_ queue: Virtqueue) throws(VirtioError) {
        defer {
            if queue.needsNotification() { interrupt?.usedBuffers(queue: queue.index) }
        }
        while try queue.pop(into: &chain) {
            // Readable buffers, which a driver should not send (5.4.6.1), are left alone.
            var filled: UInt64 = 0
            chain.withSegments(.writable, offset: 0, count: min(chain.writableLength, Self.maxBytesPerRequest)) { p, n in
                guard trapeze_getrandom(p, n) == 0 else { return false }
                filled += UInt64(n)
                return true
            }
            queue.push(chain, written: UInt32(filled))
            requests &+= 1
            bytes &+= filled
        }
    }
}
