/// A synchronous exception raised while executing an instruction (privileged spec, table 3.6).
/// Thrown (typed) out of memory accesses and instruction bodies; the hart turns it into a trap
/// with the faulting instruction's pc, so guest state stays precise.
public struct Exception: Error, Equatable, Sendable {
    public var cause: ExceptionCause
    public var tval: UInt64

    @inline(__always)
    public init(_ cause: ExceptionCause, tval: UInt64 = 0) {
        self.cause = cause
        self.tval = tval
    }
}

public enum ExceptionCause: UInt64, Sendable {
    case instructionAddressMisaligned = 0
    case instructionAccessFault = 1
    case illegalInstruction = 2
    case breakpoint = 3
    case loadAddressMisaligned = 4
    case loadAccessFault = 5
    case storeAddressMisaligned = 6
    case storeAccessFault = 7
    case environmentCallFromU = 8
    case environmentCallFromS = 9
    case environmentCallFromM = 11
    case instructionPageFault = 12
    case loadPageFault = 13
    case storePageFault = 15
}

/// Interrupt causes (mcause with the interrupt bit set), privileged spec table 3.6.
public enum InterruptCause: UInt64, Sendable {
    case supervisorSoftware = 1
    case machineSoftware = 3
    case supervisorTimer = 5
    case machineTimer = 7
    case supervisorExternal = 9
    case machineExternal = 11
}

/// The kind of memory access, which selects the fault cause and the permission checked.
public enum AccessType: Sendable {
    case fetch, load, store

    var pageFault: ExceptionCause {
        switch self {
        case .fetch: return .instructionPageFault
        case .load: return .loadPageFault
        case .store: return .storePageFault
        }
    }

    var accessFault: ExceptionCause {
        switch self {
        case .fetch: return .instructionAccessFault
        case .load: return .loadAccessFault
        case .store: return .storeAccessFault
        }
    }
}
