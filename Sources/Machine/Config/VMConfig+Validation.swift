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
        // --console virtio takes one more slot.
        let limit = Self.maxDisks - (console == .virtio ? 1 : 0)
        if disks.count > limit { throw .tooManyDisks(disks.count, limit: limit) }
    }
}
