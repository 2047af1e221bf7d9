/// Feature bits of the block device (virtio 1.2 section 5.2.3).
extension VirtioFeatures {
    /// VIRTIO_BLK_F_SEG_MAX: `seg_max` limits the data buffers of one request.
    public static let blockSegmentMax = VirtioFeatures(bit: 2)
    /// VIRTIO_BLK_F_RO: the disk is read-only.
    public static let blockReadOnly = VirtioFeatures(bit: 5)
    /// VIRTIO_BLK_F_FLUSH: VIRTIO_BLK_T_FLUSH is supported.
    public static let blockFlush = VirtioFeatures(bit: 9)
    /// VIRTIO_BLK_F_DISCARD: VIRTIO_BLK_T_DISCARD is supported.
    public static let blockDiscard = VirtioFeatures(bit: 13)
    /// VIRTIO_BLK_F_WRITE_ZEROES: VIRTIO_BLK_T_WRITE_ZEROES is supported.
    public static let blockWriteZeroes = VirtioFeatures(bit: 14)
}

/// The virtio block device (device ID 2, virtio 1.2 section 5.2) over a raw image file.
///
/// One request queue. Each request is a chain: a 16-byte header the device reads
/// (`le32 type, le32 reserved, le64 sector`), data (read for writes and discards, written for
/// reads and get-id), and a status byte the device writes last (5.2.6):
///
///     IN (0)  read      OUT (1)  write      FLUSH (4)  fsync      GET_ID (8)  20-byte ID string
///     DISCARD (11) and WRITE_ZEROES (13): segments of `le64 sector, le32 num_sectors, le32 flags`
///
/// Requests are served in order as soon as the driver notifies, on the thread that runs the
/// harts. A request the device can answer gets a status: OK, IOERR (past the end, a length that
/// is not whole sectors, a write to a read-only disk, a host I/O error) or UNSUPP (an unknown or
/// unnegotiated type, unknown flags). A chain with no writable byte for the status cannot be
/// answered and sets DEVICE_NEEDS_RESET.
public final class VirtioBlock: VirtioDevice {
    public static let queueSize: UInt16 = 256
    public static let sectorSize: UInt64 = 512
    /// Most segments in one discard or write-zeroes request, and most sectors in one segment.
    static let maxRangeSegments: UInt32 = 32
    static let maxRangeSectors: UInt32 = 1 << 22  // 2 GiB
    static let idLength = 20

    /// Request types (5.2.6).
    enum RequestType: UInt32 {
        case read = 0, write = 1, flush = 4, getID = 8, discard = 11, writeZeroes = 13
    }

    /// The status byte (5.2.6).
    enum Status: UInt8 {
        case ok = 0, ioError = 1, unsupported = 2
    }

    static let headerLength: UInt64 = 16
    static let rangeSegmentLength: UInt64 = 16
    /// `flags.unmap` of a discard or write-zeroes segment; every other bit is reserved.
    static let rangeFlagUnmap: UInt64 = 1

    /// What the device served, for `--stats` and tests.
    public struct Counters: Equatable, Sendable {
        public var readRequests: UInt64 = 0
        public var writeRequests: UInt64 = 0
        public var flushRequests: UInt64 = 0
        public var getIDRequests: UInt64 = 0
        public var discardRequests: UInt64 = 0
        public var writeZeroesRequests: UInt64 = 0
        /// Requests of a type the device does not know (answered UNSUPP).
        public var otherRequests: UInt64 = 0
        /// Bytes copied from the image into guest buffers (reads).
        public var bytesRead: UInt64 = 0
        /// Bytes copied from guest buffers into the image (writes; not discard or write-zeroes).
        public var bytesWritten: UInt64 = 0
        /// Requests answered IOERR and UNSUPP (5.2.6).
        public var ioErrors: UInt64 = 0
        public var unsupported: UInt64 = 0
    }

    public let deviceType = VirtioDeviceType.block
    public let deviceFeatures: VirtioFeatures
    public let queueMaxSizes = [VirtioBlock.queueSize]
    public let file: BlockFile
    /// Capacity in 512-byte sectors (a partial last sector of the file is not part of the disk).
    public let capacity: UInt64
    /// The ID string, NUL-padded to 20 bytes (a 20-byte ID has no terminator, 5.2.6).
    private let id: [UInt8]
    private let config: VirtioConfigSpace
    private var chain = DescriptorChain(capacity: Int(VirtioBlock.queueSize))
    private var features: VirtioFeatures = []
    private weak var interrupt: VirtioInterrupt?
    public private(set) var counters = Counters()

    /// `serial` is the ID string the guest reads with GET_ID (Linux: /sys/block/vdX/serial);
    /// it is cut to 20 bytes.
    public init(file: BlockFile, serial: String) {
        self.file = file
        capacity = file.size / Self.sectorSize
        let serialBytes = Array(serial.utf8.prefix(Self.idLength))
        id = serialBytes + [UInt8](repeating: 0, count: Self.idLength - serialBytes.count)

        var features: VirtioFeatures = [.blockSegmentMax, .blockFlush]  // 5.2.5.2: SHOULD offer FLUSH
        if file.isReadOnly {
            features.insert(.blockReadOnly)
        } else {
            if file.canPunchHoles { features.insert(.blockDiscard) }
            if file.canPunchHoles || file.canZeroRanges { features.insert(.blockWriteZeroes) }
        }
        deviceFeatures = features

        // struct virtio_blk_config (5.2.4); fields of features not offered stay 0.
        var config = VirtioConfigSpace(size: 96)
        config.set(offset: 0, size: 8, capacity)
        // Header and status take two descriptors of a chain no longer than the queue.
        config.set(offset: 12, size: 4, UInt64(Self.queueSize) - 2)
        if features.contains(.blockDiscard) {
            config.set(offset: 36, size: 4, UInt64(Self.maxRangeSectors))    // max_discard_sectors
            config.set(offset: 40, size: 4, UInt64(Self.maxRangeSegments))   // max_discard_seg
            config.set(offset: 44, size: 4, 8)                               // discard_sector_alignment: 4 KiB
        }
        if features.contains(.blockWriteZeroes) {
            config.set(offset: 48, size: 4, UInt64(Self.maxRangeSectors))    // max_write_zeroes_sectors
            config.set(offset: 52, size: 4, UInt64(Self.maxRangeSegments))   // max_write_zeroes_seg
            config.set(offset: 56, size: 1, file.canPunchHoles ? 1 : 0)      // write_zeroes_may_unmap
        }
        self.config = config
    }

    // MARK: VirtioDevice

    public func readConfig(offset: Int, size: Int) -> UInt64 {
        config.read(offset: offset, size: size)
    }

    public var statistics: [String: UInt64] {
        ["readRequests": counters.readRequests, "writeRequests": counters.writeRequests,
         "flushRequests": counters.flushRequests, "getIDRequests": counters.getIDRequests,
         "discardRequests": counters.discardRequests, "writeZeroesRequests": counters.writeZeroesRequests,
         "otherRequests": counters.otherRequests, "bytesRead": counters.bytesRead,
         "bytesWritten": counters.bytesWritten, "ioErrors": counters.ioErrors, "unsupported": counters.unsupported]
    }

    public func activate(features: VirtioFeatures, queues: [Virtqueue], interrupt: VirtioInterrupt) throws(VirtioError) {
        self.features = features
        self.interrupt = interrupt
    }

    public func reset() {
        features = []
        interrupt = nil
    }

    public func queueNotified(_ queue: Virtqueue) throws(VirtioError) {
        defer {
            if queue.needsNotification() { interrupt?.usedBuffers(queue: queue.index) }
        }
        while try queue.pop(into: &chain) {
            let written = try serve(chain)
            queue.push(head: chain.head, written: written)
        }
    }

    // MARK: Requests

    /// Serves one request and writes its status; returns the bytes written to the chain.
    private func serve(_ chain: DescriptorChain) throws(VirtioError) -> UInt32 {
        guard chain.writableLength > 0 else {
            throw .malformedRequest("virtio-blk request without a writable status byte")
        }
        let statusOffset = chain.writableLength - 1
        let (status, dataWritten) = execute(chain, writableData: statusOffset)
        switch status {
        case .ok: break
        case .ioError: counters.ioErrors &+= 1
        case .unsupported: counters.unsupported &+= 1
        }
        chain.storeWritableByte(status.rawValue, at: statusOffset)
        return UInt32(dataWritten + 1)
    }

    /// Runs the request; `writableData` is the writable part before the status byte. Returns
    /// the status and the bytes of data written to the guest.
    private func execute(_ chain: DescriptorChain, writableData: UInt64) -> (Status, UInt64) {
        guard let rawType = chain.readableInteger(at: 0, size: 4),
              let sector = chain.readableInteger(at: 8, size: 8) else {
            return (.ioError, 0)  // no room for a header
        }
        let readableData = chain.readableLength - Self.headerLength
        let type = RequestType(rawValue: UInt32(rawType))
        count(type)
        switch type {
        case .read:
            return read(chain, sector: sector, length: writableData)
        case .write:
            return (write(chain, sector: sector, length: readableData), 0)
        case .flush:
            return (file.flush() ? .ok : .ioError, 0)
        case .getID:
            let n = Int(min(UInt64(Self.idLength), writableData))
            let written = id.withUnsafeBytes { chain.copyToWritable(UnsafeRawBufferPointer(rebasing: $0.prefix(n)), at: 0) }
            return (.ok, UInt64(written))
        case .discard where features.contains(.blockDiscard):
            return (ranges(chain, length: readableData, discard: true), 0)
        case .writeZeroes where features.contains(.blockWriteZeroes):
            return (ranges(chain, length: readableData, discard: false), 0)
        default:
            return (.unsupported, 0)
        }
    }

    private func count(_ type: RequestType?) {
        switch type {
        case .read: counters.readRequests &+= 1
        case .write: counters.writeRequests &+= 1
        case .flush: counters.flushRequests &+= 1
        case .getID: counters.getIDRequests &+= 1
        case .discard: counters.discardRequests &+= 1
        case .writeZeroes: counters.writeZeroesRequests &+= 1
        case nil: counters.otherRequests &+= 1
        }
    }

    /// The byte range of `sectors` sectors from `sector`, or nil when any of it is past the end.
    private func byteRange(sector: UInt64, sectors: UInt64) -> (offset: UInt64, length: UInt64)? {
        guard sector <= capacity, sectors <= capacity - sector else { return nil }
        return (sector * Self.sectorSize, sectors * Self.sectorSize)
    }

    private func read(_ chain: DescriptorChain, sector: UInt64, length: UInt64) -> (Status, UInt64) {
        guard length % Self.sectorSize == 0,
              let range = byteRange(sector: sector, sectors: length / Self.sectorSize) else { return (.ioError, 0) }
        var done: UInt64 = 0
        var failed = false
        chain.withSegments(.writable, offset: 0, count: length) { p, n in
            guard file.read(into: p, count: n, at: range.offset + done) else {
                failed = true
                return false
            }
            done += UInt64(n)
            return true
        }
        counters.bytesRead &+= done
        return (failed ? .ioError : .ok, done)
    }

    private func write(_ chain: DescriptorChain, sector: UInt64, length: UInt64) -> Status {
        // 5.2.6.2: a read-only device fails writes with IOERR and writes nothing.
        guard !file.isReadOnly else { return .ioError }
        guard length % Self.sectorSize == 0,
              let range = byteRange(sector: sector, sectors: length / Self.sectorSize) else { return .ioError }
        var done: UInt64 = 0
        var failed = false
        chain.withSegments(.readable, offset: Self.headerLength, count: length) { p, n in
            guard file.write(from: p, count: n, at: range.offset + done) else {
                failed = true
                return false
            }
            done += UInt64(n)
            return true
        }
        counters.bytesWritten &+= done
        return failed ? .ioError : .ok
    }

    /// DISCARD and WRITE_ZEROES: all segments are checked before any is carried out.
    private func ranges(_ chain: DescriptorChain, length: UInt64, discard: Bool) -> Status {
        guard !file.isReadOnly else { return .ioError }
        let count = length / Self.rangeSegmentLength
        guard length % Self.rangeSegmentLength == 0, count > 0 else { return .ioError }
        guard count <= UInt64(Self.maxRangeSegments) else { return .unsupported }
        for pass in 0..<2 {
            for i in 0..<count {
                let at = Self.headerLength + i * Self.rangeSegmentLength
                guard let sector = chain.readableInteger(at: at, size: 8),
                      let sectors = chain.readableInteger(at: at + 8, size: 4),
                      let flags = chain.readableInteger(at: at + 12, size: 4) else { return .ioError }
                let unmap = flags & Self.rangeFlagUnmap != 0
                // 5.2.6.2: unknown flags, and unmap on a discard, are unsupported.
                guard flags & ~Self.rangeFlagUnmap == 0, !(discard && unmap) else { return .unsupported }
                guard sectors <= UInt64(Self.maxRangeSectors),
                      let range = byteRange(sector: sector, sectors: sectors) else { return .ioError }
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
