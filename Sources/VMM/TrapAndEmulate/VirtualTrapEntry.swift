import RISCV

/// Trap entry and return on the virtual CPU, and interrupt injection: what the hart does in
/// hardware for a real S-mode (privileged spec 4.1.1, 4.1.3, 3.3.2 for SRET), done by the VMM
/// on the virtual supervisor state.
extension TrapAndEmulateVMM {
    /// Delivers a trap to the guest kernel's stvec as S-mode hardware would.
    func reflect(_ vcpu: VirtualCPU, cause: UInt64, tval: UInt64, interrupt: Bool = false) {
        var s = vcpu.state
        s.scause = cause | (interrupt ? 1 << 63 : 0)
        s.sepc = vcpu.hart.pc
        s.stval = tval
        s.sstatus = Mstatus.enteringSupervisorTrap(s.sstatus, from: s.mode)
        s.mode = .supervisor
        vcpu.state = s
        let vectored = interrupt && s.stvec & 1 != 0
        vcpu.hart.pc = (s.stvec & ~3) &+ (vectored ? 4 &* cause : 0)
        enterMode(vcpu)
        updateInterruptEnables(vcpu)
    }

    /// SRET from the guest kernel.
    func emulateSret(_ vcpu: VirtualCPU) {
        var s = vcpu.state
        s.mode = s.sstatus & Mstatus.spp != 0 ? .supervisor : .user
        s.sstatus = Mstatus.returningFromSupervisorTrap(s.sstatus)
        vcpu.state = s
        vcpu.hart.pc = s.sepc
        enterMode(vcpu)
        updateInterruptEnables(vcpu)
    }

    /// Points the real hart at the shadow for the guest's privilege, root and SUM, and sets the
    /// counter enables the guest's privilege would see (a guest process is gated by the guest's
    /// scounteren; the guest kernel reads every counter).
    func enterMode(_ vcpu: VirtualCPU) {
        let hart = vcpu.hart
        hart.setCounterEnables(machine: 0xffff_ffff,
                               supervisor: vcpu.state.mode == .user ? vcpu.state.scounteren : 0xffff_ffff)
        let key = vcpu.wantedShadowKey
        if key == vcpu.shadowKey && hart.translationRoot != 0 { return }
        let inUse = vcpus.map(\.shadowKey)
        guard let root = shadow.root(for: key, inUse: inUse) else {
            resetShadows()
            return
        }
        vcpu.shadowKey = key
        hart.setTranslationRoot(key.shadowMode << 60 | root >> 12)
    }

    /// Drops every shadow and re-roots every vCPU (the pool ran out).
    func resetShadows() {
        shadow.reset()
        for v in vcpus {
            let key = v.wantedShadowKey
            // A fresh pool always has room for a root per vCPU.
            let root = shadow.root(for: key, inUse: [])!
            v.shadowKey = key
            v.hart.setTranslationRoot(key.shadowMode << 60 | root >> 12)
        }
    }

    /// Sets the real mie so that exactly the interrupts the guest could take now make it exit:
    /// with the guest's interrupts off, pending interrupts wait (the guest's CSR write that turns
    /// them on traps, and lands here). A waiting hart wakes on any enabled one, as WFI does.
    func updateInterruptEnables(_ vcpu: VirtualCPU) {
        let enabled = vcpu.state.sie & SupervisorInterrupts.all
        if vcpu.hart.runState == .waitingForInterrupt {
            vcpu.hart.interruptEnable = enabled
        } else {
            vcpu.hart.interruptEnable = vcpu.state.interruptsEnabled ? enabled : 0
        }
    }

    /// The hart took interrupt `cause`: inject it if the guest can take it now (a hart woken
    /// from WFI with the guest's interrupts off cannot; it resumes after the WFI).
    func deliverInterrupt(_ vcpu: VirtualCPU, cause: UInt64) {
        let pending = vcpu.hart.interruptPending & vcpu.state.sie & SupervisorInterrupts.all
        if vcpu.state.interruptsEnabled && pending >> cause & 1 != 0 {
            reflect(vcpu, cause: cause, tval: 0, interrupt: true)
        } else {
            updateInterruptEnables(vcpu)
        }
    }

    /// WFI from the guest kernel: the hart sleeps until an interrupt the guest enabled in sie is
    /// pending, whether or not sstatus.SIE is set (privileged spec 3.3.3).
    func emulateWfi(_ vcpu: VirtualCPU) {
        let hart = vcpu.hart
        hart.pc &+= 4
        let enabled = vcpu.state.sie & SupervisorInterrupts.all
        if hart.interruptPending & enabled == 0 {
            hart.interruptEnable = enabled
            hart.waitForInterrupt()
        }
    }
}
