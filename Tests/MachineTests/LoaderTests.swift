import Foundation
import GuestMemory
import XCTest
@testable import Machine

final class LoaderTests: XCTestCase {
    private let ramBase = VirtMemoryMap.dram
    private let ramSize: UInt64 = 16 << 20
    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("trapeze-loader-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    // MARK: ELF

    func testELFSegmentsLandWithBssZeroedEntryAndHTIFSymbols() throws {
        let memory = try dirtyRAM()
        var elf = ELFBuilder(entry: ramBase + 0x10)
        elf.segments = [
            .init(address: ramBase, data: [0x13, 0, 0, 0, 0x6F, 0, 0, 0], memorySize: 8),
            .init(address: ramBase + 0x1000, data: [1, 2, 3, 4], memorySize: 0x100),
        ]
        elf.symbols = [("_start", ramBase), ("tohost", ramBase + 0x1000), ("fromhost", ramBase + 0x1040)]
        let path = try write(elf.build(), named: "test.elf")

        let image = try loadKernel(path: path, memory: memory, loadAddress: ramBase + 0x20_0000)

        XCTAssertEqual(image, LoadedImage(entry: ramBase + 0x10, start: ramBase, end: ramBase + 0x1100,
                                          tohost: ramBase + 0x1000, fromhost: ramBase + 0x1040, kind: .elf))
        XCTAssertEqual(memory.copyOut(ramBase, length: 8), [0x13, 0, 0, 0, 0x6F, 0, 0, 0])
        XCTAssertEqual(memory.copyOut(ramBase + 0x1000, length: 4), [1, 2, 3, 4])
        XCTAssertEqual(memory.copyOut(ramBase + 0x1004, length: 0xFC), [UInt8](repeating: 0, count: 0xFC), "bss zeroed")
        XCTAssertEqual(memory.load(ramBase + 0x1100, as: UInt8.self), 0xAA, "nothing past the segment touched")
    }

    func testELFWithoutSymbolsHasNoHTIF() throws {
        var elf = ELFBuilder(entry: ramBase)
        elf.segments = [.init(address: ramBase, data: [1, 2, 3, 4], memorySize: 4)]
        let image = try loadFirmware(path: try write(elf.build(), named: "fw.elf"), memory: try ram())
        XCTAssertNil(image.tohost)
        XCTAssertNil(image.fromhost)
    }

    func testELFEntryAndSymbolsMoveFromVirtualToPhysical() throws {
        let memory = try ram()
        let virtualBase: UInt64 = 0xFFFF_FFFF_8000_0000
        var elf = ELFBuilder(entry: virtualBase + 0x40)
        elf.segments = [.init(address: ramBase + 0x20_0000, virtual: virtualBase, data: [9, 9], memorySize: 0x80)]
        elf.symbols = [("tohost", virtualBase + 0x60)]
        let image = try loadKernel(path: try write(elf.build(), named: "vmlinux"), memory: memory, loadAddress: 0)
        XCTAssertEqual(image.entry, ramBase + 0x20_0040)
        XCTAssertEqual(image.tohost, ramBase + 0x20_0060)
        XCTAssertEqual(memory.copyOut(ramBase + 0x20_0000, length: 2), [9, 9])
    }

    func testELFForAnotherMachineIsRejectedNamingTheFile() throws {
        var elf = ELFBuilder(entry: ramBase)
        elf.machine = 62
        elf.segments = [.init(address: ramBase, data: [1], memorySize: 1)]
        let path = try write(elf.build(), named: "kernel.bin")
        XCTAssertThrowsError(try loadKernel(path: path, memory: try ram(), loadAddress: ramBase)) { error in
            XCTAssertEqual(error as? LoadError, .wrongArchitecture(path: path, role: .kernel, found: "ELF for x86-64"))
            XCTAssertEqual("\(error)", "\(path): not a RISC-V image (ELF for x86-64); pass a riscv64 kernel built with ARCH=riscv")
        }
    }

    func testThirtyTwoBitELFIsRejected() throws {
        var elf = ELFBuilder(entry: ramBase)
        elf.elfClass = 1
        let path = try write(elf.build(), named: "rv32.elf")
        XCTAssertThrowsError(try loadKernel(path: path, memory: try ram(), loadAddress: ramBase)) { error in
            XCTAssertEqual(error as? LoadError, .wrongArchitecture(path: path, role: .kernel, found: "32-bit RISC-V ELF (RV32)"))
        }
    }

    func testSegmentOutsideRAMIsRejectedAndRAMUntouched() throws {
        let memory = try dirtyRAM()
        var elf = ELFBuilder(entry: ramBase)
        elf.segments = [
            .init(address: ramBase, data: [1, 2, 3, 4], memorySize: 4),
            .init(address: ramBase + ramSize - 2, data: [5, 6, 7, 8], memorySize: 4),
        ]
        let path = try write(elf.build(), named: "big.elf")
        XCTAssertThrowsError(try loadFirmware(path: path, memory: memory)) { error in
            XCTAssertEqual(error as? LoadError, .segmentOutsideRAM(path: path, start: ramBase + ramSize - 2,
                                                                   end: ramBase + ramSize + 2,
                                                                   ramStart: ramBase, ramEnd: ramBase + ramSize))
            XCTAssertTrue("\(error)".hasSuffix("give the VM more --memory"), "\(error)")
        }
        XCTAssertEqual(memory.load(ramBase, as: UInt8.self), 0xAA, "validated before anything was copied")

        elf.segments = [.init(address: 0x1000, data: [1], memorySize: 1)]
        let low = try write(elf.build(), named: "low.elf")
        XCTAssertThrowsError(try loadFirmware(path: low, memory: memory)) { error in
            XCTAssertTrue("\(error)".hasSuffix("link it for the virt board's RAM at 0x80000000"), "\(error)")
        }
    }

    func testTruncatedELFIsMalformed() throws {
        var elf = ELFBuilder(entry: ramBase)
        elf.segments = [.init(address: ramBase, data: [UInt8](repeating: 7, count: 64), memorySize: 64)]
        let bytes = elf.build()
        let path = try write(Array(bytes[0..<(64 + 56 + 10)]), named: "cut.elf")
        XCTAssertThrowsError(try loadKernel(path: path, memory: try ram(), loadAddress: ramBase)) { error in
            guard case .malformed(path, _)? = error as? LoadError else { return XCTFail("\(error)") }
        }
    }

    // MARK: RISC-V Linux Image

    func testLinuxImageHeaderIsParsed() throws {
        let bytes = linuxImage(textOffset: 0x20_0000, imageSize: 0x40_0000, payload: 256)
        let header = try XCTUnwrap(LinuxImageHeader(bytes))
        XCTAssertEqual(header, LinuxImageHeader(textOffset: 0x20_0000, imageSize: 0x40_0000, flags: 0, version: 0x0002))
        XCTAssertFalse(header.isBigEndian)

        var oldMagicOnly = bytes
        oldMagicOnly.replaceSubrange(0x38..<0x3C, with: [0, 0, 0, 0])
        XCTAssertNotNil(LinuxImageHeader(oldMagicOnly), "the deprecated magic alone still identifies an Image")
        var neither = oldMagicOnly
        neither.replaceSubrange(0x30..<0x38, with: [UInt8](repeating: 0, count: 8))
        XCTAssertNil(LinuxImageHeader(neither))
        XCTAssertNil(LinuxImageHeader(Array(bytes[0..<0x20])))
    }

    func testLinuxImageLoadsAtTheGivenAddressAndReservesItsSize() throws {
        let memory = try ram()
        var bytes = linuxImage(textOffset: 0x20_0000, imageSize: 0x40_0000, payload: 256)
        bytes.replaceSubrange(0..<2, with: Array("MZ".utf8)) // EFI stub: still a RISC-V Image
        let path = try write(bytes, named: "Image")
        let at = ramBase + 0x20_0000
        let image = try loadKernel(path: path, memory: memory, loadAddress: at)
        XCTAssertEqual(image.entry, at)
        XCTAssertEqual(image.start, at)
        XCTAssertEqual(image.end, at + 0x40_0000)
        guard case .linuxImage(let header) = image.kind else { return XCTFail("\(image.kind)") }
        XCTAssertEqual(header.textOffset, 0x20_0000)
        XCTAssertEqual(memory.copyOut(at, length: bytes.count), bytes)
    }

    func testLinuxImageThatDoesNotFitIsRejected() throws {
        let path = try write(linuxImage(textOffset: 0x20_0000, imageSize: ramSize, payload: 64), named: "Image")
        XCTAssertThrowsError(try loadKernel(path: path, memory: try ram(), loadAddress: ramBase + 0x20_0000)) { error in
            guard case .doesNotFit(path, _, _, _, _)? = error as? LoadError else { return XCTFail("\(error)") }
        }
    }

    func testBigEndianImageIsRejected() throws {
        var bytes = linuxImage(textOffset: 0x20_0000, imageSize: 0x1000, payload: 64)
        bytes[0x18] = 1
        let path = try write(bytes, named: "Image.be")
        XCTAssertThrowsError(try loadKernel(path: path, memory: try ram(), loadAddress: ramBase)) { error in
            XCTAssertEqual(error as? LoadError, .wrongArchitecture(path: path, role: .kernel, found: "big-endian Linux Image"))
        }
    }

    // MARK: Other formats, raw images and file errors

    func testX86KernelsAndCompressedDataAreRejected() throws {
        var bzImage = [UInt8](repeating: 0, count: 0x400)
        bzImage.replaceSubrange(0..<2, with: Array("MZ".utf8))
        bzImage.replaceSubrange(0x202..<0x206, with: Array("HdrS".utf8))
        var pe = [UInt8](repeating: 0, count: 0x200)
        pe.replaceSubrange(0..<2, with: Array("MZ".utf8))
        pe[0x3C] = 0x80
        pe.replaceSubrange(0x80..<0x86, with: Array("PE".utf8) + [0, 0, 0x64, 0x86])
        let cases: [(String, [UInt8], String)] = [
            ("bzImage", bzImage, "not a RISC-V image (x86 bzImage)"),
            ("BOOTX64.EFI", pe, "not a RISC-V image (PE/EFI executable for x86-64)"),
            ("Image.gz", [0x1F, 0x8B, 8, 0] + [UInt8](repeating: 0, count: 60), "gzip-compressed data, not a bootable image"),
        ]
        for (name, bytes, expected) in cases {
            let path = try write(bytes, named: name)
            XCTAssertThrowsError(try loadKernel(path: path, memory: try ram(), loadAddress: ramBase), name) { error in
                XCTAssertTrue("\(error)".hasPrefix("\(path): \(expected); "), "\(error)")
            }
        }
    }

    func testRawFirmwareLoadsAtDRAMAndRawKernelAtItsAddress() throws {
        let memory = try ram()
        let payload: [UInt8] = [0x73, 0x00, 0x50, 0x10, 1, 2, 3]
        let firmware = try loadFirmware(path: try write(payload, named: "fw.bin"), memory: memory)
        XCTAssertEqual(firmware, LoadedImage(entry: ramBase, start: ramBase, end: ramBase + 7, kind: .raw))
        XCTAssertEqual(memory.copyOut(ramBase, length: 7), payload)

        let kernel = try loadKernel(path: try write(payload, named: "k.bin"), memory: memory, loadAddress: ramBase + 0x1000)
        XCTAssertEqual(kernel.entry, ramBase + 0x1000)
        XCTAssertEqual(memory.copyOut(ramBase + 0x1000, length: 7), payload)
    }

    func testFileLargerThanRAMIsRejected() throws {
        let path = scratch.appendingPathComponent("huge.bin").path
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data([1])))
        XCTAssertEqual(truncate(path, off_t(ramSize + (1 << 20))), 0) // sparse: cheap to make
        XCTAssertThrowsError(try loadKernel(path: path, memory: try ram(), loadAddress: ramBase)) { error in
            XCTAssertEqual(error as? LoadError, .tooLarge(path: path, size: ramSize + (1 << 20), ramSize: ramSize))
            XCTAssertEqual("\(error)", "\(path): the 17 MiB image is larger than the 16 MiB of guest RAM; give the VM more --memory")
        }
    }

    func testMissingEmptyAndDirectoryPaths() throws {
        let missing = scratch.appendingPathComponent("nope/Image").path
        XCTAssertThrowsError(try loadKernel(path: missing, memory: try ram(), loadAddress: ramBase)) { error in
            XCTAssertEqual("\(error)", "\(missing): no such file; check the --kernel path")
        }
        let empty = try write([], named: "empty.img")
        XCTAssertThrowsError(try loadInitrd(path: empty, memory: try ram(), at: ramBase)) { error in
            XCTAssertEqual(error as? LoadError, .empty(path: empty, role: .initrd))
        }
        XCTAssertThrowsError(try loadFirmware(path: scratch.path, memory: try ram())) { error in
            XCTAssertEqual(error as? LoadError, .unreadable(path: scratch.path, role: .firmware, reason: "it is a directory"))
        }
    }

    func testUnreadableFileSaysPermissionDenied() throws {
        let path = try write([1, 2, 3], named: "secret.bin")
        XCTAssertEqual(chmod(path, 0), 0)
        let memory = try ram()
        // Root reads any file, so as root the check runs with the effective user "nobody"
        // (the saved set-user-ID keeps root, so it is restored afterwards).
        let asRoot = geteuid() == 0
        if asRoot {
            XCTAssertEqual(chmod(scratch.path, 0o755), 0)
            XCTAssertEqual(seteuid(65534), 0, "cannot switch to nobody to test permissions")
        }
        defer { if asRoot { _ = seteuid(0) } }
        XCTAssertThrowsError(try loadKernel(path: path, memory: memory, loadAddress: ramBase)) { error in
            XCTAssertEqual(error as? LoadError, .unreadable(path: path, role: .kernel, reason: "permission denied"))
        }
    }

    func testInitrdIsCopiedUnchanged() throws {
        let memory = try ram()
        let bytes: [UInt8] = [0x1F, 0x8B] + (0..<1000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let range = try loadInitrd(path: try write(bytes, named: "initramfs.cpio.gz"), memory: memory, at: ramBase + 0x80_0000)
        XCTAssertEqual(range.start, ramBase + 0x80_0000)
        XCTAssertEqual(range.end, ramBase + 0x80_0000 + UInt64(bytes.count))
        XCTAssertEqual(memory.copyOut(range.start, length: bytes.count), bytes)

        let path = try write(bytes, named: "initrd.big")
        XCTAssertThrowsError(try loadInitrd(path: path, memory: memory, at: ramBase + ramSize - 10)) { error in
            guard case .doesNotFit(path, _, _, _, _)? = error as? LoadError else { return XCTFail("\(error)") }
        }
    }

    // MARK: Real files on this machine

    func testOpenSBIFirmwareELFLoads() throws {
        let path = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf"
        try XCTSkipUnless(FileManager.default.fileExists(atPath: path), "opensbi package not installed")
        let memory = try ram()
        let image = try loadFirmware(path: path, memory: memory)
        XCTAssertEqual(image.kind, .elf)
        XCTAssertEqual(image.entry, 0x8000_0000)
        XCTAssertEqual(image.start, 0x8000_0000)
        XCTAssertGreaterThan(image.end, image.start + 0x1_0000)
        // The first instructions are the file's text (the segment starts at file offset 0x120).
        let file = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        XCTAssertEqual(memory.copyOut(0x8000_0000, length: 64), Array(file[0x120..<0x160]))

        let bin = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin"
        if FileManager.default.fileExists(atPath: bin) {
            let raw = try loadFirmware(path: bin, memory: try ram())
            XCTAssertEqual(raw.kind, .raw)
            XCTAssertEqual(raw.entry, VirtMemoryMap.dram)
        }
    }

    /// An ISA-test-shaped program linked by the real riscv64 toolchain: HTIF symbols from .symtab.
    func testCrossLinkedTestProgramExportsTohost() throws {
        let gcc = "/usr/bin/riscv64-linux-gnu-gcc"
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: gcc), "gcc-riscv64-linux-gnu not installed")
        let source = try write(Array("""
            .section .text.init
            .globl _start
            _start: li a0, 1
              lla t0, tohost
              sd a0, 0(t0)
            1: j 1b
            .section .tohost, "aw", @progbits
            .align 6
            .globl tohost
            tohost: .dword 0
            .align 6
            .globl fromhost
            fromhost: .dword 0
            .bss
            .space 4096

            """.utf8), named: "t.S")
        let script = try write(Array("""
            ENTRY(_start)
            SECTIONS { . = 0x80000000; .text : { *(.text.init) *(.text) } . = ALIGN(0x1000);
                       .tohost : { *(.tohost) } .bss : { *(.bss) } }
            """.utf8), named: "link.ld")
        let elf = scratch.appendingPathComponent("t.elf").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: gcc)
        process.arguments = ["-nostdlib", "-nostartfiles", "-static", "-Wl,--build-id=none", "-T", script, source, "-o", elf]
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)

        let memory = try dirtyRAM()
        let image = try loadKernel(path: elf, memory: memory, loadAddress: 0)
        XCTAssertEqual(image.entry, 0x8000_0000)
        XCTAssertEqual(image.tohost, 0x8000_1000)
        XCTAssertEqual(image.fromhost, 0x8000_1040)
        XCTAssertEqual(image.end, 0x8000_1048 + 4096)
        XCTAssertEqual(memory.load(0x8000_0000, as: UInt16.self), 0x4505, "c.li a0, 1")
        XCTAssertEqual(memory.copyOut(0x8000_1048, length: 4096), [UInt8](repeating: 0, count: 4096), "bss zeroed")
    }

    func testHostX86ExecutableIsRejectedAsWrongArchitecture() throws {
        let path = "/bin/true"
        try XCTSkipUnless(FileManager.default.fileExists(atPath: path))
        XCTAssertThrowsError(try loadKernel(path: path, memory: try ram(), loadAddress: ramBase)) { error in
            guard case .wrongArchitecture(path, .kernel, let found)? = error as? LoadError else { return XCTFail("\(error)") }
            XCTAssertTrue(found.hasPrefix("ELF for "), found)
            XCTAssertTrue("\(error)".hasPrefix("/bin/true: not a RISC-V image"), "\(error)")
        }
    }

    // MARK: Helpers

    private func ram() throws -> GuestMemory { try GuestMemory(base: ramBase, size: ramSize) }

    /// RAM filled with 0xAA, to see what a loader wrote and what it zeroed.
    private func dirtyRAM() throws -> GuestMemory {
        let memory = try ram()
        memory.host.initializeMemory(as: UInt8.self, repeating: 0xAA, count: Int(ramSize))
        return memory
    }

    private func write(_ bytes: [UInt8], named name: String) throws -> String {
        let url = scratch.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    private func linuxImage(textOffset: UInt64, imageSize: UInt64, payload: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 64)
        bytes.replaceSubrange(0..<4, with: [0x6F, 0x00, 0x40, 0x04]) // j +0x40, as the kernel's code0
        bytes.put(textOffset, at: 0x08)
        bytes.put(imageSize, at: 0x10)
        bytes.put(UInt32(2), at: 0x20)
        bytes.replaceSubrange(0x30..<0x38, with: Array("RISCV".utf8) + [0, 0, 0])
        bytes.replaceSubrange(0x38..<0x3C, with: Array("RSC".utf8) + [5])
        return bytes + (0..<payload).map { UInt8(truncatingIfNeeded: $0) }
    }
}

/// Writes a minimal ELF64 little-endian executable by hand: header, program headers, segment
/// data, and (when there are symbols) .symtab and .strtab with their section headers.
private struct ELFBuilder {
    struct Segment {
        var address: UInt64
        var virtual: UInt64? = nil
        var data: [UInt8]
        var memorySize: UInt64
    }

    var entry: UInt64
    var machine: UInt16 = 243
    var elfClass: UInt8 = 2
    var segments: [Segment] = []
    var symbols: [(String, UInt64)] = []

    func build() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 64)
        out.replaceSubrange(0..<4, with: [0x7F, 0x45, 0x4C, 0x46])
        out[4] = elfClass
        out[5] = 1 // little-endian
        out[6] = 1 // EV_CURRENT
        out.put(UInt16(2), at: 16) // ET_EXEC
        out.put(machine, at: 18)
        out.put(UInt32(1), at: 20)
        out.put(entry, at: 24)
        out.put(UInt64(64), at: 32) // e_phoff
        out.put(UInt16(64), at: 52)
        out.put(UInt16(56), at: 54)
        out.put(UInt16(segments.count), at: 56)

        let dataStart = 64 + 56 * segments.count
        var data: [UInt8] = []
        for segment in segments {
            var ph = [UInt8](repeating: 0, count: 56)
            ph.put(UInt32(1), at: 0) // PT_LOAD
            ph.put(UInt32(7), at: 4)
            ph.put(UInt64(dataStart + data.count), at: 8)
            ph.put(segment.virtual ?? segment.address, at: 16)
            ph.put(segment.address, at: 24)
            ph.put(UInt64(segment.data.count), at: 32)
            ph.put(segment.memorySize, at: 40)
            ph.put(UInt64(8), at: 48)
            out += ph
            data += segment.data
        }
        out += data
        guard !symbols.isEmpty else { return out }

        var strings: [UInt8] = [0]
        var table = [UInt8](repeating: 0, count: 24) // symbol 0 is the null symbol
        for (name, value) in symbols {
            var symbol = [UInt8](repeating: 0, count: 24)
            symbol.put(UInt32(strings.count), at: 0)
            symbol[4] = 0x11 // STB_GLOBAL, STT_OBJECT
            symbol.put(UInt16(1), at: 6) // defined in some section
            symbol.put(value, at: 8)
            table += symbol
            strings += Array(name.utf8) + [0]
        }
        let symtabOffset = out.count
        out += table
        let strtabOffset = out.count
        out += strings
        while out.count % 8 != 0 { out.append(0) }
        let shoff = out.count
        out += [UInt8](repeating: 0, count: 64) // section 0: null
        out += sectionHeader(type: 2, offset: symtabOffset, size: table.count, link: 2, entrySize: 24)
        out += sectionHeader(type: 3, offset: strtabOffset, size: strings.count, link: 0, entrySize: 0)
        out.put(UInt64(shoff), at: 40)
        out.put(UInt16(64), at: 58)
        out.put(UInt16(3), at: 60)
        return out
    }

    private func sectionHeader(type: UInt32, offset: Int, size: Int, link: UInt32, entrySize: UInt64) -> [UInt8] {
        var sh = [UInt8](repeating: 0, count: 64)
        sh.put(type, at: 4)
        sh.put(UInt64(offset), at: 24)
        sh.put(UInt64(size), at: 32)
        sh.put(link, at: 40)
        sh.put(entrySize, at: 56)
        return sh
    }
}

extension Array where Element == UInt8 {
    fileprivate mutating func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        for i in 0..<MemoryLayout<T>.size { self[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
    }
}
