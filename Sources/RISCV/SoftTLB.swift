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
final class SoftTLB {
    static let entriesPerSet = 256
    static let invalidVPN: UInt64 = .max

    let entries: UnsafeMutablePointer<TLBEntry>
    /// Host address of RAM's first byte minus its guest-physical base (for filling entries).
    let ramAddend: UInt64
    public private(set) var flushes: UInt64 = 0

    init(memory: GuestMemory) {
        let count = 3 * 3 * Self.entriesPerSet
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
        return entries + (privilege.tableIndex * 3 + a) * Self.entriesPerSet
    }

    /// Records that virtual page `vpn` maps to RAM page at physical `pagePA` for this set.
    @inline(__always)
    func fill(_ set: UnsafeMutablePointer<TLBEntry>, vpn: UInt64, pagePA: UInt64) {
        set[Int(truncatingIfNeeded: vpn) & (Self.entriesPerSet - 1)] =
            TLBEntry(vpn: vpn, addend: (pagePA &+ ramAddend) &- (vpn << 12))
    }

    func flushAll() {
        entries.update(repeating: TLBEntry(vpn: Self.invalidVPN, addend: 0), count: 9 * Self.entriesPerSet)
        flushes &+= 1
    }

    /// Drops entries of the given privilege (when SUM or MXR change what that privilege may touch).
    func flush(_ privilege: Privilege) {
        (entries + privilege.tableIndex * 3 * Self.entriesPerSet)
            .update(repeating: TLBEntry(vpn: Self.invalidVPN, addend: 0), count: 3 * Self.entriesPerSet)
        flushes &+= 1
    }
}
