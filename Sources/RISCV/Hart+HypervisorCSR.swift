import Devices

/// Reads and writes of the hypervisor and virtual-supervisor CSRs by their own numbers
/// (privileged spec 8.2, 8.4). With V=1 the S CSR numbers reach the VS CSRs here too, through
/// `CSR.virtualSupervisorAlias` in `executeCSR`; the access rules are in `checkCSRAccess`.
extension Hart {
    /// mie's writable bits: the M and S enables, and VSSIE/VSTIE/VSEIE (aliases of hie's).
    /// SGEIE is read-only zero, since no guest external interrupt can become pending (GEILEN = 0).
    static let machineEnableWritable: UInt64 = 0xAAA | Delegation.virtualSupervisorInterrupts

    static func implementedByHypervisorExtension(_ csr: UInt16) -> Bool {
        switch csr {
        case CSR.hstatus, CSR.hedeleg, CSR.hideleg, CSR.hie, CSR.htimedelta, CSR.hcounteren, CSR.hgeie,
             CSR.henvcfg, CSR.htval, CSR.hip, CSR.hvip, CSR.htinst, CSR.hgatp, CSR.hgeip,
             CSR.vsstatus, CSR.vsie, CSR.vstvec, CSR.vsscratch, CSR.vsepc, CSR.vscause, CSR.vstval,
             CSR.vsip, CSR.vsatp, CSR.mtinst, CSR.mtval2:
            return true
        default:
            return false
        }
    }

    func readHypervisorCSR(_ csr: UInt16) -> UInt64 {
        let vsBits = Delegation.virtualSupervisorInterrupts
        switch csr {
        case CSR.hstatus: return hyp.hstatus
        case CSR.hedeleg: return hyp.hedeleg
        case CSR.hideleg: return hyp.hideleg
        // hie/hip hold the VS-level bits of mie/mip; hvip is the software-written part of them
        // (8.2.3). VSEIP and VSTIP have no other source here (GEILEN = 0, no Sstc).
        case CSR.hie: return mie & vsBits
        case CSR.hip: return mip & vsBits
        case CSR.hvip: return mipSoftware & vsBits
        case CSR.htimedelta: return hyp.htimedelta
        case CSR.hcounteren: return hyp.hcounteren
        case CSR.henvcfg: return hyp.henvcfg
        case CSR.htval: return hyp.htval
        case CSR.htinst: return hyp.htinst
        case CSR.hgatp: return hyp.hgatp
        case CSR.vsstatus:
            let s = hyp.vsstatus
            return s & Mstatus.fs == Mstatus.fsDirty ? s | Mstatus.sd : s
        // vsie/vsip show hie/hip's VS bits that hideleg delegates, one position down (8.2.12).
        case CSR.vsie: return (mie & hyp.hideleg & vsBits) >> 1
        case CSR.vsip: return (mip & hyp.hideleg & vsBits) >> 1
        case CSR.vstvec: return hyp.vstvec
        case CSR.vsscratch: return hyp.vsscratch
        case CSR.vsepc: return hyp.vsepc
        case CSR.vscause: return hyp.vscause
        case CSR.vstval: return hyp.vstval
        case CSR.vsatp: return hyp.vsatp
        case CSR.mtinst: return hyp.mtinst
        case CSR.mtval2: return hyp.mtval2
        default: return 0 // hgeie, hgeip: GEILEN = 0
        }
    }

    func writeHypervisorCSR(_ csr: UInt16, _ value: UInt64) {
        let vsBits = Delegation.virtualSupervisorInterrupts
        switch csr {
        case CSR.hstatus: hyp.hstatus = Hstatus.vsxl64 | (value & Hstatus.writable)
        case CSR.hedeleg: hyp.hedeleg = value & Delegation.hedelegWritable
        case CSR.hideleg: hyp.hideleg = value & vsBits; sliceBreak = true
        case CSR.hie: mie = (mie & ~vsBits) | (value & vsBits); sliceBreak = true
        case CSR.hip:
            // Only VSSIP is writable in hip (an alias of hvip.VSSIP).
            let ssip = InterruptLines.virtualSupervisorSoftware
            mipSoftware = (mipSoftware & ~ssip) | (value & ssip)
            sliceBreak = true
        case CSR.hvip: mipSoftware = (mipSoftware & ~vsBits) | (value & vsBits); sliceBreak = true
        case CSR.htimedelta: hyp.htimedelta = value
        case CSR.hcounteren: hyp.hcounteren = value & 0xffff_ffff
        case CSR.henvcfg: hyp.henvcfg = value & 1  // FIOM; no Svpbmt, Sstc or Zicbo* fields
        case CSR.htval: hyp.htval = value
        case CSR.htinst: hyp.htinst = value
        case CSR.hgatp: writeHgatp(value)
        case CSR.vsstatus: writeVirtualSupervisorStatus(value)
        case CSR.vsie:
            let writable = hyp.hideleg & vsBits
            mie = (mie & ~writable) | ((value << 1) & writable)
            sliceBreak = true
        case CSR.vsip:
            // vsip.SSIP aliases hip.VSSIP; STIP and SEIP alias read-only bits of hip.
            let writable = hyp.hideleg & InterruptLines.virtualSupervisorSoftware
            mipSoftware = (mipSoftware & ~writable) | ((value << 1) & writable)
            sliceBreak = true
        case CSR.vstvec: hyp.vstvec = legalTvec(value)
        case CSR.vsscratch: hyp.vsscratch = value
        case CSR.vsepc: hyp.vsepc = value & ~1
        case CSR.vscause: hyp.vscause = value
        case CSR.vstval: hyp.vstval = value
        case CSR.vsatp: writeVsatp(value)
        case CSR.mtinst: hyp.mtinst = value
        case CSR.mtval2: hyp.mtval2 = value
        default: break // hgeie: GEILEN = 0, so read-only zero
        }
    }

    func writeVirtualSupervisorStatus(_ value: UInt64) {
        let new = Hstatus.vsstatusUXL | (value & Mstatus.supervisorWritable)
        let changed = hyp.vsstatus ^ new
        hyp.vsstatus = new
        // SUM and MXR change what VS-stage translations allow; SIE may unmask a VS interrupt.
        if changed & (Mstatus.sum | Mstatus.mxr) != 0 { flushGuestTranslations() }
        if changed & Mstatus.sie != 0 { sliceBreak = true }
    }

    /// vsatp is written like satp: an unsupported MODE makes the write have no effect (8.2.18).
    func writeVsatp(_ value: UInt64) {
        guard SatpMode(rawValue: value >> 60) != nil else { return }
        hyp.vsatp = value & ((0xF << 60) | (0xFFFF << 44) | PTE.ppnMask)
        flushGuestTranslations()
    }

    /// hgatp's fields are WARL (8.2.10): an unsupported MODE keeps the old one; VMID has 14 bits;
    /// PPN[1:0] read as zero. The soft TLB is not tagged by VMID, so a change flushes V=1 entries.
    func writeHgatp(_ value: UInt64) {
        let mode = GuestTranslationMode(rawValue: value >> 60)?.rawValue ?? hyp.hgatp >> 60
        let new = mode << 60 | (value & (0x3FFF << 44)) | (value & PTE.ppnMask & ~3)
        guard new != hyp.hgatp else { return }
        hyp.hgatp = new
        flushGuestTranslations()
    }

    var guestTranslationMode: GuestTranslationMode { GuestTranslationMode(rawValue: hyp.hgatp >> 60) ?? .bare }
}

extension InterruptLines {
    /// The VS-level interrupt-pending bits of mip/hip (privileged spec 8.2.3). No device drives
    /// them on this board: they come from hvip.
    static let virtualSupervisorSoftware: UInt64 = 1 << 2
    static let virtualSupervisorTimer: UInt64 = 1 << 6
    static let virtualSupervisorExternal: UInt64 = 1 << 10
}
