#if canImport(Glibc)
import Glibc
#endif
@testable import Virtio
import XCTest

/// virtio-net (virtio 1.2 section 5.1) over a SOCK_SEQPACKET socketpair standing in for the TAP:
/// the device gets one end through `TapBackend(descriptor:)`, so its real read and write code
/// runs; the test is the host on the other end, and speaks the 12-byte virtio-net header the
/// device puts before every frame there (as on a TAP with IFF_VNET_HDR).
final class NetTests: XCTestCase {
    static let mac = MACAddress([0x52, 0x54, 0x00, 0xAB, 0xCD, 0xEF])
    static let receiveq = 0, transmitq = 1
    /// struct virtio_net_hdr with VIRTIO_F_VERSION_1: 12 bytes, num_buffers last.
    static let headerLength = 12
    static let receiveHeader: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]
    /// The header the host sees on a frame that needs nothing done, and sends with one.
    static let plainHeader = [UInt8](repeating: 0, count: 12)
    /// Feature bits: VIRTIO_NET_F_CSUM, GUEST_CSUM, MAC, HOST_TSO4, HOST_TSO6, HOST_ECN, STATUS.
    static let guestTSO4: UInt64 = 1 << 7, guestTSO6: UInt64 = 1 << 8, guestECN: UInt64 = 1 << 9
    static let csum: UInt64 = 1 << 0, guestCsum: UInt64 = 1 << 1, macBit: UInt64 = 1 << 5, tso4: UInt64 = 1 << 11,
               tso6: UInt64 = 1 << 12, ecn: UInt64 = 1 << 13, statusBit: UInt64 = 1 << 16, version1: UInt64 = 1 << 32

    var host: Int32 = -1
    var backend: TapBackend!
    var device: VirtioNet!
    var driver: TestDriver!
    /// Transmitted frames go out on a `ThreadWorker`, as on Machine's I/O thread in a VM.
    var onWorkerThread = false
    var threadWorker: ThreadWorker?

    override func setUpWithError() throws {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &fds) == 0 else {
            throw POSIXError(.init(rawValue: errno) ?? .EIO)
        }
        host = fds[1]
        backend = TapBackend(descriptor: fds[0], name: "test")
        device = VirtioNet(backend: backend, mac: Self.mac)
        driver = TestDriver(device: device)
        if onWorkerThread {
            threadWorker = ThreadWorker(device: device)
            driver.worker = threadWorker
        }
    }

    override func tearDown() {
        threadWorker?.stop()
        threadWorker = nil
        driver = nil
        device = nil
        backend = nil
        if host >= 0 { close(host) }
    }

    // MARK: The host end

    func hostSend(_ frame: [UInt8], header: [UInt8] = plainHeader) {
        let message = header + frame
        XCTAssertEqual(message.withUnsafeBytes { write(host, $0.baseAddress, $0.count) }, message.count)
    }

    /// Frames the device sent, in order, until none waits, each checked to have a plain header.
    func hostReceive(file: StaticString = #filePath, line: UInt = #line) -> [[UInt8]] {
        hostReceiveWithHeaders().map { header, frame in
            XCTAssertEqual(header, Self.plainHeader, "a header that asks nothing", file: file, line: line)
            return frame
        }
    }

    /// Headers and frames the device sent, in order, until none waits.
    func hostReceiveWithHeaders() -> [(header: [UInt8], frame: [UInt8])] {
        driver.settle()
        var frames: [([UInt8], [UInt8])] = []
        var buffer = [UInt8](repeating: 0, count: 70_000)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(host, $0.baseAddress, $0.count) }
            guard n > 0 else { return frames }
            XCTAssertGreaterThanOrEqual(n, 12)
            frames.append((Array(buffer[..<12]), Array(buffer[12..<n])))
        }
    }

    /// struct virtio_net_hdr, little-endian, num_buffers 0.
    func header(flags: UInt8 = 0, gsoType: UInt8 = 0, hdrLen: UInt16 = 0, gsoSize: UInt16 = 0,
                        csumStart: UInt16 = 0, csumOffset: UInt16 = 0) -> [UInt8] {
        [flags, gsoType] + [hdrLen, gsoSize, csumStart, csumOffset, 0].flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
    }

    /// An Ethernet frame: broadcast destination, the guest's source, type 0x0800, then `count` bytes.
    func frame(_ count: Int, seed: UInt8 = 1) -> [UInt8] {
        [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF] + Self.mac.bytes + [0x08, 0x00]
            + (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ Int(seed)) }
    }

    func initialize(accept: UInt64? = nil) {
        XCTAssertTrue(driver.initialize(accept: accept))
        XCTAssertEqual(driver.status & StatusBit.driverOK, StatusBit.driverOK)
    }

    func writableBuffer(_ length: Int) -> TestBuffer {
        TestBuffer(address: driver.allocate(length, fill: 0xCC), length: UInt32(length), writable: true)
    }

    func readableBuffer(_ bytes: [UInt8]) -> TestBuffer {
        TestBuffer(address: driver.allocate(bytes: bytes), length: UInt32(bytes.count), writable: false)
    }

    func assertNeedsReset(_ error: VirtioError, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNotEqual(driver.status & StatusBit.needsReset, 0, "DEVICE_NEEDS_RESET", file: file, line: line)
        XCTAssertEqual(driver.transport.lastError, error, file: file, line: line)
    }

    // MARK: Identity and configuration space

    func testIdentityFeaturesAndConfigurationSpace() {
        XCTAssertEqual(driver.read(Reg.deviceID), 1)
        let offered = driver.offeredFeatures()
        XCTAssertEqual(offered & 0xFF_FFFF, Self.csum | Self.guestCsum | Self.macBit | Self.tso4 | Self.tso6 | Self.ecn | Self.statusBit
                       | Self.guestTSO4 | Self.guestTSO6 | Self.guestECN,
                       "MAC, STATUS, checksum offload and TSO both ways; no MRG_RXBUF, no UFO")
        XCTAssertNotEqual(offered & 1 << 32, 0, "VIRTIO_F_VERSION_1")
        XCTAssertEqual((0..<6).map { UInt8(driver.read(Reg.config + UInt64($0), size: 1)) }, Self.mac.bytes, "mac")
        XCTAssertEqual(driver.read(Reg.config, size: 4), 0xAB00_5452, "mac, read as a 32-bit word")
        XCTAssertEqual(driver.read(Reg.config + 6, size: 2), 1, "status: VIRTIO_NET_S_LINK_UP")
        XCTAssertEqual(driver.read(Reg.config + 8, size: 2), 0, "max_virtqueue_pairs: not valid without MQ")
        XCTAssertEqual(driver.read(Reg.config + 64, size: 4), 0, "past the structure")
        // The address is not the driver's to change here.
        driver.write(Reg.config, 0x11, size: 1)
        XCTAssertEqual(driver.read(Reg.config, size: 1), 0x52)

        initialize()
        for (queue, max) in [(0, 256), (1, 256), (2, 0)] {
            driver.write(Reg.queueSel, UInt64(queue))
            XCTAssertEqual(driver.read(Reg.queueNumMax), UInt64(max), "queue \(queue): no control queue")
        }
    }

    func testMACAddressParsingAndDefaults() {
        XCTAssertEqual(MACAddress(parsing: "52:54:00:ab:CD:ef"), MACAddress([0x52, 0x54, 0, 0xAB, 0xCD, 0xEF]))
        XCTAssertEqual("\(MACAddress([0x02, 0, 0, 0x0a, 0xb, 0xff]))", "02:00:00:0a:0b:ff")
        for bad in ["", "52:54:00:12:34", "52:54:00:12:34:56:78", "52-54-00-12-34-56", "5:54:00:12:34:56",
                    "052:54:00:12:34:5", "52:54:00:12:34:5g", "+2:54:00:12:34:56"] {
            XCTAssertNil(MACAddress(parsing: bad), bad)
        }
        XCTAssertTrue(MACAddress(parsing: "01:00:5e:00:00:01")!.isMulticast)
        XCTAssertFalse(MACAddress(parsing: "ff:ff:ff:ff:ff:ff")!.isUnicast, "broadcast")
        XCTAssertFalse(MACAddress(parsing: "00:00:00:00:00:00")!.isUnicast)
        XCTAssertEqual((0..<3).map { "\(MACAddress.defaultAddress(index: $0))" },
                       ["52:54:00:12:34:56", "52:54:00:12:34:57", "52:54:00:12:34:58"])
    }

    // MARK: Transmit

    /// The transmit tests again with frames sent from a thread of their own.
    func testTransmitOnAWorkerThread() throws {
        onWorkerThread = true
        let tests: [() -> Void] = [
            testTransmitStripsTheHeaderInAnyLayout, testTransmitOfAnEmptyFrameSendsNothing,
            testTransmitToAClosedHostDropsTheFrame, testTransmitShorterThanTheHeaderNeedsReset,
            testTransmitWithAWritableBufferNeedsReset, testTransmitLongerThanTheLimitNeedsReset,
            testTransmitPassesAGSOHeaderThrough, testMalformedTransmitHeadersNeedReset,
            testLegacyHeaderWithoutVersion1, testStatistics, testBrokenTransmitQueueStopsReceive,
            testManyFramesInOneNotificationKeepTheirOrder,
        ]
        for test in tests {
            tearDown()
            try setUpWithError()
            test()
        }
    }

    /// Frames made available before one notification reach the host in the driver's order.
    func testManyFramesInOneNotificationKeepTheirOrder() {
        initialize()
        let frames = (0..<40).map { frame(60 + $0 * 30, seed: UInt8($0)) }
        let header = [UInt8](repeating: 0, count: Self.headerLength)
        let heads = frames.enumerated().map { i, f in
            driver.addChain([readableBuffer(header + f)], queue: Self.transmitq, notify: i == frames.count - 1)
        }
        XCTAssertEqual(hostReceive(), frames)
        XCTAssertEqual(driver.takeUsed(queue: Self.transmitq).map(\.id), heads.map(UInt32.init))
        XCTAssertEqual(device.counters.transmitted, frames.count)
    }

    /// The header is stripped wherever the driver put it: its own buffer, sharing one with the
    /// frame (VIRTIO_F_VERSION_1 implies any layout), or behind an indirect table.
    func testTransmitStripsTheHeaderInAnyLayout() {
        initialize()
        let a = frame(100, seed: 1), b = frame(1500, seed: 2), c = frame(46, seed: 3)
        let header = [UInt8](repeating: 0, count: Self.headerLength)
        let h1 = driver.addChain([readableBuffer(header), readableBuffer(Array(a[..<20])), readableBuffer(Array(a[20...]))],
                                 queue: Self.transmitq)
        let h2 = driver.addChain([readableBuffer(Array((header + b)[..<5])), readableBuffer(Array((header + b)[5...]))],
                                 queue: Self.transmitq)
        let h3 = driver.addChain([readableBuffer(header + c)], queue: Self.transmitq, indirect: true)
        XCTAssertEqual(hostReceive(), [a, b, c])
        let used = driver.takeUsed(queue: Self.transmitq)
        XCTAssertEqual(used.map(\.id), [h1, h2, h3].map(UInt32.init))
        XCTAssertEqual(used.map(\.length), [0, 0, 0], "the device writes nothing into transmit buffers")
        XCTAssertTrue(driver.sink.isHigh(TestDriver.irq))
        XCTAssertEqual(device.counters.transmitted, 3)
    }

    /// A header with nothing after it sends nothing; the chain still goes back.
    func testTransmitOfAnEmptyFrameSendsNothing() {
        initialize()
        let head = driver.addChain([readableBuffer([UInt8](repeating: 0, count: 12))], queue: Self.transmitq)
        XCTAssertEqual(hostReceive(), [])
        XCTAssertEqual(driver.takeUsed(queue: Self.transmitq).map(\.id), [UInt32(head)])
        XCTAssertEqual(driver.status & StatusBit.needsReset, 0)
    }

    /// A frame the host does not take is dropped, as on a wire, and the buffer still returned.
    func testTransmitToAClosedHostDropsTheFrame() {
        initialize()
        close(host)
        host = -1
        let head = driver.addChain([readableBuffer([UInt8](repeating: 0, count: 12) + frame(64))], queue: Self.transmitq)
        XCTAssertEqual(driver.takeUsed(queue: Self.transmitq).map(\.id), [UInt32(head)])
        XCTAssertEqual(device.counters.transmitDropped, 1)
        XCTAssertEqual(driver.status & StatusBit.needsReset, 0)
    }

    func testTransmitShorterThanTheHeaderNeedsReset() {
        initialize()
        driver.addChain([readableBuffer([0, 0, 0, 0, 0, 0, 0, 0])], queue: Self.transmitq)
        assertNeedsReset(.malformedRequest("virtio-net transmit chain of 8 bytes, shorter than the 12-byte header"))
        XCTAssertEqual(hostReceive(), [])
    }

    func testTransmitWithAWritableBufferNeedsReset() {
        initialize()
        driver.addChain([readableBuffer([UInt8](repeating: 0, count: 12) + frame(20)), writableBuffer(64)],
                        queue: Self.transmitq)
        assertNeedsReset(.malformedRequest("virtio-net transmit chain with a device-writable buffer"))
        XCTAssertEqual(hostReceive(), [])
    }

    func testTransmitLongerThanTheLimitNeedsReset() {
        initialize()
        let limit = VirtioNet.maxFrameLength
        let longest = frame(limit - 14)
        driver.addChain([readableBuffer([UInt8](repeating: 0, count: 12)), readableBuffer(longest)], queue: Self.transmitq)
        XCTAssertEqual(hostReceive(), [longest], "65550 bytes is allowed")
        driver.addChain([readableBuffer([UInt8](repeating: 0, count: 12)), readableBuffer(longest + [0])],
                        queue: Self.transmitq)
        assertNeedsReset(.malformedRequest("virtio-net transmit frame of 65551 bytes, longer than 65550"))
        XCTAssertEqual(hostReceive(), [])
    }

    func testTransmitOutsideGuestRAMNeedsReset() {
        initialize()
        driver.addChain([TestBuffer(address: 0x1000, length: 64, writable: false)], queue: Self.transmitq)
        assertNeedsReset(.bufferOutsideMemory(address: 0x1000, length: 64))
        XCTAssertEqual(hostReceive(), [])
    }

    // MARK: Receive

    /// A frame waiting when the driver posts a buffer goes in at once: header, then the frame.
    func testReceiveFillsAPostedBuffer() {
        initialize()
        let f = frame(1000)
        hostSend(f)
        let buffer = writableBuffer(1526)
        let head = driver.addChain([buffer])
        let used = driver.takeUsed()
        XCTAssertEqual(used.map(\.id), [UInt32(head)])
        XCTAssertEqual(used.map(\.length), [UInt32(Self.headerLength + f.count)])
        XCTAssertEqual(driver.bytes(at: buffer.address, Self.headerLength), Self.receiveHeader, "num_buffers = 1")
        XCTAssertEqual(driver.bytes(at: buffer.address + 12, f.count), f)
        XCTAssertEqual(driver.bytes(at: buffer.address + 12 + UInt64(f.count), 1), [0xCC], "nothing written past it")
        XCTAssertTrue(driver.sink.isHigh(TestDriver.irq))
        XCTAssertEqual(device.counters.received, 1)
    }

    /// Frames that arrive later are delivered by the poll between hart slices, across buffers.
    func testPollDeliversIntoChainsOfSeveralBuffers() {
        initialize()
        let header = writableBuffer(12), first = writableBuffer(100), second = writableBuffer(2000)
        let head = driver.addChain([header, first, second])
        XCTAssertTrue(driver.takeUsed().isEmpty, "no frame yet")
        XCTAssertEqual(device.pollReceive(), 0)
        let f = frame(600)
        hostSend(f)
        XCTAssertEqual(device.pollReceive(), 1)
        XCTAssertEqual(driver.takeUsed().map { [$0.id, $0.length] }, [[UInt32(head), UInt32(12 + f.count)]])
        XCTAssertEqual(driver.bytes(at: header.address, 12), Self.receiveHeader)
        XCTAssertEqual(driver.bytes(at: first.address, 100) + driver.bytes(at: second.address, f.count - 100), f)
    }

    /// Without a posted buffer, frames stay in the backend (nothing is read, nothing dropped) and
    /// the run loop is not told to wake for them; each buffer posted later takes one, in order.
    func testFramesWaitInTheBackendForBuffers() {
        initialize()
        let frames = (0..<3).map { frame(50 + $0, seed: UInt8($0)) }
        frames.forEach { hostSend($0) }
        XCTAssertEqual(device.pollReceive(), 0)
        XCTAssertNil(device.receiveReadinessDescriptor)
        let buffers = (0..<2).map { _ in writableBuffer(1526) }
        for b in buffers { driver.addChain([b], notify: false) }
        XCTAssertNotNil(device.receiveReadinessDescriptor, "buffers posted: wake for frames")
        XCTAssertEqual(device.pollReceive(), 2)
        XCTAssertNil(device.receiveReadinessDescriptor)
        let third = writableBuffer(1526)
        driver.addChain([third])
        XCTAssertEqual(driver.takeUsed().map(\.length), frames.map { UInt32(12 + $0.count) })
        XCTAssertEqual((buffers + [third]).map { driver.bytes(at: $0.address + 12, frames[0].count) },
                       frames.map { Array($0.prefix(frames[0].count)) })
        XCTAssertEqual(device.counters.receiveDropped, 0)
    }

    /// A poll takes at most 64 frames; the next poll takes the rest.
    func testPollIsBounded() {
        initialize()
        for i in 0..<70 { hostSend(frame(20, seed: UInt8(i))) }
        for _ in 0..<80 { driver.addChain([writableBuffer(100)], notify: false) }
        XCTAssertEqual(device.pollReceive(), 64)
        XCTAssertEqual(device.pollReceive(), 6)
        XCTAssertEqual(driver.takeUsed().count, 70)
    }

    /// A frame too big for the buffer is dropped and the buffer comes back empty; the next frame
    /// that fits gets the next buffer.
    func testFrameLargerThanTheBufferIsDropped() {
        initialize()
        hostSend(frame(200))
        let small = driver.addChain([writableBuffer(100)])
        let f = frame(30)
        hostSend(f)
        let bigBuffer = writableBuffer(1526)
        let big = driver.addChain([bigBuffer])
        XCTAssertEqual(driver.takeUsed().map { [$0.id, $0.length] }, [[UInt32(small), 0], [UInt32(big), UInt32(12 + f.count)]])
        XCTAssertEqual(driver.bytes(at: bigBuffer.address + 12, f.count), f)
        XCTAssertEqual(device.counters.receiveDropped, 1)
        XCTAssertEqual(driver.status & StatusBit.needsReset, 0)
    }

    func testReceiveIntoAReadOnlyBufferNeedsReset() {
        initialize()
        hostSend(frame(40))
        let readOnly = driver.allocate(1526, fill: 0x77)
        driver.addChain([TestBuffer(address: readOnly, length: 1526, writable: false)])
        assertNeedsReset(.malformedRequest("virtio-net receive chain with a device-readable buffer"))
        XCTAssertEqual(driver.bytes(at: readOnly, 1526), [UInt8](repeating: 0x77, count: 1526), "not written")
        XCTAssertTrue(driver.takeUsed().isEmpty)
    }

    func testReceiveChainShorterThanTheHeaderNeedsReset() {
        initialize()
        hostSend(frame(40))
        driver.addChain([writableBuffer(8)], notify: false)
        // Found by the poll between slices, outside a notification: the transport still hears of it.
        XCTAssertEqual(device.pollReceive(), 0)
        assertNeedsReset(.malformedRequest("virtio-net receive chain of 8 bytes, shorter than the 12-byte header"))
        XCTAssertTrue(driver.sink.isHigh(TestDriver.irq), "configuration change interrupt")
    }

    /// A receive chain outside RAM breaks the device; receiving stops until the driver resets it,
    /// after which frames flow again.
    func testReceiveOutsideGuestRAMNeedsResetUntilTheDriverResets() {
        initialize()
        hostSend(frame(40, seed: 1))
        driver.addChain([TestBuffer(address: 0x1000, length: 1526, writable: true)])
        assertNeedsReset(.bufferOutsideMemory(address: 0x1000, length: 1526))
        let f = frame(40, seed: 2)
        hostSend(f)
        driver.addChain([writableBuffer(1526)], notify: false)
        XCTAssertEqual(device.pollReceive(), 0, "a broken device takes no frames")
        XCTAssertNil(device.receiveReadinessDescriptor)

        initialize()
        let buffers = [writableBuffer(1526), writableBuffer(1526)]
        for b in buffers { driver.addChain([b]) }
        XCTAssertEqual(driver.takeUsed().map(\.length), [UInt32(12 + f.count), UInt32(12 + f.count)])
        XCTAssertEqual(driver.bytes(at: buffers[0].address + 12, f.count), frame(40, seed: 1),
                       "the frame that came before the broken chain waited in the backend")
        XCTAssertEqual(driver.bytes(at: buffers[1].address + 12, f.count), f, "and the one after it")
    }

    /// A broken transmit queue stops receiving too: the whole device needs a reset.
    func testBrokenTransmitQueueStopsReceive() {
        initialize()
        driver.addChain([writableBuffer(64)], queue: Self.transmitq)
        XCTAssertNotEqual(driver.status & StatusBit.needsReset, 0)
        hostSend(frame(40))
        driver.addChain([writableBuffer(1526)], notify: false)
        XCTAssertEqual(device.pollReceive(), 0)
        XCTAssertTrue(driver.takeUsed().isEmpty)
    }

    /// A driver that did not accept VIRTIO_F_VERSION_1 has a 10-byte header, without num_buffers.
    func testLegacyHeaderWithoutVersion1() {
        initialize(accept: 1 << 5 | 1 << 16)
        let f = frame(60)
        driver.addChain([readableBuffer([UInt8](repeating: 0, count: 10) + f)], queue: Self.transmitq)
        XCTAssertEqual(hostReceive(), [f])
        hostSend(f)
        let buffer = writableBuffer(1526)
        driver.addChain([buffer])
        XCTAssertEqual(driver.takeUsed().map(\.length), [UInt32(10 + f.count)])
        XCTAssertEqual(driver.bytes(at: buffer.address, 10 + f.count), [UInt8](repeating: 0, count: 10) + f)
    }

    /// `--stats`: frames and bytes each way (Ethernet frames, no virtio-net header) and drops
    /// both ways, under their JSON keys, with the transport's counters.
    func testStatistics() {
        initialize()
        let header = [UInt8](repeating: 0, count: Self.headerLength)
        let a = frame(100, seed: 1), b = frame(1500, seed: 2)
        driver.addChain([readableBuffer(header + a)], queue: Self.transmitq)
        driver.addChain([readableBuffer(header), readableBuffer(b)], queue: Self.transmitq)
        XCTAssertEqual(hostReceive(), [a, b])
        let small = frame(300), fits = frame(700, seed: 3)
        hostSend(small)
        hostSend(fits)
        driver.addChain([writableBuffer(200)])     // too small for `small`: dropped
        driver.addChain([writableBuffer(1526)])    // takes `fits`
        XCTAssertEqual(driver.takeUsed().map(\.length), [0, UInt32(Self.headerLength + fits.count)])
        close(host)
        host = -1
        driver.addChain([readableBuffer(header + frame(64))], queue: Self.transmitq)  // nobody takes it
        driver.settle()

        XCTAssertEqual(device.counters, VirtioNet.Counters(
            transmitted: 2, transmittedBytes: a.count + b.count, transmitDropped: 1,
            received: 1, receivedBytes: fits.count, receiveDropped: 1))
        let statistics = driver.transport.statistics
        XCTAssertEqual(statistics["framesTransmitted"], 2)
        XCTAssertEqual(statistics["bytesTransmitted"], UInt64(a.count + b.count))
        XCTAssertEqual(statistics["transmitDropped"], 1)
        XCTAssertEqual(statistics["segmentsTransmitted"], 0)
        XCTAssertEqual(statistics["framesReceived"], 1)
        XCTAssertEqual(statistics["bytesReceived"], UInt64(fits.count))
        XCTAssertEqual(statistics["receiveDropped"], 1)
        XCTAssertEqual(statistics["queueNotifications"], 5)
        XCTAssertEqual(statistics["needsReset"], 0)
        XCTAssertGreaterThan(statistics["interrupts"] ?? 0, 0)
        XCTAssertEqual(statistics["segmentsReceived"], 0)
        XCTAssertEqual(statistics.count, 11, "\(statistics.keys.sorted())")

        driver.addChain([writableBuffer(64)], queue: Self.transmitq)
        XCTAssertEqual(driver.transport.statistics["needsReset"], 1)
    }

    /// Before DRIVER_OK nothing is taken from the backend.
    func testNoReceiveBeforeDriverOK() {
        XCTAssertTrue(driver.initialize(driverOK: false))
        hostSend(frame(40))
        XCTAssertEqual(device.pollReceive(), 0)
        XCTAssertNil(device.receiveReadinessDescriptor)
        initialize()
        driver.addChain([writableBuffer(1526)])
        XCTAssertEqual(driver.takeUsed().map(\.length), [UInt32(12 + 54)])
    }
}
