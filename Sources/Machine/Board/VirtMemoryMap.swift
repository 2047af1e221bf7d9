/// QEMU `virt` board addresses (hw/riscv/virt.c), so firmware and kernels built for it run unmodified.
public enum VirtMemoryMap {
    public static let test: UInt64 = 0x0010_0000          // sifive,test0 / syscon: poweroff, reboot
    public static let testSize: UInt64 = 0x1000
    public static let clint: UInt64 = 0x0200_0000
    public static let clintSize: UInt64 = 0x1_0000
    public static let plic: UInt64 = 0x0C00_0000
    public static let plicSize: UInt64 = 0x60_0000
    public static let uart0: UInt64 = 0x1000_0000
    public static let uart0Size: UInt64 = 0x100
    public static let uart0IRQ = 10
    public static let virtio: UInt64 = 0x1000_1000
    public static let virtioSize: UInt64 = 0x1000
    public static let virtioCount = 8
    public static let virtioFirstIRQ = 1
    public static let dram: UInt64 = 0x8000_0000
    /// Number of PLIC interrupt sources QEMU's virt board declares (riscv,ndev).
    public static let plicSources = 95
    /// Timebase: mtime ticks at 10 MHz, as on QEMU's virt board.
    public static let timebaseFrequency: UInt64 = 10_000_000
}
