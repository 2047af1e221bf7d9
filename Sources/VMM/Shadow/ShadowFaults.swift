import RISCV

/// The guest's translation state at a fault: its root, its privilege, SUM and MXR.
struct GuestTranslationContext {
    var satp: UInt64
    var mode: Privilege
    var sum: Bool
    var mxr: Bool
}

/// What a page or access fault on a shadow turned out to be, for the VMM to act on.
enum ShadowFaultOutcome {
    /// Handled (a shadow fill, or an unsynced page-table write): resume the guest. The reason
    /// says which, for the exit statistics.
    case resolved(ExitReason)
    /// A store to a traced guest page table: emulate it (`emulatePageTableStore`).
    case pageTableStore(page: UInt64, uses: [ShadowPageTables.TableUse])
    /// The guest's tables map the address to a device: emulate the access.
    case device(physical: UInt64)
    /// The guest's own tables (or the board) refuse the access: give the guest this trap with
    /// tval = the faulting address.
    case guestFault(cause: UInt64, reason: ExitReason)
    /// The shadow pool is exhausted: reset the shadows, re-root every vCPU, resolve again.
    case poolExhausted
}

/// Fault resolution and page-table store emulation, shared by every VMM that runs the guest
/// on shadow page tables (trap-and-emulate, and hardware assist without nested paging).
extension ShadowPageTables {
    func resolveFault(_ va: UInt64, _ access: AccessType, in context: GuestTranslationContext,
                      shadow key: ShadowKey) -> ShadowFaultOutcome {
        let c = context
        switch walker.translate(va, access, satp: c.satp, mode: c.mode, sum: c.sum, mxr: c.mxr) {
        case .pageFault:
            return .guestFault(cause: access.pageFaultCause, reason: .guestPageFault)
        case .accessFault:
            return .guestFault(cause: access.accessFaultCause, reason: .reflectedException)
        case .translated(let t):
            guard walker.memory.contains(t.physical) else {
                // Outside the guest's RAM: a device, or (for a fetch, or nothing there) the
                // access fault real hardware gives.
                return access == .fetch ? .guestFault(cause: access.accessFaultCause, reason: .reflectedException)
                                        : .device(physical: t.physical)
            }
            var reason = ExitReason.shadowFault
            if access == .store {
                let uses = pageTableUses(t.physicalPage)
                if !uses.isEmpty {
                    // A leaf table is left writable until the guest's next fence; a directory
                    // written over and over without being walked stops being traced. Either
                    // way the store then runs natively through the writable entry filled below.
                    guard isUnsynced(t.physicalPage) || unsync(t.physicalPage, uses: uses)
                            || noteFlooding(t.physicalPage, uses: uses) else {
                        return .pageTableStore(page: t.physicalPage, uses: uses)
                    }
                    reason = .pageTableWrite
                }
            }
            return fill(key, va: va, t) ? .resolved(reason) : .poolExhausted
        }
    }

    /// Performs `d` (a store, SC or AMO to the traced page table `page`) on guest RAM for the
    /// guest, drops the shadow entries derived from the bytes written, and advances the hart.
    /// Returns the trap to give the guest instead when its own tables refuse the access.
    func emulatePageTableStore(_ d: DecodedInstruction, on hart: Hart, in c: GuestTranslationContext,
                               faultVA: UInt64, page: UInt64, uses: [TableUse]) -> (cause: UInt64, tval: UInt64)? {
        var result: UInt64?
        switch d.op {
        case .scW, .scD, .amoswapW, .amoaddW, .amoxorW, .amoandW, .amoorW, .amominW, .amomaxW, .amominuW, .amomaxuW,
             .amoswapD, .amoaddD, .amoxorD, .amoandD, .amoorD, .amominD, .amomaxD, .amominuD, .amomaxuD:
            let size = d.op.rawValue <= Opcode.amomaxuW.rawValue ? 4 : 8
            let va = hart.register(Int(d.rs1))
            guard va & UInt64(size - 1) == 0 else { return (ExceptionCause.storeAddressMisaligned.rawValue, va) }
            guard case .translated(let t) = walker.translate(va, .store, satp: c.satp, mode: c.mode, sum: c.sum, mxr: c.mxr),
                  let old: UInt64 = size == 4 ? walker.memory.load(t.physical, as: UInt32.self).map(UInt64.init)
                                              : walker.memory.load(t.physical) else {
                return (ExceptionCause.storeAccessFault.rawValue, va)
            }
            let operand = hart.register(Int(d.rs2))
            let value: UInt64
            if d.op == .scW || d.op == .scD {
                guard hart.takeReservation(t.physical) else {
                    hart.setRegister(Int(d.rd), 1)
                    hart.pc &+= 4
                    return nil
                }
                value = operand
                result = 0
            } else {
                value = Hart.atomicResult(d.op, old: old, operand: operand)
                result = size == 4 ? UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: old))) : old
            }
            write(hart, physical: t.physical, size: size, value: value, page: page, uses: uses)
        default:
            guard let op = MemoryOperation(d, on: hart), op.isStore else {
                return (ExceptionCause.storeAccessFault.rawValue, faultVA)
            }
            let va = hart.register(Int(d.rs1)) &+ UInt64(bitPattern: d.imm)
            // Byte by byte, each through the guest's tables, when the store crosses a page.
            for i in 0..<op.size {
                let byteVA = va &+ UInt64(i)
                guard case .translated(let t) = walker.translate(byteVA, .store, satp: c.satp, mode: c.mode, sum: c.sum, mxr: c.mxr),
                      walker.memory.contains(t.physical) else {
                    return (ExceptionCause.storePageFault.rawValue, byteVA)
                }
                if i == 0 && (va & 0xfff) + UInt64(op.size) <= 4096 {
                    write(hart, physical: t.physical, size: op.size, value: op.value, page: page, uses: uses)
                    break
                }
                write(hart, physical: t.physical, size: 1, value: op.value >> (8 * UInt64(i)), page: page, uses: uses)
            }
        }
        if let result { hart.setRegister(Int(d.rd), result) }
        hart.pc &+= UInt64(d.length)
        return nil
    }

    /// Writes guest RAM for the guest; when the bytes land in the page-table page `page`, the
    /// shadow entries its `uses` derived from them are dropped.
    private func write(_ hart: Hart, physical pa: UInt64, size: Int, value: UInt64, page: UInt64, uses: [TableUse]) {
        let memory = walker.memory
        switch size {
        case 1: memory.store(pa, UInt8(truncatingIfNeeded: value))
        case 2: memory.store(pa, UInt16(truncatingIfNeeded: value))
        case 4: memory.store(pa, UInt32(truncatingIfNeeded: value))
        default: memory.store(pa, value)
        }
        hart.noteStoreByVMM(physical: pa, size: size)
        guestTableWritten(pa, size: size, uses: pa & ~0xfff == page ? uses : pageTableUses(pa & ~0xfff))
    }
}
