import RISCV

/// Hardware assist without nested paging (`--virt hw --mmu shadow`), as KVM ran on hardware
/// without EPT/NPT: hgatp is Bare and the hart's vsatp holds a shadow root built from the
/// guest's tables. hstatus.VTVM makes the guest's satp accesses and fences exit, and its page
/// faults are kept back from hedeleg, so the VMM sees every root switch, fence and missing
/// shadow entry. The shadow's leaves mirror the guest's U/R/X bits (`ShadowKind.mirrored`):
/// the guest really runs in VS-mode and VU-mode, so the hart enforces its U/S protection itself
/// and one shadow per guest root serves both privileges.
extension HardwareAssistVMM {
    /// The guest's translation state as the hart holds it in its VS CSRs.
    func translationContext(_ hart: Hart) -> GuestTranslationContext {
        let vsstatus = hart.hypervisor.vsstatus
        return GuestTranslationContext(satp: guestSatp[hart.id], mode: hart.privilege,
                                       sum: vsstatus & Mstatus.sum != 0, mxr: vsstatus & Mstatus.mxr != 0)
    }

    /// Points the hart's vsatp at the shadow for its guest root (building it if needed).
    func selectShadow(_ hart: Hart) {
        guard let shadow else { return }
        let key = ShadowKey(guestSatp: guestSatp[hart.id], kind: .mirrored)
        guard let root = shadow.root(for: key, inUse: shadowKeys) else { return resetShadows() }
        shadowKeys[hart.id] = key
        var h = hart.hypervisor
        h.vsatp = key.shadowMode << 60 | root >> 12
        hart.hypervisor = h
    }

    func resetShadows() {
        guard let shadow else { return }
        shadow.reset()
        for hart in harts {
            let key = ShadowKey(guestSatp: guestSatp[hart.id], kind: .mirrored)
            let root = shadow.root(for: key, inUse: [])!   // a fresh pool has room for every root
            shadowKeys[hart.id] = key
            var h = hart.hypervisor
            h.vsatp = key.shadowMode << 60 | root >> 12
            hart.hypervisor = h
        }
    }

    /// A page fault the guest's VS/VU access took on the shadow.
    func handleShadowFault(_ hart: Hart, _ access: AccessType, va: UInt64) {
        guard let shadow else { return }
        let context = translationContext(hart)
        var outcome = shadow.resolveFault(va, access, in: context, shadow: shadowKeys[hart.id])
        if case .poolExhausted = outcome {
            resetShadows()
            outcome = shadow.resolveFault(va, access, in: context, shadow: shadowKeys[hart.id])
        }
        switch outcome {
        case .resolved(let reason):
            accounting.count(reason)
        case .poolExhausted:
            accounting.count(.shadowFault)
        case .guestFault(let cause, let reason):
            accounting.count(reason)
            inject(hart, cause: cause, tval: va)
        case .device(let pa):
            guard let d = hart.decodedInstruction(at: hart.pc),
                  MemoryOperation.performDeviceAccess(d, at: pa, isStore: access == .store, on: hart, bus: bus) else {
                accounting.count(.reflectedException)
                return inject(hart, cause: access.accessFaultCause, tval: va)
            }
            accounting.count(.mmio)
            syncExternalInterrupt(hart)
        case .pageTableStore(let page, let uses):
            accounting.count(.pageTableWrite)
            guard let d = hart.decodedInstruction(at: hart.pc) else { return }
            if let trap = shadow.emulatePageTableStore(d, on: hart, in: context, faultVA: va, page: page, uses: uses) {
                accounting.count(.reflectedException)
                inject(hart, cause: trap.cause, tval: trap.tval)
            }
        }
    }

    /// satp accesses and sfence.vma from VS-mode (virtual instruction under VTVM): the guest's
    /// satp is kept here; a write selects its shadow, a fence brings unsynced tables back in sync.
    func emulateVirtualMemoryInstruction(_ hart: Hart, tval: UInt64) {
        guard let shadow, let d = hart.decodedInstruction(at: hart.pc) else {
            accounting.count(.virtualInstruction)
            return inject(hart, cause: 2, tval: tval)
        }
        switch d.op {
        case .sfenceVMA:
            accounting.count(.sfenceVMA)
            shadow.resyncAll()
            hart.pc &+= 4
        case .csrrw, .csrrs, .csrrc, .csrrwi, .csrrsi, .csrrci where UInt16(truncatingIfNeeded: d.imm) & 0xfff == CSR.satp:
            accounting.count(.csrAccess)
            accounting.countCSR(CSR.satp)
            let old = guestSatp[hart.id]
            let operand = d.op == .csrrw || d.op == .csrrs || d.op == .csrrc ? hart.register(Int(d.rs1)) : UInt64(d.rs1)
            let writes = d.op == .csrrw || d.op == .csrrwi || d.rs1 != 0
            if writes {
                let new: UInt64
                switch d.op {
                case .csrrw, .csrrwi: new = operand
                case .csrrs, .csrrsi: new = old | operand
                default: new = old & ~operand
                }
                // Unsupported modes leave satp unchanged (privileged spec 4.1.11).
                if GuestPageWalker.levels(satp: new) != nil {
                    guestSatp[hart.id] = new & ((0xF << 60) | (0xFFFF << 44) | PageTableEntry.ppnMask)
                    shadow.resyncAll()
                    selectShadow(hart)
                }
            }
            hart.setRegister(Int(d.rd), old)
            hart.pc &+= UInt64(d.length)
        default:
            accounting.count(.virtualInstruction)
            inject(hart, cause: 2, tval: tval)
        }
    }
}
