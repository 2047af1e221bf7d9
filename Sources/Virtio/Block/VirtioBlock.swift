import CShims

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
/// Requests are taken in order when the driver notifies, on the thread that runs the harts. With
/// a `DeviceWorker` attached (Machine's I/O thread), what waits for the host's disk is carried out
/// there, in order: flushes (fsync), discards and write-zeroes (fallocate), reads of data not in
/// the host's page cache, and writes while the host throttles writers. The harts run on meanwhile
/// and the answer goes back on the harts' thread. Reads the page cache holds and writes into it
/// are served at once, because handing them over costs the guest more than they take: its vCPU
/// goes idle and wakes for the answer, and the data crosses to the other core's cache (measured
/// in BENCHMARKS.md). Without a worker, each request is carried out as it is taken. A request the device can answer
/// gets a status: OK, IOERR (past the end, a length that
/// is not whole sectors, a write to a read-only disk, a host I/O error) or UNSUPP (an unknown or
/// unnegotiated type, unknown flags). A chain with no writable byte for the status cannot be
/// answered and sets DEVICE_NEEDS_RESET.
public final class VirtioBlock: OffloadingDevice {
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
        /// Requests carried out on the harts' thread when the driver notified (all of them
        /// without a worker; with one, reads the host's page cache could answer), and requests
        /// carried out on the worker.
        public var servedInline: UInt64 = 0
        public var servedByWorker: UInt64 = 0
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
    /// One slot per request the driver can have out at once (the queue's size).
    let slots = RequestSlots(count: Int(VirtioBlock.queueSize)) { BlockRequest() }
    /// Slot numbers `finishCompleted` answers; kept to reuse its storage.
    private var completed: [Int] = []
    private var worker: DeviceWorker?
    /// Host monotonic time until which writes go to the worker (see `performQuickly`).
    private var inlineWritesPausedUntil: UInt64 = 0
    private var requestQueue: Virtqueue?
    /// The driver broke the queue outside a notification: nothing moves until a reset.
    private var failed = false
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
         "bytesWritten": counters.bytesWritten, "ioErrors": counters.ioErrors, "unsupported": counters.unsupported,
         "servedInline": counters.servedInline, "servedByWorker": counters.servedByWorker]
    }

    public func activate(features: VirtioFeatures, queues: [Virtqueue], interrupt: VirtioInterrupt) throws(VirtioError) {
        self.features = features
        self.interrupt = interrupt
        requestQueue = queues[0]
    }

    public func reset() {
        // Requests on the worker still write into guest memory: they end before the reset does.
        if let worker, slots.outstanding > 0 {
            worker.waitUntilIdle(self)
        }
        slots.reclaimAll()
        features = []
        interrupt = nil
        requestQueue = nil
        failed = false
    }

    public func queueNotified(_ queue: Virtqueue) throws(VirtioError) {
        do {
            try takeRequests(from: queue)
        } catch {
            failed = true
            throw error
        }
    }

    // MARK: Requests

    /// Pops every available chain that a free slot can hold, prepares it and carries it out:
    /// inline without a worker, otherwise on the worker (answered later by `finishCompleted`).
    /// Chains beyond the slots wait in the ring until requests complete.
    private func takeRequests(from queue: Virtqueue) throws(VirtioError) {
        var submitted = false
        defer {
            if submitted { worker?.wake() }
            if queue.needsNotification() { interrupt?.usedBuffers(queue: queue.index) }
        }
        while let slot = try slots.takeNext(from: queue, check: prepare) {
            let request = slots.requests[slot]
            if worker == nil {
                request.perform(file: file, id: id)
                counters.servedInline &+= 1
                answer(slot, on: queue)
            } else if performQuickly(request) {
                counters.servedInline &+= 1
                answer(slot, on: queue)
            } else {
                counters.servedByWorker &+= 1
                slots.submit(slot)
                submitted = true
            }
        }
    }

    /// `BlockRequest.performQuickly`, with writes inline unless one recently had to wait: the
    /// host throttles writers when too much of its page cache is dirty, and then the worker
    /// takes the writes, so the harts do not stall with them.
    private func performQuickly(_ request: BlockRequest) -> Bool {
        let start = trapeze_monotonic_ns()
        let writes = start >= inlineWritesPausedUntil
        let done = request.performQuickly(file: file, id: id, writes: writes)
        if writes, case .write = request.operation, trapeze_monotonic_ns() &- start > Self.slowInlineWrite {
            inlineWritesPausedUntil = trapeze_monotonic_ns() + Self.inlineWritePause
        }
        return done
    }

    /// An inline write that took longer than this waited for the host (1 ms: a 1 MiB copy into
    /// the page cache takes about 0.2 ms); writes then go to the worker for `inlineWritePause`.
    static let slowInlineWrite: UInt64 = 1_000_000
    static let inlineWritePause: UInt64 = 100_000_000

    /// Decides what the request asks for and checks it against the disk, on the harts' thread.
    private func prepare(_ request: BlockRequest) throws(VirtioError) {
        let chain = request.chain
        guard chain.writableLength > 0 else {
            throw .malformedRequest("virtio-blk request without a writable status byte")
        }
        let statusOffset = chain.writableLength - 1
        request.begin(operation(for: chain, writableData: statusOffset), statusOffset: statusOffset)
    }

    /// `writableData` is the writable part before the status byte.
    private func operation(for chain: DescriptorChain, writableData: UInt64) -> BlockRequest.Operation {
        guard let rawType = chain.readableInteger(at: 0, size: 4),
              let sector = chain.readableInteger(at: 8, size: 8) else {
            return .answer(.ioError)  // no room for a header
        }
        let readableData = chain.readableLength - Self.headerLength
        let type = RequestType(rawValue: UInt32(rawType))
        count(type)
        switch type {
        case .read:
            guard writableData % Self.sectorSize == 0,
                  let range = byteRange(sector: sector, sectors: writableData / Self.sectorSize) else { return .answer(.ioError) }
            return .read(offset: range.offset, length: range.length)
        case .write:
            // 5.2.6.2: a read-only device fails writes with IOERR and writes nothing.
            guard !file.isReadOnly, readableData % Self.sectorSize == 0,
                  let range = byteRange(sector: sector, sectors: readableData / Self.sectorSize) else { return .answer(.ioError) }
            return .write(offset: range.offset, length: range.length)
        case .flush:
            return .flush
        case .getID:
            return .getID(length: writableData)
        case .discard where features.contains(.blockDiscard), .writeZeroes where features.contains(.blockWriteZeroes):
            guard !file.isReadOnly else { return .answer(.ioError) }
            let segments = readableData / Self.rangeSegmentLength
            guard readableData % Self.rangeSegmentLength == 0, segments > 0 else { return .answer(.ioError) }
            guard segments <= UInt64(Self.maxRangeSegments) else { return .answer(.unsupported) }
            return .ranges(segments: segments, discard: type == .discard)
        default:
            return .answer(.unsupported)
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
        Self.byteRange(sector: sector, sectors: sectors, capacity: capacity)
    }

    static func byteRange(sector: UInt64, sectors: UInt64, capacity: UInt64) -> (offset: UInt64, length: UInt64)? {
        guard sector <= capacity, sectors <= capacity - sector else { return nil }
        return (sector * sectorSize, sectors * sectorSize)
    }

    /// Writes the status byte of a carried-out request, returns its chain to the driver and frees
    /// its slot. The caller asks the queue whether the driver wants an interrupt.
    private func answer(_ slot: Int, on queue: Virtqueue) {
        let request = slots.requests[slot]
        switch request.status {
        case .ok: break
        case .ioError: counters.ioErrors &+= 1
        case .unsupported: counters.unsupported &+= 1
        }
        counters.bytesRead &+= request.bytesRead
        counters.bytesWritten &+= request.bytesWritten
        request.chain.storeWritableByte(request.status.rawValue, at: request.statusOffset)
        queue.push(request.chain, written: UInt32(request.dataWritten + 1))
        slots.release(slot)
    }

    // MARK: OffloadingDevice

    public func attach(worker: DeviceWorker) {
        self.worker = worker
    }

    public func performSubmitted() -> Bool {
        var completed = false
        while let slot = slots.nextSubmitted() {
            slots.requests[slot].perform(file: file, id: id)
            slots.complete(slot)
            completed = true
        }
        return completed
    }

    public func finishCompleted() {
        slots.takeCompleted(into: &completed)
        guard let queue = requestQueue, !completed.isEmpty else { return }
        for slot in completed { answer(slot, on: queue) }
        if queue.needsNotification() { interrupt?.usedBuffers(queue: queue.index) }
        // Chains that found every slot taken wait in the ring; the driver need not notify again.
        guard !failed else { return }
        do {
            try takeRequests(from: queue)
        } catch {
            failed = true
            interrupt?.deviceFailed(error)
        }
    }

    public var requestsInFlight: Int { slots.inFlight }

    public var requestsOutstanding: Int { slots.outstanding }

    /// What reaches the worker is what waits for the host's storage.
    public var workKind: DeviceWorkKind { .blocking }
}
