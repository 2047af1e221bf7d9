import XCTest
@testable import RISCV

/// Two-stage address translation (privileged spec 8.5): VS-stage (Sv39/Sv48) over G-stage
/// (Sv39x4/Sv48x4), superpages, G-stage permissions, guest-page faults with htval/mtval2 and
/// mtinst, A/D bits in both stages, the soft TLB's separation of V=0 and V=1, and the fences.
final class TwoStageTranslationTests: XCTestCase {
    typealias F = HypervisorFixture
    let v = PTEBit.v, r = PTEBit.r, w = PTEBit.w, x = PTEBit.x, u = PTEBit.u, a = PTEBit.a, d = PTEBit.d

    // MARK: Both stages

    func testLoadStoreFetchThroughEveryCombinationOfModes() {
        for (vsLevels, gLevels) in [(3, 3), (4, 4), (3, 4), (4, 3)] {
            let what = "Sv\(vsLevels == 3 ? 39 : 48) over Sv\(gLevels == 3 ? 39 : 48)x4"
            let f = F(gLevels: gLevels, vsLevels: vsLevels)
            XCTAssertEqual(f.load(F.dataVA), F.marker, "\(what): VS load")
            XCTAssertTrue(f.store(F.dataVA + 8, 0x5a5a, as: .supervisor), "\(what): VS store")
            XCTAssertEqual(f.m.read64(f.host(F.dataGPA) + 8), 0x5a5a, "\(what): the store reached the host frame")
            XCTAssertTrue(f.fetch(F.codeVA), "\(what): VS fetch")
            XCTAssertTrue(f.hart.virtualized, "\(what): still V=1")
            // VU: only U pages.
            XCTAssertTrue(f.fetch(F.userCodeVA, as: .user), "\(what): VU fetch of a U page")
            XCTAssertNil(f.load(F.dataVA, as: .user), "\(what): VU load of a VS page")
            f.assertMachineTrap(.loadPageFault, epc: F.userCodeVA, tval: F.dataVA)
        }
    }

    func testVSStageBareAndGStageBare() {
        // vsatp = Bare: the guest virtual address is the guest-physical one.
        let f = F()
        f.m.setCSR(CSR.vsatp, 0)
        f.m.load([Asm.ld(5, 6, 0)], at: f.host(F.codeGPA), setPC: false)
        f.hart.enterGuest(pc: F.codeGPA, privilege: .supervisor)
        f.hart.setRegister(6, F.dataGPA)
        f.m.step()
        XCTAssertEqual(f.hart.register(5), F.marker)
        // hgatp = Bare: guest-physical is host-physical, so the VS tables' PPNs must be host ones.
        let g = F()
        g.m.setCSR(CSR.hgatp, 0)
        let hostTables = PageTableBuilder(memory: g.m.memory, levels: 3, region: TestMachine.ramBase + 0x30_0000)
        hostTables.map(F.dataVA, g.host(F.dataGPA), F.vsRWX)
        hostTables.map(F.codeVA, g.host(F.codeGPA), F.vsRWX)
        g.m.setCSR(CSR.vsatp, hostTables.satp)
        XCTAssertEqual(g.load(F.dataVA), F.marker)
    }

    // MARK: Superpages

    func testSuperpagesInBothStages() {
        let f = F()
        // G-stage 1 GiB leaf: GPA 0x4000_0000 -> host 0x8000_0000, so host data at 0x80a0_0000
        // is GPA 0x40a0_0000. VS-stage 2 MiB leaf: VA 0x7000_0000 -> GPA 0x40a0_0000.
        f.g.map(0x4000_0000, 0x8000_0000, F.gRWX, level: 2)
        f.vs.map(0x7000_0000, 0x40a0_0000, F.vsRWX, level: 1)
        XCTAssertEqual(f.load(0x7000_0000), F.marker)
        f.m.write64(0x80a0_0000 + 0x1_2348, 0xfeed)
        XCTAssertEqual(f.load(0x7001_2348), 0xfeed, "offset inside both superpages")
        // VS-stage 1 GiB leaf over the G-stage 2 MiB leaves of the window.
        f.vs.map(0xc000_0000, F.gpaBase - 0x1000_0000, F.vsRWX, level: 2)  // GPA 0 (1 GiB aligned)
        XCTAssertEqual(f.load(0xc000_0000 + F.dataGPA), F.marker)
        // Sv48x4: a 512 GiB G-stage leaf (level 3) maps GPA 0x80_0000_0000 -> host 0.
        let g = F(gLevels: 4, vsLevels: 4)
        g.g.map(0x80_0000_0000, 0, F.gRWX, level: 3)
        g.vs.map(0x6000_0000, 0x80_0000_0000 + g.host(F.dataGPA), F.vsRWX)
        XCTAssertEqual(g.load(0x6000_0000), F.marker)
    }

    func testMisalignedGStageSuperpageIsAGuestPageFault() {
        let f = F()
        f.g.map(0x4000_0000, 0x8020_0000, F.gRWX, level: 2)  // a 1 GiB leaf, PPN only 2 MiB aligned
        f.vs.map(0x7000_0000, 0x4000_0000, F.vsRWX)
        XCTAssertNil(f.load(0x7000_0010))
        f.assertMachineTrap(.loadGuestPageFault, epc: F.codeVA, tval: 0x7000_0010, gpa: 0x4000_0010)
    }

    // MARK: G-stage permissions

    /// The guest page `spareGPA` with G-stage `flags`, mapped by the VS-stage at `va` (RWX).
    private func spare(_ f: F, gFlags: UInt64, vsFlags: UInt64 = F.vsRWX) -> UInt64 {
        let va: UInt64 = 0x5555_0000
        f.g.map(F.spareGPA, F.spareHPA, gFlags)
        f.vs.map(va, F.spareGPA, vsFlags)
        f.m.write64(F.spareHPA, F.marker)
        return va
    }

    func testGStageLeafWithoutUFaultsForEveryAccess() {
        let f = F()
        let va = spare(f, gFlags: v | r | w | x | a | d)
        XCTAssertNil(f.load(va + 0x18))
        f.assertMachineTrap(.loadGuestPageFault, epc: F.codeVA, tval: va + 0x18, gpa: F.spareGPA + 0x18)
        XCTAssertFalse(f.store(va, 1))
        f.assertMachineTrap(.storeGuestPageFault, epc: F.codeVA, tval: va, gpa: F.spareGPA)
        f.vs.map(0x5556_0000, F.spareGPA, F.vsRWX)
        f.m.load([Asm.addi(5, 0, 1)], at: F.spareHPA, setPC: false)
        XCTAssertFalse(f.fetch(0x5556_0000))
        f.assertMachineTrap(.instructionGuestPageFault, epc: 0x5556_0000, tval: 0x5556_0000, gpa: F.spareGPA,
                            tinst: 0)
        // VU-mode alike: the G-stage always checks as U-mode.
        f.g.map(F.spareGPA, F.spareHPA, v | r | w | x | u | a | d)
        f.vs.map(va, F.spareGPA, F.vsRWX | u)
        f.m.write64(F.spareHPA, F.marker)
        f.hart.flushTranslations()
        XCTAssertEqual(f.load(va, as: .user), F.marker)
    }

    func testReadOnlyGStagePageFaultsStores() {
        let f = F()
        let va = spare(f, gFlags: v | r | u | a | d)
        XCTAssertEqual(f.load(va), F.marker)
        XCTAssertFalse(f.store(va + 8, 7))
        f.assertMachineTrap(.storeGuestPageFault, epc: F.codeVA, tval: va + 8, gpa: F.spareGPA + 8,
                            tinst: 0x0070_3023)  // sd x7, 0(x0)
        XCTAssertEqual(f.m.read64(F.spareHPA + 8), 0, "nothing written")
        // An AMO needs write permission in the G-stage too.
        f.run([Asm.amo(.add, word: false, 5, 6, 7)], as: .supervisor, [6: va])
        f.assertMachineTrap(.storeGuestPageFault, epc: F.codeVA, tval: va, gpa: F.spareGPA, tinst: 0)
    }

    /// HS-level MXR makes execute-only pages readable in both stages; vsstatus.MXR only in the
    /// VS-stage (privileged spec 8.5).
    func testExecuteOnlyPagesAndTheTwoMXRBits() {
        let f = F()
        let va = spare(f, gFlags: v | x | u | a | d)
        XCTAssertNil(f.load(va), "G-stage execute-only, no MXR")
        f.assertMachineTrap(.loadGuestPageFault, epc: F.codeVA, tval: va, gpa: F.spareGPA)
        f.setVSStatus(Mstatus.mxr, true)
        XCTAssertNil(f.load(va), "vsstatus.MXR does not reach the G-stage")
        f.assertMachineTrap(.loadGuestPageFault, epc: F.codeVA, tval: va, gpa: F.spareGPA)
        f.setVSStatus(Mstatus.mxr, false)
        f.setStatus(Mstatus.mxr, true)
        XCTAssertEqual(f.load(va), F.marker, "HS-level MXR reaches the G-stage")
        f.setStatus(Mstatus.mxr, false)
        XCTAssertNil(f.load(va), "and its effect ends with it")

        // VS-stage execute-only over a readable G-stage page: vsstatus.MXR suffices.
        let g = F()
        let gva = spare(g, gFlags: v | r | x | u | a | d, vsFlags: v | x | a | d)
        XCTAssertNil(g.load(gva))
        g.assertMachineTrap(.loadPageFault, epc: F.codeVA, tval: gva, gva: true)
        XCTAssertEqual(g.m.csr(CSR.mtval2), 0, "a VS-stage page fault has no guest-physical address")
        g.setVSStatus(Mstatus.mxr, true)
        XCTAssertEqual(g.load(gva), F.marker)
        XCTAssertFalse(g.store(gva, 1), "MXR never allows stores")
    }

    func testVSStageSUMIsVsstatusSUM() {
        let f = F()
        f.vs.map(F.dataVA, F.dataGPA, F.vsRWX | u)
        f.setStatus(Mstatus.sum, true)  // HS-level SUM does not apply with V=1
        XCTAssertNil(f.load(F.dataVA))
        f.assertMachineTrap(.loadPageFault, epc: F.codeVA, tval: F.dataVA)
        f.setVSStatus(Mstatus.sum, true)
        XCTAssertEqual(f.load(F.dataVA), F.marker)
    }

    // MARK: Guest-page faults of the VS-stage's own page-table accesses

    /// A VS-stage PTE whose guest-physical page has no G-stage mapping: a guest-page fault of
    /// the original access type, htval = the PTE's GPA >> 2, and the read pseudoinstruction.
    func testVSStagePTEReadMissingInTheGStage() {
        let va: UInt64 = 0x6600_0000
        let tableGPA: UInt64 = 0x3000_0000  // not mapped by the G-stage
        for (access, cause) in [(AccessType.load, ExceptionCause.loadGuestPageFault),
                                (.store, .storeGuestPageFault), (.fetch, .instructionGuestPageFault)] {
            let f = F()
            // The level-1 PTE for `va` points at a leaf table in unmapped guest memory.
            f.vs.setPTE(va, level: 1, (tableGPA >> 12) << 10 | v)
            let pteGPA = tableGPA + ((va >> 12) & 0x1ff) * 8
            switch access {
            case .load: XCTAssertNil(f.load(va))
            case .store: XCTAssertFalse(f.store(va, 1))
            case .fetch: XCTAssertFalse(f.fetch(va))
            }
            let epc = access == .fetch ? va : F.codeVA
            f.assertMachineTrap(cause, epc: epc, tval: va, gpa: pteGPA, tinst: 0x3000)
        }
    }

    /// Setting A or D in a VS-stage PTE is an implicit store: with the page table's page
    /// read-only in the G-stage it faults with the write pseudoinstruction (privileged spec 8.6.3).
    func testVSStageADUpdateNeedsGStageWritePermission() {
        let f = F()
        let va: UInt64 = 0x6600_0000
        let tableGPA = F.spareGPA
        f.g.map(tableGPA, F.spareHPA, v | r | u | a | d)  // the leaf table's page: read-only
        f.g.map(tableGPA + 0x1000, F.spareHPA + 0x1000, F.gRWX)
        f.vs.setPTE(va, level: 1, (tableGPA >> 12) << 10 | v)
        let pteGPA = tableGPA + ((va >> 12) & 0x1ff) * 8
        // The leaf maps to the data page; it has A and D clear.
        f.m.write64(F.spareHPA + (pteGPA - tableGPA), (F.dataGPA >> 12) << 10 | v | r | w)
        XCTAssertNil(f.load(va))
        f.assertMachineTrap(.loadGuestPageFault, epc: F.codeVA, tval: va, gpa: pteGPA, tinst: 0x3020)
        // With A already set a load needs no write; a store still does (D).
        f.m.write64(F.spareHPA + (pteGPA - tableGPA), (F.dataGPA >> 12) << 10 | v | r | w | a)
        XCTAssertEqual(f.load(va), F.marker)
        XCTAssertFalse(f.store(va, 1))
        f.assertMachineTrap(.storeGuestPageFault, epc: F.codeVA, tval: va, gpa: pteGPA, tinst: 0x3020)
    }

    func testVSStagePageTableOutsideRAMIsAnAccessFault() {
        let f = F()
        // G-stage maps the table's GPA to host memory where nothing is.
        f.g.map(F.spareGPA, 0x1000, F.gRWX)
        f.vs.setPTE(0x6600_0000, level: 1, (F.spareGPA >> 12) << 10 | v)
        XCTAssertNil(f.load(0x6600_0000))
        f.assertMachineTrap(.loadAccessFault, epc: F.codeVA, tval: 0x6600_0000)
    }

    // MARK: htval, mtinst for explicit accesses

    func testGuestPageFaultReportsTheExactGuestPhysicalAddress() {
        let f = F()
        let va: UInt64 = 0x6700_0000, gpa: UInt64 = 0x3000_5000  // G-stage unmapped
        f.vs.map(va, gpa, F.vsRWX)
        // ld x5, 0(x6) with x6 = va + 0x128 -> transformed: ld x5, 0(x0) = 0x3283
        f.run([Asm.ld(5, 6, 0)], as: .supervisor, [6: va + 0x128])
        f.assertMachineTrap(.loadGuestPageFault, epc: F.codeVA, tval: va + 0x128, gpa: gpa + 0x128, tinst: 0x3283)
        // sd x7, 0x10(x6): the immediate becomes zero, rs2 is kept.
        f.run([Asm.sd(7, 6, 0x10)], as: .supervisor, [6: va])
        f.assertMachineTrap(.storeGuestPageFault, epc: F.codeVA, tval: va + 0x10, gpa: gpa + 0x10, tinst: 0x0070_3023)
        // lbu x9, -1(x6): funct3 4.
        f.run([Asm.load(Asm.lbu, 9, 6, -1)], as: .supervisor, [6: va + 0x200])
        f.assertMachineTrap(.loadGuestPageFault, epc: F.codeVA, tval: va + 0x1ff, gpa: gpa + 0x1ff, tinst: 0x4483)
        // c.ld x8, 0(x9) (0x6080): transformed from its expansion, bit 1 cleared.
        f.m.loadHalves([0x6080], at: f.host(F.codeGPA), setPC: false)
        f.hart.enterGuest(pc: F.codeVA, privilege: .supervisor)
        f.hart.setRegister(9, va + 0x40)
        f.m.step()
        f.assertMachineTrap(.loadGuestPageFault, epc: F.codeVA, tval: va + 0x40, gpa: gpa + 0x40, tinst: 0x3401)
    }

    /// A misaligned load whose second page misses in the G-stage: tval and htval name that
    /// page's first byte, and the transformed instruction's bits 19:15 hold the distance.
    func testMisalignedAccessFaultingOnItsSecondPage() {
        let f = F()
        let va: UInt64 = 0x6700_0000
        f.vs.map(va, F.spareGPA, F.vsRWX)
        f.g.map(F.spareGPA, F.spareHPA, F.gRWX)
        f.vs.map(va + 0x1000, 0x3000_0000, F.vsRWX)  // G-stage unmapped
        f.run([Asm.ld(5, 6, 0)], as: .supervisor, [6: va + 0xffc, 5: 0xbad])
        f.assertMachineTrap(.loadGuestPageFault, epc: F.codeVA, tval: va + 0x1000, gpa: 0x3000_0000,
                            tinst: 0x3283 | 4 << 15)
        XCTAssertEqual(f.hart.register(5), 0xbad)
    }

    func testGuestPhysicalAddressWiderThanTheModeFaults() {
        // Sv39x4 takes 41 bits of guest-physical address; bit 41 set is a guest-page fault.
        let f = F()
        f.vs.map(0x6800_0000, 1 << 41, F.vsRWX)
        XCTAssertNil(f.load(0x6800_0000))
        f.assertMachineTrap(.loadGuestPageFault, epc: F.codeVA, tval: 0x6800_0000, gpa: 1 << 41)
        // Sv48x4 takes 50 bits.
        let g = F(gLevels: 4)
        g.vs.map(0x6800_0000, 1 << 50, F.vsRWX)
        XCTAssertNil(g.load(0x6800_0000))
        g.assertMachineTrap(.loadGuestPageFault, epc: F.codeVA, tval: 0x6800_0000, gpa: 1 << 50)
    }

    /// The Sv39x4 root is 16 KiB: GPA bits 40:39 select one of its four 4 KiB pages (8.5.1).
    func testWidenedRootTableIsIndexedByTheTwoExtraBits() {
        for (levels, topShift) in [(3, 30), (4, 39)] {
            let f = F(gLevels: levels)
            let gpa: UInt64 = 3 << (topShift + 9) | 0x1234_5000 & ((1 << topShift) - 1)
            f.g.map(gpa, F.spareHPA, F.gRWX)
            let rootIndex = gpa >> UInt64(topShift)
            XCTAssertGreaterThanOrEqual(rootIndex, 0x600, "the index needs the root's fourth page")
            let rootPTE = F.gTables + rootIndex * 8
            XCTAssertGreaterThanOrEqual(rootPTE, F.gTables + 0x3000)
            XCTAssertNotEqual(f.m.read64(rootPTE) & v, 0, "the builder wrote the root entry there")
            f.vs.map(0x6900_0000, gpa, F.vsRWX)
            f.m.write64(F.spareHPA, 0x7777)
            XCTAssertEqual(f.load(0x6900_0000), 0x7777, "Sv\(levels == 3 ? 39 : 48)x4")
            // The same index with the top two bits dropped lands in the root's first page: unmapped.
            f.vs.map(0x6900_1000, gpa & ~(3 << UInt64(topShift + 9)), F.vsRWX)
            XCTAssertNil(f.load(0x6900_1000))
        }
        // hgatp's PPN[1:0] read as zero: the root is 16 KiB aligned.
        let f = F()
        f.m.setCSR(CSR.hgatp, 8 << 60 | (F.gTables >> 12) | 3)
        XCTAssertEqual(f.m.csr(CSR.hgatp), 8 << 60 | F.gTables >> 12)
    }

    // MARK: Accessed and dirty bits

    func testWalkersSetADInBothStages() {
        let f = F()
        let va: UInt64 = 0x6a00_0000
        f.g.map(F.spareGPA, F.spareHPA, v | r | w | u)  // data page: G-stage A/D clear
        f.vs.map(va, F.spareGPA, v | r | w)              // VS-stage A/D clear
        XCTAssertNotNil(f.load(va))
        XCTAssertEqual(f.vs.pte(va) & (a | d), a, "VS-stage: a load sets A")
        XCTAssertEqual(f.g.pte(F.spareGPA) & (a | d), a, "G-stage: a load sets A")
        XCTAssertTrue(f.store(va, 3))
        XCTAssertEqual(f.vs.pte(va) & (a | d), a | d, "VS-stage: a store sets D")
        XCTAssertEqual(f.g.pte(F.spareGPA) & (a | d), a | d, "G-stage: a store sets D")

        // The VS-stage tables' own G-stage PTE: A from the implicit read, D from the A/D update.
        let g = F()
        let tablePage = F.spareGPA + 0x10_0000
        g.g.map(tablePage, F.spareHPA + 0x10_0000, v | r | w | u)
        g.vs.setPTE(va, level: 1, (tablePage >> 12) << 10 | v)
        g.m.write64(F.spareHPA + 0x10_0000 + ((va >> 12) & 0x1ff) * 8, (F.dataGPA >> 12) << 10 | v | r | w | a | d)
        XCTAssertEqual(g.load(va), F.marker)
        XCTAssertEqual(g.g.pte(tablePage) & (a | d), a, "reading a VS PTE is an implicit load")
        g.m.write64(F.spareHPA + 0x10_0000 + ((va >> 12) & 0x1ff) * 8, (F.dataGPA >> 12) << 10 | v | r | w)
        g.hart.flushTranslations()
        XCTAssertEqual(g.load(va), F.marker)
        XCTAssertEqual(g.g.pte(tablePage) & (a | d), a | d, "setting the VS PTE's A is an implicit store")
    }

    // MARK: The soft TLB and the fences

    /// The same virtual page means different memory with V=0 and V=1; entries filled in one
    /// mode never serve the other (SoftTLB's V=1 sets).
    func testTranslationsOfTheTwoModesNeverMix() {
        let f = F()
        let va: UInt64 = 0x8060_0000   // host RAM, which HS-mode (satp Bare) reads directly
        f.m.write64(va, 0x1111)
        f.vs.map(va, F.dataGPA, F.vsRWX)
        // Host code at a host page; guest code in the guest frame; both load `va` through the TLB.
        let hostCode = TestMachine.ramBase + 0x2000
        f.m.load([Asm.ld(5, 6, 0), Asm.ld(5, 6, 0), Asm.ld(5, 6, 0)], at: hostCode, setPC: false)
        f.m.load([Asm.ld(5, 6, 0), Asm.ld(5, 6, 0), Asm.ld(5, 6, 0)], at: f.host(F.codeGPA), setPC: false)
        f.hart.setRegister(6, va)
        for round in 0..<3 {
            f.hart.leaveGuest(privilege: .supervisor)
            f.hart.pc = hostCode + UInt64(4 * round)
            f.m.step()
            XCTAssertEqual(f.hart.register(5), 0x1111, "round \(round): V=0 sees host memory")
            f.hart.enterGuest(pc: F.codeVA + UInt64(4 * round))
            f.m.step()
            XCTAssertEqual(f.hart.register(5), F.marker, "round \(round): V=1 sees the guest's mapping")
        }
        // And inside a run slice: a guest loop, then an HS loop, each sees its own data.
        f.m.load([Asm.ld(5, 6, 0), Asm.ld(7, 6, 0), Asm.jal(0, 0)], at: f.host(F.codeGPA), setPC: false)
        f.hart.enterGuest(pc: F.codeVA)
        _ = f.hart.run(budget: 3)
        XCTAssertEqual(f.hart.register(7), F.marker)
    }

    /// The soft TLB caches a translation until a fence: changing a PTE behind the guest's back
    /// shows after HFENCE.VVMA (VS-stage), HFENCE.GVMA (G-stage) or the guest's SFENCE.VMA.
    func testFencesDropCachedGuestTranslations() {
        let f = F()
        let fences = [Asm.hfenceVVMA(), Asm.hfenceVVMA(6, 7), Asm.hfenceGVMA(), Asm.hfenceGVMA()]
        let hostCode = TestMachine.ramBase + 0x2000
        // All code is placed first: a code write flushes the TLB, which would hide the caching.
        f.m.load(fences, at: hostCode, setPC: false)
        f.m.load([Asm.ld(5, 6, 0)], at: f.host(F.codeGPA) + 0x80, setPC: false)
        f.m.load([Asm.sfenceVMA(), Asm.ld(5, 6, 0)], at: f.host(F.codeGPA) + 0x100, setPC: false)
        f.m.write64(f.host(F.dataGPA) + 0x1000, 0x2222)
        let guestLoad = { () -> UInt64 in
            f.hart.enterGuest(pc: F.codeVA + 0x80)
            f.hart.setRegister(6, F.dataVA)
            f.hart.setRegister(5, 0xbad)
            f.m.step()
            return f.hart.register(5)
        }
        let fence = { (i: Int) in
            f.hart.leaveGuest(privilege: .supervisor)
            f.hart.pc = hostCode + UInt64(4 * i)
            f.m.step()
            XCTAssertEqual(f.hart.pc, hostCode + UInt64(4 * i + 4), "fence \(i) retired in HS-mode")
        }

        // VS-stage changes: each HFENCE flushes the cached translation.
        for i in 0..<3 {
            f.vs.map(F.dataVA, F.dataGPA, F.vsRWX)
            f.hart.flushTranslations()
            XCTAssertEqual(guestLoad(), F.marker)
            f.vs.map(F.dataVA, F.dataGPA + 0x1000, F.vsRWX)
            XCTAssertEqual(guestLoad(), F.marker, "fence \(i): cached, the old mapping still serves")
            fence(i)
            XCTAssertEqual(guestLoad(), 0x2222, "fence \(i): the new mapping")
        }
        // A G-stage change: the data's 2 MiB guest-physical leaf moves to host 0x80c0_0000.
        f.g.map(F.gpaBase + 0x20_0000, F.hpaBase + 0x40_0000, F.gRWX, level: 1)
        f.m.write64(F.hpaBase + 0x40_0000 + 0x1000, 0x3333)
        XCTAssertEqual(guestLoad(), 0x2222, "cached")
        fence(3)
        XCTAssertEqual(guestLoad(), 0x3333, "hfence.gvma")
        // Both stages back, unfenced: stale until the guest's own sfence.vma.
        f.g.map(F.gpaBase + 0x20_0000, F.hpaBase + 0x20_0000, F.gRWX, level: 1)
        f.vs.map(F.dataVA, F.dataGPA, F.vsRWX)
        XCTAssertEqual(guestLoad(), 0x3333, "stale until fenced")
        f.hart.enterGuest(pc: F.codeVA + 0x100)
        f.hart.setRegister(6, F.dataVA)
        f.m.step(2)
        XCTAssertEqual(f.hart.register(5), F.marker, "sfence.vma with V=1 fences the guest's translations")
    }

    // MARK: time

    func testTimeInAGuestAddsHtimedelta() {
        let f = F()
        f.m.timer.mtime = 1000
        f.m.setCSR(CSR.mcounteren, 2)
        f.m.setCSR(CSR.hcounteren, 2)
        f.m.setCSR(CSR.htimedelta, UInt64(bitPattern: -300))
        f.run([Asm.csrrs(5, CSR.time, 0)], as: .supervisor)
        XCTAssertEqual(f.hart.register(5), 700, "time + htimedelta, wrapping: a negative offset")
        f.m.setCSR(CSR.scounteren, 2)
        f.m.setCSR(CSR.htimedelta, 5)
        f.run([Asm.csrrs(5, CSR.time, 0)], as: .user)
        XCTAssertEqual(f.hart.register(5), 1005, "VU too")
        f.hart.leaveGuest()
        f.m.load([Asm.csrrs(5, CSR.time, 0)])
        f.m.step()
        XCTAssertEqual(f.hart.register(5), 1000, "HS-mode reads time itself")
    }
}
