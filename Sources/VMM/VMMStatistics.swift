/// What the VMM did, counted exactly where it happens. See docs/virtualization.md for what each
/// counter means and how to read them side by side across `--virt` modes.
public struct VMMStatistics: Sendable, Codable, Equatable {
    /// The technique: "trap+shadow", "bt+shadow", "hw+shadow" or "hw+nested".
    public var technique = ""
    /// Exits by reason.
    public var exits: [String: UInt64] = [:]
    /// Binary translation (`--virt bt`): the same reasons, where translated guest-kernel code
    /// called the VMM directly instead of trapping.
    public var callouts: [String: UInt64] = [:]
    /// Emulated CSR accesses by CSR name (reads and writes together).
    public var emulatedCSRs: [String: UInt64] = [:]
    /// Shadow roots built from scratch (a guest root and mode seen for the first time).
    public var shadowBuilds: UInt64 = 0
    /// Root switches answered from the shadow cache.
    public var shadowCacheHits: UInt64 = 0
    /// Shadow leaf entries filled on demand.
    public var shadowFills: UInt64 = 0
    /// Shadow entries dropped because the guest wrote the page-table entry they came from.
    public var shadowInvalidations: UInt64 = 0
    /// Whole-cache resets (shadow page pool exhausted, or MXR changed).
    public var shadowResets: UInt64 = 0
    /// Leaf page tables left writable after a write (until the guest's next fence), and the
    /// entries found changed when they were brought back in sync.
    public var unsyncedTables: UInt64 = 0
    public var resyncedEntries: UInt64 = 0
    /// Directory tables written so often without being walked that they stopped being traced.
    public var unshadowedTables: UInt64 = 0
    /// Guest page-table pages currently write-protected.
    public var protectedPageTables: UInt64 = 0
    /// Guest page-table walks done by the VMM and the memory references they made.
    public var guestWalks: UInt64 = 0
    public var guestWalkReferences: UInt64 = 0
    /// Host time spent handling exits, in seconds.
    public var secondsInVMM: Double = 0

    public init() {}

    public var totalExits: UInt64 { exits.values.reduce(0, +) }
    public var totalCallouts: UInt64 { callouts.values.reduce(0, +) }
}
