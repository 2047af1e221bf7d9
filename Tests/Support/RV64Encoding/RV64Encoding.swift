/// RISC-V instruction encoders and a seeded random number generator for the unit tests
/// (RISCVTests, JITTests): one copy, so every test encodes instructions the same way.

/// A tiny RV64GC encoder: exactly the formats of the unprivileged spec's base opcode map.
public enum Asm {
    public struct R: Sendable {
        public let opcode: UInt32, f3: UInt32, f7: UInt32
        public init(opcode: UInt32, f3: UInt32, f7: UInt32) { self.opcode = opcode; self.f3 = f3; self.f7 = f7 }
    }
    public struct I: Sendable {
        public let opcode: UInt32, f3: UInt32
        public init(opcode: UInt32, f3: UInt32) { self.opcode = opcode; self.f3 = f3 }
    }

    public static func r(_ op: R, _ rd: Int, _ rs1: Int, _ rs2: Int) -> UInt32 {
        op.f7 << 25 | UInt32(rs2) << 20 | UInt32(rs1) << 15 | op.f3 << 12 | UInt32(rd) << 7 | op.opcode
    }
    public static func i(_ op: I, _ rd: Int, _ rs1: Int, _ imm: Int64) -> UInt32 {
        UInt32(truncatingIfNeeded: imm & 0xfff) << 20 | UInt32(rs1) << 15 | op.f3 << 12 | UInt32(rd) << 7 | op.opcode
    }
    public static func s(_ f3: UInt32, _ rs2: Int, _ rs1: Int, _ imm: Int64, opcode: UInt32 = 0x23) -> UInt32 {
        let u = UInt32(truncatingIfNeeded: imm & 0xfff)
        return (u >> 5) << 25 | UInt32(rs2) << 20 | UInt32(rs1) << 15 | f3 << 12 | (u & 31) << 7 | opcode
    }
    public static func b(_ f3: UInt32, _ rs1: Int, _ rs2: Int, _ imm: Int64) -> UInt32 {
        let u = UInt32(truncatingIfNeeded: imm & 0x1fff)
        return ((u >> 12) & 1) << 31 | ((u >> 5) & 0x3f) << 25 | UInt32(rs2) << 20 | UInt32(rs1) << 15
            | f3 << 12 | ((u >> 1) & 0xf) << 8 | ((u >> 11) & 1) << 7 | 0x63
    }
    /// `imm` is the full value whose low 12 bits are zero (lui x, imm20 << 12).
    public static func u(_ opcode: UInt32, _ rd: Int, _ imm: Int64) -> UInt32 {
        UInt32(truncatingIfNeeded: imm) & 0xffff_f000 | UInt32(rd) << 7 | opcode
    }
    public static func j(_ rd: Int, _ imm: Int64) -> UInt32 {
        let u = UInt32(truncatingIfNeeded: imm & 0x1f_ffff)
        return ((u >> 20) & 1) << 31 | ((u >> 1) & 0x3ff) << 21 | ((u >> 11) & 1) << 20
            | ((u >> 12) & 0xff) << 12 | UInt32(rd) << 7 | 0x6f
    }

    // RV64I
    public static func lui(_ rd: Int, _ imm: Int64) -> UInt32 { u(0x37, rd, imm) }
    public static func auipc(_ rd: Int, _ imm: Int64) -> UInt32 { u(0x17, rd, imm) }
    public static func jal(_ rd: Int, _ imm: Int64) -> UInt32 { j(rd, imm) }
    public static func jalr(_ rd: Int, _ rs1: Int, _ imm: Int64) -> UInt32 { i(I(opcode: 0x67, f3: 0), rd, rs1, imm) }
    public static let beq: UInt32 = 0, bne: UInt32 = 1, blt: UInt32 = 4, bge: UInt32 = 5, bltu: UInt32 = 6, bgeu: UInt32 = 7
    public static let lb = I(opcode: 3, f3: 0), lh = I(opcode: 3, f3: 1), lw = I(opcode: 3, f3: 2), ld = I(opcode: 3, f3: 3)
    public static let lbu = I(opcode: 3, f3: 4), lhu = I(opcode: 3, f3: 5), lwu = I(opcode: 3, f3: 6)
    public static func sb(_ rs2: Int, _ rs1: Int, _ imm: Int64) -> UInt32 { s(0, rs2, rs1, imm) }
    public static func sh(_ rs2: Int, _ rs1: Int, _ imm: Int64) -> UInt32 { s(1, rs2, rs1, imm) }
    public static func sw(_ rs2: Int, _ rs1: Int, _ imm: Int64) -> UInt32 { s(2, rs2, rs1, imm) }
    public static func sd(_ rs2: Int, _ rs1: Int, _ imm: Int64) -> UInt32 { s(3, rs2, rs1, imm) }
    public static let addi = I(opcode: 0x13, f3: 0), slti = I(opcode: 0x13, f3: 2), sltiu = I(opcode: 0x13, f3: 3)
    public static let xori = I(opcode: 0x13, f3: 4), ori = I(opcode: 0x13, f3: 6), andi = I(opcode: 0x13, f3: 7)
    public static let addiw = I(opcode: 0x1b, f3: 0)
    public static func addi(_ rd: Int, _ rs1: Int, _ imm: Int64) -> UInt32 { i(addi, rd, rs1, imm) }
    public static func load(_ op: I, _ rd: Int, _ rs1: Int, _ imm: Int64) -> UInt32 { i(op, rd, rs1, imm) }
    public static func ld(_ rd: Int, _ rs1: Int, _ imm: Int64) -> UInt32 { i(ld, rd, rs1, imm) }
    public static func lw(_ rd: Int, _ rs1: Int, _ imm: Int64) -> UInt32 { i(lw, rd, rs1, imm) }
    public static func lhu(_ rd: Int, _ rs1: Int, _ imm: Int64) -> UInt32 { i(lhu, rd, rs1, imm) }

    /// Shift-immediate: `top` is the funct6 (64-bit shifts) or funct7 (W shifts) above the shamt.
    public struct Shift: Sendable {
        public let opcode: UInt32, f3: UInt32, top: UInt32, shamtBits: UInt32
        public init(opcode: UInt32, f3: UInt32, top: UInt32, shamtBits: UInt32) {
            self.opcode = opcode; self.f3 = f3; self.top = top; self.shamtBits = shamtBits
        }
    }
    public static let slli = Shift(opcode: 0x13, f3: 1, top: 0x00, shamtBits: 6)
    public static let srli = Shift(opcode: 0x13, f3: 5, top: 0x00, shamtBits: 6)
    public static let srai = Shift(opcode: 0x13, f3: 5, top: 0x10, shamtBits: 6)
    public static let rori = Shift(opcode: 0x13, f3: 5, top: 0x18, shamtBits: 6)
    public static let slliuw = Shift(opcode: 0x1b, f3: 1, top: 0x02, shamtBits: 6)
    public static let slliw = Shift(opcode: 0x1b, f3: 1, top: 0x00, shamtBits: 5)
    public static let srliw = Shift(opcode: 0x1b, f3: 5, top: 0x00, shamtBits: 5)
    public static let sraiw = Shift(opcode: 0x1b, f3: 5, top: 0x20, shamtBits: 5)
    public static let roriw = Shift(opcode: 0x1b, f3: 5, top: 0x30, shamtBits: 5)
    public static func shift(_ op: Shift, _ rd: Int, _ rs1: Int, _ shamt: UInt32) -> UInt32 {
        let imm = op.top << op.shamtBits | shamt
        return imm << 20 | UInt32(rs1) << 15 | op.f3 << 12 | UInt32(rd) << 7 | op.opcode
    }

    public static let add = R(opcode: 0x33, f3: 0, f7: 0), sub = R(opcode: 0x33, f3: 0, f7: 0x20)
    public static let sll = R(opcode: 0x33, f3: 1, f7: 0), slt = R(opcode: 0x33, f3: 2, f7: 0)
    public static let sltu = R(opcode: 0x33, f3: 3, f7: 0), xor = R(opcode: 0x33, f3: 4, f7: 0)
    public static let srl = R(opcode: 0x33, f3: 5, f7: 0), sra = R(opcode: 0x33, f3: 5, f7: 0x20)
    public static let or = R(opcode: 0x33, f3: 6, f7: 0), and = R(opcode: 0x33, f3: 7, f7: 0)
    public static let addw = R(opcode: 0x3b, f3: 0, f7: 0), subw = R(opcode: 0x3b, f3: 0, f7: 0x20)
    public static let sllw = R(opcode: 0x3b, f3: 1, f7: 0), srlw = R(opcode: 0x3b, f3: 5, f7: 0)
    public static let sraw = R(opcode: 0x3b, f3: 5, f7: 0x20)
    // M
    public static let mul = R(opcode: 0x33, f3: 0, f7: 1), mulh = R(opcode: 0x33, f3: 1, f7: 1)
    public static let mulhsu = R(opcode: 0x33, f3: 2, f7: 1), mulhu = R(opcode: 0x33, f3: 3, f7: 1)
    public static let div = R(opcode: 0x33, f3: 4, f7: 1), divu = R(opcode: 0x33, f3: 5, f7: 1)
    public static let rem = R(opcode: 0x33, f3: 6, f7: 1), remu = R(opcode: 0x33, f3: 7, f7: 1)
    public static let mulw = R(opcode: 0x3b, f3: 0, f7: 1), divw = R(opcode: 0x3b, f3: 4, f7: 1)
    public static let divuw = R(opcode: 0x3b, f3: 5, f7: 1), remw = R(opcode: 0x3b, f3: 6, f7: 1)
    public static let remuw = R(opcode: 0x3b, f3: 7, f7: 1)
    // Zba
    public static let sh1add = R(opcode: 0x33, f3: 2, f7: 0x10), sh2add = R(opcode: 0x33, f3: 4, f7: 0x10)
    public static let sh3add = R(opcode: 0x33, f3: 6, f7: 0x10), adduw = R(opcode: 0x3b, f3: 0, f7: 0x04)
    public static let sh1adduw = R(opcode: 0x3b, f3: 2, f7: 0x10), sh2adduw = R(opcode: 0x3b, f3: 4, f7: 0x10)
    public static let sh3adduw = R(opcode: 0x3b, f3: 6, f7: 0x10)
    // Zbb
    public static let andn = R(opcode: 0x33, f3: 7, f7: 0x20), orn = R(opcode: 0x33, f3: 6, f7: 0x20)
    public static let xnor = R(opcode: 0x33, f3: 4, f7: 0x20)
    public static let max = R(opcode: 0x33, f3: 6, f7: 0x05), maxu = R(opcode: 0x33, f3: 7, f7: 0x05)
    public static let min = R(opcode: 0x33, f3: 4, f7: 0x05), minu = R(opcode: 0x33, f3: 5, f7: 0x05)
    public static let rol = R(opcode: 0x33, f3: 1, f7: 0x30), ror = R(opcode: 0x33, f3: 5, f7: 0x30)
    public static let rolw = R(opcode: 0x3b, f3: 1, f7: 0x30), rorw = R(opcode: 0x3b, f3: 5, f7: 0x30)
    /// Zbb unary ops: OP-IMM (or OP-IMM-32) with a fixed imm12.
    public static func unary(_ imm12: UInt32, _ rd: Int, _ rs1: Int, opcode: UInt32 = 0x13, f3: UInt32 = 1) -> UInt32 {
        imm12 << 20 | UInt32(rs1) << 15 | f3 << 12 | UInt32(rd) << 7 | opcode
    }
    public static func clz(_ rd: Int, _ rs1: Int) -> UInt32 { unary(0x600, rd, rs1) }
    public static func ctz(_ rd: Int, _ rs1: Int) -> UInt32 { unary(0x601, rd, rs1) }
    public static func cpop(_ rd: Int, _ rs1: Int) -> UInt32 { unary(0x602, rd, rs1) }
    public static func sextb(_ rd: Int, _ rs1: Int) -> UInt32 { unary(0x604, rd, rs1) }
    public static func sexth(_ rd: Int, _ rs1: Int) -> UInt32 { unary(0x605, rd, rs1) }
    public static func clzw(_ rd: Int, _ rs1: Int) -> UInt32 { unary(0x600, rd, rs1, opcode: 0x1b) }
    public static func ctzw(_ rd: Int, _ rs1: Int) -> UInt32 { unary(0x601, rd, rs1, opcode: 0x1b) }
    public static func cpopw(_ rd: Int, _ rs1: Int) -> UInt32 { unary(0x602, rd, rs1, opcode: 0x1b) }
    public static func orcb(_ rd: Int, _ rs1: Int) -> UInt32 { unary(0x287, rd, rs1, f3: 5) }
    public static func rev8(_ rd: Int, _ rs1: Int) -> UInt32 { unary(0x6b8, rd, rs1, f3: 5) }
    public static func zexth(_ rd: Int, _ rs1: Int) -> UInt32 { r(R(opcode: 0x3b, f3: 4, f7: 0x04), rd, rs1, 0) }

    // System
    public static let ecall: UInt32 = 0x0000_0073, ebreak: UInt32 = 0x0010_0073
    public static let sret: UInt32 = 0x1020_0073, mret: UInt32 = 0x3020_0073, wfi: UInt32 = 0x1050_0073
    public static let fence: UInt32 = 0x0ff0_000f, fenceI: UInt32 = 0x0000_100f
    public static func sfenceVMA(_ rs1: Int = 0, _ rs2: Int = 0) -> UInt32 {
        0x09 << 25 | UInt32(rs2) << 20 | UInt32(rs1) << 15 | 0x73
    }
    public static func csrrw(_ rd: Int, _ csr: UInt16, _ rs1: Int) -> UInt32 { csrOp(1, rd, csr, rs1) }
    public static func csrrs(_ rd: Int, _ csr: UInt16, _ rs1: Int) -> UInt32 { csrOp(2, rd, csr, rs1) }
    public static func csrrc(_ rd: Int, _ csr: UInt16, _ rs1: Int) -> UInt32 { csrOp(3, rd, csr, rs1) }
    public static func csrrwi(_ rd: Int, _ csr: UInt16, _ imm: Int) -> UInt32 { csrOp(5, rd, csr, imm) }
    public static func csrrsi(_ rd: Int, _ csr: UInt16, _ imm: Int) -> UInt32 { csrOp(6, rd, csr, imm) }
    public static func csrrci(_ rd: Int, _ csr: UInt16, _ imm: Int) -> UInt32 { csrOp(7, rd, csr, imm) }
    public static func csrOp(_ f3: UInt32, _ rd: Int, _ csr: UInt16, _ rs1: Int) -> UInt32 {
        UInt32(csr) << 20 | UInt32(rs1) << 15 | f3 << 12 | UInt32(rd) << 7 | 0x73
    }

    // A: funct5 values of the unprivileged spec's RV32A/RV64A table.
    public enum AMO: UInt32, CaseIterable, Sendable {
        case add = 0x00, swap = 0x01, lr = 0x02, sc = 0x03, xor = 0x04, or = 0x08, and = 0x0c
        case min = 0x10, max = 0x14, minu = 0x18, maxu = 0x1c
    }
    public static func amo(_ op: AMO, word: Bool, _ rd: Int, _ rs1: Int, _ rs2: Int, aq: Bool = false, rl: Bool = false) -> UInt32 {
        op.rawValue << 27 | (aq ? 1 << 26 : 0) | (rl ? 1 << 25 : 0) | UInt32(rs2) << 20 | UInt32(rs1) << 15
            | (word ? 2 : 3) << 12 | UInt32(rd) << 7 | 0x2f
    }

    // F / D
    public static func flw(_ rd: Int, _ rs1: Int, _ imm: Int64) -> UInt32 { i(I(opcode: 0x07, f3: 2), rd, rs1, imm) }
    public static func fld(_ rd: Int, _ rs1: Int, _ imm: Int64) -> UInt32 { i(I(opcode: 0x07, f3: 3), rd, rs1, imm) }
    public static func fsw(_ rs2: Int, _ rs1: Int, _ imm: Int64) -> UInt32 { s(2, rs2, rs1, imm, opcode: 0x27) }
    public static func fsd(_ rs2: Int, _ rs1: Int, _ imm: Int64) -> UInt32 { s(3, rs2, rs1, imm, opcode: 0x27) }
    /// OP-FP with funct7, rs2 field and rm/funct3.
    public static func fp(_ f7: UInt32, _ rd: Int, _ rs1: Int, _ rs2: Int, rm: UInt32) -> UInt32 {
        f7 << 25 | UInt32(rs2) << 20 | UInt32(rs1) << 15 | rm << 12 | UInt32(rd) << 7 | 0x53
    }
    public static func faddS(_ rd: Int, _ rs1: Int, _ rs2: Int, rm: UInt32 = 7) -> UInt32 { fp(0x00, rd, rs1, rs2, rm: rm) }
    public static func faddD(_ rd: Int, _ rs1: Int, _ rs2: Int, rm: UInt32 = 7) -> UInt32 { fp(0x01, rd, rs1, rs2, rm: rm) }
    public static func fsgnjS(_ rd: Int, _ rs1: Int, _ rs2: Int) -> UInt32 { fp(0x10, rd, rs1, rs2, rm: 0) }
    public static func fsgnjnS(_ rd: Int, _ rs1: Int, _ rs2: Int) -> UInt32 { fp(0x10, rd, rs1, rs2, rm: 1) }
    public static func fsgnjxS(_ rd: Int, _ rs1: Int, _ rs2: Int) -> UInt32 { fp(0x10, rd, rs1, rs2, rm: 2) }
    public static func fmvXW(_ rd: Int, _ rs1: Int) -> UInt32 { fp(0x70, rd, rs1, 0, rm: 0) }
    public static func fmvWX(_ rd: Int, _ rs1: Int) -> UInt32 { fp(0x78, rd, rs1, 0, rm: 0) }
    public static func fmvXD(_ rd: Int, _ rs1: Int) -> UInt32 { fp(0x71, rd, rs1, 0, rm: 0) }
    public static func fmvDX(_ rd: Int, _ rs1: Int) -> UInt32 { fp(0x79, rd, rs1, 0, rm: 0) }
    public static func fclassS(_ rd: Int, _ rs1: Int) -> UInt32 { fp(0x70, rd, rs1, 0, rm: 1) }
    public static func feqS(_ rd: Int, _ rs1: Int, _ rs2: Int) -> UInt32 { fp(0x50, rd, rs1, rs2, rm: 2) }
    public static func fcvtWS(_ rd: Int, _ rs1: Int, rm: UInt32 = 7) -> UInt32 { fp(0x60, rd, rs1, 0, rm: rm) }
    public static func fcvtWUS(_ rd: Int, _ rs1: Int, rm: UInt32 = 7) -> UInt32 { fp(0x60, rd, rs1, 1, rm: rm) }
    public static func fcvtDS(_ rd: Int, _ rs1: Int) -> UInt32 { fp(0x21, rd, rs1, 0, rm: 0) }
    public static func fcvtSD(_ rd: Int, _ rs1: Int, rm: UInt32 = 7) -> UInt32 { fp(0x20, rd, rs1, 1, rm: rm) }
    public static func fmaddS(_ rd: Int, _ rs1: Int, _ rs2: Int, _ rs3: Int, rm: UInt32 = 7) -> UInt32 {
        UInt32(rs3) << 27 | 0 << 25 | UInt32(rs2) << 20 | UInt32(rs1) << 15 | rm << 12 | UInt32(rd) << 7 | 0x43
    }
    /// fmadd (0x43), fmsub (0x47), fnmsub (0x4b), fnmadd (0x4f); fmt 0 = S, 1 = D.
    public static func fused(_ opcode: UInt32, double: Bool, _ rd: Int, _ rs1: Int, _ rs2: Int, _ rs3: Int, rm: UInt32) -> UInt32 {
        UInt32(rs3) << 27 | (double ? 1 : 0) << 25 | UInt32(rs2) << 20 | UInt32(rs1) << 15 | rm << 12
            | UInt32(rd) << 7 | opcode
    }
}

/// RVC encodings (unprivileged spec, "C" chapter, instruction listings). `r` is a full register
/// number; the CL/CS/CB forms take x8-x15 (`p` = register - 8).
public enum CAsm {
    public static let nop: UInt16 = 0x0001, ebreak: UInt16 = 0x9002

    private static func bit(_ v: Int64, _ n: Int) -> UInt16 { UInt16(truncatingIfNeeded: (v >> Int64(n)) & 1) }
    private static func bits(_ v: Int64, _ hi: Int, _ lo: Int) -> UInt16 {
        UInt16(truncatingIfNeeded: (v >> Int64(lo)) & ((1 << Int64(hi - lo + 1)) - 1))
    }
    private static func p(_ r: Int) -> UInt16 { UInt16(r - 8) }

    /// c.addi4spn rd', sp, nzuimm (multiple of 4, 4...1020).
    public static func addi4spn(_ rd: Int, _ imm: Int64) -> UInt16 {
        bits(imm, 5, 4) << 11 | bits(imm, 9, 6) << 7 | bit(imm, 2) << 6 | bit(imm, 3) << 5 | p(rd) << 2
    }
    /// c.lw / c.sw (f3 2 / 6): uimm multiple of 4 up to 124.
    public static func memW(_ f3: UInt16, _ r: Int, _ base: Int, _ imm: Int64) -> UInt16 {
        f3 << 13 | bits(imm, 5, 3) << 10 | p(base) << 7 | bit(imm, 2) << 6 | bit(imm, 6) << 5 | p(r) << 2
    }
    /// c.ld / c.sd / c.fld / c.fsd (f3 3 / 7 / 1 / 5): uimm multiple of 8 up to 248.
    public static func memD(_ f3: UInt16, _ r: Int, _ base: Int, _ imm: Int64) -> UInt16 {
        f3 << 13 | bits(imm, 5, 3) << 10 | p(base) << 7 | bits(imm, 7, 6) << 5 | p(r) << 2
    }
    /// Quadrant 1 CI forms: c.addi (0), c.addiw (1), c.li (2), with a 6-bit signed immediate.
    public static func ci(_ f3: UInt16, _ rd: Int, _ imm: Int64) -> UInt16 {
        f3 << 13 | bit(imm, 5) << 12 | UInt16(rd) << 7 | bits(imm, 4, 0) << 2 | 1
    }
    /// c.lui rd, nzimm (the value's bits 17:12; rd not 0 or 2).
    public static func lui(_ rd: Int, _ imm: Int64) -> UInt16 {
        3 << 13 | bit(imm, 17) << 12 | UInt16(rd) << 7 | bits(imm, 16, 12) << 2 | 1
    }
    /// c.addi16sp nzimm (multiple of 16, -512...496).
    public static func addi16sp(_ imm: Int64) -> UInt16 {
        3 << 13 | bit(imm, 9) << 12 | 2 << 7 | bit(imm, 4) << 6 | bit(imm, 6) << 5 | bits(imm, 8, 7) << 3
            | bit(imm, 5) << 2 | 1
    }
    /// c.srli (0), c.srai (1), c.andi (2) on rd'.
    public static func cb(_ kind: UInt16, _ rd: Int, _ imm: Int64) -> UInt16 {
        4 << 13 | bit(imm, 5) << 12 | kind << 10 | p(rd) << 7 | bits(imm, 4, 0) << 2 | 1
    }
    /// c.sub/xor/or/and (word false, 0-3) and c.subw/addw (word true, 0-1) on rd', rs2'.
    public static func ca(_ kind: UInt16, word: Bool, _ rd: Int, _ rs2: Int) -> UInt16 {
        0x23 << 10 | (word ? 1 << 12 : 0) | p(rd) << 7 | kind << 5 | p(rs2) << 2 | 1
    }
    public static func j(_ imm: Int64) -> UInt16 {
        5 << 13 | bit(imm, 11) << 12 | bit(imm, 4) << 11 | bits(imm, 9, 8) << 9 | bit(imm, 10) << 8
            | bit(imm, 6) << 7 | bit(imm, 7) << 6 | bits(imm, 3, 1) << 3 | bit(imm, 5) << 2 | 1
    }
    /// c.beqz (bnez false) / c.bnez on rs1'.
    public static func branch(notEqual: Bool, _ rs1: Int, _ imm: Int64) -> UInt16 {
        (notEqual ? 7 : 6) << 13 | bit(imm, 8) << 12 | bits(imm, 4, 3) << 10 | p(rs1) << 7
            | bits(imm, 7, 6) << 5 | bits(imm, 2, 1) << 3 | bit(imm, 5) << 2 | 1
    }
    public static func slli(_ rd: Int, _ shamt: Int64) -> UInt16 {
        bit(shamt, 5) << 12 | UInt16(rd) << 7 | bits(shamt, 4, 0) << 2 | 2
    }
    /// c.lwsp (f3 2): uimm multiple of 4 up to 252.
    public static func lwsp(_ rd: Int, _ imm: Int64) -> UInt16 {
        2 << 13 | bit(imm, 5) << 12 | UInt16(rd) << 7 | bits(imm, 4, 2) << 4 | bits(imm, 7, 6) << 2 | 2
    }
    /// c.ldsp (f3 3) / c.fldsp (f3 1): uimm multiple of 8 up to 504.
    public static func ldsp(_ f3: UInt16, _ rd: Int, _ imm: Int64) -> UInt16 {
        f3 << 13 | bit(imm, 5) << 12 | UInt16(rd) << 7 | bits(imm, 4, 3) << 5 | bits(imm, 8, 6) << 2 | 2
    }
    public static func swsp(_ rs2: Int, _ imm: Int64) -> UInt16 {
        6 << 13 | bits(imm, 5, 2) << 9 | bits(imm, 7, 6) << 7 | UInt16(rs2) << 2 | 2
    }
    /// c.sdsp (f3 7) / c.fsdsp (f3 5).
    public static func sdsp(_ f3: UInt16, _ rs2: Int, _ imm: Int64) -> UInt16 {
        f3 << 13 | bits(imm, 5, 3) << 10 | bits(imm, 8, 6) << 7 | UInt16(rs2) << 2 | 2
    }
    public static func jr(_ rs1: Int) -> UInt16 { 4 << 13 | UInt16(rs1) << 7 | 2 }
    public static func jalr(_ rs1: Int) -> UInt16 { 4 << 13 | 1 << 12 | UInt16(rs1) << 7 | 2 }
    public static func mv(_ rd: Int, _ rs2: Int) -> UInt16 { 4 << 13 | UInt16(rd) << 7 | UInt16(rs2) << 2 | 2 }
    public static func add(_ rd: Int, _ rs2: Int) -> UInt16 { 4 << 13 | 1 << 12 | UInt16(rd) << 7 | UInt16(rs2) << 2 | 2 }
}

/// Deterministic pseudo-random numbers (SplitMix64), so failures reproduce from their seed.
public struct SplitMix64: RandomNumberGenerator {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// 0..<n.
    public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    /// True with probability `percent` / 100.
    public mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
    public mutating func pick<T>(_ choices: [T]) -> T { choices[below(choices.count)] }
    public mutating func range(_ r: ClosedRange<Int>) -> Int { r.lowerBound + below(r.count) }
}
