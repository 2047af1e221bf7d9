/// A small writer for flattened device trees (DTB format version 17, Devicetree Specification
/// v0.4 chapter 5): build a tree of `FDTNode`s, then `encoded()` gives the blob the kernel reads.
///
///     header (40 bytes) | memory reservation block | structure block | strings block
///
/// All integers are big-endian. Property names live once each in the strings block and are
/// referenced by offset; node names and property values are padded to 4 bytes in the structure
/// block (spec 5.4). Nothing here knows about any particular board.

/// A property value, encoded as the spec's property value types (spec 2.2.4).
public enum FDTValue: Equatable, Sendable {
    /// No value: a boolean property such as `interrupt-controller` or `ranges`.
    case empty
    case u32(UInt32)
    case u64(UInt64)
    /// A `<prop-encoded-array>` of 32-bit cells.
    case u32Array([UInt32])
    /// 64-bit numbers, each as two cells (high first), e.g. `reg` with #address-cells = 2.
    case u64Array([UInt64])
    /// A NUL-terminated string.
    case string(String)
    /// Several NUL-terminated strings back to back, e.g. `compatible`.
    case strings([String])
    case bytes([UInt8])

    /// The bytes stored in the structure block (before padding).
    public var encoded: [UInt8] {
        var out: [UInt8] = []
        switch self {
        case .empty: break
        case .u32(let v): out.appendBigEndian(v)
        case .u64(let v): out.appendBigEndian(v)
        case .u32Array(let vs): for v in vs { out.appendBigEndian(v) }
        case .u64Array(let vs): for v in vs { out.appendBigEndian(v) }
        case .string(let s): out.appendCString(s)
        case .strings(let ss): for s in ss { out.appendCString(s) }
        case .bytes(let bs): out = bs
        }
        return out
    }
}

/// One node: a name (`cpu@0`; the root's is empty), properties in insertion order, children.
public struct FDTNode: Sendable {
    public var name: String
    public private(set) var properties: [(name: String, value: FDTValue)] = []
    public var children: [FDTNode] = []

    public init(_ name: String, _ properties: KeyValuePairs<String, FDTValue> = [:], children: [FDTNode] = []) {
        self.name = name
        for (key, value) in properties { set(key, value) }
        self.children = children
    }

    /// Sets a property, replacing one of the same name (a node's property names are unique, spec 2.2.4).
    public mutating func set(_ name: String, _ value: FDTValue) {
        if let i = properties.firstIndex(where: { $0.name == name }) {
            properties[i].value = value
        } else {
            properties.append((name, value))
        }
    }

    /// Gives the node a phandle, by which other nodes refer to it (spec 2.3.3).
    public mutating func setPhandle(_ phandle: UInt32) {
        set("phandle", .u32(phandle))
    }

    public mutating func add(_ child: FDTNode) {
        children.append(child)
    }

    public func property(_ name: String) -> FDTValue? {
        properties.first(where: { $0.name == name })?.value
    }

    public func child(_ name: String) -> FDTNode? {
        children.first(where: { $0.name == name })
    }
}

/// Hands out unique phandles, starting at 1 (0 and 0xFFFF_FFFF are not valid phandles).
public struct PhandleAllocator: Sendable {
    private var last: UInt32 = 0
    public init() {}
    public mutating func next() -> UInt32 {
        last += 1
        return last
    }
}

public struct FlattenedDeviceTree: Sendable {
    /// A region the client program must not use (spec 5.3), e.g. firmware kept resident.
    public struct MemoryReservation: Equatable, Sendable {
        public var address: UInt64
        public var size: UInt64
        public init(address: UInt64, size: UInt64) {
            self.address = address
            self.size = size
        }
    }

    static let magic: UInt32 = 0xD00D_FEED
    static let version: UInt32 = 17
    static let lastCompatibleVersion: UInt32 = 16
    static let headerSize = 40

    // Structure block tokens (spec 5.4.1).
    static let beginNode: UInt32 = 0x1
    static let endNode: UInt32 = 0x2
    static let prop: UInt32 = 0x3
    static let end: UInt32 = 0x9

    public var root: FDTNode
    public var memoryReservations: [MemoryReservation]
    /// The physical ID of the boot CPU (the header's boot_cpuid_phys).
    public var bootCPU: UInt32

    public init(root: FDTNode, memoryReservations: [MemoryReservation] = [], bootCPU: UInt32 = 0) {
        self.root = root
        self.memoryReservations = memoryReservations
        self.bootCPU = bootCPU
    }

    /// The blob, ready to be copied into guest memory (8-byte aligned there, per spec 5.1).
    public func encoded() -> [UInt8] {
        var strings = FDTStringTable()
        var structure: [UInt8] = []
        Self.emit(root, into: &structure, strings: &strings)
        structure.appendBigEndian(Self.end)

        var reservations: [UInt8] = []
        for r in memoryReservations {
            reservations.appendBigEndian(r.address)
            reservations.appendBigEndian(r.size)
        }
        // The list ends with an entry whose address and size are both 0 (spec 5.3.2).
        reservations.appendBigEndian(UInt64(0))
        reservations.appendBigEndian(UInt64(0))

        // The header is 40 bytes, so the reservation block right after it is 8-byte aligned as
        // required, and the structure block after that (a multiple of 16 bytes) is 4-byte aligned.
        let reservationOffset = Self.headerSize
        let structureOffset = reservationOffset + reservations.count
        let stringsOffset = structureOffset + structure.count
        let totalSize = stringsOffset + strings.bytes.count

        var blob: [UInt8] = []
        blob.reserveCapacity(totalSize)
        for field in [Self.magic, UInt32(totalSize), UInt32(structureOffset), UInt32(stringsOffset),
                      UInt32(reservationOffset), Self.version, Self.lastCompatibleVersion, bootCPU,
                      UInt32(strings.bytes.count), UInt32(structure.count)] {
            blob.appendBigEndian(field)
        }
        blob += reservations
        blob += structure
        blob += strings.bytes
        return blob
    }

    private static func emit(_ node: FDTNode, into out: inout [UInt8], strings: inout FDTStringTable) {
        out.appendBigEndian(beginNode)
        out.appendCString(node.name)
        out.padTo4()
        for (name, value) in node.properties {
            let bytes = value.encoded
            out.appendBigEndian(prop)
            out.appendBigEndian(UInt32(bytes.count))
            out.appendBigEndian(strings.offset(of: name))
            out += bytes
            out.padTo4()
        }
        for child in node.children {
            emit(child, into: &out, strings: &strings)
        }
        out.appendBigEndian(endNode)
    }
}

/// The strings block: each property name stored once, NUL-terminated, found by offset.
fileprivate struct FDTStringTable {
    private(set) var bytes: [UInt8] = []
    private var offsets: [String: UInt32] = [:]

    mutating func offset(of name: String) -> UInt32 {
        if let known = offsets[name] { return known }
        let offset = UInt32(bytes.count)
        bytes.appendCString(name)
        offsets[name] = offset
        return offset
    }
}

fileprivate extension Array where Element == UInt8 {
    mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }

    mutating func appendCString(_ s: String) {
        append(contentsOf: s.utf8)
        append(0)
    }

    mutating func padTo4() {
        while count % 4 != 0 { append(0) }
    }
}
