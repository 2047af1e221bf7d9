/// A small cache of G-stage translations (guest-physical page to host-physical page), like the
/// paging-structure caches that make nested paging affordable in hardware: a VS-stage walk
/// finds each of its PTEs through the G-stage, so without it a 4-level guest walk over a
/// 3-level G-stage reads up to 19 PTEs. Only leaves with A and D already set are cached, so a
/// hit never has to update the G-stage; permissions are checked again on every hit. Flushed
/// with the V=1 soft-TLB sets (hgatp writes, HFENCE, and everything else that drops them).
final class GStageTLB {
    static let entries = 64
    /// Per entry: the guest-physical page number plus one (0 = empty), and the host-physical
    /// page address with the leaf's permission bits in its low 12 bits.
    private let tags: UnsafeMutablePointer<UInt64>
    private let values: UnsafeMutablePointer<UInt64>

    init() {
        tags = .allocate(capacity: Self.entries)
        tags.initialize(repeating: 0, count: Self.entries)
        values = .allocate(capacity: Self.entries)
        values.initialize(repeating: 0, count: Self.entries)
    }

    deinit {
        tags.deallocate()
        values.deallocate()
    }

    /// The cached leaf for `gpa`: host page address | PTE flag bits, or nil.
    @inline(__always)
    func lookup(_ gpa: UInt64) -> UInt64? {
        let gpn = gpa >> 12
        let slot = Int(truncatingIfNeeded: gpn) & (Self.entries - 1)
        return tags[slot] == gpn &+ 1 ? values[slot] : nil
    }

    @inline(__always)
    func fill(_ gpa: UInt64, hostPage: UInt64, flags: UInt64) {
        let gpn = gpa >> 12
        let slot = Int(truncatingIfNeeded: gpn) & (Self.entries - 1)
        tags[slot] = gpn &+ 1
        values[slot] = hostPage | (flags & 0xff)
    }

    func flush() { tags.update(repeating: 0, count: Self.entries) }
}
