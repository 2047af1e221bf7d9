import XCTest
@testable import RISCV
import Devices
import GuestMemory

/// A settable `mtime` for the hart's `time` CSR.
final class TestTimer: HartTimer {
    var mtime: UInt64 = 0
}

/// One hart with RAM at 0x8000_0000 and nothing else on the bus: enough to run a few
/// instructions placed by a test and inspect what they did.
final class TestMachine {
    static let ramBase: UInt64 = 0x8000_0000
    /// M-mode trap vector used by every test (direct mode); nothing needs to live there, since
    /// tests stop after the trap and inspect mcause/mepc/mtval.
    static let trapVector: UInt64 = ramBase + 0x8000

    let memory: GuestMemory
    let bus = Bus()
    let lines = InterruptLines()
    let timer = TestTimer()
    let code: DecodedCodeCache
    let hart: Hart

    init(ramSize: UInt64 = 16 << 20) {
        memory = try! GuestMemory(base: Self.ramBase, size: ramSize)
        code = DecodedCodeCache(memory: memory)
        hart = Hart(id: 0, memory: memory, bus: bus, lines: lines, timer: timer, code: code)
        hart.reset(pc: Self.ramBase)
        hart.mtvec = Self.trapVector
    }

    // MARK: Placing code and data (behind the hart's back: decoded code is dropped explicitly)

    /// Writes 32-bit instructions at `address` and points pc there.
    func load(_ words: [UInt32], at address: UInt64 = ramBase, setPC: Bool = true) {
        for (i, w) in words.enumerated() { memory.store(address + UInt64(4 * i), w) }
        codeChanged()
        if setPC { hart.pc = address }
    }

    /// Writes 16-bit parcels (compressed instructions, or halves of 32-bit ones) at `address`.
    func loadHalves(_ halves: [UInt16], at address: UInt64 = ramBase, setPC: Bool = true) {
        for (i, h) in halves.enumerated() { memory.store(address + UInt64(2 * i), h) }
        codeChanged()
        if setPC { hart.pc = address }
    }

    /// Test writes bypass the hart's store path, so they must drop decoded pages themselves.
    func codeChanged() {
        code.invalidateAll()
        hart.flushTranslations()
    }

    func write64(_ address: UInt64, _ value: UInt64) { memory.store(address, value) }
    func write32(_ address: UInt64, _ value: UInt32) { memory.store(address, value) }
    func read64(_ address: UInt64) -> UInt64 { memory.load(address, as: UInt64.self)! }
    func read32(_ address: UInt64) -> UInt32 { memory.load(address, as: UInt32.self)! }
    func read8(_ address: UInt64) -> UInt8 { memory.load(address, as: UInt8.self)! }

    // MARK: Running

    func step(_ n: Int = 1) { for _ in 0..<n { hart.step() } }

    /// Places `words` at RAM base, sets registers, runs one step per word.
    @discardableResult
    func exec(_ words: [UInt32], _ regs: [Int: UInt64] = [:]) -> Hart {
        load(words)
        for (r, v) in regs { hart.setRegister(r, v) }
        step(words.count)
        return hart
    }

    /// Runs a single instruction with the given registers and returns x[rd].
    func result(_ word: UInt32, rd: Int = 5, _ regs: [Int: UInt64] = [:]) -> UInt64 {
        exec([word], regs)
        return hart.register(rd)
    }

    // MARK: Privilege and CSRs

    /// Switches privilege directly (as a trap or xRET would) and re-derives the data privilege.
    func setPrivilege(_ p: Privilege) {
        hart.privilege = p
        hart.updateDataPrivilege()
    }

    func csr(_ c: UInt16) -> UInt64 { hart.readCSR(c) }
    func setCSR(_ c: UInt16, _ v: UInt64) { hart.writeCSR(c, v) }

    /// Turns the FPU on (mstatus.FS = Initial).
    func enableFPU() {
        hart.mstatus = (hart.mstatus & ~Mstatus.fs) | Mstatus.fsInitial
    }

    /// Asserts that the last step trapped to M-mode with `cause` at `epc`.
    func assertTrap(_ cause: ExceptionCause, epc: UInt64, tval: UInt64? = nil,
                    file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(hart.privilege, .machine, "trap taken in M-mode", file: file, line: line)
        XCTAssertEqual(hart.mcause, cause.rawValue, "mcause", file: file, line: line)
        XCTAssertEqual(hart.mepc, epc, "mepc", file: file, line: line)
        XCTAssertEqual(hart.pc, hart.mtvec & ~3, "pc at trap vector", file: file, line: line)
        if let tval { XCTAssertEqual(hart.mtval, tval, "mtval", file: file, line: line) }
    }
}

/// A tiny RV64GC encoder: exactly the formats of the unprivileged spec's base opcode map.
enum Asm {
    struct R { let opcode: UInt32, f3: UInt32, f7: UInt32 }
    struct I { let opcode: UInt32, f3: UInt32 }

    static func r(_ op: R, _ rd: Int, _ rs1: Int, _ rs2: Int) -> UInt32 {
        op.f7 << 25 | UInt32(rs2) << 20 | UInt32(rs1) << 15 | op.f3 << 12 | UInt32(rd) << 7 | op.opcode
    }
    static func i(_ op: I, _ rd: Int, _ rs1: Int, _ imm: Int64) -> UInt32 {
        UInt32(truncatingIfNeeded: imm & 0xfff) << 20 | UInt32(rs1) << 15 | op.f3 << 12 | UInt32(rd) << 7 | op.opcode
    }
    static func s(_ f3: UInt32, _ rs2: Int, _ rs1: Int, _ imm: Int64, opcode: UInt32 = 0x23) -> UInt32 {
        let u = UInt32(truncatingIfNeeded: imm & 0xfff)
        return (u >> 5) << 25 | UInt32(rs2) << 20 | UInt32(rs1) << 15 | f3 << 12 | (u & 31) << 7 | opcode
    }
    static func b(_ f3: UInt32, _ rs1: Int, _ rs2: Int, _ imm: Int64) -> UInt32 {
        let u = UInt32(truncatingIfNeeded: imm & 0x1fff)
        return ((u >> 12) & 1) << 31 | ((u >> 5) & 0x3f) << 25 | UInt32(rs2) << 20 | UInt32(rs1) << 15
            | f3 << 12 | ((u >> 1) & 0xf) << 8 | ((u >> 11) & 1) << 7 | 0x63
    }
    /// `imm` is the full value whose low 12 bits are zero (lui x, imm20 << 12).
    static func u(_ opcode: UInt32, _ rd: Int, _ imm: Int64) -> UInt32 {
        UInt32(truncatingIfNeeded: imm) & 0xffff_f000 | UInt32(rd) << 7 | opcode
    }
    static func j(_ rd: Int, _ imm: Int64) -> UInt32 {
        let u = UInt32(truncatingIfNeeded: imm & 0x1f_ffff)
        return ((u >> 20) & 1) << 31 | ((u >> 1) & 0x3ff) << 21 | ((u >> 11) & 1) << 20
            | ((u >> 12) & 0xff) << 12 | UInt32(rd) << 7 | 0x6f
    }

    // RV64I
    static func lui(_ rd: Int, _ imm: Int64) -> UInt32 { u(0x37, rd, imm) }
    static func auipc(_ rd: Int, _ imm: Int64) -> UInt32 { u(0x17, rd, imm) }
    static func jal(_ rd: Int, _ imm: Int64) -> UInt32 { j(rd, imm) }
    static func jalr(_ rd: Int, _ rs1: Int, _ imm: Int64) -> UInt32 { i(I(opcode: 0x67, f3: 0), rd, rs1, imm) }
    static let beq: UInt32 = 0, bne: UInt32 = 1, blt: UInt32 = 4, bge: UInt32 = 5, bltu: UInt32 = 6, bgeu: UInt32 = 7
    static let lb = I(opcode: 3, f3: 0), lh = I(opcode: 3, f3: 1), lw = I(opcode: 3, f3: 2), ld = I(opcode: 3, f3: 3)
    static let lbu = I(opcode: 3, f3: 4), lhu = I(opcode: 3, f3: 5), lwu = I(opcode: 3, f3: 6)
    static func sb(_ rs2: Int, _ rs1: Int, _ imm: Int64) -> UInt32 { s(0, rs2, rs1, imm) }
    static func sh(_ rs2: Int, _ rs1: Int, _ imm: Int64) -> UInt32 { s(1, rs2, rs1, imm) }
    static func sw(_ rs2: Int, _ rs1: Int, _ imm: Int64) -> UInt32 { s(2, rs2, rs1, imm) }
    static func sd(_ rs2: Int, _ rs1: Int, _ imm: Int64) -> UInt32 { s(3, rs2, rs1, imm) }
    static let addi = I(opcode: 0x13, f3: 0), slti = I(opcode: 0x13, f3: 2), sltiu = I(opcode: 0x13, f3: 3)
    static let xori = I(opcode: 0x13, f3: 4), ori = I(opcode: 0x13, f3: 6), andi = I(opcode: 0x13, f3: 7)
    static let addiw = I(opcode: 0x1b, f3: 0)
    static func addi(_ rd: Int, _ rs1: Int, _ imm: Int64) -> UInt32 { i(addi, rd, rs1, imm) }
    static func load(_ op: I, _ rd: Int, _ rs1: Int, _ imm: Int64) -> UInt32 { i(op, rd, rs1, imm) }
    static func ld(_ rd: Int, _ rs1: Int, _ imm: Int64) -> UInt32 { i(ld, rd, rs1, imm) }
    static func lw(_ rd: Int, _ rs1: Int, _ imm: Int64) -> UInt32 { i(lw, rd, rs1, imm) }

    /// Shift-immediate: `top` is the funct6 (64-bit shifts) or funct7 (W shifts) above the shamt.
    struct Shift { let opcode: UInt32, f3: UInt32, top: UInt32, shamtBits: UInt32 }
    static let slli = Shift(opcode: 0x13, f3: 1, top: 0x00, shamtBits: 6)
    static let srli = Shift(opcode: 0x13, f3: 5, top: 0x00, shamtBits: 6)
    static let srai = Shift(opcode: 0x13, f3: 5, top: 0x10, shamtBits: 6)
    static let rori = Shift(opcode: 0x13, f3: 5, top: 0x18, shamtBits: 6)
    static let slliuw = Shift(opcode: 0x1b, f3: 1, top: 0x02, shamtBits: 6)
    static let slliw = Shift(opcode: 0x1b, f3: 1, top: 0x00, shamtBits: 5)
    static let srliw = Shift(opcode: 0x1b, f3: 5, top: 0x00, shamtBits: 5)
    static let sraiw = Shift(opcode: 0x1b, f3: 5, top: 0x20, shamtBits: 5)
    static let roriw = Shift(opcode: 0x1b, f3: 5, top: 0x30, shamtBits: 5)
    static func shift(_ op: Shift, _ rd: Int, _ rs1: Int, _ shamt: UInt32) -> UInt32 {
        let imm = op.top << op.shamtBits | shamt
        return imm << 20 | UInt32(rs1) << 15 | op.f3 << 12 | UInt32(rd) << 7 | op.opcode
    }

    static let add = R(opcode: 0x33, f3: 0, f7: 0), sub = R(opcode: 0x33, f3: 0, f7: 0x20)
    static let sll = R(opcode: 0x33, f3: 1, f7: 0), slt = R(opcode: 0x33, f3: 2, f7: 0)
    static let sltu = R(opcode: 0x33, f3: 3, f7: 0), xor = R(opcode: 0x33, f3: 4, f7: 0)
    static let srl = R(opcode: 0x33, f3: 5, f7: 0), sra = R(opcode: 0x33, f3: 5, f7: 0x20)
    static let or = R(opcode: 0x33, f3: 6, f7: 0), and = R(opcode: 0x33, f3: 7, f7: 0)
    static let addw = R(opcode: 0x3b, f3: 0, f7: 0), subw = R(opcode: 0x3b, f3: 0, f7: 0x20)
    static let sllw = R(opcode: 0x3b, f3: 1, f7: 0), srlw = R(opcode: 0x3b, f3: 5, f7: 0)
    static let sraw = R(opcode: 0x3b, f3: 5, f7: 0x20)
    // M
    static let mul = R(opcode: 0x33, f3: 0, f7: 1), mulh = R(opcode: 0x33, f3: 1, f7: 1)
    static let mulhsu = R(opcode: 0x33, f3: 2, f7: 1), mulhu = R(opcode: 0x33, f3: 3, f7: 1)
    static let div = R(opcode: 0x33, f3: 4, f7: 1), divu = R(opcode: 0x33, f3: 5, f7: 1)
    static let rem = R(opcode: 0x33, f3: 6, f7: 1), remu = R(opcode: 0x33, f3: 7, f7: 1)
    static let mulw = R(opcode: 0x3b, f3: 0, f7: 1), divw = R(opcode: 0x3b, f3: 4, f7: 1)
    static let divuw = R(opcode: 0x3b, f3: 5, f7: 1), remw = R(opcode: 0x3b, f3: 6, f7: 1)
    static let remuw = R(opcode: 0x3b, f3: 7, f7: 1)
    // Zba
    static let sh1add = R(opcode: 0x33, f3: 2, f7: 0x10), sh2add = R(opcode: 0x33, f3: 4, f7: 0x10)
    static let sh3add = R(opcode: 0x33, f3: 6, f7: 0x10), adduw = R(opcode: 0x3b, f3: 0, f7: 0x04)
    static let sh1adduw = R(opcode: 0x3b, f3: 2, f7: 0x10), sh2adduw = R(opcode: 0x3b, f3: 4, f7: 0x10)
    static let sh3adduw = R(opcode: 0x3b, f3: 6, f7: 0x10)
    // Zbb
    static let andn = R(opcode: 0x33, f3: 7, f7: 0x20), orn = R(opcode: 0x33, f3: 6, f7: 0x20)
    static let xnor = R(opcode: 0x33, f3: 4, f7: 0x20)
    static let max = R(opcode: 0x33, f3: 6, f7: 0x05), maxu = R(opcode: 0x33, f3: 7, f7: 0x05)
    static let min = R(opcode: 0x33, f3: 4, f7: 0x05), minu = R(opcode: 0x33, f3: 5, f7: 0x05)
    static let rol = R(opcode: 0x33, f3: 1, f7: 0x30), ror = R(opcode: 0x33, f3: 5, f7: 0x30)
    static let rolw = R(opcode: 0x3b, f3: 1, f7: 0x30), rorw = R(opcode: 0x3b, f3: 5, f7: 0x30)
    /// Zbb unary ops: OP-IMM (or OP-IMM-32) with a fixed imm12.
    static func unary(_ imm12: UInt32, _ rd: Int, _ rs1: Int, opcode: UInt32 = 0x13, f3: UInt32 = 1) -> UInt32 {
        imm12 << 20 | UInt32(rs1) << 15 | f3 << 12 | UInt32(rd) << 7 | opcode
    }
    static func clz(_ rd: Int, _ rs1: Int) -> UInt32 { unary(0x600, rd, rs1) }
    static func ctz(_ rd: Int, _ rs1: Int) -> UInt32 { unary(0x601, rd, rs1) }
    static func cpop(_ rd: Int, _ rs1: Int) -> UInt32 { unary(0x602, rd, rs1) }
    static func sextb(_ rd: Int, _ rs1: Int) -> UInt32 { unary(0x604, rd, rs1) }
    static func sexth(_ rd: Int, _ rs1: Int) -> UInt32 { unary(0x605, rd, rs1) }
    static func clzw(_ rd: Int, _ rs1: Int) -> UInt32 { unary(0x600, rd, rs1, opcode: 0x1b) }
    static func ctzw(_ rd: Int, _ rs1: Int) -> UInt32 { unary(0x601, rd, rs1, opcode: 0x1b) }
    static func cpopw(_ rd: Int, _ rs1: Int) -> UInt32 { unary(0x602, rd, rs1, opcode: 0x1b) }
    static func orcb(_ rd: Int, _ rs1: Int) -> UInt32 { unary(0x287, rd, rs1, f3: 5) }
    static func rev8(_ rd: Int, _ rs1: Int) -> UInt32 { unary(0x6b8, rd, rs1, f3: 5) }
    static func zexth(_ rd: Int, _ rs1: Int) -> UInt32 { r(R(opcode: 0x3b, f3: 4, f7: 0x04), rd, rs1, 0) }

    // System
    static let ecall: UInt32 = 0x0000_0073, ebreak: UInt32 = 0x0010_0073
    static let sret: UInt32 = 0x1020_0073, mret: UInt32 = 0x3020_0073, wfi: UInt32 = 0x1050_0073
    static let fence: UInt32 = 0x0ff0_000f, fenceI: UInt32 = 0x0000_100f
    static func sfenceVMA(_ rs1: Int = 0, _ rs2: Int = 0) -> UInt32 {
        0x09 << 25 | UInt32(rs2) << 20 | UInt32(rs1) << 15 | 0x73
    }
    static func csrrw(_ rd: Int, _ csr: UInt16, _ rs1: Int) -> UInt32 { csrOp(1, rd, csr, rs1) }
    static func csrrs(_ rd: Int, _ csr: UInt16, _ rs1: Int) -> UInt32 { csrOp(2, rd, csr, rs1) }
    static func csrrc(_ rd: Int, _ csr: UInt16, _ rs1: Int) -> UInt32 { csrOp(3, rd, csr, rs1) }
    static func csrrwi(_ rd: Int, _ csr: UInt16, _ imm: Int) -> UInt32 { csrOp(5, rd, csr, imm) }
    static func csrrsi(_ rd: Int, _ csr: UInt16, _ imm: Int) -> UInt32 { csrOp(6, rd, csr, imm) }
    static func csrrci(_ rd: Int, _ csr: UInt16, _ imm: Int) -> UInt32 { csrOp(7, rd, csr, imm) }
    static func csrOp(_ f3: UInt32, _ rd: Int, _ csr: UInt16, _ rs1: Int) -> UInt32 {
        UInt32(csr) << 20 | UInt32(rs1) << 15 | f3 << 12 | UInt32(rd) << 7 | 0x73
    }

    // A: funct5 values of the unprivileged spec's RV32A/RV64A table.
    enum AMO: UInt32 {
        case add = 0x00, swap = 0x01, lr = 0x02, sc = 0x03, xor = 0x04, or = 0x08, and = 0x0c
        case min = 0x10, max = 0x14, minu = 0x18, maxu = 0x1c
    }
    static func amo(_ op: AMO, word: Bool, _ rd: Int, _ rs1: Int, _ rs2: Int, aq: Bool = false, rl: Bool = false) -> UInt32 {
        op.rawValue << 27 | (aq ? 1 << 26 : 0) | (rl ? 1 << 25 : 0) | UInt32(rs2) << 20 | UInt32(rs1) << 15
            | (word ? 2 : 3) << 12 | UInt32(rd) << 7 | 0x2f
    }

    // F / D
    static func flw(_ rd: Int, _ rs1: Int, _ imm: Int64) -> UInt32 { i(I(opcode: 0x07, f3: 2), rd, rs1, imm) }
    static func fld(_ rd: Int, _ rs1: Int, _ imm: Int64) -> UInt32 { i(I(opcode: 0x07, f3: 3), rd, rs1, imm) }
    static func fsw(_ rs2: Int, _ rs1: Int, _ imm: Int64) -> UInt32 { s(2, rs2, rs1, imm, opcode: 0x27) }
    static func fsd(_ rs2: Int, _ rs1: Int, _ imm: Int64) -> UInt32 { s(3, rs2, rs1, imm, opcode: 0x27) }
    /// OP-FP with funct7, rs2 field and rm/funct3.
    static func fp(_ f7: UInt32, _ rd: Int, _ rs1: Int, _ rs2: Int, rm: UInt32) -> UInt32 {
        f7 << 25 | UInt32(rs2) << 20 | UInt32(rs1) << 15 | rm << 12 | UInt32(rd) << 7 | 0x53
    }
    static func faddS(_ rd: Int, _ rs1: Int, _ rs2: Int, rm: UInt32 = 7) -> UInt32 { fp(0x00, rd, rs1, rs2, rm: rm) }
    static func faddD(_ rd: Int, _ rs1: Int, _ rs2: Int, rm: UInt32 = 7) -> UInt32 { fp(0x01, rd, rs1, rs2, rm: rm) }
    static func fsgnjS(_ rd: Int, _ rs1: Int, _ rs2: Int) -> UInt32 { fp(0x10, rd, rs1, rs2, rm: 0) }
    static func fsgnjnS(_ rd: Int, _ rs1: Int, _ rs2: Int) -> UInt32 { fp(0x10, rd, rs1, rs2, rm: 1) }
    static func fsgnjxS(_ rd: Int, _ rs1: Int, _ rs2: Int) -> UInt32 { fp(0x10, rd, rs1, rs2, rm: 2) }
    static func fmvXW(_ rd: Int, _ rs1: Int) -> UInt32 { fp(0x70, rd, rs1, 0, rm: 0) }
    static func fmvWX(_ rd: Int, _ rs1: Int) -> UInt32 { fp(0x78, rd, rs1, 0, rm: 0) }
    static func fmvXD(_ rd: Int, _ rs1: Int) -> UInt32 { fp(0x71, rd, rs1, 0, rm: 0) }
    static func fmvDX(_ rd: Int, _ rs1: Int) -> UInt32 { fp(0x79, rd, rs1, 0, rm: 0) }
    static func fclassS(_ rd: Int, _ rs1: Int) -> UInt32 { fp(0x70, rd, rs1, 0, rm: 1) }
    static func feqS(_ rd: Int, _ rs1: Int, _ rs2: Int) -> UInt32 { fp(0x50, rd, rs1, rs2, rm: 2) }
    static func fcvtWS(_ rd: Int, _ rs1: Int, rm: UInt32 = 7) -> UInt32 { fp(0x60, rd, rs1, 0, rm: rm) }
    static func fcvtWUS(_ rd: Int, _ rs1: Int, rm: UInt32 = 7) -> UInt32 { fp(0x60, rd, rs1, 1, rm: rm) }
    static func fcvtDS(_ rd: Int, _ rs1: Int) -> UInt32 { fp(0x21, rd, rs1, 0, rm: 0) }
    static func fcvtSD(_ rd: Int, _ rs1: Int, rm: UInt32 = 7) -> UInt32 { fp(0x20, rd, rs1, 1, rm: rm) }
    static func fmaddS(_ rd: Int, _ rs1: Int, _ rs2: Int, _ rs3: Int, rm: UInt32 = 7) -> UInt32 {
        UInt32(rs3) << 27 | 0 << 25 | UInt32(rs2) << 20 | UInt32(rs1) << 15 | rm << 12 | UInt32(rd) << 7 | 0x43
    }
}

/// Deterministic pseudo-random numbers (SplitMix64), so failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
