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
            let saved = (dataPrivilege, dataVirtualized)
            defer { (dataPrivilege, dataVirtualized) = saved }
            dataPrivilege = .supervisor
            dataVirtualized = false
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

/// What address translation cost a hart: counted on the slow path only (a soft-TLB hit costs
/// nothing and is not counted).
public struct TranslationCounters: Sendable, Codable, Equatable {
    /// Translations the soft TLB could not answer (RAM pages it does not hold, every MMIO access).
    public var misses: UInt64 = 0
    /// Single-stage page walks (satp) and the PTEs they read.
    public var walks: UInt64 = 0
    public var walkReferences: UInt64 = 0
    /// Two-stage walks (V=1: VS-stage through vsatp, each of its PTEs and the result through the
    /// G-stage) and the PTEs they read in both stages.
    public var twoStageWalks: UInt64 = 0
    public var twoStageReferences: UInt64 = 0
    /// G-stage translations answered by the hart's G-stage cache instead of a walk.
    public var gStageCacheHits: UInt64 = 0

    public init() {}
}
