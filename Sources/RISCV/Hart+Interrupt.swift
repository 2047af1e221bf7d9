import Devices

/// Interrupt selection (privileged spec 3.1.9, 4.1.3; with the hypervisor extension 8.2.3 and
/// 8.4.2). Three levels: M-level interrupts (not in mideleg), HS-level ones (in mideleg, not in
/// hideleg) and VS-level ones (in mideleg and hideleg), which only V=1 can take.
extension Hart {
    /// mip as software reads it: device lines plus the software-writable bits (which include
    /// hvip's VSSIP, VSTIP and VSEIP).
    @inline(__always) var mip: UInt64 { lines.bits | mipSoftware }

    /// The interrupt to take now, if any, in the spec's priority order MEI, MSI, MTI, SEI, SSI,
    /// STI, SGEI, VSEI, VSSI, VSTI, highest level first.
    func pendingInterrupt() -> UInt64? {
        let pending = mip & mie
        if pending == 0 { return nil }
        let delegated = mideleg | Delegation.virtualSupervisorInterrupts
        let machineEnabled = privilege < .machine || mstatus & Mstatus.mie != 0
        let machinePending = pending & ~delegated
        if machineEnabled && machinePending != 0 { return Self.highestPriority(machinePending) }
        // HS-level: enabled in HS-mode by sstatus.SIE, always in U, VS and VU.
        let supervisorEnabled = virtualized || privilege < .supervisor
            || (privilege == .supervisor && mstatus & Mstatus.sie != 0)
        let supervisorPending = pending & delegated & ~hyp.hideleg
        if supervisorEnabled && supervisorPending != 0 { return Self.highestPriority(supervisorPending) }
        // VS-level: only with V=1, enabled in VS-mode by vsstatus.SIE, always in VU.
        let guestEnabled = virtualized && (privilege == .user || hyp.vsstatus & Mstatus.sie != 0)
        let guestPending = pending & delegated & hyp.hideleg
        if guestEnabled && guestPending != 0 { return Self.highestPriority(guestPending) }
        return nil
    }

    static let priorityOrder: [UInt64] = [11, 3, 7, 9, 1, 5, 12, 10, 2, 6]

    static func highestPriority(_ bits: UInt64) -> UInt64? {
        for cause in priorityOrder where bits >> cause & 1 != 0 { return cause }
        return nil
    }

    /// Takes a pending interrupt if one is enabled. Returns true if it did.
    @discardableResult
    public func checkInterrupts() -> Bool {
        guard let cause = pendingInterrupt() else { return false }
        takeTrap(cause: cause, tval: 0, interrupt: true)
        return true
    }

    /// True when an interrupt is pending and enabled in mie, which wakes WFI even when globally
    /// disabled (privileged spec 3.3.3).
    public var wakeupPending: Bool { mip & mie != 0 }

    /// Sets STIP from the built-in SBI's timer compare (as Sstc does from stimecmp).
    @inline(__always)
    public func updateSupervisorTimer(now: UInt64) {
        guard supervisorTimerCompare != .max else { return }
        if now >= supervisorTimerCompare {
            mipSoftware |= InterruptLines.supervisorTimerBit
        } else {
            mipSoftware &= ~InterruptLines.supervisorTimerBit
        }
    }
}

extension InterruptLines {
    /// STIP's bit, for the software-writable part of mip.
    public static let supervisorTimerBit: UInt64 = supervisorTimer
}
