/// x86-64 general-purpose registers, numbered as the hardware encodes them: the low three
/// bits go into ModRM/SIB/opcode, bit 3 into REX.R, REX.X or REX.B.
public enum GPR: UInt8, CaseIterable, Sendable {
    case rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi
    case r8, r9, r10, r11, r12, r13, r14, r15

    @inline(__always) var low3: UInt8 { rawValue & 7 }
    @inline(__always) var high: UInt8 { rawValue >> 3 }

    /// As a byte operand, numbers 4-7 mean spl/bpl/sil/dil only when a REX prefix is present;
    /// without one they select the legacy ah/ch/dh/bh, which this assembler never uses.
    @inline(__always) var byteNeedsREX: Bool { (4...7).contains(rawValue) }
}

/// SSE registers xmm0-xmm15; same numbering rules as `GPR`.
public enum XMM: UInt8, CaseIterable, Sendable {
    case xmm0, xmm1, xmm2, xmm3, xmm4, xmm5, xmm6, xmm7
    case xmm8, xmm9, xmm10, xmm11, xmm12, xmm13, xmm14, xmm15
}

/// Operand width of an integer instruction. Byte operations use a distinct opcode, word
/// operations the 0x66 prefix, quadword operations REX.W; doubleword is the default.
/// Writing a doubleword register zero-extends into the full 64-bit register (SDM vol. 1, 3.4.1.1),
/// which is how RISC-V's zero-extending moves come for free.
public enum OperandSize: Int, Sendable {
    case byte = 1, word = 2, dword = 4, qword = 8
}

/// Condition codes as encoded in the low nibble of jcc/setcc/cmovcc.
public enum Condition: UInt8, CaseIterable, Sendable {
    case o = 0   // overflow
    case no      // not overflow
    case b       // below (unsigned <), carry
    case ae      // above or equal (unsigned >=)
    case e       // equal, zero
    case ne      // not equal
    case be      // below or equal (unsigned <=)
    case a       // above (unsigned >)
    case s       // sign
    case ns      // not sign
    case p       // parity (unordered after ucomisd)
    case np      // no parity
    case l       // less (signed <)
    case ge      // greater or equal (signed >=)
    case le      // less or equal (signed <=)
    case g       // greater (signed >)

    /// The opposite condition: the encodings come in pairs differing only in bit 0.
    public var negated: Condition { Condition(rawValue: rawValue ^ 1)! }
}

/// SIB scale factor.
public enum Scale: UInt8, Sendable {
    case x1 = 0, x2 = 1, x4 = 2, x8 = 3
}

/// A memory operand: [base + index * scale + displacement], RIP-relative, or absolute.
public struct Memory: Sendable {
    enum Base: Sendable {
        case register(GPR)
        /// rip + displacement, or rip-relative to a label (resolved by the assembler).
        case rip(Label?)
        /// No base register: disp32 (optionally plus a scaled index) is the address.
        case none
    }

    let base: Base
    let index: GPR?
    let scale: Scale
    let displacement: Int32

    /// [base + displacement]
    public static func at(_ base: GPR, _ displacement: Int32 = 0) -> Memory {
        Memory(base: .register(base), index: nil, scale: .x1, displacement: displacement)
    }

    /// [base + index * scale + displacement]. rsp cannot be an index: SIB index 100 without
    /// REX.X means "no index".
    public static func at(_ base: GPR, index: GPR, scale: Scale = .x1, _ displacement: Int32 = 0) -> Memory {
        precondition(index != .rsp, "rsp cannot be an index register")
        return Memory(base: .register(base), index: index, scale: scale, displacement: displacement)
    }

    /// [index * scale + disp32], no base register.
    public static func indexed(_ index: GPR, scale: Scale, _ displacement: Int32 = 0) -> Memory {
        precondition(index != .rsp, "rsp cannot be an index register")
        return Memory(base: .none, index: index, scale: scale, displacement: displacement)
    }

    /// [disp32], sign-extended to 64 bits: the low and high 2 GiB only.
    public static func absolute(_ address: Int32) -> Memory {
        Memory(base: .none, index: nil, scale: .x1, displacement: address)
    }

    /// [rip + displacement], relative to the end of the instruction.
    public static func rip(_ displacement: Int32) -> Memory {
        Memory(base: .rip(nil), index: nil, scale: .x1, displacement: displacement)
    }

    /// [label + addend], encoded RIP-relative (constant pools, jump tables).
    public static func rip(_ label: Label, _ addend: Int32 = 0) -> Memory {
        Memory(base: .rip(label), index: nil, scale: .x1, displacement: addend)
    }
}

/// A position in the code being assembled; jumps may refer to it before it is bound.
public struct Label: Hashable, Sendable {
    let id: Int
}

/// Branch displacement width. Forward branches cannot know their distance when emitted, so
/// `.automatic` picks rel8 only for backward targets in range and rel32 otherwise.
public enum JumpDistance: Sendable {
    case automatic
    /// rel8: 2 bytes; binding a label farther than -128...127 away is a bug in the caller.
    case short
    /// rel32: 5 bytes (jmp) or 6 (jcc); the form block chaining patches.
    case near
}
