/// Per-hart state that translated code reaches through rbp. Swift fills it before entering
/// translated code and reads it back after; helpers called from translated code update it.
///
/// Field offsets come from `MemoryLayout.offset(of:)`, so the generated code and Swift always
/// agree on the layout.
struct JITContext {
    /// The guest pc where translated code stopped (exit stubs and helpers write it).
    var pc: UInt64 = 0
    /// Steps (instructions, including ones that trapped) this slice may still run. A block
    /// subtracts its length on entry and gives back what it did not run when it leaves early.
    var budget: Int64 = 0
    /// The budget the slice started with, so helpers can count what retired before them.
    var sliceBudget: Int64 = 0
    /// Steps of this slice that raised an exception (they count as steps, not as retired).
    var trapped: Int64 = 0
    /// Address of a jump's rel32 field that asked to be chained to the block at `pc`, or 0.
    var chainSite: UInt64 = 0
    /// The hart's jump cache: `JumpCache.entries` pairs of (host code address, block entry).
    var jumpCache: UnsafeMutableRawPointer
    /// The hart's jump caches of each flavor (JITEngine.flavors): `jumpCache` is one of them.
    var plainJumpCache: UnsafeMutableRawPointer
    var kernelJumpCache: UnsafeMutableRawPointer
    /// The guest register file x0...x31 (+ the x0-destination scratch slot).
    var registers: UnsafeMutableRawPointer
    /// The hart's soft-TLB sets for fetch, load and store.
    var fetchSet: UnsafeMutableRawPointer
    var loadSet: UnsafeMutableRawPointer
    var storeSet: UnsafeMutableRawPointer
    /// The guest FP register file f0...f31.
    var floatRegisters: UnsafeMutableRawPointer
    /// Nonzero when floating point may run inline (`Hart.floatingPointReadyForInlineUse`).
    var floatReady: UInt64 = 0
    /// MXCSR as translated code runs it: round to nearest, all exceptions masked, flags clear.
    var hostFloatControl: UInt32 = 0x1f80
    /// Per RAM page: nonzero when a store there must take the slow path (code, watch).
    var pageFlags: UnsafeMutableRawPointer
    /// Host address of guest RAM byte 0.
    var ramHost: UInt64
    /// 1 while the hart runs guest-kernel code under `--virt bt` (blocks with VMM callouts).
    var flavor: Int = 0
    /// The hart and the engine, unretained (both outlive every run of translated code).
    var hart: UnsafeMutableRawPointer
    var engine: UnsafeMutableRawPointer

    static func offset(_ field: PartialKeyPath<JITContext>) -> Int32 {
        Int32(MemoryLayout<JITContext>.offset(of: field)!)
    }
}

/// Per hart: the last blocks entered, by the host address of their first guest instruction
/// (so by guest-physical address: the fetch soft TLB, checked first, decides whether the
/// current privilege and page table may fetch there). Direct-mapped; translated code probes it
/// on every indirect jump and every jump that leaves the page.
enum JumpCache {
    static let entries = 4096
    static let entryBytes = 16

    @inline(__always)
    static func index(host: UInt64) -> Int { Int(truncatingIfNeeded: host >> 1) & (entries - 1) }
}
