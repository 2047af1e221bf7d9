import XCTest
@testable import RISCV
import Devices

/// Traps with the hypervisor extension (privileged spec 8.6): where exceptions and interrupts
/// from V=1 go (M, HS or VS), what each trap entry writes, and SRET/MRET returning to V=1.
final class HypervisorTrapTests: XCTestCase {
    typealias F = HypervisorFixture
    let base = TestMachine.ramBase
    let stvec = TestMachine.ramBase + 0x9000
    let vstvec = TestMachine.ramBase + 0xa000
    var m: TestMachine!
    var hart: Hart { m.hart }

    override func setUp() {
        m = TestMachine()
        m.setCSR(CSR.stvec, stvec)
        m.setCSR(CSR.vstvec, vstvec)
    }

    /// Places `words` at RAM base and runs them in the guest, both stages Bare.
    private func runGuest(_ words: [UInt32], as privilege: Privilege = .supervisor, _ regs: [Int: UInt64] = [:]) {
        m.load(words)
        hart.enterGuest(pc: base, privilege: privilege)
        for (r, v) in regs { hart.setRegister(r, v) }
        m.step(words.count)
    }

    private func bit(_ csr: UInt16, _ mask: UInt64) -> Bool { m.csr(csr) & mask != 0 }

    // MARK: Exceptions

    func testExceptionDelegatedByBothRegistersGoesToVS() {
        m.setCSR(CSR.medeleg, 1 << 8 | 1 << 2)
        m.setCSR(CSR.hedeleg, 1 << 8 | 1 << 2)
        m.setCSR(CSR.vsstatus, Mstatus.sie)
        let mstatus = m.csr(CSR.mstatus), hstatus = m.csr(CSR.hstatus)
        runGuest([Asm.ecall], as: .user)
        XCTAssertTrue(hart.virtualized, "V stays 1")
        XCTAssertEqual(hart.privilege, .supervisor)
        XCTAssertEqual(hart.pc, vstvec)
        XCTAssertEqual(m.csr(CSR.vscause), 8)
        XCTAssertEqual(m.csr(CSR.vsepc), base)
        XCTAssertEqual(m.csr(CSR.vstval), 0)
        XCTAssertFalse(bit(CSR.vsstatus, Mstatus.spp), "SPP = VU")
        XCTAssertTrue(bit(CSR.vsstatus, Mstatus.spie), "SPIE = old SIE")
        XCTAssertFalse(bit(CSR.vsstatus, Mstatus.sie))
        XCTAssertEqual(m.csr(CSR.mstatus), mstatus, "the HS-level sstatus is untouched")
        XCTAssertEqual(m.csr(CSR.hstatus), hstatus, "hstatus is untouched")
        XCTAssertEqual(m.csr(CSR.scause), 0)
        // From VS-mode: an undecodable instruction, with its bits in vstval.
        runGuest([0xffff_ffff])
        XCTAssertEqual(hart.pc, vstvec)
        XCTAssertEqual(m.csr(CSR.vscause), 2)
        XCTAssertEqual(m.csr(CSR.vstval), 0xffff_ffff)
        XCTAssertTrue(bit(CSR.vsstatus, Mstatus.spp), "SPP = VS")
    }

    func testExceptionDelegatedOnlyByMedelegGoesToHS() {
        let f = F()
        f.m.setCSR(CSR.stvec, stvec)
        f.m.setCSR(CSR.medeleg, 1 << 13 | 1 << 21 | 1 << 10)
        f.m.setCSR(CSR.hstatus, Hstatus.spvp)  // SPVP must be rewritten from VU
        f.m.setCSR(CSR.htval, 0x5555)
        // A VS-stage page fault in VU-mode: stval is the guest virtual address, GVA = 1, htval = 0.
        XCTAssertNil(f.load(F.dataVA, as: .user))
        XCTAssertFalse(f.hart.virtualized, "V = 0 in HS-mode")
        XCTAssertEqual(f.hart.privilege, .supervisor)
        XCTAssertEqual(f.hart.pc, stvec)
        XCTAssertEqual(f.m.csr(CSR.scause), 13)
        XCTAssertEqual(f.m.csr(CSR.sepc), F.userCodeVA)
        XCTAssertEqual(f.m.csr(CSR.stval), F.dataVA)
        XCTAssertEqual(f.m.csr(CSR.htval), 0)
        XCTAssertEqual(f.m.csr(CSR.htinst), 0)
        let h = f.m.csr(CSR.hstatus)
        XCTAssertEqual(h & (Hstatus.spv | Hstatus.spvp | Hstatus.gva), Hstatus.spv | Hstatus.gva, "SPV = 1, SPVP = VU, GVA = 1")
        XCTAssertEqual(f.m.csr(CSR.sstatus) & Mstatus.spp, 0, "SPP = U")
        // A guest-page fault from VS-mode: htval = GPA >> 2, htinst = the transformed load.
        f.vs.map(0x6000_0000, 0x3000_0000, F.vsRWX)
        XCTAssertNil(f.load(0x6000_0008))
        XCTAssertEqual(f.m.csr(CSR.scause), 21)
        XCTAssertEqual(f.m.csr(CSR.stval), 0x6000_0008)
        XCTAssertEqual(f.m.csr(CSR.htval), 0x3000_0008 >> 2)
        XCTAssertEqual(f.m.csr(CSR.htinst), 0x3283)
        XCTAssertEqual(f.m.csr(CSR.hstatus) & (Hstatus.spv | Hstatus.spvp | Hstatus.gva),
                       Hstatus.spv | Hstatus.spvp | Hstatus.gva, "SPVP = VS")
        XCTAssertNotEqual(f.m.csr(CSR.sstatus) & Mstatus.spp, 0, "SPP = S")
        // ecall from VS is cause 10; its stval is not an address: GVA = 0.
        f.run([Asm.ecall], as: .supervisor)
        XCTAssertEqual(f.m.csr(CSR.scause), 10)
        XCTAssertEqual(f.m.csr(CSR.hstatus) & (Hstatus.spv | Hstatus.gva), Hstatus.spv)
        XCTAssertEqual(f.m.csr(CSR.htval), 0)
        // From HS-mode itself: SPV = 0, SPVP unchanged.
        f.m.setCSR(CSR.medeleg, 1 << 3)
        f.m.load([Asm.ebreak])
        f.hart.leaveGuest()
        f.m.setCSR(CSR.hstatus, Hstatus.spvp)
        f.m.step()
        XCTAssertEqual(f.m.csr(CSR.scause), 3)
        XCTAssertEqual(f.m.csr(CSR.hstatus) & (Hstatus.spv | Hstatus.spvp | Hstatus.gva), Hstatus.spvp)
    }

    func testExceptionNotDelegatedGoesToM() {
        let f = F()
        f.vs.map(0x6000_0000, 0x3000_0000, F.vsRWX)
        XCTAssertNil(f.load(0x6000_0010))
        f.assertMachineTrap(.loadGuestPageFault, epc: F.codeVA, tval: 0x6000_0010, gpa: 0x3000_0010, tinst: 0x3283)
        XCTAssertEqual(f.m.csr(CSR.mstatus) >> Mstatus.mppShift & 3, 1, "MPP = S (VS)")
        f.run([Asm.ebreak], as: .user)
        f.assertMachineTrap(.breakpoint, epc: F.userCodeVA, tval: F.userCodeVA, gva: true, tinst: 0)
        XCTAssertEqual(f.m.csr(CSR.mstatus) >> Mstatus.mppShift & 3, 0, "MPP = U (VU)")
        f.run([Asm.ecall], as: .supervisor)
        f.assertMachineTrap(.environmentCallFromVS, epc: F.codeVA, tval: 0, gva: false)
        // From M-mode: MPV = 0.
        f.m.load([Asm.ecall])
        f.hart.leaveGuest(privilege: .machine)
        f.m.step()
        XCTAssertEqual(f.m.csr(CSR.mstatus) & (Mstatus.mpv | Mstatus.gva), 0)
    }

    // MARK: Interrupts

    /// hvip injects VS-level interrupts; delegated by hideleg they reach VS-mode as their S-level
    /// causes (VSTI 6 as STI 5), through a vectored vstvec at the translated cause.
    func testVSInterruptsReachVSModeTranslated() {
        m.setCSR(CSR.hideleg, 0x444)
        m.setCSR(CSR.hie, 0x444)
        m.setCSR(CSR.vstvec, vstvec | 1)
        m.setCSR(CSR.vsstatus, Mstatus.sie)
        hart.hvip = InterruptLines.virtualSupervisorTimer
        runGuest([Asm.addi(5, 0, 1)])
        XCTAssertEqual(hart.register(5), 0, "interrupted before the instruction")
        XCTAssertTrue(hart.virtualized)
        XCTAssertEqual(m.csr(CSR.vscause), 1 << 63 | 5)
        XCTAssertEqual(hart.pc, vstvec + 4 * 5)
        XCTAssertEqual(m.csr(CSR.vsepc), base)
        XCTAssertEqual(m.csr(CSR.sip) & 0x222, 0, "nothing in the HS-level sip")
        // Priority among VS-level interrupts: VSEI, VSSI, VSTI (as SEI 9, SSI 1, STI 5).
        hart.hvip = 0x444
        for cause: UInt64 in [9, 1, 5] {
            m.setCSR(CSR.vsstatus, Mstatus.sie)
            runGuest([Asm.addi(0, 0, 0)])
            XCTAssertEqual(m.csr(CSR.vscause), 1 << 63 | cause)
            hart.hvip &= ~(1 << (cause + 1))
        }
    }

    func testVSInterruptEnables() {
        m.setCSR(CSR.hideleg, 0x444)
        m.setCSR(CSR.hie, 0x444)
        hart.hvip = InterruptLines.virtualSupervisorSoftware
        m.setCSR(CSR.mstatus, Mstatus.sie | Mstatus.mie)
        // V=0: never taken, whatever SIE says, in HS-mode and in U-mode.
        for p in [Privilege.supervisor, .user] {
            m.load([Asm.addi(5, 0, 1)])
            hart.leaveGuest(privilege: p)
            hart.setRegister(5, 0)
            m.step()
            XCTAssertEqual(hart.register(5), 1, "\(p) with V=0 runs on")
        }
        // VS-mode with vsstatus.SIE = 0: masked; VU-mode: taken.
        runGuest([Asm.addi(5, 0, 2)], as: .supervisor, [5: 0])
        XCTAssertEqual(hart.register(5), 2)
        runGuest([Asm.addi(5, 0, 3)], as: .user, [5: 0])
        XCTAssertEqual(hart.register(5), 0)
        XCTAssertEqual(m.csr(CSR.vscause), 1 << 63 | 1)
        XCTAssertEqual(hart.privilege, .supervisor)
        // hie disabled: never.
        m.setCSR(CSR.hie, 0)
        runGuest([Asm.addi(5, 0, 4)], as: .user, [5: 0])
        XCTAssertEqual(hart.register(5), 4)
    }

    /// Not delegated by hideleg, a VS-level interrupt is an HS-level one with its own cause; in
    /// VS or VU it is taken whatever sstatus.SIE says (HS-mode is more privileged).
    func testVSInterruptsWithoutHidelegGoToHS() {
        m.setCSR(CSR.hie, InterruptLines.virtualSupervisorTimer)
        hart.hvip = InterruptLines.virtualSupervisorTimer
        runGuest([Asm.addi(5, 0, 1)], as: .user)
        XCTAssertFalse(hart.virtualized)
        XCTAssertEqual(hart.pc, stvec)
        XCTAssertEqual(m.csr(CSR.scause), 1 << 63 | 6)
        XCTAssertEqual(m.csr(CSR.hstatus) & (Hstatus.spv | Hstatus.spvp | Hstatus.gva), Hstatus.spv, "interrupts: GVA = 0")
        // In HS-mode: only with sstatus.SIE (which trap entry just cleared).
        m.load([Asm.addi(5, 0, 1)])
        hart.pc = base
        m.step()
        XCTAssertEqual(hart.register(5), 1, "HS-mode with SIE = 0 runs on")
        m.setCSR(CSR.mstatus, m.csr(CSR.mstatus) | Mstatus.sie)
        m.step()
        XCTAssertEqual(hart.pc, stvec)
        XCTAssertEqual(m.csr(CSR.hstatus) & Hstatus.spv, 0, "from V=0: SPV = 0")
        // Below an M-level interrupt, which comes first.
        m.setCSR(CSR.mie, m.csr(CSR.mie) | InterruptLines.machineTimer)
        m.lines.set(InterruptLines.machineTimer, true)
        runGuest([Asm.addi(0, 0, 0)])
        XCTAssertEqual(hart.privilege, .machine)
        XCTAssertEqual(hart.mcause, 1 << 63 | 7)
        XCTAssertNotEqual(m.csr(CSR.mstatus) & Mstatus.mpv, 0)
    }

    func testHSInterruptsTakeTheHartOutOfTheGuest() {
        m.setCSR(CSR.mideleg, InterruptLines.supervisorExternal)
        m.setCSR(CSR.mie, InterruptLines.supervisorExternal)
        m.setCSR(CSR.hideleg, 0x444)
        m.lines.set(InterruptLines.supervisorExternal, true)
        runGuest([Asm.addi(5, 0, 1)])  // sstatus.SIE = 0, vsstatus.SIE = 0
        XCTAssertFalse(hart.virtualized)
        XCTAssertEqual(hart.privilege, .supervisor)
        XCTAssertEqual(m.csr(CSR.scause), 1 << 63 | 9)
        XCTAssertEqual(m.csr(CSR.sepc), base)
    }

    func testWfiInTheGuestWakesOnAVSInterrupt() {
        m.setCSR(CSR.hideleg, 0x444)
        m.setCSR(CSR.hie, InterruptLines.virtualSupervisorExternal)
        runGuest([Asm.wfi])
        XCTAssertEqual(hart.runState, .waitingForInterrupt)
        XCTAssertFalse(hart.wakeupPending)
        hart.hvip = InterruptLines.virtualSupervisorExternal
        XCTAssertTrue(hart.wakeupPending, "an enabled VS-level interrupt wakes the hart")
    }

    // MARK: Trap return

    func testSretFromHSEntersTheGuest() {
        for (spp, privilege) in [(Mstatus.spp, Privilege.supervisor), (0, .user)] {
            for from in [Privilege.supervisor, .machine] {
                m.load([Asm.sret])
                hart.leaveGuest(privilege: from)
                m.setCSR(CSR.mstatus, spp | Mstatus.spie)
                m.setCSR(CSR.hstatus, Hstatus.spv)
                m.setCSR(CSR.sepc, base + 0x40)
                m.step()
                XCTAssertTrue(hart.virtualized, "\(from) sret with SPV = 1 enters V=1")
                XCTAssertEqual(hart.privilege, privilege)
                XCTAssertEqual(hart.pc, base + 0x40)
                XCTAssertEqual(m.csr(CSR.hstatus) & Hstatus.spv, 0, "SPV cleared")
                XCTAssertTrue(bit(CSR.mstatus, Mstatus.sie), "SIE = SPIE")
            }
        }
        m.load([Asm.sret])
        hart.leaveGuest()
        m.setCSR(CSR.hstatus, 0)
        m.step()
        XCTAssertFalse(hart.virtualized, "SPV = 0 stays V=0")
    }

    func testSretInVSReturnsWithinTheGuest() {
        m.setCSR(CSR.vsstatus, Mstatus.spie)
        m.setCSR(CSR.vsepc, base + 0x80)
        m.setCSR(CSR.sepc, base + 0x40)
        m.setCSR(CSR.hstatus, Hstatus.spv)
        let mstatus = m.csr(CSR.mstatus)
        runGuest([Asm.sret])
        XCTAssertTrue(hart.virtualized)
        XCTAssertEqual(hart.privilege, .user, "vsstatus.SPP = 0")
        XCTAssertEqual(hart.pc, base + 0x80, "to vsepc")
        XCTAssertTrue(bit(CSR.vsstatus, Mstatus.sie))
        XCTAssertEqual(m.csr(CSR.hstatus), Hstatus.vsxl64 | Hstatus.spv, "hstatus untouched")
        XCTAssertEqual(m.csr(CSR.mstatus), mstatus, "sstatus untouched")
    }

    func testMretWithMPV() {
        for (mpp, privilege) in [(UInt64(1), Privilege.supervisor), (0, .user)] {
            m.load([Asm.mret])
            hart.leaveGuest(privilege: .machine)
            m.setCSR(CSR.mstatus, mpp << Mstatus.mppShift | Mstatus.mpv | Mstatus.mprv)
            m.setCSR(CSR.mepc, base + 0x40)
            m.step()
            XCTAssertTrue(hart.virtualized)
            XCTAssertEqual(hart.privilege, privilege)
            XCTAssertEqual(hart.pc, base + 0x40)
            XCTAssertEqual(m.csr(CSR.mstatus) & (Mstatus.mpv | Mstatus.mprv), 0, "MPV and MPRV cleared")
        }
        m.load([Asm.mret])
        hart.leaveGuest(privilege: .machine)
        m.setCSR(CSR.mstatus, 3 << Mstatus.mppShift | Mstatus.mpv)
        m.setCSR(CSR.mepc, base + 0x40)
        m.step()
        XCTAssertFalse(hart.virtualized, "MPV is ignored when MPP = M")
        XCTAssertEqual(hart.privilege, .machine)
        XCTAssertEqual(m.csr(CSR.mstatus) & Mstatus.mpv, 0)
    }

    /// A guest ecall handled by HS-mode code, which advances sepc and returns with sret.
    func testGuestToHypervisorRoundTrip() {
        m.setCSR(CSR.medeleg, 1 << 10)
        m.load([Asm.ecall, Asm.addi(5, 0, 7)])
        m.load([Asm.csrrs(6, CSR.sepc, 0), Asm.addi(6, 6, 4), Asm.csrrw(0, CSR.sepc, 6), Asm.sret],
               at: stvec, setPC: false)
        hart.enterGuest(pc: base)
        m.step(6)
        XCTAssertTrue(hart.virtualized)
        XCTAssertEqual(hart.privilege, .supervisor)
        XCTAssertEqual(hart.register(5), 7)
        XCTAssertEqual(hart.pc, base + 8)
    }

    // MARK: A VMM in Swift

    final class ExitRecorder: HartTrapHandler {
        var exits: [(cause: UInt64, tval: UInt64, virtualized: Bool, pc: UInt64, htval: UInt64, htinst: UInt64, gva: Bool)] = []
        func handleTrap(_ hart: Hart, cause: UInt64, tval: UInt64, isInterrupt: Bool) {
            let h = hart.hypervisor
            exits.append((cause, tval, hart.virtualized, hart.pc, h.htval, h.htinst, h.hstatus & Hstatus.gva != 0))
            hart.pc &+= 4
        }
    }

    /// Through `trapHandler`, a guest-page fault reaches the VMM with the hart still in the guest
    /// and the exit information in htval/htinst/hstatus.GVA; traps delegated to VS-mode never do.
    func testTrapHandlerSeesGuestExits() {
        let f = F()
        let vmm = ExitRecorder()
        f.hart.trapHandler = vmm
        f.vs.map(0x6000_0000, 0x3000_0000, F.vsRWX)  // an "MMIO" page: no G-stage mapping
        f.m.setCSR(CSR.medeleg, 1 << 13)
        f.m.setCSR(CSR.hedeleg, 1 << 13)
        f.m.setCSR(CSR.vstvec, F.codeVA + 0x100)
        f.run([Asm.sd(7, 6, 0), Asm.ld(5, 8, 0)], as: .supervisor, [6: 0x6000_0020, 8: 0x7000_0000])
        XCTAssertEqual(vmm.exits.count, 1, "the VS page fault went to VS-mode, not the VMM")
        let exit = vmm.exits[0]
        XCTAssertEqual(exit.cause, ExceptionCause.storeGuestPageFault.rawValue)
        XCTAssertEqual(exit.tval, 0x6000_0020)
        XCTAssertTrue(exit.virtualized)
        XCTAssertEqual(exit.pc, F.codeVA)
        XCTAssertEqual(exit.htval, 0x3000_0020 >> 2)
        XCTAssertEqual(exit.htinst, 0x0070_3023)
        XCTAssertTrue(exit.gva)
        XCTAssertEqual(f.hart.pc, F.codeVA + 0x100, "the second access faulted into VS-mode")
        XCTAssertEqual(f.m.csr(CSR.vscause), 13)
        XCTAssertTrue(f.hart.virtualized)
    }
}
