import RISCV

/// What the machine needs from any VMM technique: start a virtual CPU (at boot and through SBI
/// HSM hart_start) and report what the technique cost.
public protocol VirtualMachineMonitor: AnyObject {
    /// Starts `hart` as a virtual CPU in the guest's S-mode at `entry` with a0 and a1 set, as the
    /// SBI boot protocol says: the hart ID and an opaque value (the device tree at boot).
    func start(_ hart: Hart, at entry: UInt64, a0: UInt64, a1: UInt64)
    func statistics() -> VMMStatistics
}
