import XCTest
import GuestMemory
import RISCV
@testable import VMM

/// The VMM's walk of the guest's own tables: what it allows for each guest privilege, the A/D
/// bits it sets as hardware would, and the table pages it reports for write protection.
final class GuestPageWalkerTests: XCTestCase {
    let memory = try! GuestMemory(base: GuestTables.ramBase, size: 8 << 20)
    lazy var tables = GuestTables(memory: memory, region: GuestTables.ramBase + 0x10_0000)
    lazy var walker = GuestPageWalker(memory: memory)

    let kernelVA: UInt64 = 0xffff_ffc0_0020_0000
    let userVA: UInt64 = 0x1_0000
    let frame: UInt64 = GuestTables.ramBase + 0x40_0000

    func walk(_ va: UInt64, _ access: AccessType, mode: Privilege = .supervisor, sum: Bool = false,
              mxr: Bool = false) -> GuestWalkResult {
        walker.translate(va, access, satp: tables.satp, mode: mode, sum: sum, mxr: mxr)
    }

    func translated(_ result: GuestWalkResult, file: StaticString = #filePath, line: UInt = #line) -> GuestTranslation? {
        guard case .translated(let t) = result else {
            XCTFail("expected a translation, got \(result)", file: file, line: line)
            return nil
        }
        return t
    }

    func isPageFault(_ result: GuestWalkResult) -> Bool {
        if case .pageFault = result { return true }
        return false
    }

    func testBareGuestIsIdentity() {
        let t = walker.translate(0x8012_3456, .store, satp: 0, mode: .supervisor, sum: false, mxr: false)
        guard case .translated(let t) = t else { return XCTFail("bare must translate") }
        XCTAssertEqual(t.physical, 0x8012_3456)
        XCTAssertEqual(t.tables.count, 0)
    }

    func testKernelPageAndTheTablesOnTheWay() throws {
        tables.map(kernelVA, to: frame, Flags.v | Flags.r | Flags.x)
        let t = try XCTUnwrap(translated(walk(kernelVA + 0x123, .fetch)))
        XCTAssertEqual(t.physical, frame + 0x123)
        XCTAssertTrue(t.readable)
        XCTAssertTrue(t.executable)
        XCTAssertFalse(t.writable)
        XCTAssertEqual(t.tables.count, 3)
        XCTAssertEqual(t.tables[0].table, tables.root)
        XCTAssertEqual(t.tables[0].level, 2)
        XCTAssertEqual(t.tables[0].vaBase, 0)
        XCTAssertEqual(t.tables[2].level, 0)
        XCTAssertEqual(t.tables[2].vaBase, kernelVA & ~((1 << 21) - 1), "a leaf table covers 2 MiB")
        XCTAssertEqual(tables.pte(kernelVA) & (Flags.a | Flags.d), Flags.a, "a fetch sets A only")
    }

    func testStoreSetsDirty() throws {
        tables.map(kernelVA, to: frame, Flags.v | Flags.r | Flags.w)
        let load = try XCTUnwrap(translated(walk(kernelVA, .load)))
        XCTAssertFalse(load.dirty)
        XCTAssertTrue(load.writable)
        let store = try XCTUnwrap(translated(walk(kernelVA, .store)))
        XCTAssertTrue(store.dirty)
        XCTAssertEqual(tables.pte(kernelVA) & (Flags.a | Flags.d), Flags.a | Flags.d)
    }

    func testUserPagesFromEachPrivilege() {
        tables.map(userVA, to: frame, Flags.v | Flags.r | Flags.w | Flags.x | Flags.u)
        XCTAssertNotNil(translated(walk(userVA, .fetch, mode: .user)))
        XCTAssertNotNil(translated(walk(userVA, .store, mode: .user)))
        // S-mode: no access without SUM, data access with SUM, never execute (privileged spec 4.3.1).
        XCTAssertTrue(isPageFault(walk(userVA, .load)))
        XCTAssertNotNil(translated(walk(userVA, .load, sum: true)))
        XCTAssertNotNil(translated(walk(userVA, .store, sum: true)))
        XCTAssertTrue(isPageFault(walk(userVA, .fetch, sum: true)))
    }

    func testKernelPageIsNotReachableFromUserMode() {
        tables.map(kernelVA, to: frame, Flags.v | Flags.r | Flags.w | Flags.x)
        XCTAssertTrue(isPageFault(walk(kernelVA, .load, mode: .user)))
        XCTAssertTrue(isPageFault(walk(kernelVA, .fetch, mode: .user)))
    }

    func testMXRMakesExecuteOnlyReadable() {
        tables.map(kernelVA, to: frame, Flags.v | Flags.x)
        XCTAssertTrue(isPageFault(walk(kernelVA, .load)))
        XCTAssertNotNil(translated(walk(kernelVA, .load, mxr: true)))
    }

    func testFaultsTheSpecPrescribes() {
        tables.map(kernelVA, to: frame, Flags.v | Flags.r)
        XCTAssertTrue(isPageFault(walk(kernelVA, .store)), "store to a read-only page")
        XCTAssertTrue(isPageFault(walk(kernelVA + 0x1000, .load)), "invalid PTE")
        XCTAssertTrue(isPageFault(walk(0x0000_0040_0000_0000, .load)), "non-canonical Sv39 address")
        tables.map(kernelVA + 0x2000, to: frame, Flags.v | Flags.w)
        XCTAssertTrue(isPageFault(walk(kernelVA + 0x2000, .load)), "W without R is reserved")
        // A 2 MiB leaf whose frame is not 2 MiB aligned.
        tables.map(0x4000_0000, to: frame + 0x1000, Flags.v | Flags.r, level: 1)
        XCTAssertTrue(isPageFault(walk(0x4000_0000, .load)), "misaligned superpage")
        // A pointer to a table outside guest RAM: an access fault, not host memory.
        memory.store(tables.slot(0x8000_0000, level: 2), (UInt64(0x10_0000_0000) >> 12) << 10 | Flags.v)
        guard case .accessFault = walk(0x8000_0000, .load) else { return XCTFail("a table outside RAM is an access fault") }
    }

    func testSuperpageOffsets() throws {
        tables.map(0x4000_0000, to: GuestTables.ramBase + 0x20_0000, Flags.v | Flags.r, level: 1)
        let t = try XCTUnwrap(translated(walk(0x4000_0000 + 0x1_2345, .load)))
        XCTAssertEqual(t.physical, GuestTables.ramBase + 0x20_0000 + 0x1_2345)
        XCTAssertEqual(t.tables.count, 2, "the walk stops at level 1")
    }

    func testTableLookupForStaleness() {
        tables.map(kernelVA, to: frame, Flags.v | Flags.r)
        let leafTable = tables.slot(kernelVA) & ~0xfff
        XCTAssertEqual(walker.table(satp: tables.satp, level: 0, vaBase: kernelVA), leafTable)
        // Rewire the level-1 entry: the old leaf table is no longer reachable there.
        memory.store(tables.slot(kernelVA, level: 1), UInt64(0))
        XCTAssertNil(walker.table(satp: tables.satp, level: 0, vaBase: kernelVA))
    }
}

final class ExitReasonTests: XCTestCase {
    /// Exits are counted in an array indexed by `index`; it must be each reason's position.
    func testIndexIsThePositionInAllCases() {
        for (i, reason) in ExitReason.allCases.enumerated() { XCTAssertEqual(reason.index, i, "\(reason)") }
    }
}
