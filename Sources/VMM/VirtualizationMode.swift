/// How a VM's guest kernel is run (`--virt`).
public enum VirtualizationMode: String, CaseIterable, Sendable {
    /// No VMM: the kernel runs in S-mode on the hart, the built-in SBI or firmware below it.
    case bare
    /// Trap-and-emulate: the kernel runs in U-mode; every sensitive instruction traps to the VMM,
    /// which emulates it against the virtual CPU's supervisor state.
    case trap
    /// Binary translation: the kernel runs in U-mode as with `trap`, but the JIT translates its
    /// code with every sensitive instruction replaced by a direct call into the VMM.
    case bt
    /// Hardware assist: the hart's H extension runs the kernel in VS-mode with its own VS CSRs;
    /// only hypercalls, device accesses and host interrupts exit.
    case hw
}

/// How guest memory is virtualized (`--mmu`).
public enum MemoryVirtualization: String, CaseIterable, Sendable {
    /// Shadow page tables: VA -> MA tables built by the VMM from the guest's VA -> PA tables.
    case shadow
    /// Nested paging: the hart walks the guest's tables, then the VMM's G-stage tables (hgatp).
    case nested
}
