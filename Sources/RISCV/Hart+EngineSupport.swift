/// What an execution engine (the JIT) needs from the hart beyond its public API: the register
/// file and soft-TLB sets that translated code reads and writes directly, and the interpreter's
/// own routines for everything translated code leaves to it (slow memory paths, system
/// instructions, traps). Kept behind `@_spi(JIT)` so that only the engine sees these internals.
@_spi(JIT)
extension Hart {
    /// x0...x31 and the x0-destination scratch slot 32, as 64-bit words.
    public var registerFile: UnsafeMutablePointer<UInt64> { x }

    /// The soft-TLB sets in use: fetch (current privilege), load and store (effective data
    /// privilege). Each is `tlbEntriesPerSet` entries of {vpn, addend} (16 bytes; host =
    /// va + addend). They change only through `updateDataPrivilege`, which sets `sliceBreak`.
    public var tlbSets: (fetch: UnsafeMutableRawPointer, load: UnsafeMutableRawPointer, store: UnsafeMutableRawPointer) {
        (UnsafeMutableRawPointer(fetchSet), UnsafeMutableRawPointer(loadSet), UnsafeMutableRawPointer(storeSet))
    }
    public static var tlbEntriesPerSet: Int { SoftTLB.entriesPerSet }
    public static var tlbEntryStride: Int { MemoryLayout<TLBEntry>.stride }

    /// f0...f31 as raw bits (single precision NaN-boxed).
    public var floatRegisterFile: UnsafeMutablePointer<UInt64> { f }

    /// True when translated code may do floating point inline: the FPU is on and already Dirty
    /// (so a write needs no status update), and frm is round-to-nearest-even (the host's mode).
    /// Only traps, xRET and CSR writes change this, and they all leave translated code.
    public var floatingPointReadyForInlineUse: Bool {
        mstatus & Mstatus.fs == Mstatus.fsDirty && frm == 0
            && (!virtualized || hyp.vsstatus & Mstatus.fs == Mstatus.fsDirty)
    }

    /// Adds exception flags raised by floating point done inline (fflags bits).
    public func accrueFloatFlags(_ flags: UInt32) { accrue(flags) }

    /// Host address of guest RAM's first byte.
    public var ramHostBase: UInt64 { ramHost }

    /// Set when the engine must return to its run loop before the next instruction: interrupts
    /// must be re-checked, the privilege or translation changed, or the slice must end.
    public var mustLeaveTranslatedCode: Bool {
        get { sliceBreak }
        set { sliceBreak = newValue }
    }
    public var mustEndSlice: Bool { yieldRequested }

    /// Starts a slice as `run(budget:)` does; false when the hart is not running.
    public func beginSlice() -> Bool {
        guard runState == .running else { return false }
        yieldRequested = false
        seenLineGeneration = lines.generation
        return true
    }

    /// Ends a slice: `executed` steps of which `trapped` raised an exception (and so did not retire).
    public func endSlice(executed: Int, trapped: Int) {
        instret &+= UInt64(executed &- trapped)
        retiredInSlice = 0
    }

    /// The guest-physical RAM page holding the instruction at `pc`, through the fetch TLB.
    public func fetchPagePhysical(_ pc: UInt64) throws(Exception) -> UInt64 { try fetchPage(pc) }

    /// The decoded instruction at `pc` (decoding and caching it), as the interpreter fetches it.
    public func fetchDecoded(_ pc: UInt64) throws(Exception) -> DecodedInstruction { try fetch(pc) }

    /// Executes `d` at `pc` exactly as the interpreter does and returns the next pc.
    /// `retiredBefore` is how many instructions of this slice retired before it (for the counters).
    public func interpret(_ d: DecodedInstruction, at pc: UInt64, retiredBefore: Int) throws(Exception) -> UInt64 {
        self.pc = pc
        return try execute(d, pc, x, retiredBefore: retiredBefore)
    }

    /// Interprets the one instruction at `pc` (fetch included). Returns false if it trapped.
    public func interpretStep(retiredBefore: Int) -> Bool {
        do throws(Exception) {
            let d = try fetch(pc)
            pc = try execute(d, pc, x, retiredBefore: retiredBefore)
            return true
        } catch {
            take(error)
            return false
        }
    }

    /// Takes the trap for an exception raised at `pc` (the faulting instruction).
    public func takeException(_ e: Exception, at pc: UInt64) {
        self.pc = pc
        take(e)
    }

    /// A load of `size` bytes (1, 2, 4, 8) through the interpreter's path: soft TLB, walk, MMIO.
    public func loadValue(_ va: UInt64, size: Int) throws(Exception) -> UInt64 {
        switch size {
        case 1: return UInt64(try load(va, UInt8.self))
        case 2: return UInt64(try load(va, UInt16.self))
        case 4: return UInt64(try load(va, UInt32.self))
        default: return try load(va, UInt64.self)
        }
    }

    /// A store through the interpreter's path, including the decoded-code and watch checks.
    public func storeValue(_ va: UInt64, _ value: UInt64, size: Int) throws(Exception) {
        switch size {
        case 1: try store(va, UInt8(truncatingIfNeeded: value))
        case 2: try store(va, UInt16(truncatingIfNeeded: value))
        case 4: try store(va, UInt32(truncatingIfNeeded: value))
        default: try store(va, value)
        }
    }

    /// The M-extension result for `op` (mul...remuw), as the interpreter computes it.
    public static func multiplyDivideResult(_ op: Opcode, _ a: UInt64, _ b: UInt64) -> UInt64 {
        multiplyDivide(op, a, b)
    }

    /// The Zba/Zbb result for `op`, as the interpreter computes it.
    public static func bitManipulationResult(_ op: Opcode, _ a: UInt64, _ b: UInt64, _ imm: UInt64) -> UInt64 {
        bitManipulation(op, a, b, imm)
    }
}

@_spi(JIT)
extension DecodedInstruction {
    /// The 8 bytes of a decoded instruction as one word, so translated code can hand it to a
    /// helper in a register; `init(bits:)` restores it.
    public var bits: UInt64 { unsafeBitCast(self, to: UInt64.self) }
    public init(bits: UInt64) { self = unsafeBitCast(bits, to: DecodedInstruction.self) }
}
