import Devices

/// Trap entry, xRET and interrupt selection (privileged spec 3.1.6.1, 3.1.9, 3.3.2, 4.1.1).
extension Hart {
    static let interruptBit: UInt64 = 1 << 63

    /// Takes an exception or interrupt at the current pc, delegating to S-mode when medeleg or
    /// mideleg says so and the hart is not in M-mode.
    func takeTrap(cause: UInt64, tval: UInt64, interrupt: Bool) {
        if let handler = trapHandler {
            handler.handleTrap(self, cause: cause, tval: tval, isInterrupt: interrupt)
            return
        }
        let delegated = (interrupt ? mideleg : medeleg) >> cause & 1 != 0
        if privilege <= .supervisor && delegated {
            scause = cause | (interrupt ? Self.interruptBit : 0)
            sepc = pc
            stval = tval
            var s = mstatus
            s = (s & ~Mstatus.spie) | (s & Mstatus.sie != 0 ? Mstatus.spie : 0)
            s &= ~Mstatus.sie
            s = (s & ~Mstatus.spp) | (privilege == .supervisor ? Mstatus.spp : 0)
            mstatus = s
            privilege = .supervisor
            pc = (stvec & ~3) &+ (interrupt && stvec & 1 != 0 ? 4 &* cause : 0)
        } else {
            if firmwareless {
                unhandledMachineTrap = (cause | (interrupt ? Self.interruptBit : 0), pc, tval)
                requestSliceEnd()
            }
            mcause = cause | (interrupt ? Self.interruptBit : 0)
            mepc = pc
            mtval = tval
            var s = mstatus
            s = (s & ~Mstatus.mpie) | (s & Mstatus.mie != 0 ? Mstatus.mpie : 0)
            s &= ~Mstatus.mie
            s = (s & ~Mstatus.mpp) | (UInt64(privilege.rawValue) << Mstatus.mppShift)
            mstatus = s
            privilege = .machine
            pc = (mtvec & ~3) &+ (interrupt && mtvec & 1 != 0 ? 4 &* cause : 0)
        }
        updateDataPrivilege()
    }

    func take(_ e: Exception) {
        takeTrap(cause: e.cause.rawValue, tval: e.tval, interrupt: false)
    }

    /// mip as software reads it: device lines plus the software-writable bits.
    @inline(__always) var mip: UInt64 { lines.bits | mipSoftware }

    /// The interrupt to take now, if any, in the spec's priority order MEI, MSI, MTI, SEI, SSI, STI.
    func pendingInterrupt() -> UInt64? {
        let pending = mip & mie
        if pending == 0 { return nil }
        let machineEnabled = privilege < .machine || mstatus & Mstatus.mie != 0
        let machinePending = pending & ~mideleg
        if machineEnabled && machinePending != 0 { return Self.highestPriority(machinePending) }
        let supervisorEnabled = privilege < .supervisor || (privilege == .supervisor && mstatus & Mstatus.sie != 0)
        let supervisorPending = pending & mideleg
        if supervisorEnabled && supervisorPending != 0 { return Self.highestPriority(supervisorPending) }
        return nil
    }

    static let priorityOrder: [UInt64] = [11, 3, 7, 9, 1, 5]

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

    func executeMret() throws(Exception) {
        guard privilege == .machine else { throw Exception(.illegalInstruction) }
        let mpp = Privilege(rawValue: UInt8((mstatus >> Mstatus.mppShift) & 3)) ?? .user
        var s = mstatus
        s = (s & ~Mstatus.mie) | (s & Mstatus.mpie != 0 ? Mstatus.mie : 0)
        s |= Mstatus.mpie
        s &= ~Mstatus.mpp
        if mpp != .machine { s &= ~Mstatus.mprv }
        mstatus = s
        privilege = mpp
        pc = mepc
        updateDataPrivilege()
        sliceBreak = true
    }

    func executeSret() throws(Exception) {
        guard privilege == .machine || (privilege == .supervisor && mstatus & Mstatus.tsr == 0) else {
            throw Exception(.illegalInstruction)
        }
        let spp: Privilege = mstatus & Mstatus.spp != 0 ? .supervisor : .user
        var s = mstatus
        s = (s & ~Mstatus.sie) | (s & Mstatus.spie != 0 ? Mstatus.sie : 0)
        s |= Mstatus.spie
        s &= ~Mstatus.spp
        s &= ~Mstatus.mprv
        mstatus = s
        privilege = spp
        pc = sepc
        updateDataPrivilege()
        sliceBreak = true
    }
}

extension InterruptLines {
    /// STIP's bit, for the software-writable part of mip.
    public static let supervisorTimerBit: UInt64 = supervisorTimer
}
