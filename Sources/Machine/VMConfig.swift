import VMM

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
    /// virtio-blk disks, in the order the guest names them (vda, vdb, ...).
    public var disks: [DiskConfig]
    /// Which device is the guest's console: host input goes to it (`--console`).
    public var console: ConsoleDevice
    /// How the guest kernel runs: on the bare hart or under the VMM (`--virt`).
    public var virtualization: VirtualizationMode = .bare
    /// How the VMM virtualizes memory (`--mmu`); nil picks the technique's own: shadow page
    /// tables for trap-and-emulate, nested paging for hardware assist.
    public var memoryVirtualization: MemoryVirtualization?

    /// The memory technique in effect (nil on bare hardware).
    public var effectiveMemoryVirtualization: MemoryVirtualization? {
        switch virtualization {
        case .bare: return nil
        case .trap, .bt: return memoryVirtualization ?? .shadow
        case .hw: return memoryVirtualization ?? .nested
        }
    }
    /// virtio-net devices on host TAP interfaces, in the order the guest names them (eth0, eth1, ...).
    public var networks: [NetConfig] = []
    /// How harts execute guest code (`--exec`).
    public var execution: ExecutionMode = .jit
    /// Where devices do their host I/O (`--io`).
    public var deviceIO: DeviceIOMode = .thread

    public init(kernelPath: String? = nil, initrdPath: String? = nil, commandLine: String = "",
                memorySize: UInt64 = 512 << 20, hartCount: Int = 1, firmwarePath: String? = nil,
                disks: [DiskConfig] = [], console: ConsoleDevice = .uart) {
        self.kernelPath = kernelPath
        self.initrdPath = initrdPath
        self.commandLine = commandLine
        self.memorySize = memorySize
        self.hartCount = hartCount
        self.firmwarePath = firmwarePath
        self.disks = disks
        self.console = console
    }
}

/// The device the host console is attached to (`--console uart|virtio`). The UART exists either
/// way (firmware and earlycon print there); the choice says where host input goes and whether
/// the board has a virtio-console (Linux's hvc0).
public enum ConsoleDevice: String, CaseIterable, Sendable {
    case uart
    case virtio
}

/// One virtio-blk disk: a raw image file, `--disk PATH[,readonly]`.
public struct DiskConfig: Equatable, Sendable {
    public var path: String
    /// The guest sees a read-only disk (VIRTIO_BLK_F_RO) and the file is opened read-only.
    public var readOnly: Bool

    public init(path: String, readOnly: Bool = false) {
        self.path = path
        self.readOnly = readOnly
    }

    /// Parses `PATH[,readonly]`.
    public init(parsing text: String) throws(ConfigError) {
        var parts = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let path = parts.removeFirst()
        guard !path.isEmpty else { throw .diskOption(text, option: "") }
        var readOnly = false
        for option in parts {
            guard option == "readonly" else { throw .diskOption(text, option: option) }
            readOnly = true
        }
        self.init(path: path, readOnly: readOnly)
    }
}

/// How harts execute guest instructions (`--exec`): translated to x86-64 by the JIT, or by the
/// pre-decoded interpreter (the reference, and the fallback where executable memory is refused).
public enum ExecutionMode: String, CaseIterable, Sendable {
    case jit
    case interp
}

/// Where virtio devices do the host I/O of their requests (`--io`): on the I/O thread, while the
/// harts run on (the default), or inline on the harts' thread when the driver notifies, which
/// stops every hart for the length of each read, write or fsync (the comparison point, and a
/// single-threaded VM for debugging).
public enum DeviceIOMode: String, CaseIterable, Sendable {
    case thread
    case inline
}
