import XCTest
@testable import RISCV

/// HLV, HLVX and HSV (privileged spec 8.3.1): loads and stores from HS-mode (or U-mode with
/// hstatus.HU) through two-stage translation at the privilege in hstatus.SPVP; and MPRV with
/// MPV, which does the same for M-mode's ordinary loads and stores (8.4.1).
final class HypervisorLoadStoreTests: XCTestCase {
    typealias F = HypervisorFixture
    let v = PTEBit.v, r = PTEBit.r, w = PTEBit.w, x = PTEBit.x, u = PTEBit.u, a = PTEBit.a, d = PTEBit.d
    /// Host code, run with V=0 and satp Bare.
    let hostCode = TestMachine.ramBase + 0x2000

    /// Runs `word` with V=0 at `privilege`; whether it retired.
    @discardableResult
    private func runHost(_ f: F, _ word: UInt32, as privilege: Privilege = .supervisor, _ regs: [Int: UInt64]) -> Bool {
        f.m.load([word], at: hostCode, setPC: false)
        f.hart.leaveGuest(privilege: privilege)
        f.hart.pc = hostCode
        for (r, v) in regs { f.hart.setRegister(r, v) }
        f.hart.mcause = 0xdead
        f.m.step()
        return f.hart.mcause == 0xdead && f.hart.pc == hostCode + 4
    }

    func testLoadsTranslateAsTheGuestAtSPVP() {
        let f = F()
        f.m.setCSR(CSR.hstatus, Hstatus.spvp)
        XCTAssertTrue(runHost(f, Asm.hlv(.d, 5, 6), [6: F.dataVA]))
        XCTAssertEqual(f.hart.register(5), F.marker)
        XCTAssertFalse(f.hart.virtualized, "the hart itself stays at V=0")
        // SPVP = 0: as VU-mode, so the supervisor page faults. tval is a guest virtual address
        // although V was 0: GVA = 1, MPV = 0.
        f.m.setCSR(CSR.hstatus, 0)
        XCTAssertFalse(runHost(f, Asm.hlv(.d, 5, 6), [6: F.dataVA]))
        f.m.assertTrap(.loadPageFault, epc: hostCode, tval: F.dataVA)
        XCTAssertEqual(f.m.csr(CSR.mstatus) & (Mstatus.gva | Mstatus.mpv), Mstatus.gva)
        XCTAssertEqual(f.m.csr(CSR.mstatus) >> Mstatus.mppShift & 3, 1)
    }

    func testSignAndZeroExtension() {
        let f = F()
        f.m.setCSR(CSR.hstatus, Hstatus.spvp)
        f.m.write64(f.host(F.dataGPA) + 0x10, 0xf1f2_f3f4_f5f6_f7f8)
        let expected: [(Asm.HypervisorLoad, UInt64)] = [
            (.b, 0xffff_ffff_ffff_fff8), (.bu, 0xf8), (.h, 0xffff_ffff_ffff_f7f8), (.hu, 0xf7f8),
            (.w, 0xffff_ffff_f5f6_f7f8), (.wu, 0xf5f6_f7f8), (.d, 0xf1f2_f3f4_f5f6_f7f8),
        ]
        for (kind, value) in expected {
            XCTAssertTrue(runHost(f, Asm.hlv(kind, 5, 6), [6: F.dataVA + 0x10]))
            XCTAssertEqual(f.hart.register(5), value, "\(kind)")
        }
        // Misaligned across two guest pages mapped to discontiguous frames.
        f.vs.map(0x5100_0000, F.dataGPA + 0x1000, F.vsRWX)
        f.vs.map(0x5100_1000, F.dataGPA, F.vsRWX)
        f.m.write32(f.host(F.dataGPA) + 0x1ffc, 0x4433_2211)
        XCTAssertTrue(runHost(f, Asm.hlv(.d, 5, 6), [6: 0x5100_0ffc]))
        XCTAssertEqual(f.hart.register(5), (F.marker & 0xffff_ffff) << 32 | 0x4433_2211)
    }

    /// HLVX needs execute permission at both stages, not read; its faults are load faults.
    func testHLVXReadsExecuteOnlyPages() {
        let f = F()
        f.m.setCSR(CSR.hstatus, Hstatus.spvp)
        let va: UInt64 = 0x5555_0000
        f.g.map(F.spareGPA, F.spareHPA, v | x | u | a | d)
        f.vs.map(va, F.spareGPA, v | x | a | d)
        f.m.write64(F.spareHPA, 0x1122_3344_5566_7788)
        XCTAssertTrue(runHost(f, Asm.hlv(.xwu, 5, 6), [6: va]))
        XCTAssertEqual(f.hart.register(5), 0x5566_7788)
        XCTAssertTrue(runHost(f, Asm.hlv(.xhu, 5, 6), [6: va + 6]))
        XCTAssertEqual(f.hart.register(5), 0x1122)
        XCTAssertFalse(runHost(f, Asm.hlv(.wu, 5, 6), [6: va]), "HLV needs read permission")
        f.m.assertTrap(.loadPageFault, epc: hostCode, tval: va)
        // Readable but not executable in the VS-stage: a load page fault, not a fetch fault.
        f.vs.map(va, F.spareGPA, v | r | a | d)
        f.hart.flushTranslations()
        XCTAssertFalse(runHost(f, Asm.hlv(.xwu, 5, 6), [6: va]))
        f.m.assertTrap(.loadPageFault, epc: hostCode, tval: va)
        // Executable in the VS-stage, only readable in the G-stage: a load guest-page fault whose
        // mtinst is the transformed HLVX.WU (rs1 replaced by the address offset, 0).
        f.vs.map(va, F.spareGPA, v | r | x | a | d)
        f.g.map(F.spareGPA, F.spareHPA, v | r | u | a | d)
        XCTAssertFalse(runHost(f, Asm.hlv(.xwu, 9, 6), [6: va]))
        f.m.assertTrap(.loadGuestPageFault, epc: hostCode, tval: va)
        XCTAssertEqual(f.m.csr(CSR.mtval2), F.spareGPA >> 2)
        XCTAssertEqual(f.m.csr(CSR.mtinst), 0x34 << 25 | 3 << 20 | 4 << 12 | 9 << 7 | 0x73)
    }

    func testStoresAndTheirGuestPageFault() {
        let f = F()
        f.m.setCSR(CSR.hstatus, Hstatus.spvp)
        for bytes in [1, 2, 4, 8] {
            f.m.write64(f.host(F.dataGPA) + 0x20, 0)
            XCTAssertTrue(runHost(f, Asm.hsv(bytes: bytes, 7, 6), [6: F.dataVA + 0x20, 7: .max]))
            let expected: UInt64 = bytes == 8 ? .max : (1 << (8 * UInt64(bytes))) - 1
            XCTAssertEqual(f.m.read64(f.host(F.dataGPA) + 0x20), expected, "hsv of \(bytes) bytes")
        }
        // A G-stage read-only page: a store guest-page fault with the transformed HSV.W.
        let va: UInt64 = 0x5555_0000
        f.g.map(F.spareGPA, F.spareHPA, v | r | u | a | d)
        f.vs.map(va, F.spareGPA, F.vsRWX)
        XCTAssertFalse(runHost(f, Asm.hsv(bytes: 4, 7, 6), [6: va + 0x44, 7: 1]))
        f.m.assertTrap(.storeGuestPageFault, epc: hostCode, tval: va + 0x44)
        XCTAssertEqual(f.m.csr(CSR.mtval2), (F.spareGPA + 0x44) >> 2)
        XCTAssertEqual(f.m.csr(CSR.mtinst), 0x35 << 25 | 7 << 20 | 4 << 12 | 0x73)
        XCTAssertEqual(f.m.csr(CSR.mstatus) & (Mstatus.gva | Mstatus.mpv), Mstatus.gva)
        XCTAssertEqual(f.m.read64(F.spareHPA + 0x40), 0, "nothing written")
        // Taken into HS-mode instead: htval and htinst, SPV = 0 but GVA = 1.
        f.m.setCSR(CSR.medeleg, 1 << 23)
        f.m.setCSR(CSR.stvec, TestMachine.ramBase + 0x9000)
        XCTAssertFalse(runHost(f, Asm.hsv(bytes: 4, 7, 6), [6: va + 0x44, 7: 1]))
        XCTAssertEqual(f.hart.pc, TestMachine.ramBase + 0x9000)
        XCTAssertEqual(f.m.csr(CSR.htval), (F.spareGPA + 0x44) >> 2)
        XCTAssertEqual(f.m.csr(CSR.htinst), 0x35 << 25 | 7 << 20 | 4 << 12 | 0x73)
        XCTAssertEqual(f.m.csr(CSR.hstatus) & (Hstatus.spv | Hstatus.gva), Hstatus.gva)
    }

    func testUserModeNeedsHU() {
        let f = F()
        f.m.setCSR(CSR.hstatus, Hstatus.spvp)
        XCTAssertFalse(runHost(f, Asm.hlv(.d, 5, 6), as: .user, [6: F.dataVA]))
        f.m.assertTrap(.illegalInstruction, epc: hostCode)
        f.m.setCSR(CSR.hstatus, Hstatus.spvp | Hstatus.hu)
        XCTAssertTrue(runHost(f, Asm.hlv(.d, 5, 6), as: .user, [6: F.dataVA]))
        XCTAssertEqual(f.hart.register(5), F.marker)
        XCTAssertTrue(runHost(f, Asm.hsv(bytes: 8, 7, 6), as: .user, [6: F.dataVA, 7: 9]))
        XCTAssertEqual(f.m.read64(f.host(F.dataGPA)), 9)
    }

    /// vsstatus.SUM governs VS-level access to U pages; the HS-level SUM and MPRV do not apply.
    func testSUMAndMPRV() {
        let f = F()
        f.vs.map(F.dataVA, F.dataGPA, F.vsRWX | u)
        f.m.setCSR(CSR.hstatus, Hstatus.spvp)
        f.m.setCSR(CSR.mstatus, Mstatus.sum)
        XCTAssertFalse(runHost(f, Asm.hlv(.d, 5, 6), [6: F.dataVA]), "HS-level SUM does not help")
        f.m.setCSR(CSR.vsstatus, Mstatus.sum)
        XCTAssertTrue(runHost(f, Asm.hlv(.d, 5, 6), [6: F.dataVA]))
        // From M-mode with MPRV and MPP = U: HLV still accesses as VS (SPVP).
        f.m.setCSR(CSR.vsstatus, 0)
        f.vs.map(F.dataVA, F.dataGPA, F.vsRWX)
        f.m.setCSR(CSR.mstatus, Mstatus.mprv)
        XCTAssertTrue(runHost(f, Asm.hlv(.d, 5, 6), as: .machine, [6: F.dataVA]))
        XCTAssertEqual(f.hart.register(5), F.marker)
    }

    /// M-mode loads and stores with MPRV=1 and MPV=1 act as VS or VU accesses with two-stage
    /// translation (8.4.1); with MPP = M, MPV is ignored.
    func testMPRVWithMPVTranslatesInTwoStages() {
        let f = F()
        f.m.setCSR(CSR.mstatus, Mstatus.mprv | Mstatus.mpv | 1 << Mstatus.mppShift)
        XCTAssertTrue(runHost(f, Asm.ld(5, 6, 0), as: .machine, [6: F.dataVA]))
        XCTAssertEqual(f.hart.register(5), F.marker)
        XCTAssertTrue(runHost(f, Asm.sd(7, 6, 8), as: .machine, [6: F.dataVA, 7: 0x77]))
        XCTAssertEqual(f.m.read64(f.host(F.dataGPA) + 8), 0x77)
        // A fault: tval is a guest virtual address (GVA = 1); the trap came from M-mode (MPV = 0).
        XCTAssertFalse(runHost(f, Asm.ld(5, 6, 0), as: .machine, [6: 0x7000_0000]))
        f.m.assertTrap(.loadPageFault, epc: hostCode, tval: 0x7000_0000)
        XCTAssertEqual(f.m.csr(CSR.mstatus) & (Mstatus.gva | Mstatus.mpv), Mstatus.gva)
        // MPP = M: MPV is ignored, the access is physical.
        f.m.setCSR(CSR.mstatus, Mstatus.mprv | Mstatus.mpv | 3 << Mstatus.mppShift)
        XCTAssertTrue(runHost(f, Asm.ld(5, 6, 0), as: .machine, [6: f.host(F.dataGPA)]))
        XCTAssertEqual(f.hart.register(5), F.marker)
    }
}
