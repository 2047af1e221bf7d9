#if canImport(Glibc)
import Glibc
#endif

/// The host memory of part of a chain as an iovec array, for one preadv/pwritev of a whole
/// request instead of a system call per buffer (a 1 MiB request from Linux has 256 buffers).
/// Buffers that are adjacent in host memory are merged. The array keeps its capacity, so a
/// request slot allocates only the first time it sees a long chain.
struct IOVectors {
    private var vectors: [iovec] = []
    /// The first vector not yet done, after `consume`.
    private var start = 0

    /// Bytes the vectors cover from `start`.
    private(set) var remaining = 0

    /// Covers `count` bytes of `part` of `chain`, from `offset` bytes into it.
    mutating func gather(_ chain: DescriptorChain, _ part: DescriptorChain.Part, offset: UInt64, count: UInt64) {
        removeAll()
        chain.withSegments(part, offset: offset, count: count) { p, n in
            append(p, n)
            return true
        }
    }

    mutating func removeAll() {
        vectors.removeAll(keepingCapacity: true)
        start = 0
        remaining = 0
    }

    /// Adds `n` bytes at `p`, to the last vector when they follow it in host memory.
    mutating func append(_ p: UnsafeMutableRawPointer, _ n: Int) {
        if start < vectors.count, let base = vectors[vectors.count - 1].iov_base,
           base + vectors[vectors.count - 1].iov_len == p {
            vectors[vectors.count - 1].iov_len += n
        } else {
            vectors.append(iovec(iov_base: p, iov_len: n))
        }
        remaining += n
    }

    /// Vectors not yet done.
    var count: Int { vectors.count - start }

    /// Marks the first `bytes` done (a partial read or write), so the next call goes on from there.
    mutating func consume(_ bytes: Int) {
        var left = bytes
        remaining -= bytes
        while left > 0, start < vectors.count {
            let length = vectors[start].iov_len
            if left < length {
                vectors[start].iov_base = vectors[start].iov_base.map { $0 + left }
                vectors[start].iov_len -= left
                return
            }
            left -= length
            start += 1
        }
    }

    /// Calls `body` with the vectors not yet done (IOV_MAX is 1024; a chain has at most 256
    /// buffers, the largest queue size a device here offers).
    func withVectors<R>(_ body: (UnsafePointer<iovec>, Int32) -> R) -> R {
        precondition(count > 0, "no bytes left to transfer")
        return vectors.withUnsafeBufferPointer { body($0.baseAddress! + start, Int32($0.count - start)) }
    }
}
