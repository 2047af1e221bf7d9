import RISCV

/// The guest kernel's CSR accesses, emulated against the virtual supervisor state (privileged
/// spec 4.1). M-mode CSRs and CSRs that do not exist raise illegal instruction in the guest,
/// as they would on a real S-mode.
extension TrapAndEmulateVMM {
    /// The value a guest CSR read returns, or nil if S-mode cannot access the CSR.
    func readVirtualCSR(_ vcpu: VirtualCPU, _ csr: UInt16) -> UInt64? {
        let s = vcpu.state
        let hart = vcpu.hart
        switch csr {
        case CSR.sstatus:
            let fs = hart.floatingPointState
            return s.sstatus | fs << VirtualStatus.fsShift | VirtualStatus.uxl64 | (fs == 3 ? Mstatus.sd : 0)
        case CSR.sie: return s.sie
        case CSR.sip: return hart.interruptPending & SupervisorInterrupts.all
        case CSR.stvec: return s.stvec
        case CSR.scounteren: return s.scounteren
        case CSR.senvcfg: return s.senvcfg
        case CSR.sscratch: return s.sscratch
        case CSR.sepc: return s.sepc
        case CSR.scause: return s.scause
        case CSR.stval: return s.stval
        case CSR.satp: return s.satp
        // The guest kernel reads counters without trapping (the VMM enables them); these only
        // arrive here from an instruction the hart refused for another reason.
        case CSR.time: return hart.timer.mtime
        case CSR.cycle, CSR.instret: return hart.instret
        default: return nil
        }
    }

    /// Writes a guest CSR. Returns false when the write is illegal (read-only or unknown CSR).
    func writeVirtualCSR(_ vcpu: VirtualCPU, _ csr: UInt16, _ value: UInt64) -> Bool {
        let hart = vcpu.hart
        switch csr {
        case CSR.sstatus:
            let old = vcpu.state.sstatus
            let new = value & VirtualStatus.kept
            vcpu.state.sstatus = new
            hart.floatingPointState = (value >> VirtualStatus.fsShift) & 3
            if (old ^ new) & Mstatus.mxr != 0 {
                // MXR changes what every supervisor shadow may read: start over.
                resetShadows()
            }
            if (old ^ new) & Mstatus.sum != 0 { enterMode(vcpu) }
            updateInterruptEnables(vcpu)
        case CSR.sie:
            vcpu.state.sie = value & SupervisorInterrupts.all
            updateInterruptEnables(vcpu)
        case CSR.sip:
            // Only SSIP is writable from S-mode; STIP and SEIP come from the timer and the PLIC.
            hart.setSupervisorSoftwarePending(value & SupervisorInterrupts.software != 0)
        case CSR.stvec: vcpu.state.stvec = value & 3 >= 2 ? value & ~3 : value
        case CSR.scounteren: vcpu.state.scounteren = value & 0xffff_ffff
        case CSR.senvcfg: vcpu.state.senvcfg = value & 1
        case CSR.sscratch: vcpu.state.sscratch = value
        case CSR.sepc: vcpu.state.sepc = value & ~1
        case CSR.scause: vcpu.state.scause = value
        case CSR.stval: vcpu.state.stval = value
        case CSR.satp:
            // A write of an unsupported mode has no effect (privileged spec 4.1.11), which is how
            // Linux probes for Sv57. The root switch selects (or builds) the shadow.
            guard let levels = GuestPageWalker.levels(satp: value) else { return true }
            _ = levels
            vcpu.state.satp = value & ((0xF << 60) | (0xFFFF << 44) | PageTableEntry.ppnMask)
            // Linux enters a new address space (a fresh ASID) without a fence.
            shadow.resyncAll()
            enterMode(vcpu)
        default:
            return false
        }
        return true
    }

    /// csrrw/csrrs/csrrc and their immediate forms on a guest CSR, as Zicsr defines them:
    /// csrrs/csrrc with x0 (or a zero immediate) do not write, csrrw with rd = x0 does not read.
    func emulateCSRInstruction(_ vcpu: VirtualCPU, _ d: DecodedInstruction) {
        let hart = vcpu.hart
        let csr = UInt16(truncatingIfNeeded: d.imm) & 0xfff
        let operand: UInt64
        let writes: Bool
        switch d.op {
        case .csrrw: operand = hart.register(Int(d.rs1)); writes = true
        case .csrrwi: operand = UInt64(d.rs1); writes = true
        case .csrrs, .csrrc: operand = hart.register(Int(d.rs1)); writes = d.rs1 != 0
        default: operand = UInt64(d.rs1); writes = d.rs1 != 0
        }
        // CSRs above S-mode, and writes to read-only ones, are illegal (privileged spec 2.1).
        guard (csr >> 8) & 3 <= 1, !(writes && csr >> 10 == 3), let old = readVirtualCSR(vcpu, csr) else {
            count(.reflectedException)
            reflect(vcpu, cause: ExceptionCause.illegalInstruction.rawValue, tval: 0)
            return
        }
        count(.csrAccess)
        accounting.countCSR(csr)
        hart.pc &+= UInt64(d.length)
        if writes {
            let new: UInt64
            switch d.op {
            case .csrrw, .csrrwi: new = operand
            case .csrrs, .csrrsi: new = (csr == CSR.sip ? old & SupervisorInterrupts.software : old) | operand
            default: new = (csr == CSR.sip ? old & SupervisorInterrupts.software : old) & ~operand
            }
            _ = writeVirtualCSR(vcpu, csr, new)
        }
        hart.setRegister(Int(d.rd), old)
    }
}

/// CSR names for statistics.
enum CSRNames {
    static func name(_ csr: UInt16) -> String {
        switch csr {
        case CSR.sstatus: return "sstatus"
        case CSR.sie: return "sie"
        case CSR.sip: return "sip"
        case CSR.stvec: return "stvec"
        case CSR.scounteren: return "scounteren"
        case CSR.senvcfg: return "senvcfg"
        case CSR.sscratch: return "sscratch"
        case CSR.sepc: return "sepc"
        case CSR.scause: return "scause"
        case CSR.stval: return "stval"
        case CSR.satp: return "satp"
        case CSR.time: return "time"
        case CSR.cycle: return "cycle"
        case CSR.instret: return "instret"
        default: return "0x" + String(csr, radix: 16)
        }
    }
}
