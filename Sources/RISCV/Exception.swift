/// A synchronous exception raised while executing an instruction (privileged spec, table 3.6;
/// with the hypervisor extension, 8.6.1). Thrown (typed) out of memory accesses and
/// instruction bodies; the hart turns it into a trap with the faulting instruction's pc, so
/// guest state stays precise.
public struct Exception: Error, Equatable, Sendable {
    public var cause: ExceptionCause
    /// The access was made as though V=1 by HLV, HLVX or HSV from V=0, so `tval` is a guest
    /// virtual address although the hart is not virtualized (hstatus.GVA, privileged spec 8.2.1).
    public var guestVirtualAccess = false
    /// What the trap writes to htinst or mtinst (privileged spec 8.6.3): a pseudoinstruction for
    /// a guest-page fault of an implicit VS-stage page-table access, otherwise 0 (the hart fills
    /// in the transformed instruction of explicit loads and stores when it takes the trap).
    public var tinst: UInt32 = 0
    public var tval: UInt64
    /// What the trap writes to htval or mtval2: the faulting guest-physical address shifted right
    /// by 2 for a guest-page fault, otherwise 0 (privileged spec 8.2.8, 8.4.4).
    public var tval2: UInt64 = 0

    @inline(__always)
    public init(_ cause: ExceptionCause, tval: UInt64 = 0) {
        self.cause = cause
        self.tval = tval
    }

    /// A guest-page fault at guest-physical address `gpa` (privileged spec 8.5.1).
    @inline(__always)
    init(_ cause: ExceptionCause, tval: UInt64, gpa: UInt64, tinst: UInt32) {
        self.cause = cause
        self.tval = tval
        self.tval2 = gpa >> 2
        self.tinst = tinst
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
    /// From U-mode or VU-mode.
    case environmentCallFromU = 8
    /// From HS-mode (or S-mode).
    case environmentCallFromS = 9
    case environmentCallFromVS = 10
    case environmentCallFromM = 11
    case instructionPageFault = 12
    case loadPageFault = 13
    case storePageFault = 15
    case instructionGuestPageFault = 20
    case loadGuestPageFault = 21
    case virtualInstruction = 22
    case storeGuestPageFault = 23

    /// Causes whose tval is a memory address, written as a guest virtual address when the
    /// faulting access was translated as though V=1 (hstatus.GVA, mstatus.GVA).
    var tvalIsAddress: Bool {
        switch self {
        case .instructionAddressMisaligned, .instructionAccessFault, .breakpoint, .loadAddressMisaligned,
             .loadAccessFault, .storeAddressMisaligned, .storeAccessFault, .instructionPageFault,
             .loadPageFault, .storePageFault, .instructionGuestPageFault, .loadGuestPageFault,
             .storeGuestPageFault:
            return true
        default:
            return false
        }
    }

    /// Causes raised by instruction fetch (and the breakpoint, whose tval is the pc): their
    /// address was translated in the hart's own mode, not the effective data mode of MPRV.
    var isFetchSide: Bool {
        switch self {
        case .instructionAddressMisaligned, .instructionAccessFault, .breakpoint, .instructionPageFault,
             .instructionGuestPageFault:
            return true
        default:
            return false
        }
    }
}

/// Interrupt causes (mcause with the interrupt bit set), privileged spec table 3.6 and 8.6.1.
public enum InterruptCause: UInt64, Sendable {
    case supervisorSoftware = 1
    case virtualSupervisorSoftware = 2
    case machineSoftware = 3
    case supervisorTimer = 5
    case virtualSupervisorTimer = 6
    case machineTimer = 7
    case supervisorExternal = 9
    case virtualSupervisorExternal = 10
    case machineExternal = 11
    case supervisorGuestExternal = 12
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

    var guestPageFault: ExceptionCause {
        switch self {
        case .fetch: return .instructionGuestPageFault
        case .load: return .loadGuestPageFault
        case .store: return .storeGuestPageFault
        }
    }
}
