/// What the translator and translated code did, for `--stats` (see docs/jit.md).
public struct JITStatistics: Sendable, Equatable, Codable {
    /// Blocks translated, the guest instructions and bytes they cover, and the host code made.
    public var blocksTranslated: UInt64 = 0
    public var guestInstructionsTranslated: UInt64 = 0
    public var hostCodeBytes: UInt64 = 0
    /// Blocks that loop to themselves and keep their guest registers in host registers
    /// across iterations.
    public var loopBlocks: UInt64 = 0
    /// Lookups Swift made when the dispatcher in translated code missed its jump cache, and
    /// how many found an already translated block (the rest were translated).
    public var lookups: UInt64 = 0
    public var lookupHits: UInt64 = 0
    /// Same-page jumps patched to go straight to their target block.
    public var chainedJumps: UInt64 = 0
    /// Pages whose translated blocks were dropped because their code was written, and whole
    /// cache flushes (the code buffer filled up).
    public var pageInvalidations: UInt64 = 0
    public var cacheFlushes: UInt64 = 0
    /// Calls from translated code to the interpreter for one instruction (F, D, A, CSRs,
    /// privileged instructions), and to the slow memory path (TLB miss, MMIO, code pages).
    public var interpreterCallouts: UInt64 = 0
    public var memoryCallouts: UInt64 = 0
    /// `--virt bt`: sensitive guest-kernel instructions translated into VMM calls, and faulting
    /// guest-kernel loads and stores the VMM resolved without a trap. The VMM's statistics
    /// break these down by reason (`callouts`).
    public var sensitiveCallouts: UInt64 = 0
    public var memoryFaultCallouts: UInt64 = 0
    /// Instructions interpreted outside translated code (32-bit ones straddling a page end).
    public var interpretedSteps: UInt64 = 0
    /// Host time spent translating, in nanoseconds.
    public var translationNanoseconds: UInt64 = 0

    public init() {}
}
