/// Feature bits (virtio 1.2 section 2.2): 64 bits the device offers and the driver accepts a
/// subset of. Bits 0 to 23 (and 50 to 127) belong to the device type; 24 to 40 are reserved for
/// the queue and the transport (section 6).
///
/// Device types declare their own bits as static members in their own files
/// (`VirtioFeatures.blockReadOnly`, ...), so each device's bits sit next to the code that acts on them.
public struct VirtioFeatures: OptionSet, Hashable, Sendable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(bit: Int) { self.rawValue = 1 << UInt64(bit) }

    /// VIRTIO_F_INDIRECT_DESC (28): descriptors may point at tables of descriptors (2.7.5.3).
    public static let indirectDescriptors = VirtioFeatures(bit: 28)
    /// VIRTIO_F_EVENT_IDX (29): `used_event` and `avail_event` replace the ring flags (2.7.7, 2.7.10).
    public static let ringEventIndex = VirtioFeatures(bit: 29)
    /// VIRTIO_F_VERSION_1 (32): a modern (non-legacy) device; every device offers it (6.1).
    public static let version1 = VirtioFeatures(bit: 32)

    /// Bits the virtio core offers for every device: the modern interface and the two queue
    /// features `Virtqueue` and `DescriptorChain` implement. Devices offer only their own bits.
    public static let core: VirtioFeatures = [.version1, .indirectDescriptors, .ringEventIndex]

    /// Bits 0 to 23: the device type's own features.
    public static let deviceTypeBits = VirtioFeatures(rawValue: 0x00FF_FFFF)

    /// One 32-bit half, as the MMIO transport's DeviceFeatures/DriverFeatures registers expose it
    /// (`select` 0: bits 0 to 31, 1: bits 32 to 63, anything else: no bits).
    public func word(_ select: UInt32) -> UInt32 {
        switch select {
        case 0: return UInt32(truncatingIfNeeded: rawValue)
        case 1: return UInt32(truncatingIfNeeded: rawValue >> 32)
        default: return 0
        }
    }

    /// This set with one 32-bit half replaced; halves beyond bit 63 are ignored.
    public func replacingWord(_ select: UInt32, with value: UInt32) -> VirtioFeatures {
        switch select {
        case 0: return VirtioFeatures(rawValue: (rawValue & 0xFFFF_FFFF_0000_0000) | UInt64(value))
        case 1: return VirtioFeatures(rawValue: (rawValue & 0x0000_0000_FFFF_FFFF) | UInt64(value) << 32)
        default: return self
        }
    }
}
