import XCTest
@testable import RISCV
import Devices

/// The hypervisor extension's CSRs (privileged spec 8.2, 8.4): WARL masks, the views hie, hip,
/// hvip, vsie and vsip over mie and mip, and the S CSR numbers reaching the VS CSRs when V=1.
final class HypervisorCSRTests: XCTestCase {
    let base = TestMachine.ramBase
    var m: TestMachine!

    override func setUp() { m = TestMachine() }

    func testWriteMasks() {
        let cases: [(String, UInt16, UInt64)] = [
            // GVA SPV SPVP HU VTVM VTW VTSR writable; VSXL = 2 read-only; VSBE, VGEIN zero.
            ("hstatus", CSR.hstatus, 2 << 32 | 1 << 22 | 1 << 21 | 1 << 20 | 1 << 9 | 1 << 8 | 1 << 7 | 1 << 6),
            // Not ecalls from HS/VS/M, guest-page faults or virtual instruction (8.2.2).
            ("hedeleg", CSR.hedeleg, 0xb1ff),
            ("hideleg", CSR.hideleg, 0x444),
            ("hie", CSR.hie, 0x444),
            ("hvip", CSR.hvip, 0x444),
            ("hcounteren", CSR.hcounteren, 0xffff_ffff),
            ("henvcfg", CSR.henvcfg, 1),
            ("hgeie", CSR.hgeie, 0),
            ("htimedelta", CSR.htimedelta, .max),
            ("htval", CSR.htval, .max),
            ("htinst", CSR.htinst, .max),
            ("vstvec", CSR.vstvec, .max & ~3),
            ("vsscratch", CSR.vsscratch, .max),
            ("vsepc", CSR.vsepc, .max & ~1),
            ("vscause", CSR.vscause, .max),
            ("vstval", CSR.vstval, .max),
            ("mtval2", CSR.mtval2, .max),
            ("mtinst", CSR.mtinst, .max),
        ]
        for (name, csr, mask) in cases {
            m.setCSR(csr, .max)
            XCTAssertEqual(m.csr(csr), mask, "\(name) after writing all ones")
        }
        XCTAssertEqual(m.csr(CSR.hip), 0x444, "hip shows hvip's bits")
        m.setCSR(CSR.hip, 0)
        XCTAssertEqual(m.csr(CSR.hip), 0x440, "hip: only VSSIP is writable")
        XCTAssertEqual(m.csr(CSR.hvip), 0x440, "VSSIP in hip is hvip's")
        XCTAssertEqual(m.csr(CSR.mie) & 0x444, 0x444, "hie's bits are mie's")
        XCTAssertEqual(m.csr(CSR.mip) & 0x444, 0x440, "and hip's are mip's")
        m.setCSR(CSR.hgeip, .max)
        XCTAssertEqual(m.csr(CSR.hgeip), 0, "GEILEN = 0")
        // vsstatus: SIE SPIE SPP FS SUM MXR, UXL = 2 read-only, SD from FS = Dirty.
        m.setCSR(CSR.vsstatus, .max)
        XCTAssertEqual(m.csr(CSR.vsstatus), 1 << 63 | 2 << 32 | 0xc_6122)
        m.setCSR(CSR.vsstatus, 0)
        XCTAssertEqual(m.csr(CSR.vsstatus), 2 << 32)
    }

    func testMachineCSRsGainTheHypervisorBits() {
        XCTAssertNotEqual(m.csr(CSR.misa) & 1 << 7, 0, "misa.H")
        m.setCSR(CSR.mideleg, 0)
        XCTAssertEqual(m.csr(CSR.mideleg), 0x444, "VS-level interrupts always delegated (read-only one)")
        m.setCSR(CSR.mstatus, Mstatus.mpv | Mstatus.gva)
        XCTAssertEqual(m.csr(CSR.mstatus) & (Mstatus.mpv | Mstatus.gva), Mstatus.mpv | Mstatus.gva)
        XCTAssertEqual(m.csr(CSR.sstatus) & (Mstatus.mpv | Mstatus.gva), 0, "not in sstatus")
        m.setCSR(CSR.medeleg, .max)
        XCTAssertEqual(m.csr(CSR.medeleg) & 0xf0_0400, 0xf0_0400, "ecall from VS, guest-page faults, virtual instruction")
    }

    func testHgatpAndVsatpWARL() {
        m.setCSR(CSR.hgatp, 8 << 60 | 0x3fff << 44 | 0x8_0007)
        XCTAssertEqual(m.csr(CSR.hgatp), 8 << 60 | 0x3fff << 44 | 0x8_0004, "Sv39x4, 14 VMID bits, PPN[1:0] zero")
        m.setCSR(CSR.hgatp, 10 << 60 | 0x8_1000)
        XCTAssertEqual(m.csr(CSR.hgatp) >> 60, 8, "Sv57x4 unsupported: MODE keeps its value (WARL)")
        XCTAssertEqual(m.csr(CSR.hgatp) & ((1 << 44) - 1), 0x8_1000, "while the other fields change")
        m.setCSR(CSR.hgatp, 9 << 60)
        XCTAssertEqual(m.csr(CSR.hgatp), 9 << 60, "Sv48x4")
        m.setCSR(CSR.hgatp, 0)
        XCTAssertEqual(m.csr(CSR.hgatp), 0, "Bare")
        m.setCSR(CSR.vsatp, 9 << 60 | 0x1234)
        XCTAssertEqual(m.csr(CSR.vsatp), 9 << 60 | 0x1234)
        m.setCSR(CSR.vsatp, 10 << 60 | 0x5678)
        XCTAssertEqual(m.csr(CSR.vsatp), 9 << 60 | 0x1234, "an unsupported vsatp MODE ignores the write")
    }

    /// vsip and vsie show hip/hie's VS bits that hideleg delegates, one position lower (8.2.12).
    func testVsipAndVsieFollowHideleg() {
        m.setCSR(CSR.hvip, 0x444)
        m.setCSR(CSR.hie, 0x444)
        XCTAssertEqual(m.csr(CSR.vsip), 0, "nothing delegated: read-only zero")
        XCTAssertEqual(m.csr(CSR.vsie), 0)
        m.setCSR(CSR.hideleg, 0x040)
        XCTAssertEqual(m.csr(CSR.vsip), 0x020, "VSTIP appears as STIP")
        XCTAssertEqual(m.csr(CSR.vsie), 0x020)
        m.setCSR(CSR.hideleg, 0x444)
        XCTAssertEqual(m.csr(CSR.vsip), 0x222)
        m.setCSR(CSR.vsie, 0x020)
        XCTAssertEqual(m.csr(CSR.hie), 0x040, "vsie writes hie")
        m.setCSR(CSR.vsip, 0)
        XCTAssertEqual(m.csr(CSR.hvip), 0x440, "vsip.SSIP is hvip.VSSIP; STIP and SEIP are read-only")
        m.setCSR(CSR.vsip, 0x2)
        XCTAssertEqual(m.csr(CSR.hvip), 0x444)
    }

    // MARK: VS CSRs in place of the S CSRs

    /// With V=1, every S CSR with a VS counterpart reaches the VS CSR; the HS-level CSR keeps its
    /// value. scounteren and senvcfg have no VS copy and stay themselves (privileged spec 8.2).
    func testSupervisorCSRNumbersReachTheVSCSRsWhenV1() {
        let pairs: [(String, UInt16, UInt16, UInt64)] = [
            ("sscratch", CSR.sscratch, CSR.vsscratch, 0x1234_5678),
            ("sepc", CSR.sepc, CSR.vsepc, 0x4000_0100),
            ("scause", CSR.scause, CSR.vscause, 13),
            ("stval", CSR.stval, CSR.vstval, 0xdead_beef),
            ("stvec", CSR.stvec, CSR.vstvec, 0x4000_2000),
            ("satp", CSR.satp, CSR.vsatp, 0x42 << 44),  // Bare, so the guest's fetches go on
            ("sstatus", CSR.sstatus, CSR.vsstatus, Mstatus.sum | Mstatus.spp),
        ]
        for (name, s, vs, value) in pairs {
            let m = TestMachine()
            m.setCSR(s, 0)
            m.setCSR(vs, 0)
            m.load([Asm.csrrw(0, s, 6), Asm.csrrs(5, s, 0)])
            m.hart.enterGuest(pc: base)
            m.hart.setRegister(6, value)
            m.step(2)
            XCTAssertEqual(m.hart.pc, base + 8, "\(name): no trap")
            XCTAssertEqual(m.csr(vs) & value, value, "\(name) wrote v\(name)")
            XCTAssertEqual(m.hart.register(5) & value, value, "\(name) reads v\(name)")
            XCTAssertEqual(m.csr(s) & value, 0, "\(name) itself untouched")
        }
        // sie and sip: vsie/vsip, the VS bits one position lower.
        m.setCSR(CSR.hideleg, 0x444)
        m.setCSR(CSR.hvip, InterruptLines.supervisorTimer << 1)
        m.load([Asm.csrrs(5, CSR.sip, 0), Asm.csrrw(0, CSR.sie, 6), Asm.csrrs(7, CSR.scounteren, 0)])
        m.setCSR(CSR.scounteren, 0x7)
        m.hart.enterGuest(pc: base)
        m.hart.setRegister(6, 0x222)
        m.step(3)
        XCTAssertEqual(m.hart.register(5), InterruptLines.supervisorTimer, "sip.STIP = hip.VSTIP")
        XCTAssertEqual(m.csr(CSR.hie), 0x444, "sie wrote hie through vsie")
        XCTAssertEqual(m.csr(CSR.mie) & 0x222, 0, "not the HS-level sie")
        XCTAssertEqual(m.hart.register(7), 0x7, "scounteren has no VS copy")
    }

    /// With V=1 both sstatus.FS and vsstatus.FS gate the FPU, and a change dirties both.
    func testFloatingPointStatusInTheGuest() {
        m.enableFPU()
        m.setCSR(CSR.vsstatus, 1 << 13)
        m.load([Asm.fmvDX(1, 6)])
        m.hart.enterGuest(pc: base)
        m.step()
        XCTAssertEqual(m.hart.pc, base + 4)
        XCTAssertEqual(m.csr(CSR.mstatus) & Mstatus.fs, Mstatus.fsDirty, "sstatus.FS dirty")
        XCTAssertEqual(m.csr(CSR.vsstatus) & Mstatus.fs, Mstatus.fsDirty, "vsstatus.FS dirty")
        XCTAssertNotEqual(m.csr(CSR.vsstatus) & Mstatus.sd, 0, "vsstatus.SD")
        // vsstatus.FS off: illegal instruction, never virtual instruction (8.6.1).
        m.setCSR(CSR.vsstatus, 0)
        m.load([Asm.fmvDX(1, 6), Asm.csrrs(5, CSR.fflags, 0)])
        m.hart.enterGuest(pc: base)
        m.step()
        m.assertTrap(.illegalInstruction, epc: base)
        m.hart.enterGuest(pc: base + 4)
        m.step()
        m.assertTrap(.illegalInstruction, epc: base + 4)
        // And the HS-level FS off with vsstatus.FS on.
        m.setCSR(CSR.vsstatus, 1 << 13)
        m.setCSR(CSR.mstatus, m.csr(CSR.mstatus) & ~Mstatus.fs)
        m.hart.enterGuest(pc: base)
        m.step()
        m.assertTrap(.illegalInstruction, epc: base)
    }

    // MARK: The public accessor

    func testPublicAccessorWritesThroughTheWARLPath() {
        var h = m.hart.hypervisor
        h.hgatp = 10 << 60 | 0x1003   // unsupported MODE, PPN[1:0] set
        h.hedeleg = .max
        h.hstatus = .max
        h.vsatp = 8 << 60 | 0x99
        m.hart.hypervisor = h
        let back = m.hart.hypervisor
        XCTAssertEqual(back.hgatp, 0x1000)
        XCTAssertEqual(back.hedeleg, 0xb1ff)
        XCTAssertEqual(back.hstatus & Hstatus.vsxl64, Hstatus.vsxl64)
        XCTAssertEqual(back.hstatus & 1 << 5, 0, "VSBE read-only zero")
        XCTAssertEqual(back.vsatp, 8 << 60 | 0x99)
        m.hart.hvip = .max
        XCTAssertEqual(m.hart.hvip, 0x444)
        XCTAssertEqual(m.hart.hip, 0x444)
        m.hart.hie = 0x040
        XCTAssertEqual(m.csr(CSR.mie), 0x040)
        m.hart.enterGuest(pc: base + 0x40, privilege: .user)
        XCTAssertTrue(m.hart.virtualized)
        XCTAssertEqual(m.hart.privilege, .user)
        XCTAssertEqual(m.hart.pc, base + 0x40)
        m.hart.leaveGuest()
        XCTAssertFalse(m.hart.virtualized)
        XCTAssertEqual(m.hart.privilege, .supervisor)
    }
}
