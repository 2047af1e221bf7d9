/// Every operation the interpreter executes. Compressed instructions decode to the same
/// operations as their 32-bit expansions (unprivileged spec, chapter "C"), so the executor
/// never sees a compressed form.
public enum Opcode: UInt8, Sendable {
    /// Zero-filled decoded pages read as this: the slot has not been decoded yet.
    case notDecoded = 0
    /// A 32-bit instruction straddling a page boundary: fetched and decoded on every execution,
    /// because its second half depends on the next page's mapping.
    case crossesPage
    case illegal

    // RV64I
    case lui, auipc, jal, jalr
    case beq, bne, blt, bge, bltu, bgeu
    case lb, lh, lw, ld, lbu, lhu, lwu
    case sb, sh, sw, sd
    case addi, slti, sltiu, xori, ori, andi, slli, srli, srai
    case add, sub, sll, slt, sltu, xor, srl, sra, or, and
    case addiw, slliw, srliw, sraiw, addw, subw, sllw, srlw, sraw
    case fence, fenceI, ecall, ebreak
    // Privileged
    case mret, sret, wfi, sfenceVMA
    // Zicsr
    case csrrw, csrrs, csrrc, csrrwi, csrrsi, csrrci
    // M
    case mul, mulh, mulhsu, mulhu, div, divu, rem, remu
    case mulw, divw, divuw, remw, remuw
    // A (W then D)
    case lrW, scW, amoswapW, amoaddW, amoxorW, amoandW, amoorW, amominW, amomaxW, amominuW, amomaxuW
    case lrD, scD, amoswapD, amoaddD, amoxorD, amoandD, amoorD, amominD, amomaxD, amominuD, amomaxuD
    // F
    case flw, fsw
    case fmaddS, fmsubS, fnmsubS, fnmaddS
    case faddS, fsubS, fmulS, fdivS, fsqrtS
    case fsgnjS, fsgnjnS, fsgnjxS, fminS, fmaxS
    case fcvtWS, fcvtWUS, fcvtLS, fcvtLUS, fcvtSW, fcvtSWU, fcvtSL, fcvtSLU
    case fmvXW, fmvWX, feqS, fltS, fleS, fclassS
    // D
    case fld, fsd
    case fmaddD, fmsubD, fnmsubD, fnmaddD
    case faddD, fsubD, fmulD, fdivD, fsqrtD
    case fsgnjD, fsgnjnD, fsgnjxD, fminD, fmaxD
    case fcvtWD, fcvtWUD, fcvtLD, fcvtLUD, fcvtDW, fcvtDWU, fcvtDL, fcvtDLU
    case fcvtSD, fcvtDS
    case fmvXD, fmvDX, feqD, fltD, fleD, fclassD
    // Zba / Zbb (cheap, and compilers emit them for rv64gc_zba_zbb targets)
    case sh1add, sh2add, sh3add, addUW, sh1addUW, sh2addUW, sh3addUW, slliUW
    case andn, orn, xnor, clz, ctz, cpop, clzw, ctzw, cpopw
    case max, maxu, min, minu, sextB, sextH, zextH
    case rol, ror, rori, rolw, rorw, roriw, orcB, rev8
}

/// A decoded instruction: what the executor needs, with no re-decoding.
///
/// `rd` is 32 (a scratch register slot) when the instruction names x0 as destination, so
/// writes to x0 need no check on the hot path.
public struct DecodedInstruction: Sendable, Equatable {
    public var op: Opcode
    public var rd: UInt8
    public var rs1: UInt8
    public var rs2: UInt8
    public var rs3: UInt8
    /// Rounding mode for floating point; unused otherwise.
    public var rm: UInt8
    /// 2 for compressed, 4 otherwise.
    public var length: UInt8
    public var imm: Int64

    public init(op: Opcode, rd: UInt8 = 32, rs1: UInt8 = 0, rs2: UInt8 = 0, rs3: UInt8 = 0,
                rm: UInt8 = 0, length: UInt8 = 4, imm: Int64 = 0) {
        self.op = op
        self.rd = rd
        self.rs1 = rs1
        self.rs2 = rs2
        self.rs3 = rs3
        self.rm = rm
        self.length = length
        self.imm = imm
    }

    public static let illegal = DecodedInstruction(op: .illegal)
}
