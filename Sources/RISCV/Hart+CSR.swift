import Devices

/// Control and status registers (privileged spec chapters 2, 3 and 4; Zicsr).
public enum CSR {
    public static let fflags: UInt16 = 0x001, frm: UInt16 = 0x002, fcsr: UInt16 = 0x003
    public static let cycle: UInt16 = 0xC00, time: UInt16 = 0xC01, instret: UInt16 = 0xC02
    public static let sstatus: UInt16 = 0x100, sie: UInt16 = 0x104, stvec: UInt16 = 0x105
    public static let scounteren: UInt16 = 0x106, senvcfg: UInt16 = 0x10A
    public static let sscratch: UInt16 = 0x140, sepc: UInt16 = 0x141, scause: UInt16 = 0x142
    public static let stval: UInt16 = 0x143, sip: UInt16 = 0x144, satp: UInt16 = 0x180
    public static let mvendorid: UInt16 = 0xF11, marchid: UInt16 = 0xF12, mimpid: UInt16 = 0xF13
    public static let mhartid: UInt16 = 0xF14, mconfigptr: UInt16 = 0xF15
    public static let mstatus: UInt16 = 0x300, misa: UInt16 = 0x301, medeleg: UInt16 = 0x302
    public static let mideleg: UInt16 = 0x303, mie: UInt16 = 0x304, mtvec: UInt16 = 0x305
    public static let mcounteren: UInt16 = 0x306, menvcfg: UInt16 = 0x30A
    public static let mcountinhibit: UInt16 = 0x320
    public static let mscratch: UInt16 = 0x340, mepc: UInt16 = 0x341, mcause: UInt16 = 0x342
    public static let mtval: UInt16 = 0x343, mip: UInt16 = 0x344
    public static let pmpcfg0: UInt16 = 0x3A0, pmpaddr0: UInt16 = 0x3B0
    public static let mcycle: UInt16 = 0xB00, minstret: UInt16 = 0xB02

    /// RV64 with I, M, A, F, D, C, H, S and U. Read-only: H cannot be turned off (privileged
    /// spec 8 only encourages a writable misa.H).
    public static let misaValue: UInt64 = (2 << 62) | 0x1411AD
}

extension Hart {
    /// Raises illegal-instruction unless the CSR exists, the privilege suffices, and (for writes)
    /// it is not read-only (privileged spec 2.1). With V=1, an access HS-mode could make raises
    /// virtual-instruction instead (privileged spec 8.6.1): the CSR number of an H or VS CSR from
    /// VS or VU, an S CSR from VU, and the counter, satp (VTVM) cases below. FS gating stays
    /// illegal-instruction in every mode.
    func checkCSRAccess(_ csr: UInt16, write: Bool) throws(Exception) {
        // Bits 9:8 give the lowest level that may access it: U, S, H (HS-mode, so S), M.
        let level = (csr >> 8) & 3
        if write && (csr >> 10) == 3 { throw Exception(.illegalInstruction) }
        guard Self.implemented(csr) || (CSR.fflags...CSR.fcsr).contains(csr) else {
            throw Exception(.illegalInstruction)
        }
        if level == 3 && privilege != .machine { throw Exception(.illegalInstruction) }
        if level != 0 && privilege == .user && !virtualized { throw Exception(.illegalInstruction) }
        switch csr {
        case CSR.fflags, CSR.frm, CSR.fcsr:
            if !floatingPointEnabled { throw Exception(.illegalInstruction) }
        case 0xC00...0xC1F:
            // Counter access below M-mode is gated by mcounteren, then (V=1) hcounteren, then
            // (U and VU) scounteren (privileged spec 3.1.11, 4.1.5, 8.2.6).
            let bit = UInt64(1) << UInt64(csr - 0xC00)
            if privilege < .machine && mcounteren & bit == 0 { throw Exception(.illegalInstruction) }
            if virtualized && hyp.hcounteren & bit == 0 { throw Exception(.virtualInstruction) }
            if privilege == .user && scounteren & bit == 0 {
                throw Exception(virtualized ? .virtualInstruction : .illegalInstruction)
            }
        case CSR.satp:
            if virtualized {
                if privilege == .supervisor && hyp.hstatus & Hstatus.vtvm != 0 { throw Exception(.virtualInstruction) }
            } else if privilege == .supervisor && mstatus & Mstatus.tvm != 0 {
                throw Exception(.illegalInstruction)
            }
        case CSR.hgatp:
            if !virtualized && privilege == .supervisor && mstatus & Mstatus.tvm != 0 {
                throw Exception(.illegalInstruction)
            }
        default:
            break
        }
        if virtualized && (level == 2 || (level == 1 && privilege == .user)) {
            throw Exception(.virtualInstruction)
        }
    }

    static func implemented(_ csr: UInt16) -> Bool {
        switch csr {
        case CSR.sstatus, CSR.sie, CSR.stvec, CSR.scounteren, CSR.senvcfg, CSR.sscratch, CSR.sepc,
             CSR.scause, CSR.stval, CSR.sip, CSR.satp,
             CSR.mvendorid, CSR.marchid, CSR.mimpid, CSR.mhartid, CSR.mconfigptr,
             CSR.mstatus, CSR.misa, CSR.medeleg, CSR.mideleg, CSR.mie, CSR.mtvec, CSR.mcounteren,
             CSR.menvcfg, CSR.mcountinhibit, CSR.mscratch, CSR.mepc, CSR.mcause, CSR.mtval, CSR.mip:
            return true
        case 0x3A0...0x3AF: return csr & 1 == 0   // pmpcfg0..14 (odd ones do not exist on RV64)
        case 0x3B0...0x3EF: return true           // pmpaddr0..63
        case 0xB00...0xB1F, 0xC00...0xC1F: return csr != 0xB01 // mcycle, minstret, mhpmcounterN (no mtime)
        case 0x323...0x33F: return true           // mhpmevent3..31
        default: return implementedByHypervisorExtension(csr)
        }
    }

    func readCSR(_ csr: UInt16) -> UInt64 {
        switch csr {
        case CSR.fflags: return UInt64(fflags)
        case CSR.frm: return UInt64(frm)
        case CSR.fcsr: return UInt64(frm) << 5 | UInt64(fflags)
        case CSR.cycle, CSR.mcycle: return instret &+ retiredInSlice &- cycleOffset
        case CSR.instret, CSR.minstret: return instret &+ retiredInSlice &- instretOffset
        // VS-mode and VU-mode read time + htimedelta (privileged spec 8.2.7).
        case CSR.time: return virtualized ? timer.mtime &+ hyp.htimedelta : timer.mtime
        case CSR.sstatus: return statusWithSD & Mstatus.supervisorView
        case CSR.sie: return mie & mideleg
        case CSR.stvec: return stvec
        case CSR.scounteren: return scounteren
        case CSR.senvcfg: return senvcfg
        case CSR.sscratch: return sscratch
        case CSR.sepc: return sepc
        case CSR.scause: return scause
        case CSR.stval: return stval
        case CSR.sip: return mip & mideleg
        case CSR.satp: return satp
        case CSR.mvendorid, CSR.marchid, CSR.mimpid, CSR.mconfigptr: return 0
        case CSR.mhartid: return UInt64(id)
        case CSR.mstatus: return statusWithSD
        case CSR.misa: return CSR.misaValue
        case CSR.medeleg: return medeleg
        case CSR.mideleg: return mideleg | Delegation.virtualSupervisorInterrupts
        case CSR.mie: return mie
        case CSR.mtvec: return mtvec
        case CSR.mcounteren: return mcounteren
        case CSR.menvcfg: return menvcfg
        case CSR.mcountinhibit: return mcountinhibit
        case CSR.mscratch: return mscratch
        case CSR.mepc: return mepc
        case CSR.mcause: return mcause
        case CSR.mtval: return mtval
        case CSR.mip: return mip
        case 0x3A0: return pmpcfg.0
        case 0x3A2: return pmpcfg.1
        case 0x3B0...0x3BF: return pmpaddr[Int(csr - 0x3B0)]
        case 0x200...0x2FF, 0x600...0x6FF, CSR.mtinst, CSR.mtval2, CSR.hgeip: return readHypervisorCSR(csr)
        default: return 0 // hpm counters and events, unimplemented PMP entries: hardwired zero
        }
    }

    var statusWithSD: UInt64 {
        mstatus & Mstatus.fs == Mstatus.fsDirty ? mstatus | Mstatus.sd : mstatus
    }

    /// Writes a CSR after `checkCSRAccess`. WARL fields keep legal values only.
    func writeCSR(_ csr: UInt16, _ value: UInt64) {
        switch csr {
        case CSR.fflags: fflags = UInt32(value & 0x1f); markFloatingPointDirty()
        case CSR.frm: frm = UInt8(value & 7); markFloatingPointDirty()
        case CSR.fcsr:
            fflags = UInt32(value & 0x1f); frm = UInt8((value >> 5) & 7); markFloatingPointDirty()
        // The write replaces the writing instruction's own increment (Zicsr, "CSR access
        // ordering"), and `instret` is bumped after the instruction: hence the + 1.
        case CSR.mcycle: cycleOffset = instret &+ retiredInSlice &+ 1 &- value
        case CSR.minstret: instretOffset = instret &+ retiredInSlice &+ 1 &- value
        case CSR.sstatus:
            writeStatus((mstatus & ~Mstatus.supervisorWritable) | (value & Mstatus.supervisorWritable))
        case CSR.sie: mie = (mie & ~mideleg) | (value & mideleg); sliceBreak = true
        case CSR.stvec: stvec = legalTvec(value)
        case CSR.scounteren: scounteren = value & 0xffff_ffff
        case CSR.senvcfg: senvcfg = value & 1
        case CSR.sscratch: sscratch = value
        case CSR.sepc: sepc = value & ~1
        case CSR.scause: scause = value
        case CSR.stval: stval = value
        case CSR.sip:
            let writable = mideleg & InterruptLines.supervisorSoftware
            mipSoftware = (mipSoftware & ~writable) | (value & writable)
            sliceBreak = true
        case CSR.satp: writeSatp(value)
        case CSR.mstatus: writeStatus((mstatus & ~Mstatus.writable) | (value & Mstatus.writable))
        case CSR.medeleg: medeleg = value & Delegation.medelegWritable
        case CSR.mideleg: mideleg = value & Delegation.midelegWritable; sliceBreak = true
        case CSR.mie: mie = value & Self.machineEnableWritable; sliceBreak = true
        case CSR.mtvec: mtvec = legalTvec(value)
        case CSR.mcounteren: mcounteren = value & 0xffff_ffff
        case CSR.menvcfg: menvcfg = value & 1
        case CSR.mcountinhibit: mcountinhibit = value & 0xffff_fffd
        case CSR.mscratch: mscratch = value
        case CSR.mepc: mepc = value & ~1
        case CSR.mcause: mcause = value
        case CSR.mtval: mtval = value
        case CSR.mip:
            // SSIP, STIP, SEIP, and VSSIP (an alias of hip.VSSIP, privileged spec 8.4.3).
            let writable: UInt64 = 0x222 | InterruptLines.virtualSupervisorSoftware
            mipSoftware = (mipSoftware & ~writable) | (value & writable)
            sliceBreak = true
        case 0x3A0: pmpcfg.0 = legalPMPConfig(value, old: pmpcfg.0); pmpChanged()
        case 0x3A2: pmpcfg.1 = legalPMPConfig(value, old: pmpcfg.1); pmpChanged()
        case 0x3B0...0x3BF:
            let i = Int(csr - 0x3B0)
            if !pmpAddressLocked(i) { pmpaddr[i] = value & ((1 << 54) - 1); pmpChanged() }
        case 0x200...0x2FF, 0x600...0x6FF, CSR.mtinst, CSR.mtval2: writeHypervisorCSR(csr, value)
        default: break // read-only zero: hpm counters and events, PMP entries past 16
        }
    }

    func legalTvec(_ value: UInt64) -> UInt64 {
        // MODE 0 (direct) and 1 (vectored); reserved modes fall back to direct.
        value & 3 >= 2 ? value & ~3 : value
    }

    func writeStatus(_ value: UInt64) {
        var v = value
        // MPP is WARL: the reserved encoding 2 becomes U.
        if (v >> Mstatus.mppShift) & 3 == 2 { v &= ~Mstatus.mpp }
        let changed = mstatus ^ v
        mstatus = v
        if changed & (Mstatus.sum | Mstatus.mxr) != 0 {
            tlb.flushAll()
            invalidateFetchShortcut()
        }
        if changed & (Mstatus.mprv | Mstatus.mpp | Mstatus.mpv) != 0 { updateDataPrivilege() }
        if changed & (Mstatus.mie | Mstatus.sie) != 0 { sliceBreak = true }
    }

    func writeSatp(_ value: UInt64) {
        // Writes of an unsupported MODE (Sv57 and above) have no effect at all (privileged spec
        // 4.1.11): that is how Linux learns that Sv57 is absent.
        guard SatpMode(rawValue: value >> 60) != nil else { return }
        // ASIDs: 16 bits kept; every satp write flushes the TLB anyway.
        satp = value & ((0xF << 60) | (0xFFFF << 44) | PTE.ppnMask)
        flushTranslations()
    }

    /// PMP configuration bytes are WARL: locked entries keep their byte; W without R is reserved.
    func legalPMPConfig(_ value: UInt64, old: UInt64) -> UInt64 {
        var result: UInt64 = 0
        for byte in 0..<8 {
            let shift = UInt64(byte * 8)
            let oldByte = (old >> shift) & 0xff
            var newByte = (value >> shift) & 0x9f
            if oldByte & 0x80 != 0 { newByte = oldByte }
            if newByte & 0x3 == 0x2 { newByte &= ~0x3 }
            result |= newByte << shift
        }
        return result
    }

    /// pmpaddr[i] is locked by its own entry, and by entry i + 1 when that is a locked TOR
    /// entry, whose range starts at pmpaddr[i] (privileged spec 3.7.1.2).
    func pmpAddressLocked(_ i: Int) -> Bool {
        if pmpEntryLocked(i) { return true }
        guard i + 1 < 16 else { return false }
        let next = (i + 1 < 8 ? pmpcfg.0 : pmpcfg.1) >> UInt64(((i + 1) % 8) * 8)
        return next & 0x80 != 0 && (next >> 3) & 3 == 1
    }

    func pmpEntryLocked(_ i: Int) -> Bool {
        let cfg = i < 8 ? pmpcfg.0 : pmpcfg.1
        return (cfg >> UInt64((i % 8) * 8)) & 0x80 != 0
    }

    /// Executes one Zicsr instruction. Reads have no side effects here, so csrrw with rd = x0
    /// differs only in skipping the read; csrrs/csrrc with rs1 = x0 (or a zero immediate) skip the write.
    @inline(__always)
    func executeCSR(_ d: DecodedInstruction) throws(Exception) {
        let csr = UInt16(truncatingIfNeeded: d.imm)
        let operand: UInt64
        let writes: Bool
        switch d.op {
        case .csrrw: operand = x[Int(d.rs1)]; writes = true
        case .csrrwi: operand = UInt64(d.rs1); writes = true
        case .csrrs, .csrrc: operand = x[Int(d.rs1)]; writes = d.rs1 != 0
        default: operand = UInt64(d.rs1); writes = d.rs1 != 0
        }
        try checkCSRAccess(csr, write: writes)
        // With V=1 the S CSR numbers reach the VS CSRs (privileged spec 8.2).
        let target = virtualized ? CSR.virtualSupervisorAlias(csr) : csr
        let old = readCSR(target)
        if writes {
            // mip.SEIP reads as software bit | external line, but only the software bits take
            // part in a read-modify-write, or a csrs of STIP would latch the line (spec 3.1.9).
            let modified = target == CSR.mip ? mipSoftware : old
            let new: UInt64
            switch d.op {
            case .csrrw, .csrrwi: new = operand
            case .csrrs, .csrrsi: new = modified | operand
            default: new = modified & ~operand
            }
            writeCSR(target, new)
        }
        x[Int(d.rd)] = old
        pc &+= UInt64(d.length)
    }
}
