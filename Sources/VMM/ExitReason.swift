/// Why the guest left guest mode and entered the VMM. Each exit is counted under one reason.
public enum ExitReason: String, CaseIterable, Sendable, Codable {
    /// A CSR instruction on a supervisor CSR, emulated against the virtual CSRs.
    case csrAccess = "csr access"
    case sret
    case wfi
    case sfenceVMA = "sfence.vma"
    /// An `ecall` from the guest kernel: an SBI call, answered by the VMM.
    case hypercall
    /// A timer, software or external interrupt pending for the guest.
    case interrupt
    /// A page fault the guest never sees: the shadow lacked a mapping the guest's tables allow.
    case shadowFault = "shadow fault"
    /// A store to a write-protected guest page-table page, emulated, shadows updated.
    case pageTableWrite = "page-table write"
    /// A load or store to a device, emulated through the bus.
    case mmio
    /// A page fault the guest's own tables cause, reflected to the guest kernel.
    case guestPageFault = "guest page fault"
    /// A system call from a guest process (`ecall` from virtual U-mode), reflected.
    case guestSyscall = "guest syscall"
    /// Any other exception, reflected to the guest kernel (illegal instruction, breakpoint, ...).
    case reflectedException = "reflected exception"
    /// Hardware assist: an instruction the H extension makes trap from VS-mode (a virtual
    /// instruction exception), emulated.
    case virtualInstruction = "virtual instruction"
}

extension ExitReason {
    /// Position in `allCases`, for counting in a fixed array on the exit path.
    var index: Int {
        switch self {
        case .csrAccess: return 0
        case .sret: return 1
        case .wfi: return 2
        case .sfenceVMA: return 3
        case .hypercall: return 4
        case .interrupt: return 5
        case .shadowFault: return 6
        case .pageTableWrite: return 7
        case .mmio: return 8
        case .guestPageFault: return 9
        case .guestSyscall: return 10
        case .reflectedException: return 11
        case .virtualInstruction: return 12
        }
    }
}
