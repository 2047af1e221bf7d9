import CShims

/// Errors a user can act on when guest memory cannot be set up or loaded.
public enum GuestMemoryError: Error, CustomStringConvertible {
    case cannotMap(bytes: UInt64)
    case outOfRange(address: UInt64, length: UInt64, what: String)

    public var description: String {
        switch self {
        case .cannotMap(let bytes):
            return "cannot reserve \(bytes >> 20) MiB of host memory for guest RAM; choose a smaller --memory"
        case .outOfRange(let address, let length, let what):
            return "\(what) (\(length) bytes at 0x\(String(address, radix: 16))) does not fit in guest RAM; give the VM more --memory"
        }
    }
}

/// Guest-physical RAM: one contiguous region backed by an anonymous host mapping.
///
/// This is the only place that turns a guest-physical address into a host pointer and the only
/// place that checks bounds. Everything the guest can name (an address, a length) is validated
/// here before any host pointer is formed.
public final class GuestMemory: @unchecked Sendable {
    /// Guest-physical address of the first byte of RAM.
    public let base: UInt64
    /// Size of RAM in bytes.
    public let size: UInt64
    /// Host address of the first byte of RAM. Only the hart's soft TLB and this type use it directly.
    public let host: UnsafeMutableRawPointer
    /// The region that owns the host mapping when this is a view of its first bytes (nil when
    /// this region owns it).
    let owner: GuestMemory?

    public init(base: UInt64, size: UInt64) throws {
        guard size > 0, let p = trapeze_map_anonymous(Int(size)) else {
            throw GuestMemoryError.cannotMap(bytes: size)
        }
        self.base = base
        self.size = size
        self.host = p
        self.owner = nil
    }

    /// The first `size` bytes of `memory` as a region of their own. Under a VMM, machine memory
    /// holds the guest's RAM followed by the VMM's private pages (shadow page tables); devices,
    /// loaders and hypercalls get this view, so nothing the guest names can reach past its RAM.
    public init(prefixOf memory: GuestMemory, size: UInt64) {
        precondition(size > 0 && size <= memory.size, "a view must lie inside its region")
        self.base = memory.base
        self.size = size
        self.host = memory.host
        self.owner = memory
    }

    deinit { if owner == nil { _ = trapeze_unmap(host, Int(size)) } }

    /// Told about every write a device makes (DMA into guest buffers), so that code derived
    /// from that memory (decoded instructions, translated blocks) is dropped, as a hart's own
    /// stores drop it. Set once when the machine is assembled.
    public var deviceWriteObserver: ((_ address: UInt64, _ length: UInt64) -> Void)?

    /// Reports a device write of `length` bytes at guest-physical `address`.
    @inline(__always)
    public func noteDeviceWrite(_ address: UInt64, length: UInt64) {
        deviceWriteObserver?(address, length)
    }

    /// One past the last guest-physical address of RAM.
    @inlinable public var end: UInt64 { base &+ size }

    /// True when `[address, address + length)` lies entirely inside RAM (overflow-safe).
    @inlinable @inline(__always)
    public func contains(_ address: UInt64, length: UInt64 = 1) -> Bool {
        let offset = address &- base
        return address >= base && offset < size && length <= size - offset
    }

    /// Host pointer for `[address, address + length)`, or nil when any byte lies outside RAM.
    @inlinable @inline(__always)
    public func pointer(_ address: UInt64, length: UInt64 = 1) -> UnsafeMutableRawPointer? {
        guard contains(address, length: length) else { return nil }
        return host + Int(address &- base)
    }

    /// Little-endian load of a fixed-width integer; nil outside RAM.
    @inlinable @inline(__always)
    public func load<T: FixedWidthInteger>(_ address: UInt64, as type: T.Type = T.self) -> T? {
        guard let p = pointer(address, length: UInt64(MemoryLayout<T>.size)) else { return nil }
        return T(littleEndian: p.loadUnaligned(as: T.self))
    }

    /// Little-endian store; returns false (and writes nothing) outside RAM.
    @inlinable @inline(__always) @discardableResult
    public func store<T: FixedWidthInteger>(_ address: UInt64, _ value: T) -> Bool {
        guard let p = pointer(address, length: UInt64(MemoryLayout<T>.size)) else { return false }
        p.storeBytes(of: value.littleEndian, as: T.self)
        return true
    }

    /// Copies host bytes into guest RAM, for loaders. Throws when the range does not fit.
    public func copyIn(_ bytes: UnsafeRawBufferPointer, at address: UInt64, what: String) throws {
        guard let p = pointer(address, length: UInt64(bytes.count)) else {
            throw GuestMemoryError.outOfRange(address: address, length: UInt64(bytes.count), what: what)
        }
        if let src = bytes.baseAddress, bytes.count > 0 { p.copyMemory(from: src, byteCount: bytes.count) }
    }

    public func copyIn(_ bytes: [UInt8], at address: UInt64, what: String) throws {
        try bytes.withUnsafeBytes { try copyIn($0, at: address, what: what) }
    }

    /// Copies guest bytes out; nil when the range is not inside RAM.
    public func copyOut(_ address: UInt64, length: Int) -> [UInt8]? {
        guard length >= 0, let p = pointer(address, length: UInt64(length)) else { return nil }
        return Array(UnsafeRawBufferPointer(start: p, count: length))
    }

    /// Zeroes all of RAM (used on reboot): the guest sees fresh, zeroed memory as on power-up.
    public func clear() { host.initializeMemory(as: UInt8.self, repeating: 0, count: Int(size)) }
}
