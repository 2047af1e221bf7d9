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
/// The virtualization mode V is part of the set index, like a V bit in a hardware TLB's tag:
/// VU and VS have sets of their own, which hold two-stage (guest virtual to host) translations.
/// A V=1 access can never hit an entry filled with V=0 or the reverse, and entering or leaving
/// a guest needs no flush. The guest sets are flushed on their own (vsatp, hgatp, vsstatus.SUM
/// or MXR, SFENCE.VMA with V=1, HFENCE.*) and cleared only when they were used, so flushes
/// of a hart that never runs a guest cost what they did before.
///
/// The sets come in a few contexts, each caching one translation root. On bare hardware only
/// context 0 is used and a satp write flushes it. Under a VMM, whose shadow roots change only
/// through the VMM (which flushes what it changes), a root switch selects the context that
/// already caches that root, like a tagged TLB: a guest system call switches between its user
/// and kernel shadows without losing either one's entries.
final class SoftTLB {
    static let entriesPerSet = 256
    /// Per context: U, S, M (V=0), then VU, VS (V=1), each with fetch, load and store sets.
    static let setsPerContext = 15
    static let hostSets = 9
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
    /// Contexts that may hold entries (bit per context), so a flush touches only those; and
    /// contexts whose V=1 sets may hold entries (marked when one is filled).
    private var used: UInt32 = 1
    private var guestUsed: UInt32 = 0

    init(memory: GuestMemory) {
        let count = Self.contexts * Self.setsPerContext * Self.entriesPerSet
        entries = .allocate(capacity: count)
        entries.initialize(repeating: TLBEntry(vpn: Self.invalidVPN, addend: 0), count: count)
        ramAddend = UInt64(UInt(bitPattern: memory.host)) &- memory.base
    }

    deinit { entries.deallocate() }

    @inline(__always)
    func set(_ privilege: Privilege, virtualized: Bool = false, _ access: AccessType) -> UnsafeMutablePointer<TLBEntry> {
        let a: Int
        switch access {
        case .fetch: a = 0
        case .load: a = 1
        case .store: a = 2
        }
        // U, S, M are regimes 0-2; VU and VS are 3 and 4 (VM does not exist).
        let regime = virtualized ? 3 + Int(privilege.rawValue & 1) : privilege.tableIndex
        return entries + (current * Self.setsPerContext + regime * 3 + a) * Self.entriesPerSet
    }

    /// Records that virtual page `vpn` maps to RAM page at physical `pagePA` for this set.
    @inline(__always)
    func fill(_ set: UnsafeMutablePointer<TLBEntry>, vpn: UInt64, pagePA: UInt64) {
        set[Int(truncatingIfNeeded: vpn) & (Self.entriesPerSet - 1)] =
            TLBEntry(vpn: vpn, addend: (pagePA &+ ramAddend) &- (vpn << 12))
        let setIndex = (set - entries) / Self.entriesPerSet
        if setIndex % Self.setsPerContext >= Self.hostSets {
            guestUsed |= 1 << UInt32(setIndex / Self.setsPerContext)
        }
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

    /// Drops the V=1 (VU and VS) entries of every context, keeping the V=0 ones.
    func flushGuest() {
        for c in 0..<Self.contexts where guestUsed & (1 << UInt32(c)) != 0 { clearGuest(context: c) }
        guestUsed = 0
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
            .update(repeating: TLBEntry(vpn: Self.invalidVPN, addend: 0), count: Self.hostSets * Self.entriesPerSet)
        if guestUsed & (1 << UInt32(c)) != 0 { clearGuest(context: c) }
    }

    private func clearGuest(context c: Int) {
        let guestSets = Self.setsPerContext - Self.hostSets
        (entries + (c * Self.setsPerContext + Self.hostSets) * Self.entriesPerSet)
            .update(repeating: TLBEntry(vpn: Self.invalidVPN, addend: 0), count: guestSets * Self.entriesPerSet)
        guestUsed &= ~(1 << UInt32(c))
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
