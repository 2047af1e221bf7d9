import XCTest
@testable import RISCV

/// The hart's G-stage cache: it saves PTE reads, but never answers with a translation the
/// G-stage no longer gives after HFENCE.GVMA or an hgatp write, and never grants what the
/// cached leaf does not.
final class GStageTLBTests: XCTestCase {
    typealias F = HypervisorFixture
    let v = PTEBit.v, r = PTEBit.r, w = PTEBit.w, x = PTEBit.x, u = PTEBit.u, a = PTEBit.a, d = PTEBit.d

    func testCachedLeavesSaveReferences() {
        let f = F()
        // Two loads of the same page, the soft TLB's guest sets dropped between them but not
        // the G-stage cache: the second walk finds its G-stage translations cached.
        f.place([Asm.ld(5, 6, 0), Asm.ld(7, 6, 8)], as: .supervisor, [6: F.dataVA])
        f.m.step()
        let first = f.hart.translationCounters
        f.hart.tlb.flushGuest()
        f.m.step()
        let second = f.hart.translationCounters
        XCTAssertEqual(f.hart.register(5), F.marker)
        XCTAssertGreaterThan(second.gStageCacheHits, first.gStageCacheHits)
        XCTAssertGreaterThan(second.twoStageWalks, first.twoStageWalks)
        let perWalkFirst = Double(first.twoStageReferences) / Double(first.twoStageWalks)
        let perWalkSecond = Double(second.twoStageReferences - first.twoStageReferences)
            / Double(second.twoStageWalks - first.twoStageWalks)
        XCTAssertLessThan(perWalkSecond, perWalkFirst, "PTE reads per walk with the cache warm")
    }

    func testHfenceAndHgatpWritesDropCachedLeaves() {
        let f = F()
        let va: UInt64 = 0x5555_0000
        f.g.map(F.spareGPA, F.spareHPA, v | r | w | x | u | a | d)
        f.vs.map(va, F.spareGPA, F.vsRWX)
        f.m.write64(F.spareHPA, F.marker)
        XCTAssertEqual(f.load(va), F.marker)
        // The hypervisor unmaps the page in the G-stage and fences: the guest must fault.
        f.g.map(F.spareGPA, 0, 0)
        f.hart.flushGuestTranslations()
        XCTAssertNil(f.load(va))
        f.assertMachineTrap(.loadGuestPageFault, epc: F.codeVA, tval: va, gpa: F.spareGPA)
    }

    func testHitsAreCheckedForPermission() {
        let f = F()
        let va: UInt64 = 0x5555_0000
        f.g.map(F.spareGPA, F.spareHPA, v | r | u | a | d)   // read-only in the G-stage
        f.vs.map(va, F.spareGPA, F.vsRWX)
        f.m.write64(F.spareHPA, F.marker)
        XCTAssertEqual(f.load(va), F.marker, "fills the cache")
        XCTAssertFalse(f.store(va, 1), "a cached read-only leaf does not grant a store")
        f.assertMachineTrap(.storeGuestPageFault, epc: F.codeVA, tval: va, gpa: F.spareGPA)
    }

    func testLeavesWithoutDirtyAreNotCached() {
        let f = F()
        let va: UInt64 = 0x5555_0000
        f.g.map(F.spareGPA, F.spareHPA, v | r | w | u | a)   // D clear: a store must set it
        f.vs.map(va, F.spareGPA, F.vsRWX)
        XCTAssertNotNil(f.load(va))
        XCTAssertTrue(f.store(va, 7))
        XCTAssertNotEqual(f.g.pte(F.spareGPA) & d, 0, "the store set the G-stage D bit")
    }
}
