import RISCV

/// Page and access faults from the real hart: the shadow lacked the mapping (fill it), the
/// guest's own tables forbid the access (reflect it), the target is a device (emulate the
/// access through the bus), or the target is a guest page table (emulate the store and update
/// the shadows). The shadow work is `ShadowPageTables.resolveFault`; here is what the guest sees.
extension TrapAndEmulateVMM {
    func handleMemoryFault(_ vcpu: VirtualCPU, _ access: AccessType, va: UInt64) {
        let s = vcpu.state
        let context = GuestTranslationContext(satp: s.satp, mode: s.mode, sum: s.sum, mxr: s.mxr)
        var outcome = shadow.resolveFault(va, access, in: context, shadow: vcpu.shadowKey)
        if case .poolExhausted = outcome {
            resetShadows()
            outcome = shadow.resolveFault(va, access, in: context, shadow: vcpu.shadowKey)
        }
        switch outcome {
        case .resolved(let reason):
            count(reason)
        case .poolExhausted:
            count(.shadowFault)   // a fresh pool always has room; the retry faults again if not
        case .guestFault(let cause, let reason):
            count(reason)
            reflect(vcpu, cause: cause, tval: va)
        case .device(let pa):
            emulateDeviceAccess(vcpu, physical: pa, access: access, faultVA: va)
        case .pageTableStore(let page, let uses):
            count(.pageTableWrite)
            guard let d = fetchInstruction(vcpu) else { return }
            if let trap = shadow.emulatePageTableStore(d, on: vcpu.hart, in: context, faultVA: va, page: page, uses: uses) {
                count(.reflectedException)
                reflect(vcpu, cause: trap.cause, tval: trap.tval)
            }
        }
    }
}
