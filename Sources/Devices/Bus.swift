/// Maps guest-physical address ranges to MMIO devices.
///
/// Harts (and later the JIT's slow path and the VMM's MMIO emulation) all dispatch here.
/// Lookups are a short linear scan over a handful of ranges, most recently hit first;
/// RAM never comes here (the hart's soft TLB serves it directly).
public final class Bus: @unchecked Sendable {
    public struct Mapping {
        public let base: UInt64
        public let length: UInt64
        public let device: MMIODevice
    }

    public private(set) var mappings: [Mapping] = []
    private var lastHit = 0

    public init() {}

    /// Adds a device. Ranges must not overlap (a board-construction bug if they do).
    public func map(_ device: MMIODevice, at base: UInt64, length: UInt64) {
        precondition(length > 0)
        for m in mappings {
            precondition(base >= m.base &+ m.length || base &+ length <= m.base,
                         "MMIO range of \(device.name) overlaps \(m.device.name)")
        }
        mappings.append(Mapping(base: base, length: length, device: device))
    }

    @inline(__always)
    private func find(_ address: UInt64, _ size: Int) -> (MMIODevice, UInt64)? {
        if lastHit < mappings.count {
            let m = mappings[lastHit]
            let off = address &- m.base
            if address >= m.base && off < m.length && UInt64(size) <= m.length - off { return (m.device, off) }
        }
        for i in mappings.indices {
            let m = mappings[i]
            let off = address &- m.base
            if address >= m.base && off < m.length && UInt64(size) <= m.length - off {
                lastHit = i
                return (m.device, off)
            }
        }
        return nil
    }

    /// Reads `size` bytes; nil when no device answers there (the hart raises an access fault).
    public func read(_ address: UInt64, size: Int) -> UInt64? {
        guard let (dev, off) = find(address, size) else { return nil }
        return dev.read(offset: off, size: size)
    }

    /// Writes `size` bytes; false when no device answers there.
    public func write(_ address: UInt64, size: Int, value: UInt64) -> Bool {
        guard let (dev, off) = find(address, size) else { return false }
        dev.write(offset: off, size: size, value: value)
        return true
    }
}
