/// An Ethernet (IEEE 802) MAC address: six bytes, written `52:54:00:12:34:56`.
public struct MACAddress: Equatable, Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    /// The six bytes; the caller gives exactly six.
    public init(_ bytes: [UInt8]) {
        precondition(bytes.count == 6, "a MAC address has six bytes")
        self.bytes = bytes
    }

    /// Parses six two-digit hex bytes separated by colons; nil for anything else.
    public init?(parsing text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard part.count == 2, part.allSatisfy(\.isHexDigit), let byte = UInt8(part, radix: 16) else { return nil }
            bytes.append(byte)
        }
        self.init(bytes)
    }

    /// The default address of the `index`th network device: QEMU's 52:54:00:12:34:56, then :57,
    /// :58, ... (52:54:00 is the locally administered prefix QEMU and libvirt guests use).
    public static func defaultAddress(index: Int) -> MACAddress {
        MACAddress([0x52, 0x54, 0x00, 0x12, 0x34, UInt8(truncatingIfNeeded: 0x56 + index)])
    }

    /// Bit 0 of the first byte: a group address, which no interface may have as its own.
    public var isMulticast: Bool { bytes[0] & 1 != 0 }

    /// An address an interface can have: not a group address (broadcast included) and not all zeros,
    /// which Linux refuses as a device address (is_valid_ether_addr).
    public var isUnicast: Bool { !isMulticast && bytes.contains { $0 != 0 } }

    public var description: String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: ":")
    }
}
