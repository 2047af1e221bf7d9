import Devices

/// What a VMM that deprivileges its guest (`--virt trap`) sets on the real hart: the privilege
/// the guest really runs at, the translation root (a shadow page table), the interrupt enables
/// that decide which pending interrupts make the guest exit, and the FP and counter enables it
/// mirrors from the guest's virtual CSRs. The virtual CSRs themselves live in the VMM.
extension Hart {
    /// Switches the real privilege (the VMM keeps the guest in U-mode).
    public func setPrivilege(_ newPrivilege: Privilege) {
        privilege = newPrivilege
        updateDataPrivilege()
    }

    /// The real satp: under the VMM, a shadow root the guest never sees.
    public var translationRoot: UInt64 { satp }

    /// Installs a new real satp. Unlike a guest's satp write this keeps the cached translations
    /// of other roots (see `SoftTLB`): a VMM's shadow roots change only through the VMM, which
    /// flushes what it changes (`flushTranslation(page:)`, `flushTranslations()`).
    public func setTranslationRoot(_ value: UInt64) {
        guard value != satp else { return }
        satp = value
        tlb.select(root: value)
        updateDataPrivilege()
    }

    /// Drops the soft-TLB entries of one virtual page (the VMM changed that shadow mapping).
    public func flushTranslation(page va: UInt64) {
        tlb.flush(vpn: va >> 12)
        if fetchVPN == va >> 12 { invalidateFetchShortcut() }
    }

    /// The supervisor-level bits of the real mie (SSIE, STIE, SEIE): the pending interrupts that
    /// make the guest exit. Other bits of mie (the VS-level ones a guest under the H extension
    /// owns) are left alone.
    public var interruptEnable: UInt64 {
        get { mie & 0x222 }
        set {
            let new = (mie & ~0x222) | (newValue & 0x222)
            guard new != mie else { return }
            mie = new
            sliceBreak = true
        }
    }

    /// The real mip: device lines, the SBI timer's STIP and software-set bits.
    public var interruptPending: UInt64 { mip }

    /// Sets or clears SSIP (the guest writes its virtual sip.SSIP; the VMM keeps it here, next
    /// to the bits the devices and the timer raise).
    public func setSupervisorSoftwarePending(_ pending: Bool) {
        if pending { mipSoftware |= InterruptLines.supervisorSoftware } else { mipSoftware &= ~InterruptLines.supervisorSoftware }
        sliceBreak = true
    }

    /// mstatus.FS (bits 14:13): the guest's virtual sstatus.FS is kept in the real one, so FP
    /// instructions trap exactly when the guest turned the FPU off and mark it dirty as they run.
    public var floatingPointState: UInt64 {
        get { (mstatus & Mstatus.fs) >> 13 }
        set { mstatus = (mstatus & ~Mstatus.fs) | ((newValue & 3) << 13) }
    }

    /// mcounteren and scounteren: which of cycle, time and instret the running code may read.
    public func setCounterEnables(machine: UInt64, supervisor: UInt64) {
        mcounteren = machine & 0xffff_ffff
        scounteren = supervisor & 0xffff_ffff
    }

    /// Consumes the LR reservation if it covers `pa` (an emulated SC succeeds only then).
    public func takeReservation(_ pa: UInt64) -> Bool {
        defer { reservation = nil }
        return reservation == pa
    }

    /// The decoded instruction at `pc` as this hart fetches it (through its own translation and
    /// decoded-code cache): what a VMM emulates after a trap, with no second walk or decode.
    /// Nil when the fetch itself would fault.
    public func decodedInstruction(at pc: UInt64) -> DecodedInstruction? {
        do throws(Exception) {
            let saved = (fetchVPN, fetchSlots)
            defer { (fetchVPN, fetchSlots) = saved }
            let d = try fetchSlow(pc)
            return d.op == .notDecoded || d.op == .crossesPage ? nil : d
        } catch {
            return nil
        }
    }

    /// Soft-TLB state for a VMM: the fetch shortcut is dropped when the VMM rewrote memory
    /// that may hold the current instruction page's code.
    public func noteStoreByVMM(physical pa: UInt64, size: Int) {
        noteStore(physical: pa, size: size)
    }
}
