#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import GuestMemory

/// An open image file. Loaders read headers from it and copy contents straight into guest RAM,
/// so a large initrd is never held twice in host memory.
final class ImageFile {
    let path: String
    let role: ImageRole
    let size: UInt64
    private let fd: Int32

    private init(path: String, role: ImageRole, size: UInt64, fd: Int32) {
        self.path = path
        self.role = role
        self.size = size
        self.fd = fd
    }

    deinit { close(fd) }

    /// Opens a regular, non-empty file, turning each way that can fail into a `LoadError`.
    static func open(_ path: String, role: ImageRole) throws -> ImageFile {
        let fd = openReadOnly(path)
        guard fd >= 0 else {
            let error = errno
            if error == ENOENT || error == ENOTDIR { throw LoadError.missing(path: path, role: role) }
            throw LoadError.unreadable(path: path, role: role, reason: describe(errno: error))
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let error = errno
            close(fd)
            throw LoadError.unreadable(path: path, role: role, reason: describe(errno: error))
        }
        let type = info.st_mode & S_IFMT
        guard type == S_IFREG else {
            close(fd)
            let reason = type == S_IFDIR ? "it is a directory" : "it is not a regular file"
            throw LoadError.unreadable(path: path, role: role, reason: reason)
        }
        guard info.st_size > 0 else {
            close(fd)
            throw LoadError.empty(path: path, role: role)
        }
        return ImageFile(path: path, role: role, size: UInt64(info.st_size), fd: fd)
    }

    /// Up to `count` bytes from `offset` (fewer at the end of the file).
    func bytes(at offset: UInt64 = 0, count: Int) throws -> [UInt8] {
        guard offset < size else { return [] }
        let available = Int(min(UInt64(count), size - offset))
        var result = [UInt8](repeating: 0, count: available)
        try result.withUnsafeMutableBytes { try read(into: $0.baseAddress!, count: available, at: offset) }
        return result
    }

    /// Exactly `count` bytes from `offset` into `destination`.
    func read(into destination: UnsafeMutableRawPointer, count: Int, at offset: UInt64) throws {
        var done = 0
        while done < count {
            let n = pread(fd, destination + done, count - done, off_t(offset) + off_t(done))
            if n > 0 {
                done += n
            } else if n < 0 && errno == EINTR {
                continue
            } else if n == 0 {
                throw LoadError.malformed(path: path, reason: "the file ends early; was it truncated?")
            } else {
                throw LoadError.unreadable(path: path, role: role, reason: describe(errno: errno))
            }
        }
    }

    /// Copies the whole file to `address` in guest RAM, reserving `extent` bytes there (at least
    /// the file's size: a kernel may declare more for its bss).
    func place(in memory: GuestMemory, at address: UInt64, extent: UInt64? = nil) throws -> Range<UInt64> {
        let extent = max(extent ?? size, size)
        guard size <= memory.size else {
            throw LoadError.tooLarge(path: path, size: size, ramSize: memory.size)
        }
        guard memory.contains(address, length: extent), let destination = memory.pointer(address, length: size) else {
            let (end, overflow) = address.addingReportingOverflow(extent)
            throw LoadError.doesNotFit(path: path, start: address, end: overflow ? .max : end,
                                       ramStart: memory.base, ramEnd: memory.end)
        }
        try read(into: destination, count: Int(size), at: 0)
        return address..<(address + extent)
    }
}

private func openReadOnly(_ path: String) -> Int32 { open(path, O_RDONLY | O_CLOEXEC) }

private func describe(errno error: Int32) -> String {
    error == EACCES || error == EPERM ? "permission denied" : String(cString: strerror(error))
}

extension Array where Element == UInt8 {
    /// Little-endian integer at `offset`; nil when the array is too short.
    func littleEndian<T: FixedWidthInteger>(at offset: Int, as type: T.Type = T.self) -> T? {
        let width = MemoryLayout<T>.size
        guard offset >= 0, offset <= count - width else { return nil }
        var value: T = 0
        for i in (0..<width).reversed() { value = value << 8 | T(self[offset + i]) }
        return value
    }

    /// True when the bytes at `offset` are exactly `pattern`.
    func matches(_ pattern: [UInt8], at offset: Int) -> Bool {
        offset >= 0 && offset + pattern.count <= count && Array(self[offset..<offset + pattern.count]) == pattern
    }
}
