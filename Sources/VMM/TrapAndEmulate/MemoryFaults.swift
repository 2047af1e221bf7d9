import RISCV

/// Page and access faults from the real hart: the shadow lacked the mapping (fill it), the
/// guest's own tables forbid the access (reflect it), the target is a device (emulate the
/// access through the bus), or the target is a guest page table (emulate the store and update
/// the shadows).
extension TrapAndEmulateVMM {
    func handleMemoryFault(_ vcpu: VirtualCPU, _ access: AccessType, va: UInt64) {
        let s = vcpu.state
        switch shadow.walker.translate(va, access, satp: s.satp, mode: s.mode, sum: s.sum, mxr: s.mxr) {
        case .pageFault:
            count(.guestPageFault)
            reflect(vcpu, cause: access.pageFaultCause, tval: va)
        case .accessFault:
            count(.reflectedException)
            reflect(vcpu, cause: access.accessFaultCause, tval: va)
        case .translated(let t):
            if guestRAM.contains(t.physical) {
                if access == .store {
                    let uses = shadow.pageTableUses(t.physicalPage)
                    if !uses.isEmpty {
                        count(.pageTableWrite)
                        // A leaf table is left writable until the guest's next fence; the
                        // store then runs natively through the writable shadow entry below.
                        // A directory written over and over without being walked is no longer
                        // traced at all.
                        guard shadow.isUnsynced(t.physicalPage) || shadow.unsync(t.physicalPage, uses: uses)
                                || shadow.noteFlooding(t.physicalPage, uses: uses) else {
                            emulateStore(vcpu, faultVA: va, page: t.physicalPage, uses: uses)
                            return
                        }
                    }
                }
                count(.shadowFault)
                if !shadow.fill(vcpu.shadowKey, va: va, t) {
                    resetShadows()
                    // The walk above recorded nothing that survived the reset; walk again.
                    if case .translated(let again) = shadow.walker.translate(va, access, satp: s.satp, mode: s.mode, sum: s.sum, mxr: s.mxr) {
                        _ = shadow.fill(vcpu.shadowKey, va: va, again)
                    }
                }
            } else if access != .fetch {
                emulateDeviceAccess(vcpu, physical: t.physical, access: access, faultVA: va)
            } else {
                // Outside the guest's RAM and devices: what real hardware gives, an access fault.
                count(.reflectedException)
                reflect(vcpu, cause: access.accessFaultCause, tval: va)
            }
        }
    }
}
