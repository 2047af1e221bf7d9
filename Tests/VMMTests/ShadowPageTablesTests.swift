import XCTest
import GuestMemory
import RISCV
@testable import VMM

/// The shadow builder and its write tracing: what a filled shadow entry grants, which guest
/// pages become write-protected, and which shadow entries a guest page-table write drops.
final class ShadowPageTablesTests: XCTestCase {
    static let guestSize: UInt64 = 8 << 20
    let machine = try! GuestMemory(base: GuestTables.ramBase, size: guestSize + (64 << 12))
    lazy var guestRAM = GuestMemory(prefixOf: machine, size: Self.guestSize)
    lazy var tables = GuestTables(memory: guestRAM, region: GuestTables.ramBase + 0x10_0000)
    lazy var shadow = ShadowPageTables(machine: machine, guestRAM: guestRAM, poolBase: guestRAM.end, poolPages: 64)
    var flushedPages: [UInt64] = []
    var flushedAll = 0

    let va: UInt64 = 0xffff_ffc0_0040_0000
    let frame: UInt64 = GuestTables.ramBase + 0x40_0000

    var key: ShadowKey { ShadowKey(guestSatp: tables.satp, kind: .supervisor) }

    override func setUp() {
        super.setUp()
        shadow.flushPage = { [unowned self] in flushedPages.append($0) }
        shadow.flushAll = { [unowned self] in flushedAll += 1 }
    }

    func fill(_ va: UInt64, _ access: AccessType, key: ShadowKey? = nil) throws {
        let key = key ?? self.key
        guard case .translated(let t) = shadow.walker.translate(va, access, satp: tables.satp, mode: key.kind == .user ? .user : .supervisor,
                                                                sum: key.kind == .supervisorWithSUM, mxr: false) else {
            return XCTFail("the guest maps \(String(va, radix: 16))")
        }
        XCTAssertTrue(shadow.fill(key, va: va, t))
    }

    /// The shadow leaf for `va`, walked the way the real hart walks it.
    func shadowLeaf(_ va: UInt64, key: ShadowKey? = nil) -> UInt64? {
        guard var table = shadow.roots[key ?? self.key] else { return nil }
        for level in stride(from: 2, through: 1, by: -1) {
            let pte: UInt64 = machine.load(table + ((va >> UInt64(12 + 9 * level)) & 0x1ff) * 8)!
            guard pte & Flags.v != 0 else { return nil }
            table = ((pte >> 10) & PageTableEntry.ppnMask) << 12
        }
        let leaf: UInt64 = machine.load(table + ((va >> 12) & 0x1ff) * 8)!
        return leaf & Flags.v != 0 ? leaf : nil
    }

    func testRootsAreCachedByGuestRootAndKind() {
        XCTAssertNotNil(shadow.root(for: key, inUse: []))
        XCTAssertNotNil(shadow.root(for: key, inUse: []))
        XCTAssertEqual(shadow.builds, 1)
        XCTAssertEqual(shadow.cacheHits, 1)
        _ = shadow.root(for: ShadowKey(guestSatp: tables.satp, kind: .user), inUse: [])
        XCTAssertEqual(shadow.builds, 2)
        // The ASID does not select a different shadow.
        _ = shadow.root(for: ShadowKey(guestSatp: tables.satp | 5 << 44, kind: .supervisor), inUse: [])
        XCTAssertEqual(shadow.builds, 2)
    }

    func testFilledLeafIsAUserPageWithTheGuestsPermissions() throws {
        tables.map(va, to: frame, Flags.v | Flags.r | Flags.w)
        _ = shadow.root(for: key, inUse: [])
        try fill(va, .load)
        var leaf = try XCTUnwrap(shadowLeaf(va))
        XCTAssertEqual((leaf >> 10) << 12, frame, "identity PA -> MA for guest RAM")
        XCTAssertEqual(leaf & (Flags.u | Flags.r | Flags.a | Flags.d), Flags.u | Flags.r | Flags.a | Flags.d)
        XCTAssertEqual(leaf & Flags.w, 0, "not writable until the guest PTE is dirty")
        try fill(va, .store)
        leaf = try XCTUnwrap(shadowLeaf(va))
        XCTAssertNotEqual(leaf & Flags.w, 0)
        XCTAssertEqual(tables.pte(va) & Flags.d, Flags.d, "the VMM set the guest's D bit")
    }

    func testPageTablePagesAreWriteProtected() throws {
        // Map the guest's own leaf table writable at another address, as Linux's linear map does.
        let leafTable = tables.slot(va) & ~0xfff
        let alias: UInt64 = 0xffff_ffc0_0060_0000
        tables.map(alias, to: leafTable, Flags.v | Flags.r | Flags.w | Flags.a | Flags.d)
        _ = shadow.root(for: key, inUse: [])
        try fill(alias, .store)
        XCTAssertNotEqual(try XCTUnwrap(shadowLeaf(alias)) & Flags.w, 0, "an ordinary page so far")
        // Walking through the table for `va` makes it a page table: the alias loses W.
        tables.map(va, to: frame, Flags.v | Flags.r)
        try fill(va, .load)
        XCTAssertEqual(try XCTUnwrap(shadowLeaf(alias)) & Flags.w, 0)
        XCTAssertTrue(flushedPages.contains(alias), "the hart's cached translation of the alias is dropped")
        XCTAssertFalse(shadow.pageTableUses(leafTable).isEmpty)
    }

    func testAGuestPTEWriteDropsExactlyTheShadowEntryItFed() throws {
        tables.map(va, to: frame, Flags.v | Flags.r)
        tables.map(va + 0x1000, to: frame + 0x1000, Flags.v | Flags.r)
        _ = shadow.root(for: key, inUse: [])
        try fill(va, .load)
        try fill(va + 0x1000, .load)
        let entry = tables.slot(va + 0x1000)
        let uses = shadow.pageTableUses(entry & ~0xfff)
        XCTAssertEqual(uses.count, 1)
        guestRAM.store(entry, UInt64(0))
        shadow.guestTableWritten(entry, size: 8, uses: uses)
        XCTAssertNotNil(shadowLeaf(va), "the neighbour stays")
        XCTAssertNil(shadowLeaf(va + 0x1000))
        XCTAssertEqual(shadow.invalidations, 1)
        XCTAssertEqual(flushedPages.last, va + 0x1000)
    }

    func testWritingAPointerEntryDropsTheSubtree() throws {
        tables.map(va, to: frame, Flags.v | Flags.r)
        _ = shadow.root(for: key, inUse: [])
        try fill(va, .load)
        let free = shadow.pool.freePages
        let pointer = tables.slot(va, level: 1)
        let uses = shadow.pageTableUses(pointer & ~0xfff)
        shadow.guestTableWritten(pointer, size: 8, uses: uses)
        XCTAssertNil(shadowLeaf(va))
        XCTAssertEqual(shadow.pool.freePages, free + 1, "the shadow leaf table went back to the pool")
        XCTAssertGreaterThan(flushedAll, 0)
    }

    func testStaleUsesAreDroppedWhenTheGuestRewires() throws {
        tables.map(va, to: frame, Flags.v | Flags.r)
        _ = shadow.root(for: key, inUse: [])
        try fill(va, .load)
        let oldLeafTable = tables.slot(va) & ~0xfff
        // The guest points the level-1 entry elsewhere (freeing the old table).
        guestRAM.store(tables.slot(va, level: 1), UInt64(0))
        XCTAssertTrue(shadow.pageTableUses(oldLeafTable).isEmpty, "no longer a page table of this root")
    }

    func testUserShadowHoldsOnlyUserPages() throws {
        let userKey = ShadowKey(guestSatp: tables.satp, kind: .user)
        tables.map(0x1_0000, to: frame, Flags.v | Flags.r | Flags.x | Flags.u)
        _ = shadow.root(for: userKey, inUse: [])
        try fill(0x1_0000, .fetch, key: userKey)
        let leaf = try XCTUnwrap(shadowLeaf(0x1_0000, key: userKey))
        XCTAssertEqual(leaf & (Flags.r | Flags.x), Flags.r | Flags.x)
        // The same page through the supervisor-with-SUM shadow: readable, never executable.
        let sumKey = ShadowKey(guestSatp: tables.satp, kind: .supervisorWithSUM)
        _ = shadow.root(for: sumKey, inUse: [])
        try fill(0x1_0000, .load, key: sumKey)
        XCTAssertEqual(try XCTUnwrap(shadowLeaf(0x1_0000, key: sumKey)) & Flags.x, 0)
    }

    func testExhaustedPoolAsksForAReset() throws {
        _ = shadow.root(for: key, inUse: [])
        var failed = false
        // Each 2 MiB region needs its own leaf table: 64 pool pages run out.
        for i in 0..<UInt64(80) {
            let v = 0xffff_ffc0_0000_0000 + i << 21
            tables.map(v, to: frame, Flags.v | Flags.r)
            guard case .translated(let t) = shadow.walker.translate(v, .load, satp: tables.satp, mode: .supervisor, sum: false, mxr: false) else {
                return XCTFail("mapped")
            }
            if !shadow.fill(key, va: v, t) { failed = true; break }
        }
        XCTAssertTrue(failed, "the pool must run out")
        shadow.reset()
        XCTAssertEqual(shadow.pool.freePages, 64)
        XCTAssertTrue(shadow.roots.isEmpty)
        XCTAssertEqual(shadow.resets, 1)
    }

    func testUnsyncedLeafTableIsWritableUntilResync() throws {
        let leafTable = tables.slot(va) & ~0xfff
        let alias: UInt64 = 0xffff_ffc0_0060_0000
        tables.map(alias, to: leafTable, Flags.v | Flags.r | Flags.w | Flags.a | Flags.d)
        tables.map(va, to: frame, Flags.v | Flags.r)
        _ = shadow.root(for: key, inUse: [])
        try fill(va, .load)
        let uses = shadow.pageTableUses(leafTable)
        XCTAssertTrue(shadow.unsync(leafTable, uses: uses))
        try fill(alias, .store)
        XCTAssertNotEqual(try XCTUnwrap(shadowLeaf(alias)) & Flags.w, 0, "an unsynced table is written natively")
        // The guest remaps va without a fence: the shadow may still show the old frame...
        tables.map(va, to: frame + 0x1000, Flags.v | Flags.r)
        XCTAssertEqual((try XCTUnwrap(shadowLeaf(va)) >> 10) << 12, frame)
        // ...until the fence, which drops exactly that entry and protects the table again.
        shadow.resyncAll()
        XCTAssertNil(shadowLeaf(va))
        XCTAssertEqual(shadow.resyncedEntries, 1)
        XCTAssertEqual(try XCTUnwrap(shadowLeaf(alias)) & Flags.w, 0)
        XCTAssertFalse(shadow.isUnsynced(leafTable))
    }

    func testDirectoriesStaySynced() throws {
        tables.map(va, to: frame, Flags.v | Flags.r)
        _ = shadow.root(for: key, inUse: [])
        try fill(va, .load)
        let directory = tables.slot(va, level: 1) & ~0xfff
        XCTAssertFalse(shadow.unsync(directory, uses: shadow.pageTableUses(directory)))
        XCTAssertFalse(shadow.unsync(tables.root, uses: shadow.pageTableUses(tables.root)))
    }

    func testWriteFloodingUnshadowsADirectory() throws {
        tables.map(va, to: frame, Flags.v | Flags.r)
        _ = shadow.root(for: key, inUse: [])
        try fill(va, .load)
        let directory = tables.slot(va, level: 1) & ~0xfff
        let uses = shadow.pageTableUses(directory)
        for _ in 1..<ShadowPageTables.floodLimit { XCTAssertFalse(shadow.noteFlooding(directory, uses: uses)) }
        XCTAssertNotNil(shadowLeaf(va), "still traced and shadowed")
        XCTAssertTrue(shadow.noteFlooding(directory, uses: uses))
        XCTAssertNil(shadowLeaf(va), "everything built through it is gone")
        XCTAssertTrue(shadow.pageTableUses(directory).isEmpty, "no longer write-protected")
        // A walk through it makes it a traced table again, with a fresh count.
        try fill(va, .load)
        XCTAssertFalse(shadow.pageTableUses(directory).isEmpty)
        XCTAssertFalse(shadow.noteFlooding(directory, uses: shadow.pageTableUses(directory)))
    }

    func testWalkResetsTheFloodCount() throws {
        tables.map(va, to: frame, Flags.v | Flags.r)
        _ = shadow.root(for: key, inUse: [])
        try fill(va, .load)
        let directory = tables.slot(va, level: 1) & ~0xfff
        for _ in 0..<(ShadowPageTables.floodLimit * 3) {
            XCTAssertFalse(shadow.noteFlooding(directory, uses: shadow.pageTableUses(directory)))
            try fill(va, .load)   // the guest keeps using it as a table
        }
    }
}
