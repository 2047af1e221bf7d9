import GuestMemory
import RISCV

/// Where the images go in guest RAM, following QEMU's virt board (hw/riscv/boot.c) so that
/// firmware built for it (OpenSBI fw_jump expects the kernel at 0x8020_0000) works unchanged.
public struct BootLayout: Sendable {
    /// M-mode firmware, when one was given.
    public var firmware: LoadedImage?
    public var kernel: LoadedImage?
    public var kernelEntry: UInt64
    public var initrd: (start: UInt64, end: UInt64)?
    /// Guest-physical address of the device tree (passed in a1).
    public var deviceTree: UInt64
    /// OpenSBI fw_dynamic_info (passed in a2; fw_jump ignores it).
    public var dynamicInfo: UInt64

    /// The kernel's load address: 2 MiB above RAM's start, where OpenSBI's fw_jump jumps.
    static let kernelOffset: UInt64 = 0x20_0000

    static func load(config: VMConfig, memory: GuestMemory) throws -> BootLayout {
        var firmware: LoadedImage?
        if let path = config.firmwarePath {
            firmware = try loadFirmware(path: path, memory: memory)
        }
        var kernel: LoadedImage?
        let kernelAddress = memory.base + kernelOffset
        if let path = config.kernelPath {
            kernel = try loadKernel(path: path, memory: memory, loadAddress: kernelAddress)
        }
        if firmware == nil && kernel == nil {
            throw MachineError.placement("nothing to boot: pass --kernel PATH or --firmware PATH")
        }
        let kernelEntry = kernel?.entry ?? kernelAddress
        let kernelEnd = kernel?.end ?? kernelAddress

        let tree = DeviceTreeParameters(memoryBase: memory.base, memorySize: memory.size,
                                        hartCount: config.hartCount, bootargs: config.commandLine,
                                        initrd: nil)
        // The tree is built twice when there is an initrd: its size barely depends on the
        // initrd's two numbers, and the FDT goes at the top of RAM, below 3 GiB as QEMU does.
        let estimate = UInt64(makeVirtDeviceTree(tree).count) + 4096
        let top = min(memory.end, 0xC000_0000)
        let fdtAddress = (top - estimate) & ~(0x20_0000 - 1)
        let dynamicInfo = fdtAddress - 0x1000

        var initrd: (start: UInt64, end: UInt64)?
        if let path = config.initrdPath {
            // Far enough above the kernel that decompression and early allocations do not hit it:
            // 128 MiB on large boards, half of RAM on small ones (QEMU's rule).
            let base = kernel?.entry ?? kernelAddress
            var start = base + min(memory.size / 2, 128 << 20)
            start = max(start, (kernelEnd + 0xFFFF) & ~0xFFFF)
            initrd = try loadInitrd(path: path, memory: memory, at: start)
            if let range = initrd, range.end > dynamicInfo {
                throw MachineError.placement("\(path): the initrd (\(range.end - range.start) bytes) does not fit below the device tree; give the VM more --memory")
            }
        }
        var parameters = tree
        parameters.initrd = initrd
        let blob = makeVirtDeviceTree(parameters)
        try memory.copyIn(blob, at: fdtAddress, what: "device tree")
        try writeDynamicInfo(memory: memory, at: dynamicInfo, next: kernelEntry)
        return BootLayout(firmware: firmware, kernel: kernel, kernelEntry: kernelEntry, initrd: initrd,
                          deviceTree: fdtAddress, dynamicInfo: dynamicInfo)
    }

    /// struct fw_dynamic_info (OpenSBI include/sbi/fw_dynamic.h, version 2): magic, version,
    /// next_addr, next_mode (1 = S-mode), options, boot_hart (-1: any hart may boot).
    static func writeDynamicInfo(memory: GuestMemory, at address: UInt64, next: UInt64) throws {
        let words: [UInt64] = [0x4942_534F, 2, next, 1, 0, UInt64.max]
        var bytes: [UInt8] = []
        for w in words { withUnsafeBytes(of: w.littleEndian) { bytes += $0 } }
        try memory.copyIn(bytes, at: address, what: "firmware dynamic info")
    }
}
