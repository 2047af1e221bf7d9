/// What a file is for, so that an error can name the flag to fix.
public enum ImageRole: String, Sendable {
    case kernel, firmware, initrd

    var flag: String { "--\(rawValue)" }
}

/// Why an image could not be loaded. Each description is one line: the file, what is wrong, and
/// what to do about it.
public enum LoadError: Error, CustomStringConvertible, Equatable {
    case missing(path: String, role: ImageRole)
    case unreadable(path: String, role: ImageRole, reason: String)
    case empty(path: String, role: ImageRole)
    /// `found` says what the file is instead, e.g. "ELF for x86-64" or "x86 bzImage".
    case wrongArchitecture(path: String, role: ImageRole, found: String)
    /// Compressed data (or an archive) where an executable image was expected.
    case notAnExecutable(path: String, role: ImageRole, found: String)
    case tooLarge(path: String, size: UInt64, ramSize: UInt64)
    case doesNotFit(path: String, start: UInt64, end: UInt64, ramStart: UInt64, ramEnd: UInt64)
    case segmentOutsideRAM(path: String, start: UInt64, end: UInt64, ramStart: UInt64, ramEnd: UInt64)
    case malformed(path: String, reason: String)

    public var description: String {
        switch self {
        case .missing(let path, let role):
            return "\(path): no such file; check the \(role.flag) path"
        case .unreadable(let path, let role, let reason):
            return "\(path): cannot read it (\(reason)); fix its permissions or pass another \(role.flag)"
        case .empty(let path, let role):
            return "\(path): the file is empty; rebuild it or pass another \(role.flag)"
        case .wrongArchitecture(let path, let role, let found):
            return "\(path): not a RISC-V image (\(found)); \(Self.riscvAdvice(role))"
        case .notAnExecutable(let path, let role, let found):
            let advice = role == .kernel
                ? "pass the uncompressed arch/riscv/boot/Image (an initramfs goes to --initrd)"
                : Self.riscvAdvice(role)
            return "\(path): \(found), not a bootable image; \(advice)"
        case .tooLarge(let path, let size, let ramSize):
            return "\(path): the \(SizeParser.format(size)) image is larger than the \(SizeParser.format(ramSize)) of guest RAM; give the VM more --memory"
        case .doesNotFit(let path, let start, let end, let ramStart, let ramEnd):
            return "\(path): the image (\(hex(start))-\(hex(end))) does not fit in guest RAM (\(hex(ramStart))-\(hex(ramEnd))); give the VM more --memory"
        case .segmentOutsideRAM(let path, let start, let end, let ramStart, let ramEnd):
            let advice = start >= ramStart
                ? "give the VM more --memory"
                : "link it for the virt board's RAM at \(hex(VirtMemoryMap.dram))"
            return "\(path): ELF segment \(hex(start))-\(hex(end)) lies outside guest RAM (\(hex(ramStart))-\(hex(ramEnd))); \(advice)"
        case .malformed(let path, let reason):
            return "\(path): malformed image (\(reason)); rebuild it"
        }
    }

    private static func riscvAdvice(_ role: ImageRole) -> String {
        switch role {
        case .kernel: return "pass a riscv64 kernel built with ARCH=riscv"
        case .firmware: return "pass riscv64 firmware, e.g. /usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf"
        case .initrd: return "pass a riscv64 initramfs"
        }
    }
}

func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
