import RISCV

/// The trap causes of a failed access of each kind, as a VMM reflects them to its guest.
extension AccessType {
    var pageFaultCause: UInt64 {
        switch self {
        case .fetch: return ExceptionCause.instructionPageFault.rawValue
        case .load: return ExceptionCause.loadPageFault.rawValue
        case .store: return ExceptionCause.storePageFault.rawValue
        }
    }

    var accessFaultCause: UInt64 {
        switch self {
        case .fetch: return ExceptionCause.instructionAccessFault.rawValue
        case .load: return ExceptionCause.loadAccessFault.rawValue
        case .store: return ExceptionCause.storeAccessFault.rawValue
        }
    }
}
