import Foundation
@testable import Virtio
import XCTest

/// virtio-blk (virtio 1.2 section 5.2) over a scratch image file: request parsing, data in both
/// directions, status codes, read-only disks, discard and write-zeroes, configuration space.
final class BlockTests: XCTestCase {
    static let sectors = 64
    private var path: String!
    private var original: [UInt8]!
    private var device: VirtioBlock!
    private var driver: TestDriver!

    enum RequestType: UInt32 { case read = 0, write = 1, flush = 4, getID = 8, lifetime = 10, discard = 11, writeZeroes = 13 }
    static let ok: UInt8 = 0, ioError: UInt8 = 1, unsupported: UInt8 = 2

    override func setUpWithError() throws {
        path = NSTemporaryDirectory() + "trapeze-blk-\(getpid())-\(UUID().uuidString).img"
        var generator = SplitMix64(seed: 42)
        original = (0..<Self.sectors * 512).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        try Data(original).write(to: URL(fileURLWithPath: path))
        try open(readOnly: false)
    }

    override func tearDown() {
        threadWorker?.stop()
        threadWorker = nil
        device = nil
        driver = nil
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Requests go to a `ThreadWorker`, as they go to Machine's I/O thread in a VM.
    private var onWorkerThread = false
    private var threadWorker: ThreadWorker?

    private func open(readOnly: Bool, accept: UInt64? = nil, worker: DeviceWorker? = nil) throws {
        // Close the previous device first: it holds the image's lock.
        threadWorker?.stop()
        threadWorker = nil
        driver = nil
        device = nil
        device = VirtioBlock(file: try BlockFile(path: path, readOnly: readOnly), serial: "disk-serial-1234567890")
        if let worker {
            device.attach(worker: worker)
        } else if onWorkerThread {
            threadWorker = ThreadWorker(device: device)
        }
        driver = TestDriver(device: device, ramSize: 4 << 20)
        driver.worker = worker ?? threadWorker
        XCTAssertTrue(driver.initialize(accept: accept))
    }

    // MARK: On a worker

    /// The request tests again with the device's work on a thread of its own.
    func testRequestsOnAWorkerThread() throws {
        onWorkerThread = true
        let tests: [() throws -> Void] = [
            testReadSectors, testReadIntoOneBufferWithTheStatusByte, testWriteSectors,
            testWriteWithHeaderAndDataInOneDescriptor, testOutOfRangeAndPartialSectors, testFlush, testGetID,
            testUnknownAndUnofferedRequestTypes, testMalformedRequests, testReadOnlyDisk, testDiscardAndWriteZeroes,
            testStatistics, testManyRequestsInOneNotification,
        ]
        for test in tests {
            tearDown()
            try setUpWithError()
            try test()
        }
    }

    /// Several chains made available before one notification are all answered, in order, and
    /// writes land in the order the driver made them available.
    func testManyRequestsInOneNotification() {
        var heads: [UInt16] = []
        var statuses: [UInt64] = []
        for i in 0..<20 {
            let data = [UInt8](repeating: UInt8(i), count: 512)
            let status = driver.allocate(1, fill: 0xFF)
            statuses.append(status)
            heads.append(driver.addChain([
                TestBuffer(address: driver.allocate(bytes: header(1, sector: 5)), length: 16, writable: false),
                TestBuffer(address: driver.allocate(bytes: data), length: 512, writable: false),
                TestBuffer(address: status, length: 1, writable: true),
            ], notify: i == 19))
        }
        XCTAssertEqual(driver.takeUsed().map(\.id), heads.map(UInt32.init))
        XCTAssertEqual(statuses.map { driver.bytes(at: $0, 1)[0] }, [UInt8](repeating: Self.ok, count: 20))
        XCTAssertEqual(Array(fileBytes[5 * 512..<6 * 512]), [UInt8](repeating: 19, count: 512), "the last write wins")
    }

    /// With a worker, a request that waits for the host's disk (here WRITE_ZEROES, an fallocate)
    /// goes to it, and the driver hears of it only once the worker carried it out and the device
    /// answered on the harts' thread: status byte, used ring and interrupt together.
    func testAnswerWaitsForTheWorker() throws {
        let worker = ManualWorker()
        try open(readOnly: false, worker: worker)
        let status = driver.allocate(1, fill: 0xFF)
        driver.addChain([
            TestBuffer(address: driver.allocate(bytes: header(RequestType.writeZeroes.rawValue, sector: 0)),
                       length: 16, writable: false),
            TestBuffer(address: driver.allocate(bytes: segment(sector: 8, count: 2)), length: 16, writable: false),
            TestBuffer(address: status, length: 1, writable: true),
        ])
        XCTAssertEqual(worker.wakes, 1)
        XCTAssertEqual(device.requestsInFlight, 1)
        XCTAssertEqual(fileBytes, original, "nothing done before the worker runs")
        XCTAssertTrue(device.performSubmitted())
        XCTAssertEqual(device.requestsInFlight, 0)
        XCTAssertEqual(Array(fileBytes[8 * 512..<10 * 512]), [UInt8](repeating: 0, count: 1024), "done by the worker")
        XCTAssertEqual(driver.bytes(at: status, 1), [0xFF], "no status before the answer")
        XCTAssertEqual(driver.usedIndex(), 0)
        XCTAssertFalse(driver.sink.isHigh(TestDriver.irq))
        device.finishCompleted()
        XCTAssertEqual(driver.bytes(at: status, 1), [Self.ok])
        XCTAssertEqual(driver.usedIndex(), 1)
        XCTAssertTrue(driver.sink.isHigh(TestDriver.irq))
        XCTAssertFalse(device.performSubmitted(), "nothing left")
        XCTAssertEqual(device.counters.servedByWorker, 1)
    }

    /// With a worker, what the host does without waiting for its disk is answered when the driver
    /// notifies: a write (into the host's page cache), a read of cached data, GET_ID, an unknown
    /// type. A flush goes to the worker.
    func testQuickRequestsAreAnsweredAtOnce() throws {
        let worker = ManualWorker()
        try open(readOnly: false, worker: worker)
        let data = [UInt8](repeating: 0x3C, count: 1024)
        let write = request(RequestType.write.rawValue, sector: 8, out: data, settling: false)
        XCTAssertEqual(write.status, Self.ok)
        XCTAssertEqual(Array(fileBytes[8 * 512..<10 * 512]), data)
        let read = request(RequestType.read.rawValue, sector: 8, inLength: 1024, settling: false)
        XCTAssertEqual(read.data, data, "read back from the host's page cache")
        XCTAssertEqual(request(RequestType.getID.rawValue, inLength: 20, settling: false).status, Self.ok)
        XCTAssertEqual(request(RequestType.lifetime.rawValue, inLength: 8, settling: false).status, Self.unsupported)
        XCTAssertEqual(worker.wakes, 0)
        XCTAssertEqual(device.counters.servedInline, 4)

        let status = driver.allocate(1, fill: 0xFF)
        driver.addChain([
            TestBuffer(address: driver.allocate(bytes: header(RequestType.flush.rawValue, sector: 0)), length: 16, writable: false),
            TestBuffer(address: status, length: 1, writable: true),
        ])
        XCTAssertEqual(worker.wakes, 1)
        XCTAssertEqual(driver.takeUsed(settling: false).count, 0, "the fsync waits for the worker")
        driver.settle()
        XCTAssertEqual(driver.bytes(at: status, 1), [Self.ok])
        XCTAssertEqual(device.counters.servedByWorker, 1)
    }

    /// A reset with a request in flight lets it end first (no access to guest memory or the
    /// image after the reset), and its answer is dropped: the reset queue's used ring stays empty.
    func testResetWaitsForRequestsInFlight() throws {
        let worker = ManualWorker()
        try open(readOnly: false, worker: worker)
        driver.addChain([
            TestBuffer(address: driver.allocate(bytes: header(RequestType.writeZeroes.rawValue, sector: 0)),
                       length: 16, writable: false),
            TestBuffer(address: driver.allocate(bytes: segment(sector: 2, count: 1)), length: 16, writable: false),
            TestBuffer(address: driver.allocate(1, fill: 0xFF), length: 1, writable: true),
        ])
        XCTAssertEqual(device.requestsInFlight, 1)
        driver.write(Reg.status, 0)
        XCTAssertEqual(device.requestsInFlight, 0)
        XCTAssertEqual(Array(fileBytes[1024..<1536]), [UInt8](repeating: 0, count: 512), "done before the reset ended")
        XCTAssertTrue(driver.initialize())
        device.finishCompleted()
        XCTAssertEqual(driver.usedIndex(), 0, "no answer from before the reset")
        let r = request(RequestType.read.rawValue, sector: 4, inLength: 512)
        XCTAssertEqual(r.status, Self.ok)
        XCTAssertEqual(r.data, Array(original[2048..<2560]))
    }

    private var fileBytes: [UInt8] { [UInt8](FileManager.default.contents(atPath: path)!) }

    private func header(_ type: UInt32, sector: UInt64) -> [UInt8] {
        withUnsafeBytes(of: type.littleEndian) { Array($0) } + [0, 0, 0, 0]
            + withUnsafeBytes(of: sector.littleEndian) { Array($0) }
    }

    /// Sends one request: header, `out` data (device-readable), `inLength` bytes of writable data,
    /// then the status byte; `split` puts each data part in 512-byte descriptors. Returns the
    /// status, the used length and the data the device wrote.
    private func request(_ type: UInt32, sector: UInt64 = 0, out: [UInt8] = [], inLength: Int = 0,
                         split: Bool = false, indirect: Bool = false,
                         settling: Bool = true) -> (status: UInt8, used: UInt32, data: [UInt8]) {
        var buffers = [TestBuffer(address: driver.allocate(bytes: header(type, sector: sector)), length: 16, writable: false)]
        func pieces(_ length: Int) -> [Int] {
            guard split else { return length > 0 ? [length] : [] }
            return stride(from: 0, to: length, by: 512).map { min(512, length - $0) }
        }
        var offset = 0
        for n in pieces(out.count) {
            buffers.append(TestBuffer(address: driver.allocate(bytes: Array(out[offset..<offset + n])), length: UInt32(n), writable: false))
            offset += n
        }
        let inBuffers = pieces(inLength).map { TestBuffer(address: driver.allocate($0, fill: 0xCC), length: UInt32($0), writable: true) }
        let status = driver.allocate(1, fill: 0xFF)
        buffers += inBuffers + [TestBuffer(address: status, length: 1, writable: true)]
        let head = driver.addChain(buffers, indirect: indirect)
        let used = driver.takeUsed(settling: settling)
        XCTAssertEqual(used.map(\.id), [UInt32(head)], "one used entry for the request")
        let data = inBuffers.flatMap { driver.bytes(at: $0.address, Int($0.length)) }
        return (driver.bytes(at: status, 1)[0], used.first?.length ?? 0, data)
    }

    func testConfigurationSpace() {
        XCTAssertEqual(driver.read(Reg.config, size: 8), UInt64(Self.sectors), "capacity")
        XCTAssertEqual(driver.read(Reg.config, size: 4), UInt64(Self.sectors), "capacity, low word")
        XCTAssertEqual(driver.read(Reg.config + 12), 254, "seg_max")
        let offered = driver.offeredFeatures()
        XCTAssertNotEqual(offered & 1 << 9, 0, "VIRTIO_BLK_F_FLUSH")
        XCTAssertNotEqual(offered & 1 << 2, 0, "VIRTIO_BLK_F_SEG_MAX")
        XCTAssertEqual(offered & 1 << 5, 0, "not VIRTIO_BLK_F_RO")
        XCTAssertEqual(driver.read(Reg.deviceID), 2)
    }

    func testReadSectors() {
        let r = request(RequestType.read.rawValue, sector: 3, inLength: 2048, split: true)
        XCTAssertEqual(r.status, Self.ok)
        XCTAssertEqual(r.used, 2049, "data and status byte")
        XCTAssertEqual(r.data, Array(original[3 * 512..<7 * 512]))
    }

    func testReadIntoOneBufferWithTheStatusByte() {
        // Data and status in one writable descriptor: the status is its last byte.
        let buffer = driver.allocate(513, fill: 0xCC)
        let head = driver.addChain([
            TestBuffer(address: driver.allocate(bytes: header(0, sector: 1)), length: 16, writable: false),
            TestBuffer(address: buffer, length: 513, writable: true),
        ])
        XCTAssertEqual(driver.takeUsed().map(\.id), [UInt32(head)])
        XCTAssertEqual(driver.bytes(at: buffer, 512), Array(original[512..<1024]))
        XCTAssertEqual(driver.bytes(at: buffer + 512, 1), [Self.ok])
    }

    func testWriteSectors() {
        let data = (0..<1536).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let r = request(RequestType.write.rawValue, sector: 10, out: data, split: true, indirect: true)
        XCTAssertEqual(r.status, Self.ok)
        XCTAssertEqual(r.used, 1)
        var expected = original!
        expected.replaceSubrange(10 * 512..<13 * 512, with: data)
        XCTAssertEqual(fileBytes, expected)
    }

    func testWriteWithHeaderAndDataInOneDescriptor() {
        let data = [UInt8](repeating: 0x5A, count: 512)
        let status = driver.allocate(1, fill: 0xFF)
        driver.addChain([
            TestBuffer(address: driver.allocate(bytes: header(1, sector: 63) + data), length: 528, writable: false),
            TestBuffer(address: status, length: 1, writable: true),
        ])
        driver.settle()
        XCTAssertEqual(driver.bytes(at: status, 1), [Self.ok])
        XCTAssertEqual(Array(fileBytes[(63 * 512)...]), data)
    }

    /// Requests past the last sector, or of partial sectors, fail with IOERR and touch nothing.
    func testOutOfRangeAndPartialSectors() {
        let cases: [(UInt32, UInt64, Int, Int)] = [
            (0, 64, 0, 512),            // read starting at the end
            (0, 63, 0, 1024),           // read running past the end
            (0, UInt64.max, 0, 512),    // sector * 512 overflows
            (0, UInt64.max / 512 + 1, 0, 512),
            (0, 0, 0, 100),             // not whole sectors
            (1, 64, 512, 0),            // write past the end
            (1, 0, 100, 0),
            (1, UInt64.max - 1, 1024, 0),
        ]
        for (type, sector, out, inLength) in cases {
            let r = request(type, sector: sector, out: [UInt8](repeating: 0x77, count: out), inLength: inLength)
            XCTAssertEqual(r.status, Self.ioError, "type \(type) sector \(sector) out \(out) in \(inLength)")
            XCTAssertEqual(r.data, [UInt8](repeating: 0xCC, count: inLength), "nothing read")
        }
        XCTAssertEqual(fileBytes, original, "nothing written")
        XCTAssertEqual(driver.status & StatusBit.needsReset, 0, "errors in requests are statuses, not resets")
    }

    func testFlush() {
        XCTAssertEqual(request(RequestType.flush.rawValue).status, Self.ok)
    }

    func testGetID() {
        let r = request(RequestType.getID.rawValue, inLength: 20)
        XCTAssertEqual(r.status, Self.ok)
        XCTAssertEqual(r.used, 21)
        XCTAssertEqual(r.data, Array("disk-serial-12345678".utf8), "cut to 20 bytes, no terminator")
        let short = request(RequestType.getID.rawValue, inLength: 4)
        XCTAssertEqual(short.data, Array("disk".utf8))
    }

    func testUnknownAndUnofferedRequestTypes() {
        for type: UInt32 in [2, 3, 5, 10, 14, 15, 16, 0x8000_0001, 0xFFFF_FFFF] {
            XCTAssertEqual(request(type, inLength: 512).status, Self.unsupported, "type \(type)")
        }
    }

    /// A header shorter than 16 bytes gets IOERR; a chain without a writable byte for the status
    /// cannot be answered and sets NEEDS_RESET.
    func testMalformedRequests() {
        let status = driver.allocate(1, fill: 0xFF)
        driver.addChain([
            TestBuffer(address: driver.allocate(bytes: Array(header(0, sector: 0).prefix(12))), length: 12, writable: false),
            TestBuffer(address: status, length: 1, writable: true),
        ])
        driver.settle()
        XCTAssertEqual(driver.bytes(at: status, 1), [Self.ioError])
        XCTAssertEqual(driver.status & StatusBit.needsReset, 0)

        driver.addChain([TestBuffer(address: driver.allocate(bytes: header(4, sector: 0)), length: 16, writable: false)])
        XCTAssertNotEqual(driver.status & StatusBit.needsReset, 0)
        XCTAssertEqual(driver.transport.lastError, .malformedRequest("virtio-blk request without a writable status byte"))
    }

    /// 5.2.6.2: "A device MUST set the status byte to VIRTIO_BLK_S_IOERR for a write request if
    /// the VIRTIO_BLK_F_RO feature if offered, and MUST NOT write any data."
    func testReadOnlyDisk() throws {
        try open(readOnly: true)
        let offered = driver.offeredFeatures()
        XCTAssertNotEqual(offered & 1 << 5, 0, "VIRTIO_BLK_F_RO")
        XCTAssertEqual(offered & (1 << 13 | 1 << 14), 0, "no discard or write-zeroes on a read-only disk")
        let r = request(RequestType.write.rawValue, sector: 0, out: [UInt8](repeating: 0, count: 512))
        XCTAssertEqual(r.status, Self.ioError)
        XCTAssertEqual(fileBytes, original)
        XCTAssertEqual(request(RequestType.read.rawValue, sector: 0, inLength: 512).data, Array(original[0..<512]))
        XCTAssertEqual(request(RequestType.flush.rawValue).status, Self.ok)
        XCTAssertEqual(request(RequestType.discard.rawValue, out: segment(sector: 0, count: 1)).status, Self.unsupported)
    }

    private func segment(sector: UInt64, count: UInt32, flags: UInt32 = 0) -> [UInt8] {
        withUnsafeBytes(of: sector.littleEndian) { Array($0) } + withUnsafeBytes(of: count.littleEndian) { Array($0) }
            + withUnsafeBytes(of: flags.littleEndian) { Array($0) }
    }

    func testDiscardAndWriteZeroes() throws {
        let file = device.file
        try XCTSkipUnless(file.canPunchHoles, "the file system under \(NSTemporaryDirectory()) cannot punch holes")
        let offered = driver.offeredFeatures()
        XCTAssertNotEqual(offered & 1 << 13, 0, "VIRTIO_BLK_F_DISCARD")
        XCTAssertNotEqual(offered & 1 << 14, 0, "VIRTIO_BLK_F_WRITE_ZEROES")
        XCTAssertEqual(driver.read(Reg.config + 40), 32, "max_discard_seg")
        XCTAssertEqual(driver.read(Reg.config + 56, size: 1), 1, "write_zeroes_may_unmap")

        var expected = original!
        let zeroes = request(RequestType.writeZeroes.rawValue,
                             out: segment(sector: 2, count: 3) + segment(sector: 20, count: 1, flags: 1))
        XCTAssertEqual(zeroes.status, Self.ok)
        expected.replaceSubrange(2 * 512..<5 * 512, with: [UInt8](repeating: 0, count: 3 * 512))
        expected.replaceSubrange(20 * 512..<21 * 512, with: [UInt8](repeating: 0, count: 512))
        XCTAssertEqual(fileBytes, expected)

        XCTAssertEqual(request(RequestType.discard.rawValue, out: segment(sector: 40, count: 8)).status, Self.ok)
        expected.replaceSubrange(40 * 512..<48 * 512, with: [UInt8](repeating: 0, count: 8 * 512))
        XCTAssertEqual(fileBytes, expected, "a punched hole reads as zeros")
        XCTAssertEqual(fileBytes.count, original.count, "the file keeps its size")

        // 5.2.6.2: unknown flags, or unmap on a discard, are unsupported; ranges past the end are errors.
        XCTAssertEqual(request(RequestType.discard.rawValue, out: segment(sector: 0, count: 1, flags: 1)).status, Self.unsupported)
        XCTAssertEqual(request(RequestType.writeZeroes.rawValue, out: segment(sector: 0, count: 1, flags: 2)).status, Self.unsupported)
        XCTAssertEqual(request(RequestType.writeZeroes.rawValue, out: segment(sector: 60, count: 5)).status, Self.ioError)
        XCTAssertEqual(request(RequestType.discard.rawValue, out: segment(sector: 0, count: 1) + [1, 2, 3]).status, Self.ioError)
        XCTAssertEqual(request(RequestType.discard.rawValue).status, Self.ioError, "no segments")
        let tooMany = (0..<33).flatMap { _ in segment(sector: 0, count: 1) }
        XCTAssertEqual(request(RequestType.discard.rawValue, out: tooMany).status, Self.unsupported)
        // A bad segment after a good one: nothing is done.
        XCTAssertEqual(request(RequestType.writeZeroes.rawValue,
                               out: segment(sector: 50, count: 1) + segment(sector: 64, count: 1)).status, Self.ioError)
        XCTAssertEqual(fileBytes, expected)
    }

    func testDiscardNotNegotiatedIsUnsupported() throws {
        try XCTSkipUnless(device.file.canPunchHoles, "the file system cannot punch holes")
        let offered = driver.offeredFeatures()
        try open(readOnly: false, accept: offered & ~(1 << 13 | 1 << 14))
        XCTAssertEqual(request(RequestType.discard.rawValue, out: segment(sector: 0, count: 1)).status, Self.unsupported)
        XCTAssertEqual(request(RequestType.writeZeroes.rawValue, out: segment(sector: 0, count: 1)).status, Self.unsupported)
        XCTAssertEqual(fileBytes, original)
    }

    /// `--stats`: requests by type, bytes each way and error statuses from the device; queue
    /// notifications, interrupts and NEEDS_RESET from the transport, all under their JSON keys.
    func testStatistics() throws {
        // Without VIRTIO_F_EVENT_IDX every request asks for an interrupt; acknowledging each one
        // makes every interrupt a new edge on the line, which the sink counts independently.
        try open(readOnly: false, accept: driver.offeredFeatures() & ~(1 << 29))
        var requests: [(UInt32, UInt64, Int, Int, UInt8)] = [
            (RequestType.read.rawValue, 3, 0, 2048, Self.ok),
            (RequestType.write.rawValue, 10, 1536, 0, Self.ok),
            (RequestType.flush.rawValue, 0, 0, 0, Self.ok),
            (RequestType.getID.rawValue, 0, 0, 20, Self.ok),
            (2, 0, 0, 512, Self.unsupported),
            (RequestType.read.rawValue, 63, 0, 1024, Self.ioError),    // past the end
            (RequestType.write.rawValue, 0, 100, 0, Self.ioError),     // not whole sectors
        ]
        if device.file.canPunchHoles {
            requests.append((RequestType.discard.rawValue, 0, 0, 0, Self.ioError))  // no segments
        }
        for (type, sector, out, inLength, status) in requests {
            XCTAssertEqual(request(type, sector: sector, out: [UInt8](repeating: 1, count: out), inLength: inLength).status,
                           status, "type \(type)")
            driver.acknowledgeInterrupts()
        }
        let discards: UInt64 = device.file.canPunchHoles ? 1 : 0
        let counters = device.counters
        XCTAssertEqual(counters, VirtioBlock.Counters(
            readRequests: 2, writeRequests: 2, flushRequests: 1, getIDRequests: 1, discardRequests: discards,
            writeZeroesRequests: 0, otherRequests: 1, bytesRead: 2048, bytesWritten: 1536,
            ioErrors: 2 + discards, unsupported: 1,
            servedInline: counters.servedInline, servedByWorker: counters.servedByWorker))
        // With a worker the flush goes to it (and so would the discard, were it valid); without
        // one, everything is served inline.
        XCTAssertEqual(counters.servedInline + counters.servedByWorker, UInt64(requests.count))
        XCTAssertEqual(counters.servedByWorker, onWorkerThread ? 1 : 0)
        // A chain with no status byte: NEEDS_RESET, announced with a configuration change interrupt.
        driver.addChain([TestBuffer(address: driver.allocate(bytes: header(4, sector: 0)), length: 16, writable: false)])
        let n = UInt64(requests.count)
        let statistics = driver.transport.statistics
        XCTAssertEqual(statistics["readRequests"], 2)
        XCTAssertEqual(statistics["writeRequests"], 2)
        XCTAssertEqual(statistics["flushRequests"], 1)
        XCTAssertEqual(statistics["getIDRequests"], 1)
        XCTAssertEqual(statistics["otherRequests"], 1)
        XCTAssertEqual(statistics["bytesRead"], 2048)
        XCTAssertEqual(statistics["bytesWritten"], 1536)
        XCTAssertEqual(statistics["ioErrors"], 2 + discards)
        XCTAssertEqual(statistics["unsupported"], 1)
        XCTAssertEqual(statistics["queueNotifications"], n + 1)
        XCTAssertEqual(statistics["interrupts"], n + 1, "one per request, one for NEEDS_RESET")
        XCTAssertEqual(UInt64(driver.sink.raised), n + 1, "edges the PLIC would see")
        XCTAssertEqual(statistics["needsReset"], 1)
        XCTAssertEqual(statistics["servedInline"], counters.servedInline)
        XCTAssertEqual(statistics.count, 16, "\(statistics.keys.sorted())")
        // Notifications while the device needs a reset do not reach it and are not counted.
        driver.write(Reg.queueNotify, 0)
        XCTAssertEqual(driver.transport.statistics["queueNotifications"], n + 1)
    }

    func testOpenErrors() {
        XCTAssertThrowsError(try BlockFile(path: path + ".absent", readOnly: false)) {
            XCTAssertEqual($0 as? BlockFileError, .missing(path: path + ".absent"))
        }
        XCTAssertThrowsError(try BlockFile(path: NSTemporaryDirectory(), readOnly: true)) {
            XCTAssertEqual($0 as? BlockFileError, .notADisk(path: NSTemporaryDirectory()))
        }
        // The device set up in setUp holds the image's exclusive lock.
        XCTAssertThrowsError(try BlockFile(path: path, readOnly: true)) {
            XCTAssertEqual($0 as? BlockFileError, .inUse(path: path))
        }
    }

    /// A capacity that is not whole sectors: the partial last sector is not part of the disk.
    func testPartialLastSector() throws {
        driver = nil
        device = nil
        try Data(original + [1, 2, 3]).write(to: URL(fileURLWithPath: path))
        try open(readOnly: false)
        XCTAssertEqual(driver.read(Reg.config, size: 8), UInt64(Self.sectors))
        XCTAssertEqual(request(RequestType.read.rawValue, sector: 64, inLength: 512).status, Self.ioError)
    }
}

/// A small deterministic generator (SplitMix64), so tests and the fuzzer are reproducible.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The iovec arrays virtio-blk reads and writes whole requests with.
final class IOVectorsTests: XCTestCase {
    func testAdjacentBuffersMergeAndPartialTransfersResume() {
        let memory = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 16)
        defer { memory.deallocate() }
        var vectors = IOVectors()
        vectors.append(memory, 512)
        vectors.append(memory + 512, 512)      // follows the first: merged
        vectors.append(memory + 2048, 100)     // a gap: a vector of its own
        XCTAssertEqual(vectors.count, 2)
        XCTAssertEqual(vectors.remaining, 1124)
        func current() -> [(UnsafeMutableRawPointer?, Int)] {
            vectors.withVectors { p, n in (0..<Int(n)).map { (p[$0].iov_base, p[$0].iov_len) } }
        }
        XCTAssertEqual(current().map(\.1), [1024, 100])
        vectors.consume(1000)                  // a short transfer inside the first vector
        XCTAssertEqual(current().map(\.0), [memory + 1000, memory + 2048])
        XCTAssertEqual(current().map(\.1), [24, 100])
        vectors.consume(74)                    // across the boundary
        XCTAssertEqual(current().map(\.0), [memory + 2098])
        XCTAssertEqual(current().map(\.1), [50])
        XCTAssertEqual(vectors.remaining, 50)
        vectors.consume(50)
        XCTAssertEqual(vectors.remaining, 0)
        XCTAssertEqual(vectors.count, 0)
        vectors.removeAll()
        vectors.append(memory + 4000, 96)
        XCTAssertEqual(vectors.count, 1, "reused")
    }
}
