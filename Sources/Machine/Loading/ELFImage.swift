import GuestMemory

/// ELF64 little-endian RISC-V executables (System V gABI; RISC-V psABI for EM_RISCV): PT_LOAD
/// segments at their physical addresses, bss zeroed, and the HTIF `tohost`/`fromhost` symbols
/// that ISA tests export.
enum ELFImage {
    static let magic: [UInt8] = [0x7F, 0x45, 0x4C, 0x46] // "\x7fELF"
    static let headerSize = 64

    private static let classELF64: UInt8 = 2
    private static let dataLittleEndian: UInt8 = 1
    private static let machineRISCV: UInt16 = 243
    private static let typeExecutable: UInt16 = 2
    private static let typeShared: UInt16 = 3
    private static let programLoad: UInt32 = 1
    private static let sectionSymbolTable: UInt32 = 2
    private static let programHeaderSize = 56
    private static let sectionHeaderSize = 64
    private static let symbolSize = 24

    /// Rejects ELF files a riscv64 machine cannot run, naming what they are instead.
    /// `header` is the file's first bytes (e_machine sits at 18 in both ELF classes).
    static func checkArchitecture(_ header: [UInt8], file: ImageFile) throws {
        func reject(_ found: String) -> LoadError {
            .wrongArchitecture(path: file.path, role: file.role, found: found)
        }
        let machine = header.littleEndian(at: 18, as: UInt16.self) ?? 0
        let name = machineName(machine)
        if header.count > 4 && header[4] != classELF64 {
            throw reject(machine == machineRISCV ? "32-bit RISC-V ELF (RV32)" : "32-bit ELF for \(name)")
        }
        if header.count > 5 && header[5] != dataLittleEndian { throw reject("big-endian ELF for \(name)") }
        if machine != machineRISCV { throw reject("ELF for \(name)") }
    }

    static func load(_ file: ImageFile, memory: GuestMemory) throws -> LoadedImage {
        let header = try file.bytes(count: headerSize)
        try checkArchitecture(header, file: file)
        func malformed(_ reason: String) -> LoadError { .malformed(path: file.path, reason: reason) }
        guard header.count == headerSize,
              let type = header.littleEndian(at: 16, as: UInt16.self),
              let entry = header.littleEndian(at: 24, as: UInt64.self),
              let phoff = header.littleEndian(at: 32, as: UInt64.self),
              let phentsize = header.littleEndian(at: 54, as: UInt16.self),
              let phnum = header.littleEndian(at: 56, as: UInt16.self) else {
            throw malformed("truncated ELF header")
        }
        guard type == typeExecutable || type == typeShared else {
            throw malformed("ELF type \(type) is not an executable; link it")
        }
        guard Int(phentsize) >= programHeaderSize, phnum > 0, phnum != 0xFFFF else {
            throw malformed("no program headers")
        }
        let table = try file.bytes(at: phoff, count: Int(phentsize) * Int(phnum))
        guard table.count == Int(phentsize) * Int(phnum) else { throw malformed("program headers past end of file") }

        let segments = (0..<Int(phnum)).compactMap { Segment(table, at: $0 * Int(phentsize)) }
            .filter { $0.type == programLoad && $0.memorySize > 0 }
        guard !segments.isEmpty else { throw malformed("no loadable segments") }

        // Check everything before copying anything, so a bad file leaves RAM untouched.
        for segment in segments {
            guard segment.fileSize <= segment.memorySize else { throw malformed("segment file size exceeds its memory size") }
            let (fileEnd, overflow) = segment.offset.addingReportingOverflow(segment.fileSize)
            guard !overflow, fileEnd <= file.size else { throw malformed("segment data past end of file; was it truncated?") }
            guard memory.contains(segment.physical, length: segment.memorySize) else {
                let (end, overflow) = segment.physical.addingReportingOverflow(segment.memorySize)
                throw LoadError.segmentOutsideRAM(path: file.path, start: segment.physical, end: overflow ? .max : end,
                                                  ramStart: memory.base, ramEnd: memory.end)
            }
        }
        for segment in segments {
            let destination = memory.pointer(segment.physical, length: segment.memorySize)!
            try file.read(into: destination, count: Int(segment.fileSize), at: segment.offset)
            // Zero bss explicitly: the loader must not depend on RAM being fresh.
            (destination + Int(segment.fileSize)).initializeMemory(
                as: UInt8.self, repeating: 0, count: Int(segment.memorySize - segment.fileSize))
        }

        let symbols = (try? symbolAddresses(named: ["tohost", "fromhost"], in: file, header: header)) ?? [:]
        func physical(_ virtual: UInt64) -> UInt64 {
            segments.first { $0.containsVirtual(virtual) }.map { virtual - $0.virtual + $0.physical } ?? virtual
        }
        return LoadedImage(entry: physical(entry),
                           start: segments.map(\.physical).min()!,
                           end: segments.map { $0.physical + $0.memorySize }.max()!,
                           tohost: symbols["tohost"].map(physical),
                           fromhost: symbols["fromhost"].map(physical),
                           kind: .elf)
    }

    /// Values of the named symbols in .symtab. A missing or damaged symbol table yields no
    /// symbols: the image still runs, it just has no HTIF.
    private static func symbolAddresses(named wanted: Set<String>, in file: ImageFile,
                                        header: [UInt8]) throws -> [String: UInt64] {
        guard let shoff = header.littleEndian(at: 40, as: UInt64.self), shoff != 0,
              let shentsize = header.littleEndian(at: 58, as: UInt16.self), Int(shentsize) >= sectionHeaderSize,
              let shnum = header.littleEndian(at: 60, as: UInt16.self), shnum > 0 else { return [:] }
        let sections = try file.bytes(at: shoff, count: Int(shentsize) * Int(shnum))
        func section(_ index: Int) -> (type: UInt32, offset: UInt64, size: UInt64, link: Int)? {
            let base = index * Int(shentsize)
            guard index < Int(shnum),
                  let type = sections.littleEndian(at: base + 4, as: UInt32.self),
                  let offset = sections.littleEndian(at: base + 24, as: UInt64.self),
                  let size = sections.littleEndian(at: base + 32, as: UInt64.self),
                  let link = sections.littleEndian(at: base + 40, as: UInt32.self) else { return nil }
            return (type, offset, size, Int(link))
        }
        guard let symtab = (0..<Int(shnum)).lazy.compactMap(section).first(where: { $0.type == sectionSymbolTable }),
              let strtab = section(symtab.link),
              symtab.size <= file.size, strtab.size <= file.size else { return [:] }
        let symbols = try file.bytes(at: symtab.offset, count: Int(symtab.size))
        let strings = try file.bytes(at: strtab.offset, count: Int(strtab.size))

        var found: [String: UInt64] = [:]
        for base in stride(from: 0, to: symbols.count - symbolSize + 1, by: symbolSize) {
            guard let nameOffset = symbols.littleEndian(at: base, as: UInt32.self),
                  let sectionIndex = symbols.littleEndian(at: base + 6, as: UInt16.self), sectionIndex != 0,
                  let value = symbols.littleEndian(at: base + 8, as: UInt64.self),
                  let name = cString(strings, at: Int(nameOffset)), wanted.contains(name) else { continue }
            found[name] = value
        }
        return found
    }

    private static func cString(_ bytes: [UInt8], at offset: Int) -> String? {
        guard offset < bytes.count else { return nil }
        guard let end = bytes[offset...].firstIndex(of: 0) else { return nil }
        return String(decoding: bytes[offset..<end], as: UTF8.self)
    }

    private static func machineName(_ machine: UInt16) -> String {
        switch machine {
        case 3: return "i386"
        case 8: return "MIPS"
        case 20: return "PowerPC"
        case 21: return "PowerPC64"
        case 22: return "s390"
        case 40: return "ARM"
        case 62: return "x86-64"
        case 183: return "AArch64"
        case 243: return "RISC-V"
        case 258: return "LoongArch"
        default: return "machine \(machine)"
        }
    }
}

/// One program header (Elf64_Phdr).
private struct Segment {
    var type: UInt32
    var offset: UInt64
    var virtual: UInt64
    var physical: UInt64
    var fileSize: UInt64
    var memorySize: UInt64

    init?(_ table: [UInt8], at base: Int) {
        guard let type = table.littleEndian(at: base, as: UInt32.self),
              let offset = table.littleEndian(at: base + 8, as: UInt64.self),
              let virtual = table.littleEndian(at: base + 16, as: UInt64.self),
              let physical = table.littleEndian(at: base + 24, as: UInt64.self),
              let fileSize = table.littleEndian(at: base + 32, as: UInt64.self),
              let memorySize = table.littleEndian(at: base + 40, as: UInt64.self) else { return nil }
        self.type = type
        self.offset = offset
        self.virtual = virtual
        self.physical = physical
        self.fileSize = fileSize
        self.memorySize = memorySize
    }

    /// Entry points and symbols are virtual addresses; they move with their segment.
    func containsVirtual(_ address: UInt64) -> Bool {
        address >= virtual && address - virtual < memorySize
    }
}
