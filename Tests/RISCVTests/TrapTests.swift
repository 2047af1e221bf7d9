import XCTest
@testable import RISCV
import Devices

/// Trap entry and return (privileged spec 3.1.6.1, 3.1.8, 3.1.9, 3.3.2, 4.1.1): delegation,
/// trap vectors, mstatus stacking, interrupt priority and WFI.
final class TrapTests: XCTestCase {
    let base = TestMachine.ramBase
    let stvec = TestMachine.ramBase + 0x9000
    var m: TestMachine!

    override func setUp() {
        m = TestMachine()
        m.setCSR(CSR.stvec, stvec)
    }

    private var hart: Hart { m.hart }
    private func status(_ bit: UInt64) -> Bool { hart.mstatus & bit != 0 }
    private var mpp: UInt64 { hart.mstatus >> 11 & 3 }

    /// Sets mstatus bits directly (M-mode view).
    private func setStatus(_ bits: UInt64, _ on: Bool) {
        let s = m.csr(CSR.mstatus)
        m.setCSR(CSR.mstatus, on ? s | bits : s & ~bits)
    }

    // MARK: Exceptions and delegation

    func testEcallFromUserDelegatedToSupervisor() {
        m.setCSR(CSR.medeleg, 1 << 8)
        setStatus(Mstatus.sie, true)
        setStatus(Mstatus.spp, true)
        m.setPrivilege(.user)
        m.exec([Asm.ecall])
        XCTAssertEqual(hart.privilege, .supervisor)
        XCTAssertEqual(hart.pc, stvec)
        XCTAssertEqual(m.csr(CSR.scause), 8)
        XCTAssertEqual(m.csr(CSR.sepc), base)
        XCTAssertEqual(m.csr(CSR.stval), 0)
        XCTAssertFalse(status(Mstatus.spp), "SPP = U")
        XCTAssertTrue(status(Mstatus.spie), "SPIE = old SIE")
        XCTAssertFalse(status(Mstatus.sie), "SIE cleared")
        XCTAssertEqual(hart.mcause, 0, "M-mode trap CSRs untouched")
        XCTAssertEqual(hart.mepc, 0)
    }

    func testExceptionFromSupervisorDelegated() {
        m.setCSR(CSR.medeleg, 1 << 3 | 1 << 2)
        setStatus(Mstatus.sie, false)
        m.setPrivilege(.supervisor)
        m.exec([Asm.ebreak])
        XCTAssertEqual(hart.privilege, .supervisor)
        XCTAssertEqual(m.csr(CSR.scause), 3)
        XCTAssertEqual(m.csr(CSR.stval), base, "ebreak: tval = pc")
        XCTAssertTrue(status(Mstatus.spp), "SPP = S")
        XCTAssertFalse(status(Mstatus.spie), "SPIE = old SIE (0)")
        // Illegal instruction delegated: stval holds the bits.
        m.setPrivilege(.supervisor)
        m.exec([0xffff_ffff])
        XCTAssertEqual(m.csr(CSR.scause), 2)
        XCTAssertEqual(m.csr(CSR.stval), 0xffff_ffff)
        XCTAssertEqual(m.csr(CSR.sepc), base)
    }

    func testUndelegatedExceptionGoesToMachine() {
        m.setCSR(CSR.medeleg, 1 << 8)  // only ecall from U
        setStatus(Mstatus.mie, true)
        m.setPrivilege(.supervisor)
        m.exec([Asm.ecall])
        m.assertTrap(.environmentCallFromS, epc: base, tval: 0)
        XCTAssertEqual(mpp, 1, "MPP = S")
        XCTAssertTrue(status(Mstatus.mpie), "MPIE = old MIE")
        XCTAssertFalse(status(Mstatus.mie))
        XCTAssertEqual(m.csr(CSR.scause), 0)
    }

    func testMachineModeExceptionsAreNeverDelegated() {
        m.setCSR(CSR.medeleg, 0xffff)
        m.exec([Asm.ebreak])
        m.assertTrap(.breakpoint, epc: base, tval: base)
        XCTAssertEqual(mpp, 3, "MPP = M")
        XCTAssertEqual(m.csr(CSR.scause), 0)
        // ecall from M cannot be delegated at all: medeleg bit 11 is read-only zero.
        XCTAssertEqual(m.csr(CSR.medeleg) & (1 << 11), 0)
        XCTAssertEqual(m.csr(CSR.medeleg), 0xb7ff, "bits 0-10, 12, 13, 15 (10: ecall from VS)")
    }

    func testCompressedEbreakReportsItsPC() {
        m.loadHalves([0x0001, 0x9002], at: base)
        m.step(2)
        m.assertTrap(.breakpoint, epc: base + 2, tval: base + 2)
    }

    // MARK: Trap vectors

    func testDirectAndVectoredVectors() {
        // Direct: every trap at the base.
        m.setCSR(CSR.mtvec, base + 0x100)
        m.setCSR(CSR.mie, InterruptLines.machineTimer)
        setStatus(Mstatus.mie, true)
        m.lines.set(InterruptLines.machineTimer, true)
        m.load([Asm.addi(0, 0, 0)])
        m.step()
        XCTAssertEqual(hart.pc, base + 0x100)
        XCTAssertEqual(hart.mcause, 1 << 63 | 7)
        XCTAssertEqual(hart.mepc, base, "interrupted before the instruction ran")

        // Vectored: interrupts at base + 4 * cause, exceptions at base.
        m.setPrivilege(.machine)
        m.setCSR(CSR.mtvec, base + 0x100 | 1)
        XCTAssertEqual(m.csr(CSR.mtvec), base + 0x101)
        setStatus(Mstatus.mie, true)
        m.load([Asm.addi(0, 0, 0)])
        m.step()
        XCTAssertEqual(hart.pc, base + 0x100 + 4 * 7)
        m.lines.set(InterruptLines.machineTimer, false)
        m.exec([Asm.ecall])
        XCTAssertEqual(hart.pc, base + 0x100, "exceptions ignore vectoring")

        // Supervisor: vectored stvec with a delegated supervisor timer interrupt.
        m.setCSR(CSR.stvec, stvec | 1)
        m.setCSR(CSR.mideleg, InterruptLines.supervisorTimer)
        m.setCSR(CSR.mie, InterruptLines.supervisorTimer)
        m.setCSR(CSR.mip, InterruptLines.supervisorTimer)
        m.setPrivilege(.user)
        m.load([Asm.addi(0, 0, 0)])
        m.step()
        XCTAssertEqual(hart.privilege, .supervisor)
        XCTAssertEqual(hart.pc, stvec + 4 * 5)
        XCTAssertEqual(m.csr(CSR.scause), 1 << 63 | 5)
        XCTAssertEqual(m.csr(CSR.sepc), base)
        // Reserved modes 2 and 3 are not kept.
        m.setCSR(CSR.mtvec, base + 0x102)
        XCTAssertEqual(m.csr(CSR.mtvec) & 3, 0)
        m.setCSR(CSR.stvec, base + 0x103)
        XCTAssertNotEqual(m.csr(CSR.stvec) & 3, 3)
        XCTAssertNotEqual(m.csr(CSR.stvec) & 3, 2)
    }

    // MARK: xRET

    func testMretRestoresAndClearsMPRV() {
        // MPP = S, MPIE = 1, MIE = 0, MPRV = 1.
        m.setCSR(CSR.mstatus, 1 << 11 | Mstatus.mpie | Mstatus.mprv)
        m.setCSR(CSR.mepc, base + 0x40)
        m.exec([Asm.mret])
        XCTAssertEqual(hart.privilege, .supervisor)
        XCTAssertEqual(hart.pc, base + 0x40)
        XCTAssertTrue(status(Mstatus.mie), "MIE = MPIE")
        XCTAssertTrue(status(Mstatus.mpie), "MPIE = 1")
        XCTAssertEqual(mpp, 0, "MPP = U (least privileged)")
        XCTAssertFalse(status(Mstatus.mprv), "mret to a lower privilege clears MPRV")

        // mret to M keeps MPRV.
        m.setPrivilege(.machine)
        m.setCSR(CSR.mstatus, 3 << 11 | Mstatus.mprv)
        m.setCSR(CSR.mepc, base + 0x80)
        m.exec([Asm.mret])
        XCTAssertEqual(hart.privilege, .machine)
        XCTAssertEqual(hart.pc, base + 0x80)
        XCTAssertTrue(status(Mstatus.mprv))
        XCTAssertFalse(status(Mstatus.mie), "MIE = MPIE (0)")

        // mret to U.
        m.setCSR(CSR.mstatus, Mstatus.mprv)
        m.setCSR(CSR.mepc, base + 0xc0)
        m.exec([Asm.mret])
        XCTAssertEqual(hart.privilege, .user)
        XCTAssertFalse(status(Mstatus.mprv))
    }

    func testSretRestores() {
        m.setPrivilege(.supervisor)
        m.setCSR(CSR.mstatus, m.csr(CSR.mstatus) | Mstatus.spp | Mstatus.spie)
        m.setCSR(CSR.sepc, base + 0x40)
        m.exec([Asm.sret])
        XCTAssertEqual(hart.privilege, .supervisor)
        XCTAssertEqual(hart.pc, base + 0x40)
        XCTAssertTrue(status(Mstatus.sie), "SIE = SPIE")
        XCTAssertTrue(status(Mstatus.spie), "SPIE = 1")
        XCTAssertFalse(status(Mstatus.spp), "SPP = U")

        m.setCSR(CSR.sepc, base + 0x80)
        setStatus(Mstatus.spie, false)
        m.exec([Asm.sret])
        XCTAssertEqual(hart.privilege, .user)
        XCTAssertEqual(hart.pc, base + 0x80)
        XCTAssertFalse(status(Mstatus.sie))

        // sret from M-mode works and clears MPRV.
        m.setPrivilege(.machine)
        m.setCSR(CSR.mstatus, Mstatus.mprv | 3 << 11 | Mstatus.spp)
        m.setCSR(CSR.sepc, base + 0xc0)
        m.exec([Asm.sret])
        XCTAssertEqual(hart.privilege, .supervisor)
        XCTAssertFalse(status(Mstatus.mprv))
    }

    func testTrapThenReturnRoundTrip() {
        // U ecall -> S handler; the handler advances sepc and returns to U.
        m.setCSR(CSR.medeleg, 1 << 8)
        m.load([Asm.ecall, Asm.addi(5, 0, 7)], at: base)
        m.load([Asm.csrrs(6, CSR.sepc, 0), Asm.addi(6, 6, 4), Asm.csrrw(0, CSR.sepc, 6), Asm.sret], at: stvec, setPC: false)
        m.hart.pc = base
        m.setPrivilege(.user)
        m.step(6)
        XCTAssertEqual(hart.privilege, .user)
        XCTAssertEqual(hart.register(5), 7)
        XCTAssertEqual(hart.pc, base + 8)
    }

    // MARK: Interrupts

    private func pend(_ bits: UInt64) {
        m.lines.set(bits, true)
    }

    func testMachineInterruptPriority() {
        let all = InterruptLines.machineExternal | InterruptLines.machineSoftware | InterruptLines.machineTimer
            | InterruptLines.supervisorExternal | InterruptLines.supervisorSoftware | InterruptLines.supervisorTimer
        m.setCSR(CSR.mie, all)
        setStatus(Mstatus.mie, true)
        m.lines.set(all & ~InterruptLines.supervisorSoftware & ~InterruptLines.supervisorTimer, true)
        m.setCSR(CSR.mip, InterruptLines.supervisorSoftware | InterruptLines.supervisorTimer)
        // Not delegated: all six go to M, in the order MEI, MSI, MTI, SEI, SSI, STI.
        let order: [(UInt64, UInt64)] = [(11, InterruptLines.machineExternal), (3, InterruptLines.machineSoftware),
                                         (7, InterruptLines.machineTimer), (9, InterruptLines.supervisorExternal),
                                         (1, InterruptLines.supervisorSoftware), (5, InterruptLines.supervisorTimer)]
        for (cause, bit) in order {
            m.setPrivilege(.machine)
            setStatus(Mstatus.mie, true)
            m.load([Asm.addi(0, 0, 0)])
            m.step()
            XCTAssertEqual(hart.mcause, 1 << 63 | cause)
            m.lines.set(bit, false)
            m.setCSR(CSR.mip, m.csr(CSR.mip) & ~bit)
        }
        m.setPrivilege(.machine)
        setStatus(Mstatus.mie, true)
        m.load([Asm.addi(0, 0, 0)])
        m.hart.mcause = 0
        m.step()
        XCTAssertEqual(hart.mcause, 0, "nothing left pending")
        XCTAssertEqual(hart.pc, base + 4)
    }

    func testMachineInterruptsPreemptDelegatedOnes() {
        m.setCSR(CSR.mideleg, 0x222)
        m.setCSR(CSR.mie, 0xaaa)
        pend(InterruptLines.supervisorExternal | InterruptLines.machineTimer)
        setStatus(Mstatus.sie, true)
        m.setPrivilege(.supervisor)
        m.load([Asm.addi(0, 0, 0)])
        m.step()
        XCTAssertEqual(hart.privilege, .machine, "MTI (to M) before SEI (to S), even with MIE = 0 in S-mode")
        XCTAssertEqual(hart.mcause, 1 << 63 | 7)
        m.lines.set(InterruptLines.machineTimer, false)
        // Back in S: now SEI is taken to S.
        m.setPrivilege(.supervisor)
        setStatus(Mstatus.sie, true)
        m.load([Asm.addi(0, 0, 0)])
        m.step()
        XCTAssertEqual(hart.privilege, .supervisor)
        XCTAssertEqual(m.csr(CSR.scause), 1 << 63 | 9)
        XCTAssertEqual(hart.pc, stvec)
        // Supervisor-level priority: SEI, SSI, STI.
        m.setCSR(CSR.mip, InterruptLines.supervisorSoftware | InterruptLines.supervisorTimer)
        for cause: UInt64 in [9, 1, 5] {
            m.setPrivilege(.user)
            m.load([Asm.addi(0, 0, 0)])
            m.step()
            XCTAssertEqual(m.csr(CSR.scause), 1 << 63 | cause)
            m.lines.set(1 << cause, false)
            m.setCSR(CSR.mip, m.csr(CSR.mip) & ~(1 << cause))
        }
    }

    func testInterruptEnables() {
        m.setCSR(CSR.mie, InterruptLines.machineTimer)
        pend(InterruptLines.machineTimer)
        // M-mode with MIE = 0: masked.
        m.exec([Asm.addi(5, 0, 1)])
        XCTAssertEqual(hart.register(5), 1)
        XCTAssertEqual(hart.pc, base + 4)
        // S-mode: M-level interrupts are enabled regardless of MIE.
        m.setPrivilege(.supervisor)
        m.exec([Asm.addi(5, 0, 2)])
        XCTAssertEqual(hart.privilege, .machine)
        XCTAssertEqual(hart.mcause, 1 << 63 | 7)
        XCTAssertEqual(hart.register(5), 1, "interrupted instruction did not run")
        XCTAssertEqual(mpp, 1)
        m.lines.set(InterruptLines.machineTimer, false)

        // Delegated SSI: masked in M-mode even with SIE, masked in S with SIE = 0, taken in U.
        m.setCSR(CSR.mideleg, InterruptLines.supervisorSoftware)
        m.setCSR(CSR.mie, InterruptLines.supervisorSoftware)
        m.setCSR(CSR.mip, InterruptLines.supervisorSoftware)
        m.setPrivilege(.machine)
        setStatus(Mstatus.sie | Mstatus.mie, true)
        m.exec([Asm.addi(5, 0, 3)])
        XCTAssertEqual(hart.register(5), 3, "M-mode ignores delegated interrupts")
        setStatus(Mstatus.sie, false)
        m.setPrivilege(.supervisor)
        m.exec([Asm.addi(5, 0, 4)])
        XCTAssertEqual(hart.register(5), 4, "S-mode with SIE = 0")
        XCTAssertEqual(hart.privilege, .supervisor)
        m.setPrivilege(.user)
        m.exec([Asm.addi(5, 0, 5)])
        XCTAssertEqual(hart.register(5), 4, "U-mode takes it whatever SIE says")
        XCTAssertEqual(hart.privilege, .supervisor)
        XCTAssertEqual(m.csr(CSR.scause), 1 << 63 | 1)
        XCTAssertFalse(status(Mstatus.spp))
        // Disabled in mie: never taken.
        m.setCSR(CSR.mie, 0)
        m.setPrivilege(.user)
        m.exec([Asm.addi(5, 0, 6)])
        XCTAssertEqual(hart.register(5), 6)
    }

    func testWfiWakesWithInterruptPendingEvenWhenGloballyDisabled() {
        m.setCSR(CSR.mie, InterruptLines.machineTimer)
        // Nothing pending: the hart waits, and stepping does nothing.
        m.exec([Asm.wfi, Asm.addi(5, 0, 1)])
        XCTAssertEqual(hart.runState, .waitingForInterrupt)
        XCTAssertEqual(hart.pc, base + 4, "pc after wfi")
        XCTAssertEqual(hart.register(5), 0)
        XCTAssertFalse(hart.wakeupPending)
        // Pending but not enabled in mie: still no wake-up.
        pend(InterruptLines.machineSoftware)
        XCTAssertFalse(hart.wakeupPending)
        // Pending and enabled in mie, with MIE = 0: wakes, and execution continues after wfi.
        pend(InterruptLines.machineTimer)
        XCTAssertTrue(hart.wakeupPending)
        hart.runState = .running  // what the run loop does when wakeupPending
        m.step()
        XCTAssertEqual(hart.register(5), 1)
        XCTAssertEqual(hart.pc, base + 8)

        // WFI with the interrupt already pending does not wait at all.
        m.exec([Asm.wfi])
        XCTAssertEqual(hart.runState, .running)
        XCTAssertEqual(hart.pc, base + 4)
        // In S-mode, a delegated interrupt with SIE = 0 also completes WFI.
        m.lines.set(InterruptLines.machineTimer, false)
        m.setCSR(CSR.mideleg, InterruptLines.supervisorTimer)
        m.setCSR(CSR.mie, InterruptLines.supervisorTimer)
        m.setCSR(CSR.mip, InterruptLines.supervisorTimer)
        m.setPrivilege(.supervisor)
        m.exec([Asm.wfi])
        XCTAssertEqual(hart.runState, .running)
        XCTAssertEqual(hart.privilege, .supervisor)
        XCTAssertEqual(hart.pc, base + 4)
    }

    func testRunSliceWaitsAtWfi() {
        m.load([Asm.addi(5, 5, 1), Asm.wfi, Asm.addi(5, 5, 1)])
        let ran = hart.run(budget: 100)
        XCTAssertEqual(ran, 2)
        XCTAssertEqual(hart.runState, .waitingForInterrupt)
        XCTAssertEqual(hart.register(5), 1)
        XCTAssertEqual(hart.run(budget: 100), 0, "a waiting hart runs nothing")
    }

    /// Enabling an interrupt that is already pending must take it before the next instruction,
    /// also inside a run slice (the interpreter only re-checks interrupts when told to).
    func testInterruptEnabledMidSliceIsTakenAtOnce() {
        struct Case { let name: String; let code: [UInt32]; let privilege: Privilege; let setup: (TestMachine) -> Void }
        let cases: [Case] = [
            Case(name: "csrs mie", code: [Asm.csrrs(0, CSR.mie, 8)], privilege: .machine, setup: { m in
                m.setCSR(CSR.mstatus, m.csr(CSR.mstatus) | Mstatus.mie)
                m.hart.setRegister(8, InterruptLines.machineSoftware)
                m.lines.set(InterruptLines.machineSoftware, true)
            }),
            Case(name: "csrs mstatus.MIE", code: [Asm.csrrsi(0, CSR.mstatus, 8)], privilege: .machine, setup: { m in
                m.setCSR(CSR.mie, InterruptLines.machineSoftware)
                m.lines.set(InterruptLines.machineSoftware, true)
            }),
            Case(name: "csrs sstatus.SIE", code: [Asm.csrrsi(0, CSR.sstatus, 2)], privilege: .supervisor, setup: { m in
                m.setCSR(CSR.mideleg, InterruptLines.supervisorSoftware)
                m.setCSR(CSR.mie, InterruptLines.supervisorSoftware)
                m.setCSR(CSR.mip, InterruptLines.supervisorSoftware)
            }),
            Case(name: "csrs sie", code: [Asm.csrrs(0, CSR.sie, 8)], privilege: .supervisor, setup: { m in
                m.setCSR(CSR.mideleg, InterruptLines.supervisorSoftware)
                m.setCSR(CSR.mstatus, m.csr(CSR.mstatus) | Mstatus.sie)
                m.setCSR(CSR.mip, InterruptLines.supervisorSoftware)
                m.hart.setRegister(8, InterruptLines.supervisorSoftware)
            }),
            Case(name: "csrs sip", code: [Asm.csrrs(0, CSR.sip, 8)], privilege: .supervisor, setup: { m in
                m.setCSR(CSR.mideleg, InterruptLines.supervisorSoftware)
                m.setCSR(CSR.mstatus, m.csr(CSR.mstatus) | Mstatus.sie)
                m.setCSR(CSR.mie, InterruptLines.supervisorSoftware)
                m.hart.setRegister(8, InterruptLines.supervisorSoftware)
            }),
        ]
        for c in cases {
            let m = TestMachine()
            m.setCSR(CSR.stvec, stvec)
            c.setup(m)
            // Handlers that spin in place, so the trap CSRs keep what the interrupt wrote.
            m.load([Asm.jal(0, 0)], at: TestMachine.trapVector, setPC: false)
            m.load([Asm.jal(0, 0)], at: stvec, setPC: false)
            m.load(c.code + Array(repeating: Asm.addi(5, 5, 1), count: 20))
            m.setPrivilege(c.privilege)
            _ = m.hart.run(budget: 10)
            XCTAssertEqual(m.hart.register(5), 0, "\(c.name): no instruction after the enabling one ran")
            let target = c.privilege == .machine ? TestMachine.trapVector : stvec
            XCTAssertEqual(m.hart.pc, target, "\(c.name): in the handler")
            let epc = c.privilege == .machine ? m.hart.mepc : m.hart.sepc
            XCTAssertEqual(epc, base + 4, "\(c.name): interrupt taken right after the enabling instruction")
        }
    }
}
