import GuestMemory

/// The 64-byte header at the start of a RISC-V Linux `Image`
/// (Documentation/riscv/boot-image-header.rst):
///
///     0x00 code0, code1    0x08 text_offset    0x10 image_size    0x18 flags
///     0x20 version         0x30 magic "RISCV\0\0\0" (deprecated)  0x38 magic2 "RSC\x05"
///
/// With the EFI stub, code0 starts with "MZ" and 0x3c points at the PE header; the magics stay.
public struct LinuxImageHeader: Equatable, Sendable {
    /// Offset from the start of RAM the kernel expects to be loaded at (2 MiB on RV64).
    public var textOffset: UInt64
    /// Bytes the kernel occupies once running, bss included: reserve this much, not the file size.
    public var imageSize: UInt64
    public var flags: UInt64
    /// Major version in bits 31:16, minor in 15:0.
    public var version: UInt32

    public var isBigEndian: Bool { flags & 1 != 0 }

    static let magic: [UInt8] = Array("RISCV".utf8) + [0, 0, 0]
    static let magic2: [UInt8] = Array("RSC".utf8) + [0x05]
}

extension LinuxImageHeader {
    /// The header, when `bytes` (the start of a file) carries either magic; nil otherwise.
    public init?(_ bytes: [UInt8]) {
        guard bytes.matches(Self.magic2, at: 0x38) || bytes.matches(Self.magic, at: 0x30),
              let textOffset = bytes.littleEndian(at: 0x08, as: UInt64.self),
              let imageSize = bytes.littleEndian(at: 0x10, as: UInt64.self),
              let flags = bytes.littleEndian(at: 0x18, as: UInt64.self),
              let version = bytes.littleEndian(at: 0x20, as: UInt32.self) else { return nil }
        self.textOffset = textOffset
        self.imageSize = imageSize
        self.flags = flags
        self.version = version
    }
}

enum LinuxImage {
    /// Copies the kernel to `address` and reserves its declared size; it starts at its first byte.
    static func load(_ file: ImageFile, header: LinuxImageHeader, memory: GuestMemory,
                     at address: UInt64) throws -> LoadedImage {
        if header.isBigEndian {
            throw LoadError.wrongArchitecture(path: file.path, role: file.role, found: "big-endian Linux Image")
        }
        let range = try file.place(in: memory, at: address, extent: header.imageSize)
        return LoadedImage(entry: address, start: range.lowerBound, end: range.upperBound,
                           kind: .linuxImage(header))
    }
}
