import RISCV

/// The guest's supervisor CSRs as the guest sees them, kept by the VMM while the guest really
/// runs in U-mode (privileged spec chapter 4). sstatus.FS is not here: it lives in the real
/// mstatus, so FP instructions trap exactly when the guest turned its FPU off.
struct VirtualSupervisorState {
    /// The privilege the guest believes it runs at: S (its kernel) or U (its processes).
    var mode: Privilege = .supervisor
    /// SIE, SPIE, SPP, SUM and MXR.
    var sstatus: UInt64 = 0
    var sie: UInt64 = 0
    var stvec: UInt64 = 0
    var sscratch: UInt64 = 0
    var sepc: UInt64 = 0
    var scause: UInt64 = 0
    var stval: UInt64 = 0
    var satp: UInt64 = 0
    var scounteren: UInt64 = 0
    var senvcfg: UInt64 = 0

    var interruptsEnabled: Bool { mode == .user || sstatus & Mstatus.sie != 0 }
    var sum: Bool { sstatus & Mstatus.sum != 0 }
    var mxr: Bool { sstatus & Mstatus.mxr != 0 }
}

/// The sstatus bits the VMM keeps in the virtual CPU (privileged spec 4.1.1); the bits
/// themselves are the hart's `Mstatus`.
enum VirtualStatus {
    /// SIE, SPIE, SPP, SUM, MXR: FS stays in the real mstatus.
    static let kept: UInt64 = Mstatus.supervisorWritable & ~Mstatus.fs
    static let fsShift: UInt64 = 13
    /// UXL = 2: U-mode is 64-bit.
    static let uxl64: UInt64 = 2 << 32
}

/// The supervisor-level interrupt bits: SSIP/SSIE, STIP/STIE, SEIP/SEIE.
enum SupervisorInterrupts {
    static let all: UInt64 = 0x222
    static let software: UInt64 = 1 << 1
}
