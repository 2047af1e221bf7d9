import CShims
#if canImport(Glibc)
import Glibc
#endif

/// Why a disk image cannot back a virtio-blk device. The machine builder turns these into
/// messages that name the command-line flag.
public enum BlockFileError: Error, Equatable, Sendable {
    case missing(path: String)
    case cannotOpen(path: String, reason: String)
    /// A directory, a FIFO or anything else that is neither a regular file nor a block device.
    case notADisk(path: String)
    /// Another process holds a conflicting lock (another VM writing the same image).
    case inUse(path: String)
}

/// A raw disk image on the host: byte N of the file is byte N of the disk. Reads and writes go
/// straight between the file and guest memory with pread/pwrite, with no copies and no cache of
/// our own, so a completed write is in the host's page cache (it survives the VMM being killed)
/// and a flush (fsync) puts it on the host's disk.
public final class BlockFile {
    public let path: String
    public let isReadOnly: Bool
    /// Size in bytes when opened; the disk's capacity is this rounded down to whole sectors.
    public let size: UInt64
    /// fallocate(PUNCH_HOLE) works on this file: discard can free the host's blocks.
    public let canPunchHoles: Bool
    /// fallocate(ZERO_RANGE) works on this file: write-zeroes without writing.
    public let canZeroRanges: Bool
    private let fd: Int32

    /// Opens `path` for reading and writing (or only reading) and takes an advisory lock on it,
    /// shared when read-only, exclusive otherwise, so two VMs cannot write one image at once.
    public init(path: String, readOnly: Bool) throws(BlockFileError) {
        let fd = open(path, (readOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC)
        guard fd >= 0 else {
            let error = errno
            if error == ENOENT { throw .missing(path: path) }
            if error == EISDIR { throw .notADisk(path: path) }
            throw .cannotOpen(path: path, reason: String(cString: strerror(error)))
        }
        var info = stat()
        let kind = fstat(fd, &info) == 0 ? info.st_mode & S_IFMT : 0
        guard kind == S_IFREG || kind == S_IFBLK else {
            close(fd)
            throw .notADisk(path: path)
        }
        guard flock(fd, (readOnly ? LOCK_SH : LOCK_EX) | LOCK_NB) == 0 else {
            close(fd)
            throw .inUse(path: path)
        }
        let end = lseek(fd, 0, SEEK_END)
        guard end >= 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw .cannotOpen(path: path, reason: reason)
        }
        self.fd = fd
        self.path = path
        self.isReadOnly = readOnly
        self.size = UInt64(end)
        // Only regular files are probed; whether a block device discards is not worth guessing.
        let probe = !readOnly && kind == S_IFREG ? Self.probeFallocate(near: path) : (punch: false, zero: false)
        canPunchHoles = probe.punch
        canZeroRanges = probe.zero
    }

    deinit { close(fd) }

    /// Reads the bytes `vectors` cover from `offset` on, in as few preadv calls as the kernel
    /// allows; false on an I/O error or end of file.
    func read(_ vectors: inout IOVectors, at offset: UInt64) -> Bool {
        var done: UInt64 = 0
        while vectors.remaining > 0 {
            let n = vectors.withVectors { trapeze_preadv(fd, $0, $1, offset + done, 0) }
            guard n > 0 else { return false }
            vectors.consume(n)
            done += UInt64(n)
        }
        return true
    }

    /// Writes the bytes `vectors` cover at `offset` on; false on an I/O error.
    func write(_ vectors: inout IOVectors, at offset: UInt64) -> Bool {
        var done: UInt64 = 0
        while vectors.remaining > 0 {
            let n = vectors.withVectors { trapeze_pwritev(fd, $0, $1, offset + done) }
            guard n > 0 else { return false }
            vectors.consume(n)
            done += UInt64(n)
        }
        return true
    }

    /// Whether `readCached` may find data: false once the file said it cannot tell (a file
    /// system without RWF_NOWAIT reads).
    public private(set) var mayReadCached = true

    /// Reads what the host's page cache holds of the bytes `vectors` cover from `offset` on, from
    /// the start, without waiting for the disk: the bytes read (0 when the first is not cached),
    /// or nil on an I/O error or end of file. `vectors` is left at the first byte not read.
    func readCached(_ vectors: inout IOVectors, at offset: UInt64) -> Int? {
        guard mayReadCached else { return 0 }
        var done = 0
        while vectors.remaining > 0 {
            let n = vectors.withVectors { trapeze_preadv(fd, $0, $1, offset + UInt64(done), 1) }
            if n > 0 {
                vectors.consume(n)
                done += n
                continue
            }
            if n < 0 && errno == EAGAIN { return done }
            if n < 0 && (errno == EOPNOTSUPP || errno == EINVAL) {
                mayReadCached = false
                return done
            }
            return nil
        }
        return done
    }

    /// Makes every completed write durable (fsync).
    public func flush() -> Bool {
        while fsync(fd) != 0 {
            if errno != EINTR { return false }
        }
        return true
    }

    /// Frees the host blocks of the range, which then reads as zeros.
    public func punchHole(offset: UInt64, length: UInt64) -> Bool {
        trapeze_punch_hole(fd, offset, length) == 0
    }

    /// Makes the range read as zeros, keeping it allocated.
    public func zeroRange(offset: UInt64, length: UInt64) -> Bool {
        trapeze_zero_range(fd, offset, length) == 0
    }

    /// Which fallocate modes the file system under `path` supports, tried on a scratch file in
    /// the same directory (never on the image: a probe must not change the guest's data).
    private static func probeFallocate(near path: String) -> (punch: Bool, zero: Bool) {
        guard let resolved = realpath(path, nil) else { return (false, false) }
        var directory = String(cString: resolved)
        free(resolved)
        if let slash = directory.lastIndex(of: "/") { directory = String(directory[..<slash]) }
        var template = Array("\(directory)/.trapeze-probe-XXXXXX".utf8CString)
        let scratch = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard scratch >= 0 else { return (false, false) }
        defer { close(scratch) }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        let block = [UInt8](repeating: 0xA5, count: 8192)
        guard block.withUnsafeBytes({ pwrite(scratch, $0.baseAddress, $0.count, 0) }) == block.count else {
            return (false, false)
        }
        return (trapeze_punch_hole(scratch, 0, 4096) == 0, trapeze_zero_range(scratch, 4096, 4096) == 0)
    }
}
