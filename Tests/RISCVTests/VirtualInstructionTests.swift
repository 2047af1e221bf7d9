import XCTest
@testable import RISCV

/// Which instructions raise a virtual-instruction exception (cause 22) and which an illegal-
/// instruction exception, in every mode (privileged spec 8.6.1): with V=1, an instruction that
/// HS-mode could execute (HS-qualified) but V=1 forbids is virtual; anything HS-mode could not
/// do either (M-level CSRs, read-only CSR writes, unimplemented CSRs, mret) stays illegal, and so
/// does FS gating. mstatus.TVM and TSR affect HS-mode only; TW every mode below M.
final class VirtualInstructionTests: XCTestCase {
    enum Mode: String { case m, hs, u, vs, vu }
    enum Outcome: Equatable { case runs, illegal, virtual, trap(ExceptionCause) }

    struct Case {
        let name: String
        let code: UInt32
        let expected: [(Mode, Outcome)]
        var setup: (Hart) -> Void = { _ in }
    }

    static let base = TestMachine.ramBase

    static func read(_ csr: UInt16) -> UInt32 { Asm.csrrs(5, csr, 0) }

    static var cases: [Case] { [
        Case(name: "csrr hstatus", code: read(CSR.hstatus),
             expected: [(.m, .runs), (.hs, .runs), (.u, .illegal), (.vs, .virtual), (.vu, .virtual)]),
        Case(name: "csrw hstatus", code: Asm.csrrw(0, CSR.hstatus, 7),
             expected: [(.hs, .runs), (.u, .illegal), (.vs, .virtual), (.vu, .virtual)]),
        Case(name: "csrr vsstatus", code: read(CSR.vsstatus),
             expected: [(.hs, .runs), (.u, .illegal), (.vs, .virtual), (.vu, .virtual)]),
        Case(name: "csrr vsatp", code: read(CSR.vsatp), expected: [(.hs, .runs), (.vs, .virtual)]),
        Case(name: "csrr hgeip", code: read(CSR.hgeip), expected: [(.hs, .runs), (.vs, .virtual), (.vu, .virtual)]),
        Case(name: "csrw hgeip (read-only)", code: Asm.csrrw(0, CSR.hgeip, 7),
             expected: [(.m, .illegal), (.hs, .illegal), (.vs, .illegal)]),
        Case(name: "csrr hgatp, mstatus.TVM", code: read(CSR.hgatp),
             expected: [(.m, .runs), (.hs, .illegal), (.vs, .virtual), (.vu, .virtual)],
             setup: { $0.mstatus |= Mstatus.tvm }),
        Case(name: "csrr hstatus, mstatus.TVM", code: read(CSR.hstatus), expected: [(.hs, .runs)],
             setup: { $0.mstatus |= Mstatus.tvm }),
        Case(name: "csrr mstatus", code: read(CSR.mstatus),
             expected: [(.m, .runs), (.hs, .illegal), (.vs, .illegal), (.vu, .illegal)]),
        Case(name: "csrr mtval2", code: read(CSR.mtval2), expected: [(.m, .runs), (.hs, .illegal), (.vs, .illegal)]),
        Case(name: "csrr sstatus", code: read(CSR.sstatus),
             expected: [(.hs, .runs), (.u, .illegal), (.vs, .runs), (.vu, .virtual)]),
        Case(name: "csrr sscratch", code: read(CSR.sscratch), expected: [(.vs, .runs), (.vu, .virtual)]),
        Case(name: "csrr scounteren", code: read(CSR.scounteren), expected: [(.vs, .runs), (.vu, .virtual)]),
        Case(name: "csrr satp, hstatus.VTVM", code: read(CSR.satp),
             expected: [(.hs, .runs), (.vs, .virtual), (.vu, .virtual)],
             setup: { $0.hyp.hstatus |= Hstatus.vtvm }),
        Case(name: "csrr satp, mstatus.TVM", code: read(CSR.satp), expected: [(.hs, .illegal), (.vs, .runs)],
             setup: { $0.mstatus |= Mstatus.tvm }),
        Case(name: "csrr 0x6ff (no such H CSR)", code: read(0x6ff),
             expected: [(.hs, .illegal), (.vs, .illegal), (.vu, .illegal)]),
        Case(name: "csrr 0x1c0 (no such S CSR)", code: read(0x1c0), expected: [(.hs, .illegal), (.vu, .illegal)]),
        Case(name: "csrw cycle (read-only)", code: Asm.csrrw(0, CSR.cycle, 7),
             expected: [(.hs, .illegal), (.vs, .illegal), (.vu, .illegal)]),
        Case(name: "csrr cycle, hcounteren.CY = 0", code: read(CSR.cycle),
             expected: [(.hs, .runs), (.u, .runs), (.vs, .virtual), (.vu, .virtual)],
             setup: { $0.hyp.hcounteren = 0 }),
        Case(name: "csrr cycle, mcounteren.CY = 0", code: read(CSR.cycle),
             expected: [(.m, .runs), (.hs, .illegal), (.vs, .illegal), (.vu, .illegal)],
             setup: { $0.mcounteren = 0 }),
        Case(name: "csrr time, scounteren.TM = 0", code: read(CSR.time),
             expected: [(.u, .illegal), (.vs, .runs), (.vu, .virtual)],
             setup: { $0.scounteren = 0 }),
        Case(name: "csrr fflags, vsstatus.FS = Off", code: read(CSR.fflags),
             expected: [(.hs, .runs), (.vs, .illegal), (.vu, .illegal)],
             setup: { $0.hyp.vsstatus &= ~Mstatus.fs }),
        Case(name: "fadd.d, vsstatus.FS = Off", code: Asm.faddD(1, 2, 3),
             expected: [(.hs, .runs), (.vs, .illegal)],
             setup: { $0.hyp.vsstatus &= ~Mstatus.fs }),
        Case(name: "wfi", code: Asm.wfi,
             expected: [(.m, .runs), (.hs, .runs), (.u, .illegal), (.vs, .runs), (.vu, .virtual)]),
        Case(name: "wfi, hstatus.VTW", code: Asm.wfi, expected: [(.hs, .runs), (.vs, .virtual), (.vu, .virtual)],
             setup: { $0.hyp.hstatus |= Hstatus.vtw }),
        Case(name: "wfi, hstatus.VTW and mstatus.TW", code: Asm.wfi,
             expected: [(.m, .runs), (.hs, .illegal), (.vs, .illegal), (.vu, .illegal)],
             setup: { $0.hyp.hstatus |= Hstatus.vtw; $0.mstatus |= Mstatus.tw }),
        Case(name: "sret", code: Asm.sret, expected: [(.hs, .runs), (.u, .illegal), (.vs, .runs), (.vu, .virtual)]),
        Case(name: "sret, hstatus.VTSR", code: Asm.sret, expected: [(.hs, .runs), (.vs, .virtual), (.vu, .virtual)],
             setup: { $0.hyp.hstatus |= Hstatus.vtsr }),
        Case(name: "sret, mstatus.TSR", code: Asm.sret, expected: [(.hs, .illegal), (.vs, .runs)],
             setup: { $0.mstatus |= Mstatus.tsr }),
        Case(name: "sfence.vma", code: Asm.sfenceVMA(),
             expected: [(.hs, .runs), (.u, .illegal), (.vs, .runs), (.vu, .virtual)]),
        Case(name: "sfence.vma, hstatus.VTVM", code: Asm.sfenceVMA(6, 7), expected: [(.hs, .runs), (.vs, .virtual)],
             setup: { $0.hyp.hstatus |= Hstatus.vtvm }),
        Case(name: "sfence.vma, mstatus.TVM", code: Asm.sfenceVMA(), expected: [(.hs, .illegal), (.vs, .runs)],
             setup: { $0.mstatus |= Mstatus.tvm }),
        Case(name: "hfence.vvma", code: Asm.hfenceVVMA(6, 7),
             expected: [(.m, .runs), (.hs, .runs), (.u, .illegal), (.vs, .virtual), (.vu, .virtual)]),
        Case(name: "hfence.vvma, mstatus.TVM", code: Asm.hfenceVVMA(), expected: [(.hs, .runs)],
             setup: { $0.mstatus |= Mstatus.tvm }),
        Case(name: "hfence.gvma", code: Asm.hfenceGVMA(),
             expected: [(.m, .runs), (.hs, .runs), (.u, .illegal), (.vs, .virtual), (.vu, .virtual)]),
        Case(name: "hfence.gvma, mstatus.TVM", code: Asm.hfenceGVMA(6),
             expected: [(.m, .runs), (.hs, .illegal), (.vs, .virtual)],
             setup: { $0.mstatus |= Mstatus.tvm }),
        Case(name: "hlv.d", code: Asm.hlv(.d, 5, 6),
             expected: [(.m, .runs), (.hs, .runs), (.u, .illegal), (.vs, .virtual), (.vu, .virtual)]),
        Case(name: "hlv.d, hstatus.HU", code: Asm.hlv(.d, 5, 6), expected: [(.u, .runs), (.vu, .virtual)],
             setup: { $0.hyp.hstatus |= Hstatus.hu }),
        Case(name: "hlvx.wu", code: Asm.hlv(.xwu, 5, 6), expected: [(.hs, .runs), (.u, .illegal), (.vs, .virtual)]),
        Case(name: "hsv.w", code: Asm.hsv(bytes: 4, 7, 6),
             expected: [(.hs, .runs), (.u, .illegal), (.vs, .virtual), (.vu, .virtual)]),
        Case(name: "mret", code: Asm.mret, expected: [(.hs, .illegal), (.u, .illegal), (.vs, .illegal), (.vu, .illegal)]),
        Case(name: "ecall", code: Asm.ecall,
             expected: [(.hs, .trap(.environmentCallFromS)), (.u, .trap(.environmentCallFromU)),
                        (.vs, .trap(.environmentCallFromVS)), (.vu, .trap(.environmentCallFromU))]),
    ] }

    /// Runs one case in one mode (both translation stages Bare, nothing delegated, every counter
    /// and the FPU enabled unless the case's setup says otherwise) and reports what happened.
    static func outcome(_ c: Case, in mode: Mode) -> Outcome {
        let m = TestMachine()
        let h = m.hart
        h.mcounteren = 0xffff_ffff
        h.scounteren = 0xffff_ffff
        h.hyp.hcounteren = 0xffff_ffff
        h.mstatus |= Mstatus.fsInitial | Mstatus.spp
        h.hyp.vsstatus |= Mstatus.fsInitial | Mstatus.spp
        h.sepc = base + 4
        h.hyp.vsepc = base + 4
        c.setup(h)
        m.load([c.code])
        switch mode {
        case .m: h.leaveGuest(privilege: .machine)
        case .hs: h.leaveGuest(privilege: .supervisor)
        case .u: h.leaveGuest(privilege: .user)
        case .vs: h.enterGuest(pc: base, privilege: .supervisor)
        case .vu: h.enterGuest(pc: base, privilege: .user)
        }
        h.setRegister(6, base + 0x100)
        h.mcause = 0xdead
        m.step()
        if h.mcause == 0xdead { return .runs }
        precondition(h.mepc == base, "trapped at the instruction")
        switch ExceptionCause(rawValue: h.mcause) {
        case .illegalInstruction: return .illegal
        case .virtualInstruction: return .virtual
        case let cause?: return .trap(cause)
        case nil: return .trap(.instructionAddressMisaligned)
        }
    }

    func testVirtualVersusIllegalInstruction() {
        for c in Self.cases {
            for (mode, expected) in c.expected {
                XCTAssertEqual(Self.outcome(c, in: mode), expected, "\(c.name) in \(mode.rawValue.uppercased())")
            }
        }
    }

    /// On a virtual-instruction trap, mtval is written as for an illegal instruction (0 here).
    func testVirtualInstructionTval() {
        let m = TestMachine()
        m.load([Asm.csrrs(5, CSR.hstatus, 0)])
        m.hart.enterGuest(pc: Self.base)
        m.step()
        m.assertTrap(.virtualInstruction, epc: Self.base, tval: 0)
        XCTAssertEqual(m.csr(CSR.mstatus) & Mstatus.gva, 0, "not an address")
    }
}
