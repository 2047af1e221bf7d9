import GuestMemory
import RISCV

/// The VMM's shadow page tables: VA -> MA tables the real hart walks, built on demand from the
/// guest's VA -> PA tables (and the identity PA -> MA map of guest RAM) and kept coherent by
/// write-protecting every guest page-table page they were built from.
///
/// Shadows are cached by guest root and privilege (`ShadowKey`), so a context switch back to a
/// process finds its shadow ready. Every shadow leaf maps one 4 KiB page with U set (the hart
/// runs the whole guest in U-mode), A and D set (the VMM, not the hart, keeps the guest's A/D),
/// and write permission only when the guest's PTE is dirty and the page is not a guest page
/// table. A guest write to a page table traps; the VMM emulates it and drops exactly the shadow
/// entries derived from the entry written (`guestTableWritten`).
final class ShadowPageTables {
    let machine: GuestMemory
    var pool: ShadowPagePool
    var walker: GuestPageWalker
    let maxRoots: Int

    /// Shadow root table of each cached key, and when each was last selected.
    private(set) var roots: [ShadowKey: UInt64] = [:]
    private var lastUse: [ShadowKey: UInt64] = [:]
    private var clock: UInt64 = 0

    /// A guest table page used to build some shadow, with the shadow and position it fed.
    struct TableUse: Equatable {
        var key: ShadowKey
        var level: Int
        var vaBase: UInt64
    }
    /// A writable shadow leaf, so it can be write-protected when its page becomes a page table.
    struct LeafUse: Equatable {
        var key: ShadowKey
        var va: UInt64
    }
    /// Guest page-table pages (write-protected) and the shadow positions each one feeds. Uses go
    /// stale when the guest rewires its tables or a shadow is evicted; they are checked against
    /// the guest's tables before they count (`liveUses`).
    private var tracked: [UInt64: [TableUse]] = [:]
    private var writableLeaves: [UInt64: [LeafUse]] = [:]
    private var recordCount = 0
    /// Leaf-level guest page tables left writable ("unsynced", as KVM calls it), each with a
    /// snapshot of its entries (a pool page) from when it was last in sync.
    private var unsynced: [UInt64: UInt64] = [:]
    /// Traced writes to each directory-level table since a walk last went through it: a page
    /// the guest fills without using it as a table (zeroing a freed page directory for reuse)
    /// is unshadowed after `floodLimit` writes instead of trapping on every one (KVM's
    /// write-flooding heuristic).
    private var writesSinceUse: [UInt64: Int] = [:]
    static let floodLimit = 8
    /// Beyond this many tracking records the cache is reset rather than grown.
    static let recordLimit = 1 << 20

    /// Flush hooks: one page or everything, on every hart using the shadows.
    var flushPage: (UInt64) -> Void = { _ in }
    var flushAll: () -> Void = {}

    var builds: UInt64 = 0
    var cacheHits: UInt64 = 0
    var fills: UInt64 = 0
    var invalidations: UInt64 = 0
    var resets: UInt64 = 0
    var unsyncs: UInt64 = 0
    var unshadowed: UInt64 = 0
    var resyncedEntries: UInt64 = 0

    init(machine: GuestMemory, guestRAM: GuestMemory, poolBase: UInt64, poolPages: Int, maxRoots: Int = 64) {
        self.machine = machine
        pool = ShadowPagePool(memory: machine, base: poolBase, pageCount: poolPages)
        walker = GuestPageWalker(memory: guestRAM)
        self.maxRoots = maxRoots
    }

    var protectedPageTables: Int { tracked.count }

    // MARK: Roots

    /// The shadow root for `key`, built empty if it is not cached (evicting the least recently
    /// used root that no vCPU runs on). Nil when the pool is exhausted: the caller resets.
    func root(for key: ShadowKey, inUse: [ShadowKey]) -> UInt64? {
        clock &+= 1
        if let root = roots[key] {
            cacheHits &+= 1
            lastUse[key] = clock
            return root
        }
        if roots.count >= maxRoots,
           let victim = lastUse.filter({ !inUse.contains($0.key) }).min(by: { $0.value < $1.value })?.key {
            evict(victim)
        }
        guard let root = pool.allocate() else { return nil }
        builds &+= 1
        roots[key] = root
        lastUse[key] = clock
        return root
    }

    private func evict(_ key: ShadowKey) {
        guard let root = roots.removeValue(forKey: key) else { return }
        lastUse[key] = nil
        release(table: root, level: key.shadowLevels - 1)
        flushAll()
    }

    /// Forgets every shadow and every record (pool exhausted, MXR changed).
    func reset() {
        pool.releaseAll()
        roots = [:]
        lastUse = [:]
        tracked = [:]
        writableLeaves = [:]
        unsynced = [:]
        writesSinceUse = [:]
        recordCount = 0
        resets &+= 1
        flushAll()
    }

    // MARK: Filling

    /// Maps the page of `va` in the shadow `key` as `translation` allows. False when the pool
    /// is exhausted or the records are full: the caller resets and retries.
    func fill(_ key: ShadowKey, va: UInt64, _ translation: GuestTranslation) -> Bool {
        guard let root = roots[key], recordCount < Self.recordLimit else { return false }
        for i in 0..<translation.tables.count { track(translation.tables[i], for: key) }
        let page = translation.physicalPage
        let writable: Bool
        var leaf = (page >> 12) << 10 | PageTableEntry.v | PageTableEntry.a | PageTableEntry.d
        let untraced = tracked[page] == nil || unsynced[page] != nil
        if key.kind == .mirrored {
            // The hart checks U, SUM and MXR itself; only W is withheld, as for every kind.
            let flags = translation.leafFlags
            writable = flags & PageTableEntry.w != 0 && translation.dirty && untraced
            leaf |= flags & (PageTableEntry.r | PageTableEntry.x | PageTableEntry.u) | (writable ? PageTableEntry.w : 0)
        } else {
            writable = translation.writable && translation.dirty && untraced
            leaf |= PageTableEntry.u
            if translation.readable { leaf |= PageTableEntry.r }
            if writable { leaf |= PageTableEntry.w | PageTableEntry.r }
            if translation.executable { leaf |= PageTableEntry.x }
        }

        var table = root
        var level = key.shadowLevels - 1
        while level > 0 {
            let entry = table &+ Self.index(va, level) &* 8
            let pte: UInt64 = machine.load(entry)!
            if pte & PageTableEntry.v == 0 {
                guard let next = pool.allocate() else { return false }
                machine.store(entry, (next >> 12) << 10 | PageTableEntry.v)
                table = next
            } else {
                table = ((pte >> 10) & PageTableEntry.ppnMask) << 12
            }
            level -= 1
        }
        machine.store(table &+ Self.index(va, 0) &* 8, leaf)
        fills &+= 1
        if writable {
            let use = LeafUse(key: key, va: va & ~0xfff)
            if !(writableLeaves[page]?.contains(use) ?? false) {
                writableLeaves[page, default: []].append(use)
                recordCount += 1
            }
        }
        return true
    }

    @inline(__always) static func index(_ va: UInt64, _ level: Int) -> UInt64 {
        (va >> (12 + 9 * UInt64(level))) & 0x1ff
    }

    // MARK: Write protection

    /// Records that `use.table` fed shadow `key`; a page seen for the first time becomes
    /// write-protected in every shadow that maps it writable.
    private func track(_ use: GuestTableUse, for key: ShadowKey) {
        let record = TableUse(key: key, level: use.level, vaBase: use.vaBase)
        // Only leaf tables may stay unsynced; one now used as a directory is synced first.
        if use.level > 0 && unsynced[use.table] != nil { resync(use.table) }
        if !writesSinceUse.isEmpty { writesSinceUse[use.table] = nil }
        if var uses = tracked[use.table] {
            if uses.contains(record) { return }
            uses.append(record)
            tracked[use.table] = uses
        } else {
            tracked[use.table] = [record]
            writeProtect(use.table)
        }
        recordCount += 1
    }

    private func writeProtect(_ page: UInt64) {
        guard let leaves = writableLeaves.removeValue(forKey: page) else { return }
        recordCount -= leaves.count
        for use in leaves {
            guard let entry = leafEntry(use.key, va: use.va), let pte: UInt64 = machine.load(entry),
                  pte & PageTableEntry.v != 0, ((pte >> 10) & PageTableEntry.ppnMask) << 12 == page else { continue }
            machine.store(entry, pte & ~PageTableEntry.w)
            flushPage(use.va)
        }
    }

    /// The uses of `page` that still hold: the shadow exists and the guest root still reaches
    /// this page at that position. Stale ones are dropped; a page with none is unprotected.
    private func liveUses(of page: UInt64) -> [TableUse] {
        guard let uses = tracked[page] else { return [] }
        let live = uses.filter { use in
            roots[use.key] != nil && walker.table(satp: use.key.guestSatp, level: use.level, vaBase: use.vaBase) == page
        }
        recordCount -= uses.count - live.count
        tracked[page] = live.isEmpty ? nil : live
        return live
    }

    /// The shadow positions fed by guest page `page`; empty when it is not (or no longer) a
    /// page table of any cached shadow, so a store to it need not be emulated.
    func pageTableUses(_ page: UInt64) -> [TableUse] {
        tracked[page] == nil ? [] : liveUses(of: page)
    }

    // MARK: Write flooding

    /// Counts a traced write to `page`; true when the page has been written so often without
    /// being walked that it has been unshadowed (the caller then lets the write run natively).
    func noteFlooding(_ page: UInt64, uses: [TableUse]) -> Bool {
        let writes = writesSinceUse[page, default: 0] + 1
        guard writes >= Self.floodLimit else {
            writesSinceUse[page] = writes
            return false
        }
        writesSinceUse[page] = nil
        unshadow(page, uses: uses)
        return true
    }

    /// Drops every shadow entry built through `page` and stops tracing it: at the root level
    /// the whole shadow is emptied, below it the parent entry covering the page's range.
    private func unshadow(_ page: UInt64, uses: [TableUse]) {
        for use in uses {
            if use.level == use.key.shadowLevels - 1 {
                guard let root = roots[use.key] else { continue }
                for i in 0..<UInt64(512) {
                    let pte: UInt64 = machine.load(root &+ i &* 8)!
                    guard pte & PageTableEntry.v != 0 else { continue }
                    machine.store(root &+ i &* 8, UInt64(0))
                    release(table: ((pte >> 10) & PageTableEntry.ppnMask) << 12, level: use.level - 1)
                }
                invalidations &+= 1
                flushAll()
            } else {
                invalidate(use.key, level: use.level + 1, va: use.vaBase)
            }
        }
        if let snapshot = unsynced.removeValue(forKey: page) { pool.release(snapshot) }
        recordCount -= tracked[page]?.count ?? 0
        tracked[page] = nil
        unshadowed &+= 1
    }

    // MARK: Unsynced leaf tables

    /// True while guest page `page` is an unsynced leaf table (guest writes go straight through).
    func isUnsynced(_ page: UInt64) -> Bool { unsynced[page] != nil }

    /// Lets the guest write leaf table `page` without trapping until its next `sfence.vma` or
    /// satp write, when `resyncAll` compares it with a snapshot taken now and drops the shadow
    /// entries of every entry that changed. RISC-V lets software rely on a changed PTE only after
    /// an SFENCE.VMA (privileged spec 4.2.1), and Linux switches to a new address space without
    /// one, hence the satp write too. Invalid-to-valid changes need no resync at all: the shadow
    /// has no entry for an address the guest had not mapped. False (the caller emulates the
    /// store instead) when a use is not at leaf level or the pool has no page for the snapshot.
    func unsync(_ page: UInt64, uses: [TableUse]) -> Bool {
        guard uses.allSatisfy({ $0.level == 0 }), let snapshot = pool.allocate(),
              let from = walker.memory.pointer(page, length: 4096) else { return false }
        machine.pointer(snapshot, length: 4096)!.copyMemory(from: from, byteCount: 4096)
        unsynced[page] = snapshot
        unsyncs &+= 1
        return true
    }

    /// Brings every unsynced leaf table back in sync and write-protects it again.
    func resyncAll() {
        guard !unsynced.isEmpty else { return }
        for page in Array(unsynced.keys) { resync(page) }
    }

    private func resync(_ page: UInt64) {
        guard let snapshot = unsynced.removeValue(forKey: page) else { return }
        defer { pool.release(snapshot) }
        let uses = tracked[page] == nil ? [] : liveUses(of: page)
        guard !uses.isEmpty, let now = walker.memory.pointer(page, length: 4096),
              let before = machine.pointer(snapshot, length: 4096) else { return }
        for i in 0..<512 where now.load(fromByteOffset: i * 8, as: UInt64.self) != before.load(fromByteOffset: i * 8, as: UInt64.self) {
            resyncedEntries &+= 1
            for use in uses { invalidate(use.key, level: 0, va: use.vaBase &+ UInt64(i) << 12) }
        }
        writeProtect(page)
    }

    /// The guest wrote `size` bytes at `pa` in a page table with `uses`: drop the shadow
    /// entries that came from the entries written.
    func guestTableWritten(_ pa: UInt64, size: Int, uses: [TableUse]) {
        let first = (pa & 0xfff) >> 3
        let last = Swift.min(((pa & 0xfff) + UInt64(size) - 1) >> 3, 511)
        for use in uses {
            for i in first...last {
                let va = use.vaBase &+ (i << (12 + 9 * UInt64(use.level)))
                invalidate(use.key, level: use.level, va: va)
            }
        }
    }

    /// Clears the shadow entry at `level` covering `va` in shadow `key`, and the tables below it.
    private func invalidate(_ key: ShadowKey, level target: Int, va: UInt64) {
        guard let root = roots[key] else { return }
        var table = root
        var level = key.shadowLevels - 1
        while level > target {
            let pte: UInt64 = machine.load(table &+ Self.index(va, level) &* 8)!
            guard pte & PageTableEntry.v != 0 else { return }
            table = ((pte >> 10) & PageTableEntry.ppnMask) << 12
            level -= 1
        }
        let entry = table &+ Self.index(va, target) &* 8
        let old: UInt64 = machine.load(entry)!
        guard old & PageTableEntry.v != 0 else { return }
        machine.store(entry, UInt64(0))
        invalidations &+= 1
        if target > 0 {
            release(table: ((old >> 10) & PageTableEntry.ppnMask) << 12, level: target - 1)
            flushAll()
        } else {
            let bits = 12 + 9 * key.shadowLevels
            flushPage(UInt64(bitPattern: Int64(bitPattern: va << UInt64(64 - bits)) >> Int64(64 - bits)))
        }
    }

    private func leafEntry(_ key: ShadowKey, va: UInt64) -> UInt64? {
        guard var table = roots[key] else { return nil }
        var level = key.shadowLevels - 1
        while level > 0 {
            let pte: UInt64 = machine.load(table &+ Self.index(va, level) &* 8)!
            guard pte & PageTableEntry.v != 0 else { return nil }
            table = ((pte >> 10) & PageTableEntry.ppnMask) << 12
            level -= 1
        }
        return table &+ Self.index(va, 0) &* 8
    }

    private func release(table: UInt64, level: Int) {
        if level > 0 {
            for i in 0..<UInt64(512) {
                let pte: UInt64 = machine.load(table &+ i &* 8)!
                if pte & PageTableEntry.v != 0 {
                    release(table: ((pte >> 10) & PageTableEntry.ppnMask) << 12, level: level - 1)
                }
            }
        }
        pool.release(table)
    }
}
