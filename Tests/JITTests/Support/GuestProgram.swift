/// A generated guest program before layout: instructions (each 2 or 4 bytes, fixed when it is
/// emitted) and labels, so pc-relative operands are encoded once every label has an address.
struct ProgramInstruction {
    let size: Int
    let text: String
    /// A pc-relative operand: the offset is `address(target) - address(anchor ?? self)`.
    var target: Int? = nil
    var anchor: Int? = nil
    /// The encoding, given the pc-relative offset (0 when there is no target).
    let encode: (Int64) -> UInt32

    static func word(_ w: UInt32, _ text: String) -> ProgramInstruction {
        ProgramInstruction(size: 4, text: text) { _ in w }
    }
    static func half(_ h: UInt16, _ text: String) -> ProgramInstruction {
        ProgramInstruction(size: 2, text: text) { _ in UInt32(h) }
    }
    /// A no-op of the same size (what the reproducer minimiser puts in place of an instruction).
    var nop: ProgramInstruction {
        size == 2 ? .half(CAsm.nop, "c.nop") : .word(Asm.addi(0, 0, 0), "nop")
    }
}

enum ProgramPiece {
    case instruction(ProgramInstruction)
    case label(Int)

    var size: Int {
        if case .instruction(let i) = self { return i.size }
        return 0
    }
}

/// Appends pieces and hands out label numbers; generators work on one of these.
struct ProgramBuilder {
    private(set) var pieces: [ProgramPiece] = []
    private var labels = 0

    mutating func newLabel() -> Int {
        labels += 1
        return labels - 1
    }
    mutating func bind(_ label: Int) { pieces.append(.label(label)) }
    mutating func emit(_ i: ProgramInstruction) { pieces.append(.instruction(i)) }
    mutating func word(_ w: UInt32, _ text: String) { emit(.word(w, text)) }
    mutating func half(_ h: UInt16, _ text: String) { emit(.half(h, text)) }
    mutating func append(_ other: [ProgramPiece]) { pieces += other }

    /// Moves out what was emitted since `mark` (to measure it before placing a branch over it).
    mutating func take(from mark: Int) -> [ProgramPiece] {
        let tail = Array(pieces[mark...])
        pieces.removeSubrange(mark...)
        return tail
    }
    var mark: Int { pieces.count }

    static func bytes(_ pieces: [ProgramPiece]) -> Int { pieces.reduce(0) { $0 + $1.size } }
}

/// A laid-out program: its bytes at `start` and one listing line per instruction.
struct AssembledProgram {
    struct Line {
        let address: UInt64
        let size: Int
        let encoding: UInt32
        let text: String
    }

    let start: UInt64
    let bytes: [UInt8]
    let lines: [Line]
    let labelAddresses: [Int: UInt64]

    init(_ pieces: [ProgramPiece], at start: UInt64) {
        self.start = start
        var addresses: [Int: UInt64] = [:]
        var pc = start
        for piece in pieces {
            switch piece {
            case .label(let l): addresses[l] = pc
            case .instruction(let i): pc += UInt64(i.size)
            }
        }
        var bytes: [UInt8] = []
        var lines: [Line] = []
        pc = start
        for case .instruction(let i) in pieces {
            var offset: Int64 = 0
            if let target = i.target, let to = addresses[target] {
                let from = i.anchor.flatMap { addresses[$0] } ?? pc
                offset = Int64(bitPattern: to &- from)
            }
            let encoding = i.encode(offset)
            for b in 0..<i.size { bytes.append(UInt8(truncatingIfNeeded: encoding >> (8 * UInt32(b)))) }
            lines.append(Line(address: pc, size: i.size, encoding: encoding, text: i.text))
            pc += UInt64(i.size)
        }
        self.bytes = bytes
        self.lines = lines
        labelAddresses = addresses
    }

    /// "0x80001004: 00a28293  addi x5, x5, 10" per instruction; `skippingNops` drops the
    /// no-ops a minimised reproducer is padded with.
    func listing(skippingNops: Bool = false) -> String {
        lines.filter { !skippingNops || ($0.text != "nop" && $0.text != "c.nop") }.map { line in
            let digits = line.size == 2 ? 4 : 8
            let word = String(line.encoding, radix: 16)
            return "  0x\(String(line.address, radix: 16)): \(String(repeating: "0", count: digits - word.count))\(word)"
                + "  \(line.text)"
        }.joined(separator: "\n")
    }
}
