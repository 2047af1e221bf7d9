import GuestMemory

/// The formats a kernel or firmware file is recognised as. Anything that is not ELF or a RISC-V
/// Linux Image is loaded as a raw binary, unless it is recognisably something else (an x86
/// kernel, another machine's ELF, compressed data), which is refused with a clear reason.
public enum BootImage: Equatable, Sendable {
    case elf
    case linuxImage(LinuxImageHeader)
    case raw

    /// Enough of the file to see every signature below (bzImage's "HdrS" is at 0x202).
    static let probeSize = 4096

    /// Classifies a file by its first bytes, or throws when it is plainly not for this machine.
    static func detect(_ prefix: [UInt8], file: ImageFile) throws -> BootImage {
        if prefix.matches(ELFImage.magic, at: 0) {
            try ELFImage.checkArchitecture(prefix, file: file)
            return .elf
        }
        // Checked before "MZ": a RISC-V kernel with the EFI stub starts with "MZ" too.
        if let header = LinuxImageHeader(prefix) { return .linuxImage(header) }
        if let foreign = foreignKernel(prefix) {
            throw LoadError.wrongArchitecture(path: file.path, role: file.role, found: foreign)
        }
        if let packed = packedData(prefix) {
            throw LoadError.notAnExecutable(path: file.path, role: file.role, found: packed)
        }
        return .raw
    }

    /// Kernels for other machines, named for the error message.
    private static func foreignKernel(_ prefix: [UInt8]) -> String? {
        if prefix.matches(Array("HdrS".utf8), at: 0x202) { return "x86 bzImage" }
        if prefix.matches(Array("ARMd".utf8), at: 0x38) { return "arm64 Linux Image" }
        if prefix.matches(Array("MZ".utf8), at: 0) {
            guard let peOffset = prefix.littleEndian(at: 0x3C, as: UInt32.self).map(Int.init),
                  prefix.matches(Array("PE".utf8) + [0, 0], at: peOffset),
                  let machine = prefix.littleEndian(at: peOffset + 4, as: UInt16.self) else {
                return "DOS/PE executable"
            }
            let names: [UInt16: String] = [0x8664: "x86-64", 0x14C: "i386", 0xAA64: "arm64", 0x5064: "riscv64"]
            return "PE/EFI executable for \(names[machine] ?? "machine 0x\(String(machine, radix: 16))")"
        }
        return nil
    }

    /// Compressed data and archives: common mix-ups (Image.gz, an initramfs as the kernel).
    private static func packedData(_ prefix: [UInt8]) -> String? {
        if prefix.matches([0x1F, 0x8B], at: 0) { return "gzip-compressed data" }
        if prefix.matches([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00], at: 0) { return "xz-compressed data" }
        if prefix.matches([0x28, 0xB5, 0x2F, 0xFD], at: 0) { return "zstd-compressed data" }
        if prefix.matches(Array("BZh".utf8), at: 0) { return "bzip2-compressed data" }
        if prefix.matches(Array("070701".utf8), at: 0) { return "a cpio archive" }
        return nil
    }
}

/// Loads a kernel: an ELF at its own physical addresses, a RISC-V Linux `Image` or a raw binary
/// at `loadAddress` (the caller chooses it; for an Image, RAM base + `textOffset` is what the
/// kernel expects, and the address must be 2 MiB aligned on RV64).
public func loadKernel(path: String, memory: GuestMemory, loadAddress: UInt64) throws -> LoadedImage {
    let file = try ImageFile.open(path, role: .kernel)
    switch try BootImage.detect(try file.bytes(count: BootImage.probeSize), file: file) {
    case .elf: return try ELFImage.load(file, memory: memory)
    case .linuxImage(let header): return try LinuxImage.load(file, header: header, memory: memory, at: loadAddress)
    case .raw: return try RawImage.load(file, memory: memory, at: loadAddress)
    }
}

/// Loads M-mode firmware like QEMU's `-bios`: an ELF at its own addresses, anything else as a
/// raw binary at the start of DRAM, where the harts begin.
public func loadFirmware(path: String, memory: GuestMemory) throws -> LoadedImage {
    let file = try ImageFile.open(path, role: .firmware)
    switch try BootImage.detect(try file.bytes(count: BootImage.probeSize), file: file) {
    case .elf: return try ELFImage.load(file, memory: memory)
    case .linuxImage, .raw: return try RawImage.load(file, memory: memory, at: VirtMemoryMap.dram)
    }
}

/// Copies an initial ramdisk to `address` unchanged; returns the range for /chosen in the device tree.
public func loadInitrd(path: String, memory: GuestMemory, at address: UInt64) throws -> (start: UInt64, end: UInt64) {
    let file = try ImageFile.open(path, role: .initrd)
    let range = try file.place(in: memory, at: address)
    return (range.lowerBound, range.upperBound)
}
