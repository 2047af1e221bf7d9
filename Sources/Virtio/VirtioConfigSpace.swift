/// A device configuration space (virtio 1.2 section 2.5): a little-endian structure the driver
/// reads at any offset and width. Devices lay out their `struct virtio_*_config` here once and
/// answer `readConfig` from it; reads past the end give zeros, as from unimplemented fields.
public struct VirtioConfigSpace: Sendable {
    public private(set) var bytes: [UInt8]

    public init(size: Int) { bytes = Array(repeating: 0, count: size) }

    /// Little-endian read of `size` bytes (1...8) at `offset`; bytes outside the space are 0.
    public func read(offset: Int, size: Int) -> UInt64 {
        guard offset >= 0, (1...8).contains(size) else { return 0 }
        var value: UInt64 = 0
        for i in 0..<size where offset + i < bytes.count {
            value |= UInt64(bytes[offset + i]) << UInt64(8 * i)
        }
        return value
    }

    /// Stores `value` little-endian in `size` bytes at `offset`; the device's own layout code
    /// calls this, so a field that does not fit is a bug of ours.
    public mutating func set(offset: Int, size: Int, _ value: UInt64) {
        precondition(offset >= 0 && offset + size <= bytes.count, "config field outside the space")
        for i in 0..<size { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> UInt64(8 * i)) }
    }
}
