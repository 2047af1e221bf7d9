import Virtio

/// One virtio-net device on a host TAP interface: `--net tap=NAME[,mac=XX:XX:XX:XX:XX:XX]`.
public struct NetConfig: Equatable, Sendable {
    /// The host interface, created when missing (as root).
    public var tap: String
    /// The guest's address; nil gives the device's default (`MACAddress.defaultAddress`).
    public var mac: MACAddress?

    public init(tap: String, mac: MACAddress? = nil) {
        self.tap = tap
        self.mac = mac
    }

    /// Parses `tap=NAME[,mac=XX:XX:XX:XX:XX:XX]`, options in any order.
    public init(parsing text: String) throws(ConfigError) {
        guard !text.isEmpty else { throw .netWithoutTap(text) }
        var tap: String?
        var mac: MACAddress?
        for option in text.split(separator: ",", omittingEmptySubsequences: false) {
            let (key, value) = option.firstIndex(of: "=").map { (option[..<$0], String(option[option.index(after: $0)...])) }
                ?? (option, "")
            switch key {
            case "tap" where tap == nil:
                guard Self.isInterfaceName(value) else { throw .tapName(value) }
                tap = value
            case "mac" where mac == nil:
                guard let address = MACAddress(parsing: value), address.isUnicast else { throw .macAddress(value) }
                mac = address
            default:
                throw .netOption(text, option: String(option))
            }
        }
        guard let tap else { throw .netWithoutTap(text) }
        self.init(tap: tap, mac: mac)
    }

    /// What Linux takes as an interface name (dev_valid_name): 1 to 15 bytes (IFNAMSIZ less the
    /// terminator), not "." or "..", no '/', ':' or white space; and no '%', which TUNSETIFF
    /// would take as a pattern for a name of its own choosing.
    static func isInterfaceName(_ name: String) -> Bool {
        (1...15).contains(name.utf8.count) && name != "." && name != ".."
            && !name.contains { $0 == "/" || $0 == ":" || $0 == "%" || $0.isWhitespace }
    }
}

extension VMConfig {
    /// Each network device's address: its `mac=`, or the default for its position.
    public var networkAddresses: [MACAddress] {
        networks.enumerated().map { $1.mac ?? MACAddress.defaultAddress(index: $0) }
    }
}
