import RISCV

/// Fetching and decoding the instruction that trapped, and emulating the privileged ones.
extension TrapAndEmulateVMM {
    /// The instruction at the guest's pc: the hart's decoded copy, or else fetched through the
    /// guest's own tables. Nil when the fetch faults; the fault has then been reflected.
    func fetchInstruction(_ vcpu: VirtualCPU) -> DecodedInstruction? {
        let pc = vcpu.hart.pc
        // The hart just fetched this instruction through the shadow, which mirrors the guest's
        // tables exactly (every page-table write is traced), so its decoded copy is the one.
        if let d = vcpu.hart.decodedInstruction(at: pc), d.op != .illegal { return d }
        guard let low: UInt16 = loadGuestVirtual(vcpu, pc, .fetch) else { return nil }
        if low & 3 != 3 { return Decoder.decodeCompressed(low) }
        guard let high: UInt16 = loadGuestVirtual(vcpu, pc &+ 2, .fetch) else { return nil }
        return Decoder.decode(UInt32(low) | UInt32(high) << 16)
    }

    /// Reads guest-virtual memory at the guest's current privilege, reflecting the guest's own
    /// fault if its tables say no.
    func loadGuestVirtual<T: FixedWidthInteger>(_ vcpu: VirtualCPU, _ va: UInt64, _ access: AccessType) -> T? {
        let s = vcpu.state
        switch shadow.walker.translate(va, access, satp: s.satp, mode: s.mode, sum: s.sum, mxr: s.mxr) {
        case .translated(let t):
            if let value: T = guestRAM.load(t.physical) { return value }
            reflect(vcpu, cause: access.accessFaultCause, tval: va)
        case .pageFault:
            reflect(vcpu, cause: access.pageFaultCause, tval: va)
        case .accessFault:
            reflect(vcpu, cause: access.accessFaultCause, tval: va)
        }
        return nil
    }

    /// An illegal-instruction trap from the guest kernel: a sensitive instruction to emulate,
    /// or a truly illegal one (or an FP instruction with the guest's FPU off) to reflect.
    func emulatePrivilegedInstruction(_ vcpu: VirtualCPU, tval: UInt64) {
        guard let d = fetchInstruction(vcpu) else { return }
        emulateSensitive(d, on: vcpu, tval: tval)
    }

    /// Emulates the guest kernel's sensitive instruction `d` at the hart's pc: after its trap
    /// (`--virt trap`), or called from translated code (`--virt bt`). Anything else is
    /// reflected as an illegal instruction with `tval`.
    func emulateSensitive(_ d: DecodedInstruction, on vcpu: VirtualCPU, tval: UInt64) {
        switch d.op {
        case .csrrw, .csrrs, .csrrc, .csrrwi, .csrrsi, .csrrci:
            emulateCSRInstruction(vcpu, d)
        case .sret:
            count(.sret)
            emulateSret(vcpu)
        case .wfi:
            count(.wfi)
            emulateWfi(vcpu)
        case .sfenceVMA:
            // The shadows follow every traced page-table write as it happens, and the VMM drops
            // the hart's cached translations of whatever shadow entry it changes; what is left
            // is to bring the unsynced leaf tables back in sync.
            count(.sfenceVMA)
            shadow.resyncAll()
            vcpu.hart.pc &+= 4
        case .ecall:
            // Reached only from bt callouts: the trap path sees an ecall as its own cause.
            count(.hypercall)
            hypercall(vcpu)
        default:
            count(.reflectedException)
            reflect(vcpu, cause: ExceptionCause.illegalInstruction.rawValue, tval: tval)
        }
    }
}
