/// One virtio-blk request out of the driver's hands (5.2.6): its chain, what it asks the disk
/// for, and, once carried out, its answer. `VirtioBlock` fills it on the harts' thread
/// (`prepare`), it is carried out on the device's worker thread or inline (`perform`), and the
/// device answers the driver from it on the harts' thread.
final class BlockRequest: ChainRequest {
    /// What the request does to the image, decided and bounds-checked when it is prepared, so that
    /// carrying it out reads nothing the guest could change meanwhile except the data itself and
    /// the segments of a discard.
    enum Operation {
        /// The answer is known without touching the image (a malformed or unsupported request).
        case answer(VirtioBlock.Status)
        case read(offset: UInt64, length: UInt64)
        case write(offset: UInt64, length: UInt64)
        case flush
        case getID(length: UInt64)
        /// DISCARD or WRITE_ZEROES with `segments` 16-byte range segments after the header.
        case ranges(segments: UInt64, discard: Bool)
    }

    var chain = DescriptorChain(capacity: 4)
    /// The data buffers as host memory, for one system call per request.
    private var vectors = IOVectors()
    var operation = Operation.answer(.ok)
    /// Where the status byte goes: the last writable byte.
    var statusOffset: UInt64 = 0
    // The answer.
    var status = VirtioBlock.Status.ok
    /// Bytes of data written into the chain (reads and get-id), before the status byte.
    var dataWritten: UInt64 = 0
    /// Bytes moved between the image and the guest, for the counters. A read that
    /// `performQuickly` began continues from `bytesRead`.
    var bytesRead: UInt64 = 0
    var bytesWritten: UInt64 = 0

    /// Readies the request for `performQuickly` and `perform`: no answer, nothing moved.
    func begin(_ operation: Operation, statusOffset: UInt64) {
        self.operation = operation
        self.statusOffset = statusOffset
        status = .ok
        dataWritten = 0
        bytesRead = 0
        bytesWritten = 0
    }

    /// Carries out, on the harts' thread, what the host does without waiting for its disk:
    /// answers known already, the ID, a read of data the host's page cache holds, and (with
    /// `writes`) a write, which lands in the host's page cache. Doing these at once costs the
    /// guest less than handing them over: its vCPU would go idle and wake for the answer, and the
    /// data would cross to the other core's cache. True when the request is done; false when the
    /// rest must go to the worker: a read of uncached data (it continues where this stopped), a
    /// flush, a discard, or a write without `writes`.
    func performQuickly(file: BlockFile, id: [UInt8], writes: Bool) -> Bool {
        switch operation {
        case .answer, .getID:
            perform(file: file, id: id)
            return true
        case .read(let offset, let length):
            vectors.gather(chain, .writable, offset: 0, count: length)
            guard let got = file.readCached(&vectors, at: offset) else {
                status = .ioError
                return true
            }
            bytesRead = UInt64(got)
            dataWritten = bytesRead
            return bytesRead == length
        case .write where writes:
            perform(file: file, id: id)
            return true
        case .write, .flush, .ranges:
            return false
        }
    }

    /// Carries the request out against `file` and records the answer. Runs on the worker's
    /// thread (or inline without one): it touches the file, this request and the chain's
    /// buffers, nothing else.
    func perform(file: BlockFile, id: [UInt8]) {
        switch operation {
        case .answer(let answer):
            status = answer
        case .read(let offset, let length):
            // From where `performQuickly` stopped, if it began.
            vectors.gather(chain, .writable, offset: bytesRead, count: length - bytesRead)
            if !file.read(&vectors, at: offset + bytesRead) { status = .ioError }
            bytesRead = length - UInt64(vectors.remaining)
            dataWritten = bytesRead
        case .write(let offset, let length):
            vectors.gather(chain, .readable, offset: VirtioBlock.headerLength, count: length)
            if !file.write(&vectors, at: offset) { status = .ioError }
            bytesWritten = length - UInt64(vectors.remaining)
        case .flush:
            if !file.flush() { status = .ioError }
        case .getID(let length):
            let n = Int(min(UInt64(id.count), length))
            dataWritten = UInt64(id.withUnsafeBytes { chain.copyToWritable(UnsafeRawBufferPointer(rebasing: $0.prefix(n)), at: 0) })
        case .ranges(let segments, let discard):
            status = ranges(segments: segments, discard: discard, file: file)
        }
    }

    /// DISCARD and WRITE_ZEROES: all segments are checked before any is carried out, and each is
    /// checked again as it is carried out (the guest may change them in between).
    private func ranges(segments count: UInt64, discard: Bool, file: BlockFile) -> VirtioBlock.Status {
        for pass in 0..<2 {
            for i in 0..<count {
                let at = VirtioBlock.headerLength + i * VirtioBlock.rangeSegmentLength
                guard let sector = chain.readableInteger(at: at, size: 8),
                      let sectors = chain.readableInteger(at: at + 8, size: 4),
                      let flags = chain.readableInteger(at: at + 12, size: 4) else { return .ioError }
                let unmap = flags & VirtioBlock.rangeFlagUnmap != 0
                // 5.2.6.2: unknown flags, and unmap on a discard, are unsupported.
                guard flags & ~VirtioBlock.rangeFlagUnmap == 0, !(discard && unmap) else { return .unsupported }
                guard sectors <= UInt64(VirtioBlock.maxRangeSectors),
                      let range = VirtioBlock.byteRange(sector: sector, sectors: sectors, capacity: file.size / VirtioBlock.sectorSize)
                else { return .ioError }
                guard pass == 1, range.length > 0 else { continue }
                let done: Bool
                if discard {
                    done = file.punchHole(offset: range.offset, length: range.length)
                } else if unmap && file.canPunchHoles || !file.canZeroRanges {
                    // unmap allows deallocation (5.2.6.2); a file system without ZERO_RANGE
                    // (tmpfs) only has holes to give zeros with.
                    done = file.punchHole(offset: range.offset, length: range.length)
                } else {
                    done = file.zeroRange(offset: range.offset, length: range.length)
                }
                guard done else { return .ioError }
            }
        }
        return .ok
    }
}
