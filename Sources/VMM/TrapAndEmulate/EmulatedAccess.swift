import RISCV

/// Device accesses: the shadow never maps MMIO, so every one exits and is performed here.
extension TrapAndEmulateVMM {
    /// An integer load or store to a device. Anything else aimed at a device (an AMO, an FP
    /// access, an address no device answers) gets an access fault, as on the real board.
    func emulateDeviceAccess(_ vcpu: VirtualCPU, physical pa: UInt64, access: AccessType, faultVA: UInt64) {
        guard let d = fetchInstruction(vcpu) else { return }
        guard MemoryOperation.performDeviceAccess(d, at: pa, isStore: access == .store, on: vcpu.hart, bus: bus) else {
            count(.reflectedException)
            return reflect(vcpu, cause: access.accessFaultCause, tval: faultVA)
        }
        count(.mmio)
        // The device may have raised or lowered an interrupt line.
        updateInterruptEnables(vcpu)
    }
}
