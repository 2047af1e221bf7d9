import Devices

/// Trap entry and xRET (privileged spec 3.1.6.1, 3.3.2, 4.1.1; with the hypervisor extension,
/// 8.6.2 and 8.6.4). A trap goes to M-mode unless medeleg/mideleg delegate it to HS-mode, and
/// from V=1 further to VS-mode when hedeleg/hideleg delegate it too.
extension Hart {
    static let interruptBit: UInt64 = 1 << 63

    /// Takes an exception or interrupt at the current pc. `tval2` and `tinst` are what htval or
    /// mtval2 and htinst or mtinst receive; `guestVirtual` sets hstatus.GVA or mstatus.GVA.
    func takeTrap(cause: UInt64, tval: UInt64, interrupt: Bool,
                  tval2: UInt64 = 0, tinst: UInt64 = 0, guestVirtual: Bool = false) {
        let bit = UInt64(1) << cause
        // VS-level interrupts are always delegated past M-mode (mideleg bits 2, 6, 10 read as one).
        let delegation = interrupt ? mideleg | Delegation.virtualSupervisorInterrupts : medeleg
        let toSupervisor = privilege <= .supervisor && delegation & bit != 0
        if toSupervisor && virtualized && (interrupt ? hyp.hideleg : hyp.hedeleg) & bit != 0 {
            enterVirtualSupervisorTrap(cause: cause, tval: tval, interrupt: interrupt)
        } else if let handler = trapHandler {
            // The VMM takes it in place of HS-mode (or M-mode), with the hart still where the trap
            // happened; it finds the exit information where HS trap entry would put it.
            hyp.htval = tval2
            hyp.htinst = tinst
            hyp.hstatus = (hyp.hstatus & ~Hstatus.gva) | (guestVirtual ? Hstatus.gva : 0)
            handler.handleTrap(self, cause: cause, tval: tval, isInterrupt: interrupt)
            return
        } else if toSupervisor {
            enterSupervisorTrap(cause: cause, tval: tval, interrupt: interrupt, tval2: tval2, tinst: tinst,
                                guestVirtual: guestVirtual)
        } else {
            enterMachineTrap(cause: cause, tval: tval, interrupt: interrupt, tval2: tval2, tinst: tinst,
                             guestVirtual: guestVirtual)
        }
        updateDataPrivilege()
    }

    /// Trap into HS-mode (or S-mode): V becomes 0; hstatus.SPV records V, SPVP the nominal
    /// privilege of a V=1 trap (privileged spec 8.6.2).
    private func enterSupervisorTrap(cause: UInt64, tval: UInt64, interrupt: Bool, tval2: UInt64, tinst: UInt64,
                                     guestVirtual: Bool) {
        scause = cause | (interrupt ? Self.interruptBit : 0)
        sepc = pc
        stval = tval
        hyp.htval = tval2
        hyp.htinst = tinst
        var h = hyp.hstatus & ~(Hstatus.spv | Hstatus.gva)
        if virtualized {
            h = (h & ~Hstatus.spvp) | Hstatus.spv | (privilege == .supervisor ? Hstatus.spvp : 0)
        }
        hyp.hstatus = h | (guestVirtual ? Hstatus.gva : 0)
        mstatus = Mstatus.enteringSupervisorTrap(mstatus, from: privilege)
        virtualized = false
        privilege = .supervisor
        pc = (stvec & ~3) &+ (interrupt && stvec & 1 != 0 ? 4 &* cause : 0)
    }

    /// Delivers an exception to the guest's VS-mode handler exactly as a trap delegated by
    /// hedeleg would go: for a hypervisor that took the trap itself and hands it on.
    public func injectVirtualSupervisorException(cause: UInt64, tval: UInt64) {
        precondition(virtualized, "only a guest (V=1) has a VS-mode to take the trap")
        enterVirtualSupervisorTrap(cause: cause, tval: tval, interrupt: false)
        updateDataPrivilege()
    }

    /// Trap into VS-mode: V stays 1; hstatus and the HS-level sstatus are untouched. VS-level
    /// interrupts appear to VS-mode as their S-level causes, 2/6/10 as 1/5/9 (8.2.2, 8.6.2).
    private func enterVirtualSupervisorTrap(cause: UInt64, tval: UInt64, interrupt: Bool) {
        let vsCause = interrupt ? cause &- 1 : cause
        hyp.vscause = vsCause | (interrupt ? Self.interruptBit : 0)
        hyp.vsepc = pc
        hyp.vstval = tval
        hyp.vsstatus = Mstatus.enteringSupervisorTrap(hyp.vsstatus, from: privilege)
        privilege = .supervisor
        pc = (hyp.vstvec & ~3) &+ (interrupt && hyp.vstvec & 1 != 0 ? 4 &* vsCause : 0)
    }

    /// Trap into M-mode: V becomes 0; mstatus.MPV records it (8.6.2).
    private func enterMachineTrap(cause: UInt64, tval: UInt64, interrupt: Bool, tval2: UInt64, tinst: UInt64,
                                  guestVirtual: Bool) {
        if firmwareless {
            unhandledMachineTrap = (cause | (interrupt ? Self.interruptBit : 0), pc, tval)
            requestSliceEnd()
        }
        mcause = cause | (interrupt ? Self.interruptBit : 0)
        mepc = pc
        mtval = tval
        hyp.mtval2 = tval2
        hyp.mtinst = tinst
        var s = mstatus & ~(Mstatus.mpv | Mstatus.gva)
        s |= (virtualized ? Mstatus.mpv : 0) | (guestVirtual ? Mstatus.gva : 0)
        s = (s & ~Mstatus.mpie) | (s & Mstatus.mie != 0 ? Mstatus.mpie : 0)
        s &= ~Mstatus.mie
        s = (s & ~Mstatus.mpp) | (UInt64(privilege.rawValue) << Mstatus.mppShift)
        mstatus = s
        virtualized = false
        privilege = .machine
        pc = (mtvec & ~3) &+ (interrupt && mtvec & 1 != 0 ? 4 &* cause : 0)
    }

    func take(_ e: Exception) {
        // GVA: tval is an address translated as though V=1: by the fetch in V=1, or by a load or
        // store whose effective V is 1 (V=1, or MPRV with MPV), or by HLV/HLVX/HSV (8.2.1, 8.4.1).
        let translatedVirtually = e.cause.isFetchSide ? virtualized : dataVirtualized
        let guestVirtual = e.guestVirtualAccess || (e.cause.tvalIsAddress && translatedVirtually)
        let tinst = e.tinst != 0 ? UInt64(e.tinst) : transformedInstruction(for: e)
        takeTrap(cause: e.cause.rawValue, tval: e.tval, interrupt: false, tval2: e.tval2, tinst: tinst,
                 guestVirtual: guestVirtual)
    }

    func executeMret() throws(Exception) {
        guard privilege == .machine else { throw Exception(.illegalInstruction) }
        let mpp = Privilege(rawValue: UInt8((mstatus >> Mstatus.mppShift) & 3)) ?? .user
        // MPV is ignored when MPP = M (privileged spec 8.6.4).
        let mpv = mpp != .machine && mstatus & Mstatus.mpv != 0
        var s = mstatus
        s = (s & ~Mstatus.mie) | (s & Mstatus.mpie != 0 ? Mstatus.mie : 0)
        s |= Mstatus.mpie
        s &= ~(Mstatus.mpp | Mstatus.mpv)
        if mpp != .machine { s &= ~Mstatus.mprv }
        mstatus = s
        privilege = mpp
        virtualized = mpv
        pc = mepc
        updateDataPrivilege()
        sliceBreak = true
    }

    /// SRET from M or HS returns to the mode in hstatus.SPV and sstatus.SPP; from VS it returns
    /// within the guest, by vsstatus.SPP (privileged spec 8.6.4). In VU, or in VS with
    /// hstatus.VTSR, it raises a virtual-instruction exception (8.6.1).
    func executeSret() throws(Exception) {
        if virtualized {
            guard privilege == .supervisor && hyp.hstatus & Hstatus.vtsr == 0 else {
                throw Exception(.virtualInstruction)
            }
            let spp: Privilege = hyp.vsstatus & Mstatus.spp != 0 ? .supervisor : .user
            hyp.vsstatus = Mstatus.returningFromSupervisorTrap(hyp.vsstatus)
            privilege = spp
            pc = hyp.vsepc
        } else {
            guard privilege == .machine || (privilege == .supervisor && mstatus & Mstatus.tsr == 0) else {
                throw Exception(.illegalInstruction)
            }
            let spp: Privilege = mstatus & Mstatus.spp != 0 ? .supervisor : .user
            mstatus = Mstatus.returningFromSupervisorTrap(mstatus) & ~Mstatus.mprv
            virtualized = hyp.hstatus & Hstatus.spv != 0
            hyp.hstatus &= ~Hstatus.spv
            privilege = spp
            pc = sepc
        }
        updateDataPrivilege()
        sliceBreak = true
    }
}
