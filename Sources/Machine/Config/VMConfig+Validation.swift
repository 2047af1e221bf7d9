import VMM
import Virtio

/// A configuration the user has to change before the VM can start. One line each, naming the
/// flag and what to pass instead.
public enum ConfigError: Error, CustomStringConvertible, Equatable {
    case notASize(String)
    case memoryZero
    case memoryTooSmall(UInt64)
    case memoryTooLarge(UInt64)
    case hartCount(Int)
    case diskOption(String, option: String)
    /// More disks than free slots; `limit` is what the board has room for.
    case tooManyDisks(Int, limit: Int)
    case diskMissing(path: String)
    case diskUnusable(path: String, reason: String, readOnly: Bool)
    case notADisk(path: String)
    case diskInUse(path: String)
    case netOption(String, option: String)
    case netWithoutTap(String)
    case tapName(String)
    case macAddress(String)
    /// More disks and network devices than free slots; `limit` is what is left for network devices.
    case tooManyNetworks(Int, limit: Int)
    case tapRepeated(String)
    case macRepeated(String)
    case noTunDriver(reason: String)
    case tapNotPermitted(name: String, reason: String)
    case tapInUse(name: String)
    case notATap(name: String)
    case tapUnusable(name: String, reason: String)
    /// `--virt trap` with `--firmware`: the VMM is the guest's firmware (its SBI).
    case virtualizationWithFirmware(VirtualizationMode)
    /// `--virt bt --exec interp`: binary translation is done by the JIT.
    case binaryTranslationNeedsJIT
    /// A `--virt`/`--mmu` pair that does not exist (or not yet).
    case memoryTechnique(VirtualizationMode, MemoryVirtualization, reason: String)

    public var description: String {
        switch self {
        case .notASize(let text):
            return "--memory \"\(text)\" is not a size; pass bytes or a K/M/G suffix, e.g. --memory 512M"
        case .memoryZero:
            return "--memory must not be 0; pass e.g. --memory 512M"
        case .memoryTooSmall(let bytes):
            return "--memory \(SizeParser.format(bytes)) is below the \(SizeParser.format(VMConfig.memoryRange.lowerBound)) minimum; pass e.g. --memory 512M"
        case .memoryTooLarge(let bytes):
            return "--memory \(SizeParser.format(bytes)) is above the \(SizeParser.format(VMConfig.memoryRange.upperBound)) maximum; pass a smaller size"
        case .hartCount(let count):
            return "--cpus \(count) is out of range; pass \(VMConfig.hartRange.lowerBound) to \(VMConfig.hartRange.upperBound)"
        case .diskOption(let text, let option):
            let what = option.isEmpty ? "names no file" : "has an unknown option \"\(option)\""
            return "--disk \"\(text)\" \(what); pass --disk PATH or --disk PATH,readonly"
        case .tooManyDisks(let count, let limit):
            let taken = limit < VMConfig.maxDisks ? "virtio-rng and virtio-console" : "virtio-rng"
            return "--disk given \(count) times; the board has \(limit) slots for disks (8 virtio-mmio slots, minus \(taken))"
        case .diskMissing(let path):
            return "\(path): no such file; check the --disk path"
        case .diskUnusable(let path, let reason, let readOnly):
            let fix = readOnly ? "fix its permissions" : "fix its permissions or add ,readonly"
            return "\(path): cannot open it (\(reason)); \(fix), or pass another --disk"
        case .notADisk(let path):
            return "\(path): not a regular file or block device; pass a raw disk image to --disk"
        case .diskInUse(let path):
            return "\(path): another process has the image open (locked); stop it or pass another --disk"
        case .netOption(let text, let option):
            return "--net \"\(text)\" has an unknown or repeated option \"\(option)\"; pass --net tap=NAME or --net tap=NAME,mac=52:54:00:12:34:56"
        case .netWithoutTap(let text):
            return "--net \"\(text)\" names no TAP interface; pass --net tap=NAME or --net tap=NAME,mac=52:54:00:12:34:56"
        case .tapName(let name):
            return "--net tap=\"\(name)\" is not an interface name (1 to 15 characters, no '/', ':', '%' or spaces); pass e.g. --net tap=tap0"
        case .macAddress(let text):
            return "--net mac=\(text) is not a unicast MAC address; pass six hex pairs with an even first byte, e.g. mac=52:54:00:12:34:56"
        case .tooManyNetworks(let count, let limit):
            return "--net given \(count) times; the board has \(limit) slots left for network devices (8 virtio-mmio slots, minus the disks, virtio-rng and any virtio-console)"
        case .tapRepeated(let name):
            return "--net tap=\(name) given twice; a TAP interface backs one device, pass another name"
        case .macRepeated(let mac):
            return "--net: two devices have the address \(mac); pass a different mac= to one of them"
        case .noTunDriver(let reason):
            return "--net: cannot open /dev/net/tun (\(reason)); load the tun driver (modprobe tun) or drop --net"
        case .tapNotPermitted(let name, let reason):
            return "--net tap=\(name): not allowed to create or attach it (\(reason)); run as root, or create it for your user first: ip tuntap add dev \(name) mode tap user $USER"
        case .tapInUse(let name):
            return "--net tap=\(name): another process has the interface open; stop it or pass another --net tap=NAME"
        case .notATap(let name):
            return "--net tap=\(name): an interface of that name exists but is not a single-queue TAP (a TUN, a multi-queue TAP, another kind of device); pass another name"
        case .binaryTranslationNeedsJIT:
            return "--virt bt translates the guest kernel with the JIT; drop --exec interp (or use --virt trap to interpret it)"
        case .memoryTechnique(let mode, let mmu, let reason):
            return "--virt \(mode.rawValue) --mmu \(mmu.rawValue): \(reason)"
        case .virtualizationWithFirmware(let mode):
            return "--virt \(mode.rawValue) runs the kernel under the VMM, which is its SBI firmware; drop --firmware (or use --virt bare)"
        case .tapUnusable(let name, let reason):
            return "--net tap=\(name): cannot attach the TAP interface (\(reason)); check it with ip link show \(name), or pass another --net tap=NAME"
        }
    }
}

extension VMConfig {
    /// RAM sizes the virt board accepts: enough for a kernel and initramfs, and an mmap the
    /// host can give without surprise.
    public static let memoryRange: ClosedRange<UInt64> = (16 << 20)...(16 << 30)
    /// Harts: the device tree, PLIC contexts and CLINT are laid out for up to 8, like the guest's NR_CPUS.
    public static let hartRange: ClosedRange<Int> = 1...8
    /// Disks: every virtio-mmio slot but the one for virtio-rng.
    public static let maxDisks = VirtMemoryMap.virtioCount - 1

    /// Checks the numbers a user can get wrong. Files are checked when they are loaded.
    public func validate() throws(ConfigError) {
        if memorySize == 0 { throw .memoryZero }
        if memorySize < Self.memoryRange.lowerBound { throw .memoryTooSmall(memorySize) }
        if memorySize > Self.memoryRange.upperBound { throw .memoryTooLarge(memorySize) }
        if !Self.hartRange.contains(hartCount) { throw .hartCount(hartCount) }
        if virtualization != .bare && firmwarePath != nil { throw .virtualizationWithFirmware(virtualization) }
        switch (virtualization, memoryVirtualization) {
        case (.bare, .some(let mmu)):
            throw .memoryTechnique(.bare, mmu, reason: "a bare machine has no VMM to virtualize memory; add --virt trap or --virt hw")
        case (.trap, .nested), (.bt, .nested):
            throw .memoryTechnique(virtualization, .nested, reason: "nested paging needs the H extension; use --virt hw --mmu nested, or --mmu shadow")
        default:
            break
        }
        if virtualization == .bt && execution == .interp { throw .binaryTranslationNeedsJIT }
        // --console virtio takes one more slot.
        let limit = Self.maxDisks - (console == .virtio ? 1 : 0)
        if disks.count > limit { throw .tooManyDisks(disks.count, limit: limit) }
        if networks.count > limit - disks.count { throw .tooManyNetworks(networks.count, limit: limit - disks.count) }
        var taps: Set<String> = []
        for network in networks where !taps.insert(network.tap).inserted { throw .tapRepeated(network.tap) }
        var addresses: Set<MACAddress> = []
        for mac in networkAddresses where !addresses.insert(mac).inserted { throw .macRepeated("\(mac)") }
    }
}
