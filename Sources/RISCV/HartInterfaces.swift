/// The machine timer the hart reads for the `time` CSR (the CLINT's mtime on the virt board).
public protocol HartTimer: AnyObject {
    var mtime: UInt64 { get }
}

/// Answers `ecall` from S-mode when no M-mode firmware runs: the built-in SBI, which the VMM
/// turns into its hypercall layer. Returns false to let the ecall trap normally.
public protocol SupervisorCallHandler: AnyObject {
    func handleSupervisorCall(from hart: Hart) -> Bool
}

/// What a hart is doing, as the run loop sees it.
public enum HartRunState: Sendable, Equatable {
    /// Executing instructions.
    case running
    /// In WFI: skipped until an interrupt is pending and enabled in mie.
    case waitingForInterrupt
    /// Not started (SBI HSM STOPPED): skipped until another hart starts it.
    case stopped
}

/// Takes every trap of a deprivileged guest instead of the hart's own trap vectors: the VMM of
/// `--virt trap`, which runs the guest kernel in U-mode and emulates what traps. Called at the
/// faulting instruction with the hart's pc on it; the handler resumes the hart by setting its
/// pc, privilege and translation root.
///
/// With the hypervisor extension, a trap from V=1 that hedeleg/hideleg delegate to VS-mode is
/// taken by the hart itself; any other trap comes here with V, the privilege and the pc still
/// the guest's, after htval, htinst and hstatus.GVA were written (see Hart+Hypervisor.swift).
public protocol HartTrapHandler: AnyObject {
    func handleTrap(_ hart: Hart, cause: UInt64, tval: UInt64, isInterrupt: Bool)
}

/// Runs a hart's instructions in place of the pre-decoded interpreter: the JIT. The hart keeps
/// all architectural state; an engine only decides how instructions execute, and must leave
/// exactly the state the interpreter would (the interpreter is the reference).
public protocol ExecutionEngine: AnyObject {
    /// Runs up to about `budget` instructions, with the contract of `Hart.run(budget:)`.
    func run(_ hart: Hart, budget: Int) -> Int
}

/// The VMM of binary translation (`--virt bt`). While the guest kernel runs, the JIT translates
/// its sensitive instructions into direct calls to this monitor instead of instructions that
/// trap, and hands it the kernel's faulting loads and stores (shadow fills, page-table writes,
/// MMIO) without leaving translated code. Guest user code is translated as it is.
public protocol BinaryTranslationMonitor: AnyObject {
    /// True while `hart` runs the guest kernel (its code is translated with callouts).
    func runsGuestKernel(_ hart: Hart) -> Bool
    /// Performs the sensitive instruction `d` at `hart.pc` exactly as the trap path would after
    /// its trap, leaving the hart where the guest continues.
    func emulateSensitiveInstruction(_ hart: Hart, _ d: DecodedInstruction)
    /// Resolves a load or store of the guest kernel at `hart.pc` that faulted at `va`: the
    /// shadow is filled (the pc stays: retry), the access is emulated (the pc moves past it),
    /// or the guest's own fault is delivered (the pc is its trap vector).
    func resolveMemoryFault(_ hart: Hart, _ e: Exception)
}
