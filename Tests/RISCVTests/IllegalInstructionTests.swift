import XCTest
@testable import RISCV
import Devices

/// Illegal-instruction exceptions: reserved encodings (mtval holds the instruction bits) and
/// instructions that are illegal in the current privilege or state (mtval is 0 or the bits,
/// privileged spec 3.1.16).
final class IllegalInstructionTests: XCTestCase {
    let base = TestMachine.ramBase
    var m: TestMachine!

    override func setUp() { m = TestMachine() }

    /// Runs `word` at `privilege` and asserts an illegal-instruction trap into M-mode.
    private func expectIllegal(_ word: UInt32, _ name: String, at privilege: Privilege = .machine,
                               exactBits: Bool = true, regs: [Int: UInt64] = [:],
                               file: StaticString = #filePath, line: UInt = #line) {
        m.setPrivilege(privilege)
        m.exec([word], regs)
        XCTAssertEqual(m.hart.mcause, ExceptionCause.illegalInstruction.rawValue, "\(name): mcause", file: file, line: line)
        XCTAssertEqual(m.hart.mepc, base, "\(name): mepc", file: file, line: line)
        XCTAssertEqual(m.hart.pc, TestMachine.trapVector, "\(name): pc", file: file, line: line)
        XCTAssertEqual(m.hart.privilege, .machine, "\(name): privilege", file: file, line: line)
        XCTAssertEqual(m.hart.mstatus >> Mstatus.mppShift & 3, UInt64(privilege.rawValue), "\(name): MPP", file: file, line: line)
        if exactBits {
            XCTAssertEqual(m.hart.mtval, UInt64(word), "\(name): mtval", file: file, line: line)
        } else {
            XCTAssertTrue(m.hart.mtval == 0 || m.hart.mtval == UInt64(word),
                          "\(name): mtval \(hex(m.hart.mtval))", file: file, line: line)
        }
        m.hart.mcause = 0xdead
    }

    /// Runs `word` at `privilege` and asserts it retired without a trap.
    private func expectLegal(_ word: UInt32, _ name: String, at privilege: Privilege = .machine,
                             regs: [Int: UInt64] = [:], file: StaticString = #filePath, line: UInt = #line) {
        m.setPrivilege(privilege)
        m.hart.mcause = 0xdead
        m.exec([word], regs)
        XCTAssertEqual(m.hart.mcause, 0xdead, "\(name): no trap", file: file, line: line)
        XCTAssertEqual(m.hart.pc, base + 4, "\(name): pc", file: file, line: line)
        XCTAssertEqual(m.hart.privilege, privilege, "\(name): privilege", file: file, line: line)
    }

    // MARK: Reserved encodings (decode-time: mtval = instruction bits)

    func testReservedEncodings() {
        m.enableFPU()
        let cases: [(UInt32, String)] = [
            (0x1234_500b, "custom-0 opcode"),
            (0xffff_ffff, "all ones (>= 80-bit encoding space)"),
            (0x0000_007f, "opcode 0x7f"),
            (Asm.r(Asm.R(opcode: 0x33, f3: 0, f7: 0x02), 5, 6, 7), "OP funct7 0x02"),
            (Asm.r(Asm.R(opcode: 0x33, f3: 1, f7: 0x20), 5, 6, 7), "OP sll with funct7 0x20"),
            (Asm.r(Asm.R(opcode: 0x3b, f3: 1, f7: 0x20), 5, 6, 7), "OP-32 sllw with funct7 0x20"),
            (Asm.r(Asm.R(opcode: 0x3b, f3: 2, f7: 0x00), 5, 6, 7), "OP-32 funct3 2"),
            (Asm.r(Asm.R(opcode: 0x3b, f3: 4, f7: 0x04), 5, 6, 7), "zext.h with rs2 != 0"),
            (Asm.shift(Asm.slliw, 5, 6, 32), "slliw with shamt[5] = 1"),
            (Asm.shift(Asm.Shift(opcode: 0x13, f3: 5, top: 0x11, shamtBits: 6), 5, 6, 1), "srai with funct6 0x11"),
            (Asm.shift(Asm.Shift(opcode: 0x1b, f3: 5, top: 0x21, shamtBits: 5), 5, 6, 1), "sraiw with funct7 0x21"),
            (Asm.amo(.lr, word: true, 5, 6, 1), "lr.w with rs2 = 1"),
            (Asm.amo(.lr, word: false, 5, 6, 31), "lr.d with rs2 = 31"),
            (Asm.amo(.add, word: true, 5, 6, 7) & ~(7 << 12) | (1 << 12), "AMO funct3 1"),
            (Asm.amo(.add, word: true, 5, 6, 7) | (0x05 << 27), "AMO funct5 0x05"),
            (Asm.fp(0x60, 5, 1, 4, rm: 0), "fcvt.w.s with rs2 = 4"),
            (Asm.fp(0x61, 5, 1, 5, rm: 0), "fcvt.w.d with rs2 = 5"),
            (Asm.fp(0x68, 1, 5, 7, rm: 0), "fcvt.s.w with rs2 = 7"),
            (Asm.fp(0x20, 1, 2, 0, rm: 0), "fcvt.s.d with rs2 = 0"),
            (Asm.fp(0x21, 1, 2, 1, rm: 0), "fcvt.d.s with rs2 = 1"),
            (Asm.fp(0x2c, 1, 2, 1, rm: 0), "fsqrt.s with rs2 = 1"),
            (Asm.fp(0x70, 5, 1, 0, rm: 2), "fmv.x.w funct3 2"),
            (Asm.fp(0x10, 1, 2, 3, rm: 3), "fsgnj funct3 3"),
            (Asm.fp(0x14, 1, 2, 3, rm: 2), "fmin funct3 2"),
            (Asm.fp(0x50, 5, 1, 2, rm: 3), "feq funct3 3"),
            (Asm.fp(0x02, 1, 2, 3, rm: 0), "fadd.h (no Zfh)"),
            (Asm.fmaddS(1, 2, 3, 4) | (2 << 25), "fmadd fmt 2"),
            (Asm.i(Asm.I(opcode: 0x07, f3: 1), 1, 2, 0), "FP load funct3 1 (flh)"),
            (Asm.s(1, 1, 2, 0, opcode: 0x27), "FP store funct3 1 (fsh)"),
            (Asm.i(Asm.I(opcode: 0x03, f3: 7), 5, 6, 0), "load funct3 7"),
            (Asm.s(4, 5, 6, 0), "store funct3 4"),
            (Asm.b(2, 5, 6, 8), "branch funct3 2"),
            (Asm.i(Asm.I(opcode: 0x67, f3: 1), 5, 6, 0), "jalr funct3 1"),
            (0x0000_200f, "MISC-MEM funct3 2"),
            (Asm.ecall | (5 << 7), "ecall with rd != 0"),
            (Asm.ebreak | (1 << 15), "ebreak with rs1 != 0"),
            (0x0020_0073, "SYSTEM imm 2 (uret)"),
            (Asm.csrOp(4, 5, CSR.mstatus, 0), "SYSTEM funct3 4"),
            (Asm.wfi | (1 << 7), "wfi with rd != 0"),
            (Asm.sfenceVMA() | (1 << 7), "sfence.vma with rd != 0"),
        ]
        for (word, name) in cases { expectIllegal(word, name) }
    }

    func testIllegalCompressedReportsOnly16Bits() {
        // c.lwsp x0 followed by a halfword that must not leak into mtval.
        m.loadHalves([0x4002, 0xffff])
        m.step()
        m.assertTrap(.illegalInstruction, epc: base, tval: 0x4002)
        m.loadHalves([0x0000, 0xffff])
        m.step()
        m.assertTrap(.illegalInstruction, epc: base, tval: 0)
        m.loadHalves([0x8002, 0x1234])
        m.step()
        m.assertTrap(.illegalInstruction, epc: base, tval: 0x8002)
    }

    // MARK: CSR access

    func testNonexistentCSRs() {
        for c: UInt16 in [0x3A1, 0x3A3, 0x800, 0x7C0, 0x5C0, 0xB01, 0xC81, 0x0FF, 0x14D, 0xFFF] {
            expectIllegal(Asm.csrrs(5, c, 0), "csrr \(String(c, radix: 16))", exactBits: false)
        }
        expectLegal(Asm.csrrs(5, CSR.mhartid, 0), "csrr mhartid")
        expectLegal(Asm.csrrs(5, 0xB03, 0), "csrr mhpmcounter3")
    }

    func testWritesToReadOnlyCSRs() {
        expectLegal(Asm.csrrs(5, CSR.cycle, 0), "rdcycle")
        expectLegal(Asm.csrrsi(5, CSR.cycle, 0), "csrrsi cycle, 0")
        expectLegal(Asm.csrrci(5, CSR.mhartid, 0), "csrrci mhartid, 0")
        expectIllegal(Asm.csrrw(0, CSR.cycle, 5), "csrw cycle", exactBits: false)
        expectIllegal(Asm.csrrw(0, CSR.cycle, 0), "csrw cycle, x0", exactBits: false)
        expectIllegal(Asm.csrrs(5, CSR.cycle, 6), "csrrs cycle with rs1 = x6 holding 0", exactBits: false, regs: [6: 0])
        expectIllegal(Asm.csrrci(5, CSR.instret, 1), "csrrci instret, 1", exactBits: false)
        expectIllegal(Asm.csrrwi(5, CSR.mhartid, 0), "csrrwi mhartid", exactBits: false)
        expectIllegal(Asm.csrrw(5, CSR.mvendorid, 6), "csrw mvendorid", exactBits: false)
    }

    func testLowerPrivilegeCSRAccess() {
        expectIllegal(Asm.csrrs(5, CSR.mstatus, 0), "S reads mstatus", at: .supervisor, exactBits: false)
        expectIllegal(Asm.csrrw(0, CSR.mtvec, 5), "S writes mtvec", at: .supervisor, exactBits: false)
        expectIllegal(Asm.csrrs(5, CSR.mhartid, 0), "S reads mhartid", at: .supervisor, exactBits: false)
        expectIllegal(Asm.csrrs(5, CSR.sstatus, 0), "U reads sstatus", at: .user, exactBits: false)
        expectIllegal(Asm.csrrs(5, CSR.satp, 0), "U reads satp", at: .user, exactBits: false)
        expectLegal(Asm.csrrs(5, CSR.sstatus, 0), "S reads sstatus", at: .supervisor)
        expectLegal(Asm.csrrw(0, CSR.sscratch, 5), "S writes sscratch", at: .supervisor)
    }

    func testCountersGatedByCounterEnable() {
        m.timer.mtime = 12345
        m.hart.mcounteren = 0
        m.hart.scounteren = 0
        expectIllegal(Asm.csrrs(5, CSR.cycle, 0), "S rdcycle, mcounteren.CY = 0", at: .supervisor, exactBits: false)
        expectIllegal(Asm.csrrs(5, CSR.time, 0), "S rdtime, mcounteren.TM = 0", at: .supervisor, exactBits: false)
        expectIllegal(Asm.csrrs(5, CSR.instret, 0), "U rdinstret", at: .user, exactBits: false)
        m.hart.mcounteren = 0b010  // TM only
        expectLegal(Asm.csrrs(5, CSR.time, 0), "S rdtime with TM", at: .supervisor)
        XCTAssertEqual(m.hart.register(5), 12345)
        expectIllegal(Asm.csrrs(5, CSR.cycle, 0), "S rdcycle with TM only", at: .supervisor, exactBits: false)
        // U-mode needs both mcounteren and scounteren.
        expectIllegal(Asm.csrrs(5, CSR.time, 0), "U rdtime, scounteren = 0", at: .user, exactBits: false)
        m.hart.scounteren = 0b010
        expectLegal(Asm.csrrs(5, CSR.time, 0), "U rdtime with both", at: .user)
        m.hart.mcounteren = 0
        expectIllegal(Asm.csrrs(5, CSR.time, 0), "U rdtime, mcounteren = 0", at: .user, exactBits: false)
        // hpmcounter4 is gated by bit 4.
        m.hart.mcounteren = 1 << 4
        expectLegal(Asm.csrrs(5, 0xC04, 0), "S hpmcounter4", at: .supervisor)
        expectIllegal(Asm.csrrs(5, 0xC05, 0), "S hpmcounter5", at: .supervisor, exactBits: false)
        // M-mode is never gated.
        m.hart.mcounteren = 0
        expectLegal(Asm.csrrs(5, CSR.cycle, 0), "M rdcycle")
    }

    // MARK: Privileged instructions

    func testXRETPrivilege() {
        expectIllegal(Asm.sret, "sret in U", at: .user, exactBits: false)
        expectIllegal(Asm.mret, "mret in U", at: .user, exactBits: false)
        expectIllegal(Asm.mret, "mret in S", at: .supervisor, exactBits: false)
        m.hart.mstatus |= Mstatus.tsr
        expectIllegal(Asm.sret, "sret in S with TSR", at: .supervisor, exactBits: false)
    }

    func testWfiPrivilege() {
        expectIllegal(Asm.wfi, "wfi in U", at: .user, exactBits: false)
        m.hart.mstatus |= Mstatus.tw
        expectIllegal(Asm.wfi, "wfi in S with TW", at: .supervisor, exactBits: false)
        // TW does not apply to M-mode; with an interrupt pending-and-enabled WFI just retires.
        m.hart.mie = InterruptLines.machineSoftware
        m.lines.set(InterruptLines.machineSoftware, true)
        expectLegal(Asm.wfi, "wfi in M with TW")
        XCTAssertEqual(m.hart.runState, .running)
    }

    func testSfenceAndSatpTrapping() {
        expectIllegal(Asm.sfenceVMA(), "sfence.vma in U", at: .user, exactBits: false)
        expectLegal(Asm.sfenceVMA(), "sfence.vma in S", at: .supervisor)
        expectLegal(Asm.csrrs(5, CSR.satp, 0), "S reads satp", at: .supervisor)
        m.hart.mstatus |= Mstatus.tvm
        expectIllegal(Asm.sfenceVMA(), "sfence.vma in S with TVM", at: .supervisor, exactBits: false)
        expectIllegal(Asm.csrrs(5, CSR.satp, 0), "S reads satp with TVM", at: .supervisor, exactBits: false)
        expectIllegal(Asm.csrrw(0, CSR.satp, 0), "S writes satp with TVM", at: .supervisor, exactBits: false)
        expectLegal(Asm.csrrs(5, CSR.satp, 0), "M reads satp with TVM")
        expectLegal(Asm.sfenceVMA(), "sfence.vma in M with TVM")
    }

    func testFloatingPointOffIsIllegal() {
        XCTAssertEqual(m.hart.mstatus & Mstatus.fs, 0, "FS is Off after reset")
        expectIllegal(Asm.faddS(1, 2, 3), "fadd.s with FS=0", exactBits: false)
        expectIllegal(Asm.flw(1, 6, 0), "flw with FS=0", exactBits: false, regs: [6: base + 0x100])
        expectIllegal(Asm.fsd(1, 6, 0), "fsd with FS=0", exactBits: false, regs: [6: base + 0x100])
        expectIllegal(Asm.fmvXW(5, 1), "fmv.x.w with FS=0", exactBits: false)
        expectIllegal(Asm.fmvDX(1, 5), "fmv.d.x with FS=0", exactBits: false)
        expectIllegal(Asm.csrrs(5, CSR.fflags, 0), "csrr fflags with FS=0", exactBits: false)
        expectIllegal(Asm.csrrs(5, CSR.frm, 0), "csrr frm with FS=0", exactBits: false)
        expectIllegal(Asm.csrrw(0, CSR.fcsr, 5), "csrw fcsr with FS=0", exactBits: false)
        m.enableFPU()
        expectLegal(Asm.faddS(1, 2, 3), "fadd.s with FS=Initial")
        expectLegal(Asm.csrrs(5, CSR.fcsr, 0), "csrr fcsr with FS=Initial")
    }
}
