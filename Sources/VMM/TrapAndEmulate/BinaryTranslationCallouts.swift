import CShims
import RISCV

/// `--virt bt`: the trap-and-emulate VMM, entered by direct calls from translated guest-kernel
/// code instead of traps (VMware's binary translator, against which Adams and Agesen measured
/// hardware assist). Each callout runs the very routine the trap path runs after decoding the
/// trapped instruction, so the two modes differ only in how the VMM is reached, and the
/// statistics count callouts by the same reasons as exits.
extension TrapAndEmulateVMM: BinaryTranslationMonitor {
    public func runsGuestKernel(_ hart: Hart) -> Bool {
        vcpus[hart.id].state.mode == .supervisor
    }

    public func emulateSensitiveInstruction(_ hart: Hart, _ d: DecodedInstruction) {
        let vcpu = vcpus[hart.id]
        guard vcpu.state.mode == .supervisor else {
            // Translated for the kernel but reached in user mode: not possible through the JIT,
            // which picks blocks by mode; take the trap the instruction would have taken.
            handleTrap(hart, cause: d.op == .ecall ? ExceptionCause.environmentCallFromU.rawValue
                                                    : ExceptionCause.illegalInstruction.rawValue,
                       tval: 0, isInterrupt: false)
            return
        }
        let started = trapeze_cycle_counter()
        accounting.inCallout = true
        defer {
            accounting.inCallout = false
            accounting.ticks &+= trapeze_cycle_counter() &- started
        }
        emulateSensitive(d, on: vcpu, tval: 0)
    }

    public func resolveMemoryFault(_ hart: Hart, _ e: Exception) {
        let started = trapeze_cycle_counter()
        accounting.inCallout = true
        defer {
            accounting.inCallout = false
            accounting.ticks &+= trapeze_cycle_counter() &- started
        }
        let access: AccessType
        switch e.cause {
        case .storePageFault, .storeAccessFault: access = .store
        case .loadPageFault, .loadAccessFault: access = .load
        default:
            count(.reflectedException)
            reflect(vcpus[hart.id], cause: e.cause.rawValue, tval: e.tval)
            return
        }
        handleMemoryFault(vcpus[hart.id], access, va: e.tval)
    }
}
