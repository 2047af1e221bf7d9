import CShims
@_spi(JIT) import RISCV

/// Addresses of the Swift functions translated code calls.
struct HelperAddresses {
    let interpret: UInt64
    let load: UInt64
    let store: UInt64
    let bitManipulation: UInt64
    let vmmCallout: UInt64

    static let shared = HelperAddresses(
        interpret: address(of: interpretHelper),
        load: address(of: loadHelper),
        store: address(of: storeHelper),
        bitManipulation: address(of: bitManipulationHelper),
        vmmCallout: address(of: vmmCalloutHelper))

    private static func address<F>(of function: F) -> UInt64 {
        UInt64(UInt(bitPattern: unsafeBitCast(function, to: UnsafeRawPointer.self)))
    }
}

/// The callouts. Each returns 0 to continue in translated code or 1 to leave it, having then
/// stored the pc to resume at in the context and given back the steps the block did not run.
/// They are `@convention(c)` closures without captures: plain function pointers, no context.

typealias ContextPointer = UnsafeMutablePointer<JITContext>
/// How C sees the context argument (a Swift struct pointer is not C-representable).
typealias RawContext = UnsafeMutableRawPointer

@inline(__always)
private func typed(_ raw: RawContext) -> ContextPointer { raw.assumingMemoryBound(to: JITContext.self) }

@inline(__always)
private func hart(of context: ContextPointer) -> Hart {
    Unmanaged<Hart>.fromOpaque(context.pointee.hart).takeUnretainedValue()
}

/// Entering a helper: flags that inline floating point raised so far become the guest's
/// (before the interpreter reads fflags or its own FP code clears the host's flags). Without
/// `floatReady` no inline floating point runs until translated code returns to Swift (and the
/// trampoline starts the next run with clear flags), so there is nothing to do.
@inline(__always)
private func enterHelper(_ context: ContextPointer, _ hart: Hart) {
    guard context.pointee.floatReady != 0 else { return }
    let flags = trapeze_host_fp_take_flags()
    if flags != 0 { hart.accrueFloatFlags(flags) }
}

/// Leaving a helper: host code it ran (the interpreter's FP, device models) must not leave
/// flags for inline code to be blamed for.
@inline(__always)
private func leaveHelper(_ context: ContextPointer) {
    guard context.pointee.floatReady != 0 else { return }
    trapeze_host_fp_clear_flags()
}

@inline(__always)
private func engine(of context: ContextPointer) -> JITEngine {
    Unmanaged<JITEngine>.fromOpaque(context.pointee.engine).takeUnretainedValue()
}

/// Leaves translated code after an instruction completed, resuming at `pc`.
@inline(__always)
private func leave(_ context: ContextPointer, at pc: UInt64, unexecutedAfter: Int) -> UInt64 {
    context.pointee.pc = pc
    context.pointee.budget &+= Int64(unexecutedAfter)
    return 1
}

/// Leaves translated code after an instruction at `pc` raised `e`: the trap is taken (its
/// handler's pc is where to resume) and the step counts as trapped.
@inline(__always)
private func leave(_ context: ContextPointer, _ hart: Hart, raising e: Exception, at pc: UInt64,
                   unexecutedAfter: Int) -> UInt64 {
    hart.takeException(e, at: pc)
    context.pointee.trapped &+= 1
    return leave(context, at: hart.pc, unexecutedAfter: unexecutedAfter)
}

/// `--virt bt`: a load or store of guest-kernel code faulted. Instead of a trap, the VMM
/// resolves it directly (shadow fill, page-table write, MMIO, or the guest's own fault); then
/// the access is retried once if the pc stayed (a filled shadow), translated code continues if
/// the VMM completed it, and otherwise leaves for where the VMM sent the guest. Nil when the
/// fault is not the VMM's to resolve here (the caller traps).
@inline(__always)
private func resolveByCallout(_ context: ContextPointer, _ hart: Hart, _ e: Exception, pc: UInt64, length: UInt64,
                              unexecutedAfter: Int, retry: () throws(Exception) -> Void) -> UInt64? {
    guard context.pointee.flavor == 1, let monitor = hart.binaryTranslation else { return nil }
    switch e.cause {
    case .loadPageFault, .loadAccessFault, .storePageFault, .storeAccessFault: break
    default: return nil
    }
    engine(of: context).statistics.memoryFaultCallouts &+= 1
    hart.pc = pc
    monitor.resolveMemoryFault(hart, e)
    if hart.pc == pc && !hart.mustLeaveTranslatedCode {
        do throws(Exception) {
            try retry()
        } catch {
            return leave(context, hart, raising: error, at: pc, unexecutedAfter: unexecutedAfter)
        }
        hart.pc = pc &+ length
    }
    if hart.pc == pc &+ length && !hart.mustLeaveTranslatedCode { return 0 }
    return leave(context, at: hart.pc, unexecutedAfter: unexecutedAfter)
}

/// Instructions retired in this slice before the instruction that has `unexecutedAfter`
/// instructions after it in its block (the block claimed all of its steps on entry).
@inline(__always)
private func retiredBefore(_ context: ContextPointer, unexecutedAfter: Int) -> Int {
    let c = context.pointee
    return Int(c.sliceBudget &- c.budget) &- (unexecutedAfter &+ 1) &- Int(c.trapped)
}

/// interpret(context, pc, decoded bits, packed): one instruction by the interpreter.
private let interpretHelper: @convention(c) (RawContext, UInt64, UInt64, UInt64) -> UInt64 = { raw, pc, bits, packed in
    let context = typed(raw)
    let hart = hart(of: context)
    enterHelper(context, hart)
    defer { leaveHelper(context) }
    let arguments = InstructionArguments(packed: packed)
    let unexecutedAfter = arguments.unexecutedAfter, endsBlock = arguments.endsBlock
    let d = DecodedInstruction(bits: bits)
    let engine = engine(of: context)
    engine.statistics.interpreterCallouts &+= 1
    let codeVersion = hart.code.invalidations
    do throws(Exception) {
        let next = try hart.interpret(d, at: pc, retiredBefore: retiredBefore(context, unexecutedAfter: unexecutedAfter))
        // An atomic may have written this block's page; a CSR write may have changed what
        // interrupts are enabled; the pc may differ from the fall-through one (xRET, ecall).
        if endsBlock || hart.mustLeaveTranslatedCode || hart.code.invalidations != codeVersion
            || next != pc &+ UInt64(d.length) {
            return leave(context, at: next, unexecutedAfter: unexecutedAfter)
        }
        return 0
    } catch {
        // Atomics and FP loads/stores of guest-kernel code under --virt bt (an amoswap on a
        // page-table entry is how Linux clears one).
        if !endsBlock, let status = resolveByCallout(context, hart, error, pc: pc, length: UInt64(d.length),
                                                     unexecutedAfter: unexecutedAfter, retry: {
            () throws(Exception) in _ = try hart.interpret(d, at: pc, retiredBefore: retiredBefore(context, unexecutedAfter: unexecutedAfter))
        }) {
            return status == 0 && hart.code.invalidations != codeVersion
                ? leave(context, at: pc &+ UInt64(d.length), unexecutedAfter: unexecutedAfter) : status
        }
        return leave(context, hart, raising: error, at: pc, unexecutedAfter: unexecutedAfter)
    }
}

/// load(context, va, packed, pc): a load the inline TLB probe could not do.
private let loadHelper: @convention(c) (RawContext, UInt64, UInt64, UInt64) -> UInt64 = { raw, va, packed, pc in
    let context = typed(raw)
    let hart = hart(of: context)
    enterHelper(context, hart)
    defer { leaveHelper(context) }
    engine(of: context).statistics.memoryCallouts &+= 1
    let arguments = MemoryArguments(packed: packed)
    let rd = Int(arguments.rd), size = arguments.size, signed = arguments.signed
    let length = UInt64(arguments.length), unexecutedAfter = arguments.unexecutedAfter
    func perform() throws(Exception) {
        var value = try hart.loadValue(va, size: size)
        if signed && size < 8 {
            let shift = UInt64(64 - 8 * size)
            value = UInt64(bitPattern: Int64(bitPattern: value << shift) >> shift)
        }
        hart.registerFile[rd] = value
    }
    do throws(Exception) {
        try perform()
        // MMIO may have raised an interrupt line.
        if hart.mustLeaveTranslatedCode { return leave(context, at: pc &+ length, unexecutedAfter: unexecutedAfter) }
        return 0
    } catch {
        return resolveByCallout(context, hart, error, pc: pc, length: length, unexecutedAfter: unexecutedAfter, retry: perform)
            ?? leave(context, hart, raising: error, at: pc, unexecutedAfter: unexecutedAfter)
    }
}

/// store(context, va, value, packed, pc): a store the inline path could not do (TLB miss,
/// page crossing, MMIO, or a page whose flags ask for the slow path).
private let storeHelper: @convention(c) (RawContext, UInt64, UInt64, UInt64, UInt64) -> UInt64 = { raw, va, value, packed, pc in
    let context = typed(raw)
    let hart = hart(of: context)
    enterHelper(context, hart)
    defer { leaveHelper(context) }
    engine(of: context).statistics.memoryCallouts &+= 1
    let arguments = MemoryArguments(packed: packed)
    let size = arguments.size, length = UInt64(arguments.length), unexecutedAfter = arguments.unexecutedAfter
    let codeVersion = hart.code.invalidations
    func perform() throws(Exception) { try hart.storeValue(va, value, size: size) }
    do throws(Exception) {
        try perform()
        // A store that dropped translated code (maybe this very block's) or raised an interrupt.
        if hart.mustLeaveTranslatedCode || hart.code.invalidations != codeVersion {
            return leave(context, at: pc &+ length, unexecutedAfter: unexecutedAfter)
        }
        return 0
    } catch {
        // A page-table write emulated by the VMM also drops this page's code if it had any.
        if let status = resolveByCallout(context, hart, error, pc: pc, length: length, unexecutedAfter: unexecutedAfter,
                                         retry: perform) {
            return status == 0 && hart.code.invalidations != codeVersion
                ? leave(context, at: pc &+ length, unexecutedAfter: unexecutedAfter) : status
        }
        return leave(context, hart, raising: error, at: pc, unexecutedAfter: unexecutedAfter)
    }
}

/// bitManipulation(op, a, b, imm): the interpreter's Zba/Zbb function (pure, cannot trap).
private let bitManipulationHelper: @convention(c) (UInt64, UInt64, UInt64, UInt64) -> UInt64 = { op, a, b, imm in
    Hart.bitManipulationResult(Opcode(rawValue: UInt8(truncatingIfNeeded: op)) ?? .illegal, a, b, imm)
}

/// vmmCallout(context, pc, decoded bits, packed): `--virt bt`'s replacement for a sensitive
/// guest-kernel instruction. The VMM emulates it where a trap would have taken it. Translated
/// code goes on only after a CSR access that moved the pc to the next instruction and changed
/// nothing it depends on (privilege, translation root, interrupt enables all set the
/// hart's `mustLeaveTranslatedCode`).
private let vmmCalloutHelper: @convention(c) (RawContext, UInt64, UInt64, UInt64) -> UInt64 = { raw, pc, bits, packed in
    let context = typed(raw)
    let hart = hart(of: context)
    enterHelper(context, hart)
    defer { leaveHelper(context) }
    engine(of: context).statistics.sensitiveCallouts &+= 1
    let d = DecodedInstruction(bits: bits)
    let arguments = InstructionArguments(packed: packed)
    let unexecutedAfter = arguments.unexecutedAfter, endsBlock = arguments.endsBlock
    hart.pc = pc
    hart.binaryTranslation?.emulateSensitiveInstruction(hart, d)
    if endsBlock || hart.mustLeaveTranslatedCode || hart.pc != pc &+ UInt64(d.length) {
        return leave(context, at: hart.pc, unexecutedAfter: unexecutedAfter)
    }
    return 0
}
