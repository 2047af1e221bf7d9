import RISCV

/// Loads and stores the VMM performs on the guest's behalf: device accesses (the shadow never
/// maps MMIO, so every one exits) and stores to write-protected guest page tables.
extension TrapAndEmulateVMM {
    /// What a load or store instruction does, reduced to what emulation needs.
    struct MemoryOperation {
        var size: Int
        var isStore: Bool
        var signed: Bool
        /// The value a store writes (integer or FP register).
        var value: UInt64
        var rd: Int
        var isFloat: Bool
    }

    func memoryOperation(_ vcpu: VirtualCPU, _ d: DecodedInstruction) -> MemoryOperation? {
        let hart = vcpu.hart
        let rd = Int(d.rd)
        let v = hart.register(Int(d.rs2))
        switch d.op {
        case .lb: return MemoryOperation(size: 1, isStore: false, signed: true, value: 0, rd: rd, isFloat: false)
        case .lh: return MemoryOperation(size: 2, isStore: false, signed: true, value: 0, rd: rd, isFloat: false)
        case .lw: return MemoryOperation(size: 4, isStore: false, signed: true, value: 0, rd: rd, isFloat: false)
        case .ld: return MemoryOperation(size: 8, isStore: false, signed: false, value: 0, rd: rd, isFloat: false)
        case .lbu: return MemoryOperation(size: 1, isStore: false, signed: false, value: 0, rd: rd, isFloat: false)
        case .lhu: return MemoryOperation(size: 2, isStore: false, signed: false, value: 0, rd: rd, isFloat: false)
        case .lwu: return MemoryOperation(size: 4, isStore: false, signed: false, value: 0, rd: rd, isFloat: false)
        case .sb: return MemoryOperation(size: 1, isStore: true, signed: false, value: v, rd: 0, isFloat: false)
        case .sh: return MemoryOperation(size: 2, isStore: true, signed: false, value: v, rd: 0, isFloat: false)
        case .sw: return MemoryOperation(size: 4, isStore: true, signed: false, value: v, rd: 0, isFloat: false)
        case .sd: return MemoryOperation(size: 8, isStore: true, signed: false, value: v, rd: 0, isFloat: false)
        case .fsw: return MemoryOperation(size: 4, isStore: true, signed: false, value: hart.floatRegister(Int(d.rs2)), rd: 0, isFloat: true)
        case .fsd: return MemoryOperation(size: 8, isStore: true, signed: false, value: hart.floatRegister(Int(d.rs2)), rd: 0, isFloat: true)
        default: return nil
        }
    }

    /// An integer load or store to a device. Anything else aimed at a device (an AMO, an FP
    /// access, an instruction fetch, an address no device answers) gets an access fault, as on
    /// the real board.
    func emulateDeviceAccess(_ vcpu: VirtualCPU, physical pa: UInt64, access: AccessType, faultVA: UInt64) {
        let hart = vcpu.hart
        guard let d = fetchInstruction(vcpu) else { return }
        let fault = { [self] in
            count(.reflectedException)
            reflect(vcpu, cause: access.accessFaultCause, tval: faultVA)
        }
        guard let op = memoryOperation(vcpu, d), !op.isFloat, op.isStore == (access == .store) else { return fault() }
        if op.isStore {
            guard bus.write(pa, size: op.size, value: op.value) else { return fault() }
        } else {
            guard var value = bus.read(pa, size: op.size) else { return fault() }
            if op.signed && op.size < 8 {
                let shift = UInt64(64 - 8 * op.size)
                value = UInt64(bitPattern: Int64(bitPattern: value << shift) >> Int64(shift))
            }
            hart.setRegister(op.rd, value)
        }
        count(.mmio)
        hart.pc &+= UInt64(d.length)
        // The device may have raised or lowered an interrupt line.
        updateInterruptEnables(vcpu)
    }

    /// A store, SC or AMO to a write-protected guest page table: done by the VMM on guest RAM,
    /// then the shadow entries derived from the bytes written are dropped.
    func emulateStore(_ vcpu: VirtualCPU, faultVA: UInt64, page: UInt64, uses: [ShadowPageTables.TableUse]) {
        let hart = vcpu.hart
        guard let d = fetchInstruction(vcpu) else { return }
        let s = vcpu.state
        var size: Int
        var value: UInt64
        var result: UInt64?
        switch d.op {
        case .scW, .scD, .amoswapW, .amoaddW, .amoxorW, .amoandW, .amoorW, .amominW, .amomaxW, .amominuW, .amomaxuW,
             .amoswapD, .amoaddD, .amoxorD, .amoandD, .amoorD, .amominD, .amomaxD, .amominuD, .amomaxuD:
            size = d.op.rawValue <= Opcode.amomaxuW.rawValue ? 4 : 8
            let va = hart.register(Int(d.rs1))
            guard va & UInt64(size - 1) == 0 else {
                count(.reflectedException)
                return reflect(vcpu, cause: ExceptionCause.storeAddressMisaligned.rawValue, tval: va)
            }
            guard case .translated(let t) = shadow.walker.translate(va, .store, satp: s.satp, mode: s.mode, sum: s.sum, mxr: s.mxr),
                  let old: UInt64 = size == 4 ? guestRAM.load(t.physical, as: UInt32.self).map(UInt64.init) : guestRAM.load(t.physical) else {
                count(.reflectedException)
                return reflect(vcpu, cause: ExceptionCause.storeAccessFault.rawValue, tval: va)
            }
            let operand = hart.register(Int(d.rs2))
            if d.op == .scW || d.op == .scD {
                guard hart.takeReservation(t.physical) else {
                    hart.setRegister(Int(d.rd), 1)
                    hart.pc &+= 4
                    return
                }
                value = operand
                result = 0
            } else {
                value = Hart.atomicResult(d.op, old: old, operand: operand)
                result = size == 4 ? UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: old))) : old
            }
            write(vcpu, physical: t.physical, size: size, value: value, page: page, uses: uses)
        default:
            guard let op = memoryOperation(vcpu, d), op.isStore else {
                count(.reflectedException)
                return reflect(vcpu, cause: ExceptionCause.storeAccessFault.rawValue, tval: faultVA)
            }
            size = op.size
            value = op.value
            let va = hart.register(Int(d.rs1)) &+ UInt64(bitPattern: d.imm)
            // Byte by byte, each through the guest's tables, when the store crosses a page.
            for i in 0..<size {
                let byteVA = va &+ UInt64(i)
                guard case .translated(let t) = shadow.walker.translate(byteVA, .store, satp: s.satp, mode: s.mode, sum: s.sum, mxr: s.mxr),
                      guestRAM.contains(t.physical) else {
                    count(.reflectedException)
                    return reflect(vcpu, cause: ExceptionCause.storePageFault.rawValue, tval: byteVA)
                }
                if i == 0 && (va & 0xfff) + UInt64(size) <= 4096 {
                    write(vcpu, physical: t.physical, size: size, value: value, page: page, uses: uses)
                    break
                }
                write(vcpu, physical: t.physical, size: 1, value: value >> (8 * UInt64(i)), page: page, uses: uses)
            }
        }
        if let result { hart.setRegister(Int(d.rd), result) }
        hart.pc &+= UInt64(d.length)
    }

    /// Writes guest RAM for the guest; when the bytes land in the page-table page `page`, the
    /// shadow entries its `uses` derived from them are dropped.
    private func write(_ vcpu: VirtualCPU, physical pa: UInt64, size: Int, value: UInt64,
                       page: UInt64, uses: [ShadowPageTables.TableUse]) {
        switch size {
        case 1: guestRAM.store(pa, UInt8(truncatingIfNeeded: value))
        case 2: guestRAM.store(pa, UInt16(truncatingIfNeeded: value))
        case 4: guestRAM.store(pa, UInt32(truncatingIfNeeded: value))
        default: guestRAM.store(pa, value)
        }
        vcpu.hart.noteStoreByVMM(physical: pa, size: size)
        if pa & ~0xfff == page {
            shadow.guestTableWritten(pa, size: size, uses: uses)
        } else {
            shadow.guestTableWritten(pa, size: size, uses: shadow.pageTableUses(pa & ~0xfff))
        }
    }
}
