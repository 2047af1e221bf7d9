/// Byte sizes as users write them on the command line: plain bytes, or a binary suffix as QEMU
/// takes it: `512M`, `512MB`, `512MiB`, `2g`, `64k` (case-insensitive; K/M/G/T are powers of 1024).
public enum SizeParser {
    public static func parse(_ text: String) throws(ConfigError) -> UInt64 {
        let trimmed = text.trimmingWhitespace()
        let digits = trimmed.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let value = UInt64(digits),
              let shift = suffixShift(trimmed.dropFirst(digits.count).lowercased()) else {
            throw ConfigError.notASize(text)
        }
        guard value <= UInt64.max >> shift else { throw ConfigError.notASize(text) }
        return value << shift
    }

    /// The shift a suffix stands for; nil when it is not a size suffix.
    private static func suffixShift(_ suffix: String) -> UInt64? {
        let units: [Character: UInt64] = ["k": 10, "m": 20, "g": 30, "t": 40]
        if suffix.isEmpty || suffix == "b" { return 0 }
        guard let first = suffix.first, let shift = units[first] else { return nil }
        switch suffix.dropFirst() {
        case "", "b", "ib": return shift
        default: return nil
        }
    }

    /// A size for messages: "512 MiB", "1.5 GiB", "4097 bytes".
    public static func format(_ bytes: UInt64) -> String {
        let units: [(shift: UInt64, name: String)] = [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")]
        for unit in units where bytes >= 1 << unit.shift {
            let whole = bytes >> unit.shift
            let tenths = ((bytes & ((1 << unit.shift) - 1)) * 10) >> unit.shift
            return tenths == 0 ? "\(whole) \(unit.name)" : "\(whole).\(tenths) \(unit.name)"
        }
        return bytes == 1 ? "1 byte" : "\(bytes) bytes"
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> Substring {
        let start = firstIndex { !$0.isWhitespace } ?? endIndex
        let end = lastIndex { !$0.isWhitespace }.map { index(after: $0) } ?? start
        return self[start..<end]
    }
}
