/// The shared code every translated block runs between: the entry trampoline Swift calls, the
/// dispatcher that finds the next block without leaving translated code, and the exits back
/// to Swift. Emitted first into a fresh (or flushed) code buffer.
///
/// Register convention inside translated code (all callee-saved, so they survive helper calls):
///
///     rbx  guest register file        r13  load TLB set
///     rbp  JITContext                 r14  store TLB set
///     r12  guest pc of the block      r15  the slice's remaining budget
///
/// The budget lives in a register so that a hot loop's per-iteration budget update is not a
/// store-to-load chain through memory; it is written to `JITContext.budget` before every
/// helper call (helpers read it, and give back unexecuted steps there when they leave) and
/// when translated code returns for any other reason. Every other general-purpose register is
/// scratch. The trampoline leaves rsp 16-byte
/// aligned, and blocks are entered by jumps (never calls), so helper calls need no adjustment.
struct RuntimeStubs {
    /// `enter(context, pc)`: runs translated code from `pc` until it needs Swift. Returns 0
    /// when the dispatcher found no block for the pc now in the context (translate it), 1
    /// otherwise (a helper asked to stop, or the budget ran out).
    let enter: TranslatedCode
    /// Jump here with r12 = guest pc: looks up the fetch TLB and the jump cache.
    let dispatch: UInt64
    /// As `dispatch`, with rax = address of the rel32 field of a jump that wants chaining.
    let dispatchChained: UInt64
    /// Leave with pc = r12 (block entry found the budget spent).
    let exitAtPC: UInt64
    /// Leave with the pc and budget a helper already stored.
    let exitHandled: UInt64

    /// Offsets into `JITContext`.
    static let pc = JITContext.offset(\.pc)
    static let budget = JITContext.offset(\.budget)
    static let chainSite = JITContext.offset(\.chainSite)
    static let jumpCache = JITContext.offset(\.jumpCache)
    static let registers = JITContext.offset(\.registers)
    static let fetchSet = JITContext.offset(\.fetchSet)
    static let loadSet = JITContext.offset(\.loadSet)
    static let storeSet = JITContext.offset(\.storeSet)
    static let pageFlags = JITContext.offset(\.pageFlags)
    static let floatRegisters = JITContext.offset(\.floatRegisters)
    static let floatReady = JITContext.offset(\.floatReady)
    static let hostFloatControl = JITContext.offset(\.hostFloatControl)
    static let ramHost = JITContext.offset(\.ramHost)

    static func emit(into memory: ExecutableMemory) throws -> RuntimeStubs {
        var a = X86Assembler(reservingCapacity: 512)
        let saved: [GPR] = [.rbx, .rbp, .r12, .r13, .r14, .r15]
        let frame = a.enterHostFrame(saving: saved)
        a.mov(.rbp, .rdi)
        a.mov(.r12, .rsi)
        a.mov(.rbx, .at(.rbp, registers))
        a.mov(.r13, .at(.rbp, loadSet))
        a.mov(.r14, .at(.rbp, storeSet))
        a.mov(.r15, .at(.rbp, budget))
        a.mov(.at(.rbp, chainSite), imm: 0)
        // A clean FPU state: inline floating point accrues its flags in MXCSR from here.
        a.ldmxcsr(.at(.rbp, hostFloatControl))
        let dispatch = a.makeLabel()
        a.jmp(dispatch, .near)

        let exitMiss = a.makeLabel(), exitAtPC = a.makeLabel(), exitHandled = a.makeLabel(), leave = a.makeLabel()
        a.bind(exitMiss)
        a.mov(.at(.rbp, pc), .r12)
        a.mov(.at(.rbp, budget), .r15)
        a.xor(.rax, .rax, .dword)
        a.jmp(leave)
        a.bind(exitAtPC)
        a.mov(.at(.rbp, pc), .r12)
        a.mov(.at(.rbp, budget), .r15)
        a.bind(exitHandled)   // a helper has stored the pc and the budget
        a.mov(.rax, imm: 1)
        a.bind(leave)
        a.leaveHostFrame(frame)

        a.align(16)
        a.bind(dispatch)
        emitLookup(&a, miss: exitMiss, clearChainSiteOnHit: false)

        a.align(16)
        let dispatchChained = a.makeLabel()
        a.bind(dispatchChained)
        a.mov(.at(.rbp, chainSite), .rax)
        emitLookup(&a, miss: exitMiss, clearChainSiteOnHit: true)

        let code = a.finish()
        let base = try memory.install(code)
        try memory.seal()
        func address(_ l: Label) -> UInt64 { UInt64(UInt(bitPattern: base)) + UInt64(a.offset(of: l)!) }
        return RuntimeStubs(enter: hostFunction(at: base, as: TranslatedCode.self),
                            dispatch: address(dispatch), dispatchChained: address(dispatchChained),
                            exitAtPC: address(exitAtPC), exitHandled: address(exitHandled))
    }

    /// r12 = guest pc. Fetch TLB hit (the page may be fetched from now), then jump-cache hit
    /// (a block starts at that host address): jump to the block. Otherwise leave to Swift.
    private static func emitLookup(_ a: inout X86Assembler, miss: Label, clearChainSiteOnHit: Bool) {
        a.mov(.rax, .r12)
        a.shr(.rax, by: 12)
        a.movzx(.rcx, .rax, from: .byte)          // set index: vpn & 255
        a.shl(.rcx, by: 4, .dword)
        a.mov(.rdx, .at(.rbp, fetchSet))
        a.cmp(.rax, .at(.rdx, index: .rcx))
        a.j(.ne, miss, .near)
        a.mov(.rax, .at(.rdx, index: .rcx, 8))
        a.add(.rax, .r12)                         // host address of the instruction
        a.mov(.rcx, .rax)
        a.shr(.rcx, by: 1)
        a.and(.rcx, imm: Int32(JumpCache.entries - 1), .dword)
        a.shl(.rcx, by: 4, .dword)
        a.add(.rcx, .at(.rbp, jumpCache))
        a.cmp(.rax, .at(.rcx))
        a.j(.ne, miss, .near)
        if clearChainSiteOnHit { a.mov(.at(.rbp, chainSite), imm: 0) }
        a.jmp(.at(.rcx, 8))
    }
}
