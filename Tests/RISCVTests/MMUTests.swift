import XCTest
@testable import RISCV

final class MMUTests: XCTestCase {
    let v = PTEBit.v, r = PTEBit.r, w = PTEBit.w, x = PTEBit.x, u = PTEBit.u, a = PTEBit.a, d = PTEBit.d
    let dataVA = MMUFixture.dataVA, dataPA = MMUFixture.dataPA, marker = MMUFixture.marker
    let fetchVA: UInt64 = 0x1_5000_0000

    // MARK: Permissions

    /// R, RW, X, RX, RWX for S on S pages and U on U pages, in Sv39 and Sv48.
    func testPermissionCombinations() {
        let combos: [(UInt64, String, load: Bool, store: Bool, fetch: Bool)] = [
            (r, "R", true, false, false), (r | w, "RW", true, true, false), (x, "X", false, false, true),
            (r | x, "RX", true, false, true), (r | w | x, "RWX", true, true, true),
        ]
        for levels in [3, 4] {
            for privilege in [Privilege.supervisor, .user] {
                for (perm, name, canLoad, canStore, canFetch) in combos {
                    let what = "Sv\(levels == 3 ? 39 : 48) \(privilege) \(name)"
                    let f = MMUFixture(levels: levels)
                    let flags = v | perm | a | d | (privilege == .user ? u : 0)
                    f.pt.map(dataVA, dataPA, flags)
                    f.pt.map(fetchVA, MMUFixture.codePA, flags)
                    let loaded = f.load(dataVA, as: privilege)
                    XCTAssertEqual(loaded, canLoad ? marker : nil, "\(what) load")
                    XCTAssertEqual(f.store(dataVA, 0xabcd, as: privilege), canStore, "\(what) store")
                    XCTAssertEqual(f.m.read64(dataPA), canStore ? 0xabcd : marker, "\(what) memory after store")
                    XCTAssertEqual(f.fetch(fetchVA, as: privilege), canFetch, "\(what) fetch")
                }
            }
        }
    }

    func testWriteWithoutReadIsReserved() {
        for perm in [w, w | x] {
            let f = MMUFixture()
            f.pt.map(dataVA, dataPA, v | perm | a | d)
            f.pt.map(fetchVA, MMUFixture.codePA, v | perm | a | d)
            XCTAssertNil(f.load(dataVA, as: .supervisor))
            XCTAssertFalse(f.store(dataVA, 1, as: .supervisor))
            XCTAssertFalse(f.fetch(fetchVA, as: .supervisor))
            XCTAssertEqual(f.m.read64(dataPA), marker)
        }
    }

    func testUserModeCannotTouchSupervisorPages() {
        let f = MMUFixture()
        f.pt.map(dataVA, dataPA, MMUFixture.rwxad)
        f.pt.map(fetchVA, MMUFixture.codePA, MMUFixture.rwxad)
        f.setStatus(Mstatus.sum | Mstatus.mxr, true)  // neither helps U-mode
        XCTAssertNil(f.load(dataVA, as: .user))
        XCTAssertFalse(f.store(dataVA, 1, as: .user))
        XCTAssertFalse(f.fetch(fetchVA, as: .user))
    }

    func testSupervisorAccessToUserPagesNeedsSUM() {
        let f = MMUFixture()
        f.pt.map(dataVA, dataPA, MMUFixture.rwxad | u)
        f.pt.map(fetchVA, MMUFixture.codePA, MMUFixture.rwxad | u)
        XCTAssertNil(f.load(dataVA, as: .supervisor), "no SUM")
        XCTAssertFalse(f.store(dataVA, 1, as: .supervisor), "no SUM")
        XCTAssertFalse(f.fetch(fetchVA, as: .supervisor), "no SUM")
        f.setStatus(Mstatus.sum, true)
        XCTAssertEqual(f.load(dataVA, as: .supervisor), marker, "SUM")
        XCTAssertTrue(f.store(dataVA, 0x55, as: .supervisor), "SUM")
        XCTAssertEqual(f.m.read64(dataPA), 0x55)
        XCTAssertFalse(f.fetch(fetchVA, as: .supervisor), "S never executes U pages, even with SUM")
    }

    /// Clearing SUM takes effect at once, even though the previous load filled the soft TLB.
    func testClearingSUMRevokesCachedAccess() {
        let f = MMUFixture()
        f.pt.map(dataVA, dataPA, MMUFixture.rwxad | u)
        f.setStatus(Mstatus.sum, true)
        f.hart.setRegister(8, Mstatus.sum)
        f.run([Asm.ld(5, 6, 0), Asm.csrrc(0, CSR.sstatus, 8), Asm.ld(9, 6, 0)], as: .supervisor, [6: dataVA, 9: 0xbad])
        XCTAssertEqual(f.hart.register(5), marker)
        XCTAssertEqual(f.hart.register(9), 0xbad)
        f.m.assertTrap(.loadPageFault, epc: MMUFixture.codeVA + 8, tval: dataVA)
    }

    func testMXRMakesExecuteOnlyPagesReadable() {
        for privilege in [Privilege.supervisor, .user] {
            let f = MMUFixture()
            f.pt.map(dataVA, dataPA, v | x | a | d | (privilege == .user ? u : 0))
            XCTAssertNil(f.load(dataVA, as: privilege), "\(privilege) X-only without MXR")
            f.setStatus(Mstatus.mxr, true)
            XCTAssertEqual(f.load(dataVA, as: privilege), marker, "\(privilege) X-only with MXR")
            XCTAssertFalse(f.store(dataVA, 1, as: privilege), "\(privilege) MXR does not allow stores")
            f.setStatus(Mstatus.mxr, false)
            XCTAssertNil(f.load(dataVA, as: privilege), "\(privilege) MXR cleared again")
        }
    }

    // MARK: Superpages

    func testGigapageAndMegapage() {
        let f = MMUFixture()
        // 1 GiB: VA 0x4000_0000 -> PA 0x8000_0000 (1 GiB aligned).
        f.pt.map(0x4000_0000, 0x8000_0000, MMUFixture.rwxad, level: 2)
        XCTAssertEqual(f.load(0x4000_0000 + 0x40_0000, as: .supervisor), marker)
        f.m.write64(TestMachine.ramBase + 0x12_3458, 0xfeed)
        XCTAssertEqual(f.load(0x4012_3458, as: .supervisor), 0xfeed)
        // 2 MiB: VA 0x8020_0000 -> PA 0x8040_0000.
        f.pt.map(0x8020_0000, dataPA, MMUFixture.rwxad, level: 1)
        XCTAssertEqual(f.load(0x8020_0000, as: .supervisor), marker)
        f.m.write64(dataPA + 0x1_2340, 0xbeef)
        XCTAssertEqual(f.load(0x8021_2340, as: .supervisor), 0xbeef)
        XCTAssertTrue(f.store(0x801f_fff8 + 0x10, 0x77, as: .supervisor))
        XCTAssertEqual(f.m.read64(dataPA + 8), 0x77)
    }

    func testSv48Superpages() {
        let f = MMUFixture(levels: 4)
        // 512 GiB leaf at level 3 mapping VA 0x80_0000_0000 -> PA 0 (so RAM sits at offset 2 GiB).
        f.pt.map(0x80_0000_0000, 0, MMUFixture.rwxad, level: 3)
        XCTAssertEqual(f.load(0x80_0000_0000 + dataPA, as: .supervisor), marker)
        // 1 GiB leaf at level 2.
        f.pt.map(0x1_4000_0000, 0x8000_0000, MMUFixture.rwxad, level: 2)
        XCTAssertEqual(f.load(0x1_4040_0000, as: .supervisor), marker)
        // 2 MiB leaf at level 1.
        f.pt.map(0x6020_0000, dataPA, MMUFixture.rwxad, level: 1)
        XCTAssertEqual(f.load(0x6020_0000, as: .supervisor), marker)
    }

    func testMisalignedSuperpagesFault() {
        let f = MMUFixture()
        f.pt.map(0x4000_0000, 0x8020_0000, MMUFixture.rwxad, level: 2)   // 1 GiB leaf, PPN 2 MiB aligned only
        f.pt.map(0x8020_0000, dataPA + 0x1000, MMUFixture.rwxad, level: 1) // 2 MiB leaf, PPN 4 KiB aligned
        XCTAssertNil(f.load(0x4000_0000, as: .supervisor))
        XCTAssertNil(f.load(0x8020_0000, as: .supervisor))
        XCTAssertFalse(f.store(0x8020_0008, 1, as: .supervisor))
        let g = MMUFixture(levels: 4)
        g.pt.map(0x80_0000_0000, 0x4000_0000, MMUFixture.rwxad, level: 3)  // 512 GiB leaf, 1 GiB aligned
        XCTAssertNil(g.load(0x80_0000_0000 + dataPA, as: .supervisor))
    }

    // MARK: Address checks and invalid entries

    func testNonCanonicalAddressesFault() {
        let f = MMUFixture()
        // Sv39: bits 63:39 must equal bit 38.
        for va: UInt64 in [0x0000_0040_0000_0000, 0x0000_0080_0000_0000, 0xffff_ff80_0000_0000 - 0x1000, 0x8000_0000_0000_0000] {
            f.pt.map(va & 0x7f_ffff_ffff, dataPA, MMUFixture.rwxad)  // what the VA would alias if bits were ignored
            XCTAssertNil(f.load(va, as: .supervisor), "load \(hex(va))")
            XCTAssertFalse(f.store(va, 1, as: .supervisor), "store \(hex(va))")
            XCTAssertFalse(f.fetch(va, as: .supervisor), "fetch \(hex(va))")
        }
        // The top of the canonical range works.
        f.pt.map(0xffff_ffff_ffff_f000, dataPA, MMUFixture.rwxad)
        XCTAssertEqual(f.load(0xffff_ffff_ffff_f000, as: .supervisor), marker)

        // Sv48: bit 39 is an ordinary address bit; bits 63:48 must equal bit 47.
        let g = MMUFixture(levels: 4)
        g.pt.map(0x0000_0080_0000_0000, dataPA, MMUFixture.rwxad)
        XCTAssertEqual(g.load(0x0000_0080_0000_0000, as: .supervisor), marker)
        g.pt.map(0xffff_8000_0000_0000, dataPA, MMUFixture.rwxad)
        XCTAssertEqual(g.load(0xffff_8000_0000_0000, as: .supervisor), marker)
        XCTAssertNil(g.load(0x0000_8000_0000_0000, as: .supervisor))
        XCTAssertNil(g.load(0x0001_0080_0000_0000, as: .supervisor))
    }

    func testInvalidEntriesFault() {
        // Leaf with V = 0.
        var f = MMUFixture()
        f.pt.map(dataVA, dataPA, MMUFixture.rwxad & ~v)
        XCTAssertNil(f.load(dataVA, as: .supervisor))
        // Pointer PTE with V = 0 (the level-1 entry above the data page).
        f = MMUFixture()
        f.pt.map(dataVA, dataPA, MMUFixture.rwxad)
        f.pt.setPTE(dataVA, level: 1, f.pt.pte(dataVA, level: 1) & ~v)
        XCTAssertNil(f.load(dataVA, as: .supervisor))
        // Reserved bits 63:54 (N, PBMT; neither Svnapot nor Svpbmt is implemented).
        for bit: UInt64 in [54, 60, 61, 62, 63] {
            f = MMUFixture()
            f.pt.map(dataVA, dataPA, MMUFixture.rwxad)
            f.pt.setPTE(dataVA, f.pt.pte(dataVA) | 1 << bit)
            XCTAssertNil(f.load(dataVA, as: .supervisor), "PTE bit \(bit)")
        }
        // A pointer PTE at level 0: the walk runs out of levels.
        f = MMUFixture()
        f.pt.map(dataVA, dataPA, v)
        XCTAssertNil(f.load(dataVA, as: .supervisor))
        // Pointer PTEs with A, D or U set are reserved.
        for bit in [a, d, u] {
            f = MMUFixture()
            f.pt.map(dataVA, dataPA, MMUFixture.rwxad)
            f.pt.setPTE(dataVA, level: 2, f.pt.pte(dataVA, level: 2) | bit)
            XCTAssertNil(f.load(dataVA, as: .supervisor), "non-leaf with \(bit)")
            f.pt.setPTE(dataVA, level: 2, f.pt.pte(dataVA, level: 2) & ~bit)
            f.m.hart.flushTranslations()
            XCTAssertEqual(f.load(dataVA, as: .supervisor), marker, "non-leaf restored")
        }
    }

    func testPageTableOutsideRAMIsAnAccessFault() {
        let f = MMUFixture()
        f.pt.map(dataVA, dataPA, MMUFixture.rwxad)
        // Point the level-1 table at an address with nothing there.
        f.pt.setPTE(dataVA, level: 2, (0x1000 >> 12) << 10 | v)
        f.run([Asm.ld(5, 6, 0)], as: .supervisor, [6: dataVA])
        f.m.assertTrap(.loadAccessFault, epc: MMUFixture.codeVA, tval: dataVA)
        // A leaf mapping a frame outside RAM (and outside every device).
        let g = MMUFixture()
        g.pt.map(dataVA, 0x1000, MMUFixture.rwxad)
        g.pt.map(fetchVA, 0x2000, MMUFixture.rwxad)
        g.run([Asm.ld(5, 6, 0)], as: .supervisor, [6: dataVA + 8])
        g.m.assertTrap(.loadAccessFault, epc: MMUFixture.codeVA, tval: dataVA + 8)
        g.run([Asm.sd(5, 6, 0)], as: .supervisor, [6: dataVA + 16])
        g.m.assertTrap(.storeAccessFault, epc: MMUFixture.codeVA, tval: dataVA + 16)
        g.m.setPrivilege(.supervisor)
        g.hart.pc = fetchVA
        g.m.step()
        g.m.assertTrap(.instructionAccessFault, epc: fetchVA, tval: fetchVA)
    }

    // MARK: Accessed and dirty bits

    func testAccessedAndDirtyAreSetByHardware() {
        let f = MMUFixture()
        f.pt.map(dataVA, dataPA, v | r | w)
        XCTAssertEqual(f.load(dataVA, as: .supervisor), marker)
        XCTAssertEqual(f.pt.pte(dataVA) & (a | d), a, "a load sets A only")
        XCTAssertTrue(f.store(dataVA, 9, as: .supervisor))
        XCTAssertEqual(f.pt.pte(dataVA) & (a | d), a | d, "a store sets D")

        // A store to a page already accessed (A set, via the cached load translation) still sets D.
        f.pt.map(dataVA, dataPA, v | r | w | a)
        f.hart.flushTranslations()
        f.run([Asm.ld(5, 6, 0), Asm.sd(7, 6, 0)], as: .supervisor, [6: dataVA, 7: 3])
        XCTAssertEqual(f.hart.pc, MMUFixture.codeVA + 8)
        XCTAssertEqual(f.pt.pte(dataVA) & (a | d), a | d)

        // Fetch sets A on the code page.
        f.pt.map(fetchVA, MMUFixture.codePA, v | r | x)
        XCTAssertTrue(f.fetch(fetchVA, as: .supervisor))
        XCTAssertEqual(f.pt.pte(fetchVA) & (a | d), a)

        // A faulting access sets nothing.
        f.pt.map(dataVA, dataPA, v | r)
        f.hart.flushTranslations()
        XCTAssertFalse(f.store(dataVA, 1, as: .supervisor))
        XCTAssertEqual(f.pt.pte(dataVA) & (a | d), 0)
    }

    // MARK: Fault reporting

    func testFaultCausesAndTval() {
        let f = MMUFixture()
        let va = dataVA + 0x123
        f.run([Asm.load(Asm.lbu, 5, 6, 0)], as: .supervisor, [6: va])
        f.m.assertTrap(.loadPageFault, epc: MMUFixture.codeVA, tval: va)
        f.run([Asm.sb(5, 6, 0)], as: .user, [6: va])
        f.m.assertTrap(.storePageFault, epc: MMUFixture.userCodeVA, tval: va)
        // An AMO needs write permission: store/AMO page fault on a read-only page.
        f.pt.map(dataVA, dataPA, v | r | a | d)
        f.run([Asm.amo(.add, word: false, 5, 6, 7)], as: .supervisor, [6: dataVA])
        f.m.assertTrap(.storePageFault, epc: MMUFixture.codeVA, tval: dataVA)
        XCTAssertEqual(f.m.read64(dataPA), marker)
        // LR needs only read permission.
        f.run([Asm.amo(.lr, word: false, 5, 6, 0)], as: .supervisor, [6: dataVA])
        XCTAssertEqual(f.hart.register(5), marker)
        // A jump to an unmapped page faults on the fetch at the target.
        f.run([Asm.jalr(1, 6, 0)], as: .supervisor, [6: 0x7000_0000])
        XCTAssertEqual(f.hart.pc, 0x7000_0000)
        f.m.step()
        f.m.assertTrap(.instructionPageFault, epc: 0x7000_0000, tval: 0x7000_0000)
        XCTAssertEqual(f.hart.register(1), MMUFixture.codeVA + 4, "the jump itself retired")
    }

    func testMisalignedAccessAcrossPagesWithSecondPageUnmapped() {
        let f = MMUFixture()
        f.pt.map(dataVA, dataPA, MMUFixture.rwxad)
        let va = dataVA + 0xffd
        f.run([Asm.ld(5, 6, 0)], as: .supervisor, [6: va, 5: 0xbad])
        f.m.assertTrap(.loadPageFault, epc: MMUFixture.codeVA, tval: dataVA + 0x1000)
        XCTAssertEqual(f.hart.register(5), 0xbad)
        f.m.write64(dataPA + 0xff8, 0x0102_0304_0506_0708)
        f.run([Asm.sd(7, 6, 0)], as: .supervisor, [6: va, 7: UInt64.max])
        f.m.assertTrap(.storePageFault, epc: MMUFixture.codeVA, tval: dataVA + 0x1000)
        XCTAssertEqual(f.m.read64(dataPA + 0xff8), 0x0102_0304_0506_0708, "no partial store")
        // A 32-bit instruction straddling into an unmapped page faults with the second half's address.
        let g = MMUFixture()
        g.pt.map(fetchVA, MMUFixture.codePA, MMUFixture.rwxad)
        let add = Asm.r(Asm.add, 5, 6, 7)
        g.m.memory.store(MMUFixture.codePA + 0xffe, UInt16(add & 0xffff))
        g.m.codeChanged()
        g.m.setPrivilege(.supervisor)
        g.hart.pc = fetchVA + 0xffe
        g.m.step()
        g.m.assertTrap(.instructionPageFault, epc: fetchVA + 0xffe, tval: fetchVA + 0x1000)
    }

    func testMisalignedAccessAcrossDiscontiguousPages() {
        let f = MMUFixture()
        // Two adjacent virtual pages backed by frames in the opposite order.
        f.pt.map(dataVA, dataPA + 0x3000, MMUFixture.rwxad)
        f.pt.map(dataVA + 0x1000, dataPA, MMUFixture.rwxad)
        f.m.write64(dataPA + 0x3ff8, 0x8877_6655_4433_2211)
        f.m.write64(dataPA, 0xffee_ddcc_bbaa_0099)
        XCTAssertEqual(f.load(dataVA + 0xffc, as: .supervisor), 0xbbaa_0099_8877_6655)
        XCTAssertTrue(f.store(dataVA + 0xffe, 0x0706_0504_0302_0100, as: .supervisor))
        XCTAssertEqual(f.m.read64(dataPA + 0x3ff8), 0x0100_6655_4433_2211)
        XCTAssertEqual(f.m.read64(dataPA), 0xffee_0706_0504_0302)
    }

    // MARK: satp, sfence.vma, MPRV

    func testSatpWriteWithUnsupportedModeIsIgnored() {
        let f = MMUFixture()
        let sv39 = f.pt.satp | (5 << 44)  // ASID 5
        f.m.setCSR(CSR.satp, sv39)
        XCTAssertEqual(f.m.csr(CSR.satp), sv39)
        for mode: UInt64 in [10, 11, 1, 7, 15] {
            f.hart.setRegister(5, mode << 60 | 0x12345)
            f.run([Asm.csrrw(6, CSR.satp, 5)], as: .supervisor)
            XCTAssertEqual(f.hart.register(6), sv39)
            XCTAssertEqual(f.m.csr(CSR.satp), sv39, "mode \(mode) leaves satp alone")
        }
        // Translation still works with the old value.
        XCTAssertEqual(f.load(dataVA, as: .supervisor), nil)
        f.pt.map(dataVA, dataPA, MMUFixture.rwxad)
        XCTAssertEqual(f.load(dataVA, as: .supervisor), marker)
        // Sv48 and Bare are accepted.
        f.m.setCSR(CSR.satp, 9 << 60 | 0x777)
        XCTAssertEqual(f.m.csr(CSR.satp), 9 << 60 | 0x777)
        f.m.setCSR(CSR.satp, 0)
        XCTAssertEqual(f.m.csr(CSR.satp), 0)
    }

    func testSfenceVMAMakesAChangedPTEVisible() {
        let f = MMUFixture()
        f.pt.map(dataVA, dataPA, MMUFixture.rwxad)
        f.m.write64(dataPA + 0x1000, 0x2222)
        f.place([Asm.ld(5, 6, 0), Asm.sfenceVMA(), Asm.ld(7, 6, 0), Asm.sfenceVMA(6, 0), Asm.ld(8, 6, 0)],
                as: .supervisor, [6: dataVA])
        f.m.step()
        XCTAssertEqual(f.hart.register(5), marker)
        f.pt.map(dataVA, dataPA + 0x1000, MMUFixture.rwxad)
        f.m.step(2)
        XCTAssertEqual(f.hart.register(7), 0x2222, "sfence.vma (all)")
        // Unmap it; an address-specific sfence.vma drops it too.
        f.pt.map(dataVA, dataPA, 0)
        f.m.step(2)
        f.m.assertTrap(.loadPageFault, epc: MMUFixture.codeVA + 16, tval: dataVA)
    }

    func testSatpWriteSwitchesAddressSpaces() {
        let f = MMUFixture()
        f.pt.map(dataVA, dataPA, MMUFixture.rwxad)
        XCTAssertEqual(f.load(dataVA, as: .supervisor), marker)
        // A second table mapping the same VA elsewhere (and the code pages).
        let other = PageTableBuilder(memory: f.m.memory, levels: 3, region: TestMachine.ramBase + 0x20_0000)
        other.map(MMUFixture.codeVA, MMUFixture.codePA, MMUFixture.rwxad)
        other.map(dataVA, dataPA + 0x2000, MMUFixture.rwxad)
        f.m.write64(dataPA + 0x2000, 0x3333)
        f.place([Asm.ld(5, 6, 0), Asm.csrrw(0, CSR.satp, 7), Asm.ld(8, 6, 0)], as: .supervisor, [6: dataVA, 7: other.satp])
        f.m.step(3)
        XCTAssertEqual(f.hart.register(5), marker)
        XCTAssertEqual(f.hart.register(8), 0x3333)
    }

    func testMPRVTranslatesMachineModeDataAccesses() {
        let f = MMUFixture()
        f.pt.map(dataVA, dataPA, MMUFixture.rwxad)
        f.pt.map(dataVA + 0x1000, dataPA + 0x1000, MMUFixture.rwxad | u)
        f.m.write64(dataPA + 0x1000, 0x4444)
        let code = TestMachine.ramBase + 0x3000  // M-mode fetches stay physical
        func mload(_ va: UInt64, mpp: Privilege) {
            f.m.setPrivilege(.machine)
            f.m.setCSR(CSR.mstatus, f.m.csr(CSR.mstatus) & ~Mstatus.mpp | UInt64(mpp.rawValue) << 11 | Mstatus.mprv)
            f.hart.mcause = 0xdead
            f.m.load([Asm.ld(5, 6, 0)], at: code)
            f.hart.setRegister(6, va)
            f.m.step()
        }
        mload(dataVA, mpp: .supervisor)
        XCTAssertEqual(f.hart.register(5), marker, "MPRV with MPP=S")
        XCTAssertEqual(f.hart.pc, code + 4)
        mload(dataVA + 0x1000, mpp: .user)
        XCTAssertEqual(f.hart.register(5), 0x4444, "MPRV with MPP=U, U page")
        mload(dataVA, mpp: .user)
        f.m.assertTrap(.loadPageFault, epc: code, tval: dataVA)
        mload(dataVA + 0x1000, mpp: .supervisor)
        f.m.assertTrap(.loadPageFault, epc: code, tval: dataVA + 0x1000)
        mload(dataVA, mpp: .machine)
        f.m.assertTrap(.loadAccessFault, epc: code, tval: dataVA)  // untranslated: nothing at 0x3000_0000
        // Without MPRV, M-mode is untranslated whatever MPP says.
        f.m.setPrivilege(.machine)
        f.m.setCSR(CSR.mstatus, f.m.csr(CSR.mstatus) & ~(Mstatus.mprv | Mstatus.mpp) | 1 << 11)
        f.m.load([Asm.ld(5, 6, 0)], at: code)
        f.hart.setRegister(6, dataPA + 0x1000)
        f.m.step()
        XCTAssertEqual(f.hart.register(5), 0x4444)
    }

    func testBareModeIsUntranslatedInSupervisor() {
        let m = TestMachine()
        m.write64(TestMachine.ramBase + 0x5000, 0x5555)
        m.setPrivilege(.supervisor)
        m.exec([Asm.ld(5, 6, 0)], [6: TestMachine.ramBase + 0x5000])
        XCTAssertEqual(m.hart.register(5), 0x5555)
    }
}
