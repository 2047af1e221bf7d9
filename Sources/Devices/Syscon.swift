/// The "finisher" at 0x0010_0000 on QEMU's virt board (hw/misc/sifive_test.c, compatible
/// "sifive,test0"): one 32-bit register whose low 16 bits are a command and high 16 bits a code.
///
/// Linux reaches it through the generic syscon-poweroff / syscon-reboot drivers (the device tree
/// names the values 0x5555 and 0x7777); OpenSBI and bare-metal tests write it directly.
public final class Syscon: MMIODevice {
    public let name = "syscon"

    private enum Command: UInt64 {
        case fail = 0x3333      // exit with the code in bits 31:16
        case pass = 0x5555      // power off
        case reset = 0x7777     // reboot
    }

    private let power: PowerControl

    public init(power: PowerControl) {
        self.power = power
    }

    /// The register is write-only; reads return 0, as on QEMU.
    public func read(offset: UInt64, size: Int) -> UInt64 { 0 }

    public func write(offset: UInt64, size: Int, value: UInt64) {
        // QEMU accepts 2- and 4-byte accesses to offset 0 only; anything else is a no-op.
        guard offset == 0, size == 4 || size == 2 else { return }
        guard let command = Command(rawValue: value & 0xFFFF) else { return }
        switch command {
        case .fail: power.request(.fail(code: UInt16(truncatingIfNeeded: value >> 16)))
        case .pass: power.request(.poweroff)
        case .reset: power.request(.reboot)
        }
    }
}
