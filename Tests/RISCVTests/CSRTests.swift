import XCTest
import Foundation
@testable import RISCV
import Devices

/// CSR values, WARL fields and the Zicsr instructions (privileged spec chapters 2-4).
final class CSRTests: XCTestCase {
    let base = TestMachine.ramBase
    var m: TestMachine!

    override func setUp() { m = TestMachine() }

    func testMisaAndIdentification() {
        // RV64 (MXL = 2) with A, C, D, F, H, I, M, S, U.
        let letters = "ACDFHIMSU".unicodeScalars.map { UInt64($0.value - 65) }
        let want = letters.reduce(UInt64(2) << 62) { $0 | 1 << $1 }
        XCTAssertEqual(m.csr(CSR.misa), want)
        m.exec([Asm.csrrw(5, CSR.misa, 6)], [6: 0])
        XCTAssertEqual(m.hart.register(5), want)
        XCTAssertEqual(m.csr(CSR.misa), want, "misa writes are ignored")
        XCTAssertEqual(m.hart.pc, base + 4, "writing misa is legal")
        for c in [CSR.mvendorid, CSR.marchid, CSR.mimpid, CSR.mconfigptr] { XCTAssertEqual(m.csr(c), 0) }
        let other = Hart(id: 3, memory: m.memory, bus: m.bus, lines: m.lines, timer: m.timer, code: m.code)
        XCTAssertEqual(other.readCSR(CSR.mhartid), 3)
    }

    func testMstatusWARL() {
        let xlen: UInt64 = 2 << 32 | 2 << 34
        XCTAssertEqual(m.csr(CSR.mstatus), xlen, "reset: UXL = SXL = 64 bits, everything else 0")
        m.setCSR(CSR.mstatus, .max)
        // SIE MIE SPIE MPIE SPP MPP FS MPRV SUM MXR TVM TW TSR GVA MPV, UXL/SXL fixed, SD from FS = Dirty.
        XCTAssertEqual(m.csr(CSR.mstatus), 0x8000_00ca_007e_79aa)
        m.setCSR(CSR.mstatus, 0)
        XCTAssertEqual(m.csr(CSR.mstatus), xlen, "UXL/SXL are read-only")
        m.setCSR(CSR.mstatus, 2 << 11)
        XCTAssertNotEqual(m.csr(CSR.mstatus) >> 11 & 3, 2, "MPP never holds the reserved value 2")
        for fs: UInt64 in [1, 2] {
            m.setCSR(CSR.mstatus, fs << 13)
            XCTAssertEqual(m.csr(CSR.mstatus), xlen | fs << 13, "SD only with FS = Dirty")
        }
    }

    func testSstatusIsARestrictedView() {
        // M-only fields set in mstatus do not show through sstatus.
        m.setCSR(CSR.mstatus, Mstatus.mie | Mstatus.mpie | 3 << 11 | Mstatus.mprv | Mstatus.tvm | Mstatus.tw | Mstatus.tsr)
        XCTAssertEqual(m.csr(CSR.sstatus), 2 << 32, "sstatus shows UXL only (bits 35:34 are WPRI there)")
        // An S-mode write of all ones changes only the S fields.
        m.setPrivilege(.supervisor)
        m.exec([Asm.csrrw(0, CSR.sstatus, 5)], [5: .max])
        XCTAssertEqual(m.csr(CSR.sstatus), 0x8000_0002_000c_6122)
        XCTAssertEqual(m.csr(CSR.mstatus) & (Mstatus.mie | Mstatus.mpie | Mstatus.mpp | Mstatus.mprv | Mstatus.tvm
                                              | Mstatus.tw | Mstatus.tsr),
                       Mstatus.mie | Mstatus.mpie | 3 << 11 | Mstatus.mprv | Mstatus.tvm | Mstatus.tw | Mstatus.tsr,
                       "M fields survive an sstatus write")
        m.exec([Asm.csrrw(0, CSR.sstatus, 0)])
        XCTAssertEqual(m.csr(CSR.sstatus), 2 << 32)
        XCTAssertEqual(m.csr(CSR.mstatus) & Mstatus.fs, 0, "FS is writable through sstatus")
    }

    func testSieAndSipFollowMideleg() {
        m.setCSR(CSR.sie, 0x222)
        XCTAssertEqual(m.csr(CSR.mie), 0, "nothing delegated: sie is read-only zero")
        XCTAssertEqual(m.csr(CSR.sie), 0)
        m.setCSR(CSR.mideleg, 0xfff)
        XCTAssertEqual(m.csr(CSR.mideleg), 0x666,
                       "only supervisor interrupts can be delegated; VS-level ones read as delegated (priv 8.4.2)")
        m.setCSR(CSR.sie, 0xfff)
        XCTAssertEqual(m.csr(CSR.mie), 0x222)
        m.setCSR(CSR.mie, 0xfff)
        XCTAssertEqual(m.csr(CSR.mie), 0xeee, "M, S and VS enables (SGEIE is zero: no guest external interrupts)")
        XCTAssertEqual(m.csr(CSR.sie), 0x222, "sie never shows the VS-level bits, which live in hie")
        m.setCSR(CSR.sie, 0)
        XCTAssertEqual(m.csr(CSR.mie), 0xccc, "sie writes leave machine and VS enables alone")

        m.lines.set(InterruptLines.supervisorTimer | InterruptLines.supervisorExternal | InterruptLines.machineTimer, true)
        XCTAssertEqual(m.csr(CSR.sip), 0x220)
        XCTAssertEqual(m.csr(CSR.mip), 0x2a0)
        m.setCSR(CSR.sip, 0xfff)
        XCTAssertEqual(m.csr(CSR.sip), 0x222, "only SSIP is writable through sip")
        m.lines.set(InterruptLines.supervisorTimer | InterruptLines.supervisorExternal, false)
        XCTAssertEqual(m.csr(CSR.sip), 0x002)
        m.setCSR(CSR.sip, 0)
        XCTAssertEqual(m.csr(CSR.sip), 0)
        m.setCSR(CSR.mideleg, 0x020)
        m.setCSR(CSR.sip, 0x2)
        XCTAssertEqual(m.csr(CSR.mip) & 0x2, 0, "SSIP is not writable via sip unless delegated")
        XCTAssertEqual(m.csr(CSR.sip), 0, "sip shows delegated bits only")
    }

    func testMipWritableBits() {
        m.setCSR(CSR.mip, 0xfff)
        XCTAssertEqual(m.csr(CSR.mip), 0x226,
                       "M may write SSIP, STIP, SEIP and VSSIP (alias of hip.VSSIP); MSIP/MTIP/MEIP come from devices")
        m.lines.set(InterruptLines.machineSoftware | InterruptLines.supervisorExternal, true)
        m.setCSR(CSR.mip, 0)
        XCTAssertEqual(m.csr(CSR.mip), 0x208, "device lines stay visible after software clears its bits")
    }

    /// mip.SEIP reads as the OR of the software bit and the external line, but only the software
    /// bit takes part in a CSRRS/CSRRC read-modify-write (privileged spec 3.1.9): setting STIP
    /// while the line is high must not latch SEIP.
    func testSEIPLineIsNotLatchedByReadModifyWrite() {
        m.lines.set(InterruptLines.supervisorExternal, true)
        m.exec([Asm.csrrs(5, CSR.mip, 6), Asm.csrrc(7, CSR.mip, 6), Asm.csrrsi(8, CSR.mip, 0)],
               [6: InterruptLines.supervisorTimer])
        XCTAssertEqual(m.hart.register(5), 0x200, "csrrs reads the line")
        XCTAssertEqual(m.hart.register(7), 0x220)
        XCTAssertEqual(m.hart.register(8), 0x200)
        m.lines.set(InterruptLines.supervisorExternal, false)
        XCTAssertEqual(m.csr(CSR.mip), 0, "SEIP follows the line once it drops")
        // The software SEIP bit itself is set and cleared by csrs/csrc.
        m.exec([Asm.csrrs(0, CSR.mip, 6)], [6: InterruptLines.supervisorExternal])
        XCTAssertEqual(m.csr(CSR.mip), 0x200)
        m.lines.set(InterruptLines.supervisorExternal, true)
        m.exec([Asm.csrrc(0, CSR.mip, 6)], [6: InterruptLines.supervisorExternal])
        XCTAssertEqual(m.csr(CSR.mip), 0x200, "the line still shows")
        m.lines.set(InterruptLines.supervisorExternal, false)
        XCTAssertEqual(m.csr(CSR.mip), 0, "software bit cleared")
        // csrrw writes the value as given.
        m.lines.set(InterruptLines.supervisorExternal, true)
        m.exec([Asm.csrrw(0, CSR.mip, 6)], [6: InterruptLines.supervisorTimer])
        m.lines.set(InterruptLines.supervisorExternal, false)
        XCTAssertEqual(m.csr(CSR.mip), 0x020)
    }

    func testDelegationAndCounterEnableWARL() {
        m.setCSR(CSR.medeleg, .max)
        XCTAssertEqual(m.csr(CSR.medeleg), 0xf0_b7ff, "all but ecall from M; with H, ecall from VS and causes 20-23")
        m.setCSR(CSR.mcounteren, .max)
        XCTAssertEqual(m.csr(CSR.mcounteren), 0xffff_ffff)
        m.setCSR(CSR.scounteren, .max)
        XCTAssertEqual(m.csr(CSR.scounteren), 0xffff_ffff)
        m.setCSR(CSR.mcountinhibit, .max)
        XCTAssertEqual(m.csr(CSR.mcountinhibit), 0xffff_fffd, "bit 1 (TM) does not exist")
    }

    func testExceptionPCsDropBitZero() {
        m.setCSR(CSR.mepc, 0x8000_0007)
        XCTAssertEqual(m.csr(CSR.mepc), 0x8000_0006)
        m.setCSR(CSR.sepc, 0xffff_ffff_ffff_ffff)
        XCTAssertEqual(m.csr(CSR.sepc), 0xffff_ffff_ffff_fffe)
        // mret to an odd mepc written by software still lands on a halfword.
        m.hart.mepc = 0
        m.setCSR(CSR.mstatus, 3 << 11)
        m.exec([Asm.csrrw(0, CSR.mepc, 5), Asm.mret], [5: base + 0x41])
        XCTAssertEqual(m.hart.pc, base + 0x40)
    }

    func testSatpFields() {
        m.setCSR(CSR.satp, .max & ~(0xf << 60) | 8 << 60)
        XCTAssertEqual(m.csr(CSR.satp), 8 << 60 | 0xffff << 44 | ((1 << 44) - 1), "Sv39 with 16 ASID bits and 44 PPN bits")
    }

    func testZicsrInstructions() {
        m.setCSR(CSR.mscratch, 0xf0)
        m.exec([Asm.csrrw(5, CSR.mscratch, 6)], [6: 0x1234])
        XCTAssertEqual(m.hart.register(5), 0xf0)
        XCTAssertEqual(m.csr(CSR.mscratch), 0x1234)
        m.exec([Asm.csrrs(5, CSR.mscratch, 6)], [6: 0xff])
        XCTAssertEqual(m.hart.register(5), 0x1234)
        XCTAssertEqual(m.csr(CSR.mscratch), 0x12ff)
        m.exec([Asm.csrrc(5, CSR.mscratch, 6)], [6: 0x0f0f])
        XCTAssertEqual(m.hart.register(5), 0x12ff)
        XCTAssertEqual(m.csr(CSR.mscratch), 0x10f0)
        // Immediates are 5-bit, zero-extended.
        m.exec([Asm.csrrwi(5, CSR.mscratch, 31)])
        XCTAssertEqual(m.csr(CSR.mscratch), 31)
        XCTAssertEqual(m.hart.register(5), 0x10f0)
        m.setCSR(CSR.mscratch, 0x100)
        m.exec([Asm.csrrsi(5, CSR.mscratch, 0x11)])
        XCTAssertEqual(m.csr(CSR.mscratch), 0x111)
        m.setCSR(CSR.mscratch, .max)
        m.exec([Asm.csrrci(5, CSR.mscratch, 31)])
        XCTAssertEqual(m.csr(CSR.mscratch), 0xffff_ffff_ffff_ffe0)
        // rd == rs1: the old value is read before the register is overwritten.
        m.setCSR(CSR.mscratch, 0x100)
        m.exec([Asm.csrrs(5, CSR.mscratch, 5)], [5: 0x3])
        XCTAssertEqual(m.hart.register(5), 0x100)
        XCTAssertEqual(m.csr(CSR.mscratch), 0x103)
        // rd = x0 still writes.
        m.exec([Asm.csrrw(0, CSR.mscratch, 6)], [6: 0x55])
        XCTAssertEqual(m.csr(CSR.mscratch), 0x55)
        XCTAssertEqual(m.hart.register(0), 0)
        // Supervisor scratch registers.
        m.setPrivilege(.supervisor)
        m.exec([Asm.csrrw(5, CSR.sscratch, 6), Asm.csrrs(7, CSR.sscratch, 0)], [6: 0x77])
        XCTAssertEqual(m.hart.register(7), 0x77)
    }

    func testCountersAdvancePerInstruction() {
        m.timer.mtime = 0xabcdef
        m.exec([Asm.csrrs(5, CSR.instret, 0), Asm.addi(0, 0, 0), Asm.addi(0, 0, 0), Asm.csrrs(6, CSR.instret, 0),
                Asm.csrrs(7, CSR.cycle, 0), Asm.csrrs(8, CSR.time, 0)])
        XCTAssertEqual(m.hart.register(6) - m.hart.register(5), 3)
        XCTAssertGreaterThanOrEqual(m.hart.register(7), m.hart.register(6))
        XCTAssertEqual(m.hart.register(8), 0xabcdef)
    }

    /// Zicsr: "If a CSR access instruction writes such a CSR [instret], the write is done
    /// instead of the increment": after `csrw minstret, 100`, the next instruction reads 100.
    func testCounterWriteReplacesTheIncrement() {
        m.exec([Asm.csrrw(0, CSR.minstret, 6), Asm.csrrs(5, CSR.minstret, 0), Asm.addi(0, 0, 0),
                Asm.csrrs(7, CSR.instret, 0)], [6: 100])
        XCTAssertEqual(m.hart.register(5), 100)
        XCTAssertEqual(m.hart.register(7), 102)
        m.exec([Asm.csrrw(0, CSR.mcycle, 6), Asm.csrrs(5, CSR.mcycle, 0)], [6: 1000])
        XCTAssertEqual(m.hart.register(5), 1000)
    }

    /// The run loop counts retired instructions in a register; counters read inside a slice
    /// must still see every instruction retired before the read.
    func testCountersAdvanceInsideARunSlice() throws {
        m.load([Asm.csrrs(5, CSR.instret, 0), Asm.addi(0, 0, 0), Asm.csrrs(6, CSR.instret, 0),
                Asm.csrrs(7, CSR.cycle, 0), Asm.csrrs(8, CSR.cycle, 0), Asm.jal(0, 0)])
        XCTAssertEqual(m.hart.run(budget: 5), 5)
        XCTAssertEqual(m.hart.register(6) &- m.hart.register(5), 2)
        XCTAssertEqual(m.hart.register(8) &- m.hart.register(7), 1)
    }

    func testUnimplementedCountersReadZero() {
        m.exec([Asm.csrrw(5, 0xB03, 6), Asm.csrrs(7, 0xB03, 0), Asm.csrrw(8, 0x323, 6), Asm.csrrs(9, 0x323, 0)],
               [6: 0x1234, 5: 1, 7: 1, 8: 1, 9: 1])
        XCTAssertEqual(m.hart.pc, base + 16)
        for r in [5, 7, 8, 9] { XCTAssertEqual(m.hart.register(r), 0, "x\(r)") }
    }

    func testPMPRegistersWARL() {
        m.setCSR(CSR.pmpaddr0, .max)
        XCTAssertEqual(m.csr(CSR.pmpaddr0), (1 << 54) - 1)
        // Byte 0: R=0 W=1 is reserved; byte 1: NAPOT RWX; the 0x60 bits are reserved zero.
        m.setCSR(CSR.pmpcfg0, 0x7f_02)
        XCTAssertEqual(m.csr(CSR.pmpcfg0) & 0x3, 0, "W without R is not kept")
        XCTAssertEqual(m.csr(CSR.pmpcfg0) >> 8 & 0xff, 0x1f)
        // Lock entry 2: its cfg byte and address no longer change.
        m.setCSR(CSR.pmpaddr0 + 2, 0x1000)
        m.setCSR(CSR.pmpcfg0, 0x89 << 16)
        m.setCSR(CSR.pmpcfg0, 0)
        XCTAssertEqual(m.csr(CSR.pmpcfg0) >> 16 & 0xff, 0x89)
        m.setCSR(CSR.pmpaddr0 + 2, 0x2000)
        XCTAssertEqual(m.csr(CSR.pmpaddr0 + 2), 0x1000)
        // A locked TOR entry also locks the address below it (its range's start).
        m.setCSR(CSR.pmpaddr0 + 1, 0x3000)
        XCTAssertEqual(m.csr(CSR.pmpaddr0 + 1), 0, "pmpaddr1 is the bottom of locked TOR entry 2")
        m.setCSR(CSR.pmpaddr0 + 3, 0x3000)
        XCTAssertEqual(m.csr(CSR.pmpaddr0 + 3), 0x3000, "pmpaddr3 is not locked")
    }
}
