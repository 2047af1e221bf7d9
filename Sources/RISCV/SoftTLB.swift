import GuestMemory

/// One soft-TLB entry: a virtual page and the value that turns a virtual address on it into a
/// host pointer (host - virtual, wrapping), as in TinyEMU.
struct TLBEntry {
    var vpn: UInt64
    var addend: UInt64
}

/// Direct-mapped soft TLB for RAM pages only (MMIO never enters it), with separate sets per
/// privilege (U, S, M) and access type (fetch, load, store), so privilege switches need no flush.
/// Permissions are checked when an entry is filled; an entry exists only if the access is allowed.
///
/// The sets come in a few contexts, each caching one translation root. On bare hardware only
/// context 0 is used and a satp write flushes it. Under a VMM, whose shadow roots change only
/// through the VMM (which flushes what it changes), a root switch selects the context that
/// already caches that root, like a tagged TLB: a guest system call switches between its user
/// and kernel shadows without losing either one's entries.
final class SoftTLB {
    static let entriesPerSet = 256
    static let setsPerContext = 9
    static let contexts = 4
    static let invalidVPN: UInt64 = .max
    static let noRoot: UInt64 = .max

    let entries: UnsafeMutablePointer<TLBEntry>
    /// Host address of RAM's first byte minus its guest-physical base (for filling entries).
    let ramAddend: UInt64
    public private(set) var flushes: UInt64 = 0

    /// The context in use, the root each context caches, and when each was last selected.
    private(set) var current = 0
    private var roots = [UInt64](repeating: SoftTLB.noRoot, count: SoftTLB.contexts)
    private var lastUse = [UInt64](repeating: 0, count: SoftTLB.contexts)
    private var clock: UInt64 = 0
    /// Contexts that may hold entries (bit per context), so a flush touches only those.
    private var used: UInt32 = 1

    init(memory: GuestMemory) {
        let count = Self.contexts * Self.setsPerContext * Self.entriesPerSet
        entries = .allocate(capacity: count)
        entries.initialize(repeating: TLBEntry(vpn: Self.invalidVPN, addend: 0), count: count)
        ramAddend = UInt64(UInt(bitPattern: memory.host)) &- memory.base
    }

    deinit { entries.deallocate() }

    @inline(__always)
    func set(_ privilege: Privilege, _ access: AccessType) -> UnsafeMutablePointer<TLBEntry> {
        let a: Int
        switch access {
        case .fetch: a = 0
        case .load: a = 1
        case .store: a = 2
        }
        return entries + ((current * 3 + privilege.tableIndex) * 3 + a) * Self.entriesPerSet
    }

    /// Records that virtual page `vpn` maps to RAM page at physical `pagePA` for this set.
    @inline(__always)
    func fill(_ set: UnsafeMutablePointer<TLBEntry>, vpn: UInt64, pagePA: UInt64) {
        set[Int(truncatingIfNeeded: vpn) & (Self.entriesPerSet - 1)] =
            TLBEntry(vpn: vpn, addend: (pagePA &+ ramAddend) &- (vpn << 12))
    }

    /// Makes the context caching `root` current, recycling the least recently used one (and
    /// flushing it) when no context holds that root. The caller recomputes its set pointers.
    func select(root: UInt64) {
        clock &+= 1
        if let hit = roots.firstIndex(of: root) {
            current = hit
        } else {
            let victim = lastUse.indices.min { lastUse[$0] < lastUse[$1] }!
            flush(context: victim)
            roots[victim] = root
            current = victim
        }
        lastUse[current] = clock
        used |= 1 << UInt32(current)
    }

    /// Drops every entry of every context.
    func flushAll() {
        for c in 0..<Self.contexts where used & (1 << UInt32(c)) != 0 { clear(context: c) }
        used = 1 << UInt32(current)
        flushes &+= 1
    }

    /// Drops the entries of the current context only (bare hardware: a satp write).
    func flushCurrent() {
        clear(context: current)
        flushes &+= 1
    }

    private func flush(context c: Int) {
        if used & (1 << UInt32(c)) != 0 { clear(context: c) }
        used &= ~(1 << UInt32(c))
        flushes &+= 1
    }

    private func clear(context c: Int) {
        (entries + c * Self.setsPerContext * Self.entriesPerSet)
            .update(repeating: TLBEntry(vpn: Self.invalidVPN, addend: 0), count: Self.setsPerContext * Self.entriesPerSet)
    }

    /// Drops every entry for one virtual page, in every context (a VMM changed one shadow mapping).
    func flush(vpn: UInt64) {
        let index = Int(truncatingIfNeeded: vpn) & (Self.entriesPerSet - 1)
        for c in 0..<Self.contexts where used & (1 << UInt32(c)) != 0 {
            for set in 0..<Self.setsPerContext {
                let i = (c * Self.setsPerContext + set) * Self.entriesPerSet + index
                if entries[i].vpn == vpn { entries[i].vpn = Self.invalidVPN }
            }
        }
    }
}
