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
    // Hypervisor (privileged spec 8.3): fences, and virtual-machine loads and stores
    case hfenceVVMA, hfenceGVMA
    case hlvB, hlvBU, hlvH, hlvHU, hlvxHU, hlvW, hlvWU, hlvxWU, hlvD
    case hsvB, hsvH, hsvW, hsvD
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

/// A decoded instruction: what the executor needs, with no re-decoding, packed into 8 bytes so
/// a decoded page (one slot per halfword) stays small in the host's caches.
///
/// `rd` is 32 (a scratch register slot) when the instruction names x0 as destination, so
/// writes to x0 need no check on the hot path. Floating-point arithmetic has no immediate, so
/// its rounding mode and third source share the immediate's bits.
public struct DecodedInstruction: Sendable, Equatable {
    public var op: Opcode
    public var rd: UInt8
    /// rs1 in bits 0-5; bit 7 set for a compressed (2-byte) instruction.
    var rs1AndLength: UInt8
    public var rs2: UInt8
    /// The immediate, or `rs3 << 8 | rm` for floating-point arithmetic.
    var packedImmediate: Int32

    public init(op: Opcode, rd: UInt8 = 32, rs1: UInt8 = 0, rs2: UInt8 = 0, rs3: UInt8 = 0,
                rm: UInt8 = 0, length: UInt8 = 4, imm: Int64 = 0) {
        self.op = op
        self.rd = rd
        self.rs1AndLength = (rs1 & 0x3f) | (length == 2 ? 0x80 : 0)
        self.rs2 = rs2
        if rs3 != 0 || rm != 0 {
            packedImmediate = Int32(rs3) << 8 | Int32(rm)
        } else {
            packedImmediate = Int32(truncatingIfNeeded: imm)
        }
    }

    @inline(__always) public var rs1: UInt8 { rs1AndLength & 0x3f }
    @inline(__always) public var length: UInt8 { rs1AndLength & 0x80 != 0 ? 2 : 4 }
    /// Every RV64GC immediate fits in 32 bits, sign-extended.
    @inline(__always) public var imm: Int64 {
        get { Int64(packedImmediate) }
        set { packedImmediate = Int32(truncatingIfNeeded: newValue) }
    }
    @inline(__always) public var rm: UInt8 { UInt8(truncatingIfNeeded: packedImmediate) & 7 }
    @inline(__always) public var rs3: UInt8 { UInt8(truncatingIfNeeded: packedImmediate >> 8) & 31 }

    public static let illegal = DecodedInstruction(op: .illegal)
}
