import GuestMemory

/// A flat binary: its bytes at an address, entered at its first byte (QEMU's -bios/-kernel with
/// a .bin file).
enum RawImage {
    static func load(_ file: ImageFile, memory: GuestMemory, at address: UInt64) throws -> LoadedImage {
        let range = try file.place(in: memory, at: address)
        return LoadedImage(entry: address, start: range.lowerBound, end: range.upperBound, kind: .raw)
    }
}
