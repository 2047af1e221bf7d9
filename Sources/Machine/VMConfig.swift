/// Everything needed to assemble one VM. The CLI fills it; `Machine` validates and wires it.
public struct VMConfig: Sendable {
    /// Kernel image (RISC-V Linux `Image`, ELF or raw binary), started in S-mode under the built-in SBI
    /// or handed to `firmware` as its next stage.
    public var kernelPath: String?
    /// Initial ramdisk, placed in RAM and named in the device tree.
    public var initrdPath: String?
    /// Kernel command line (`/chosen/bootargs`).
    public var commandLine: String
    /// RAM size in bytes.
    public var memorySize: UInt64
    /// Number of harts.
    public var hartCount: Int
    /// M-mode firmware (raw binary or ELF), like QEMU's `-bios`. Nil selects the built-in SBI.
    public var firmwarePath: String?

    public init(kernelPath: String? = nil, initrdPath: String? = nil, commandLine: String = "",
                memorySize: UInt64 = 512 << 20, hartCount: Int = 1, firmwarePath: String? = nil) {
        self.kernelPath = kernelPath
        self.initrdPath = initrdPath
        self.commandLine = commandLine
        self.memorySize = memorySize
        self.hartCount = hartCount
        self.firmwarePath = firmwarePath
    }
}
