import Devices

/// Operations that firmware-level code (the built-in SBI, the VMM) performs on a hart from
/// outside its instruction stream.
extension Hart {
    public func raiseSupervisorSoftwareInterrupt() {
        mipSoftware |= InterruptLines.supervisorSoftware
        if runState == .waitingForInterrupt && wakeupPending { runState = .running }
    }

    public func clearSupervisorSoftwareInterrupt() {
        mipSoftware &= ~InterruptLines.supervisorSoftware
    }

    /// Enters the WFI wait state at once (SBI retentive suspend).
    public func waitForInterrupt() {
        if !wakeupPending { runState = .waitingForInterrupt }
        sliceBreak = true
    }

    /// Reads a doubleword at an S-mode virtual address as a load would, without raising a trap.
    public func readVirtual64(_ va: UInt64) -> UInt64? {
        do throws(Exception) {
            let saved = dataPrivilege
            defer { dataPrivilege = saved }
            dataPrivilege = .supervisor
            let pa = try translate(va, .load)
            return memory.load(pa)
        } catch {
            return nil
        }
    }
}

extension Hart {
    /// A one-line summary of trap state, for debugging the run loop.
    public var debugSummary: String {
        "mstatus=\(String(mstatus, radix: 16)) mie=\(String(mie, radix: 16)) mip=\(String(mip, radix: 16)) mideleg=\(String(mideleg, radix: 16)) mtvec=\(String(mtvec, radix: 16)) stimecmp=\(supervisorTimerCompare)"
    }
}

extension Hart {
    /// Soft-TLB flushes so far, for statistics.
    public var tlbFlushCount: UInt64 { tlb.flushes }
}
