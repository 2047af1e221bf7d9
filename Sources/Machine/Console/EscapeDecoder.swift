/// The console's escape key, as in QEMU's `-nographic` stdio mux: Ctrl-A, then a command key.
///
///     C-a x    quit the emulator
///     C-a h    print help (also C-a ?)
///     C-a C-a  send one C-a to the guest
///
/// Any other key after C-a is swallowed with the C-a, as QEMU does.
struct EscapeDecoder {
    static let escapeByte: UInt8 = 0x01 // Ctrl-A

    enum Action: Equatable {
        case forward(UInt8)
        case swallow
        case quit
        case help
    }

    private var sawEscape = false

    mutating func feed(_ byte: UInt8) -> Action {
        guard sawEscape else {
            if byte == Self.escapeByte {
                sawEscape = true
                return .swallow
            }
            return .forward(byte)
        }
        sawEscape = false
        switch byte {
        case Self.escapeByte: return .forward(Self.escapeByte)
        case UInt8(ascii: "x"), UInt8(ascii: "X"): return .quit
        case UInt8(ascii: "h"), UInt8(ascii: "H"), UInt8(ascii: "?"): return .help
        default: return .swallow
        }
    }

    /// Raw mode is on, so lines end in "\r\n" explicitly.
    static let helpText = "\r\nC-a h    print this help\r\nC-a x    exit trapeze\r\nC-a C-a  send C-a to the guest\r\n"
}
