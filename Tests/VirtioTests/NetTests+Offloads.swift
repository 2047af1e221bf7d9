#if canImport(Glibc)
import Glibc
#endif
@testable import Virtio
import XCTest

/// virtio-net's offloads (5.1.6.2 to 5.1.6.4): checksum and TSO headers both ways, and what the
/// device does with a driver that accepts none.
extension NetTests {
    // MARK: Offloads

    /// What the guest accepted for its receive side reaches the backend (TUNSETOFFLOAD on a TAP),
    /// and a reset takes it back; transmit offloads need nothing there.
    func testNegotiatedReceiveOffloadsReachTheBackend() {
        initialize()
        XCTAssertEqual(backend.receiveOffloads, [.checksum, .tso4, .tso6, .tsoECN], "GUEST_CSUM, GUEST_TSO*: TUN_F_CSUM, TUN_F_TSO*")
        driver.write(Reg.status, 0)
        XCTAssertEqual(backend.receiveOffloads, [], "reset")
        initialize(accept: Self.version1 | Self.macBit | Self.statusBit | Self.csum | Self.tso4)
        XCTAssertEqual(backend.receiveOffloads, [], "transmit offloads only")
        initialize(accept: Self.version1 | Self.guestCsum)
        XCTAssertEqual(backend.receiveOffloads, .checksum)
        initialize(accept: Self.version1 | Self.guestCsum | Self.guestTSO6)
        XCTAssertEqual(backend.receiveOffloads, [.checksum, .tso6])
        // 5.1.3.1: TSO toward the guest needs GUEST_CSUM, and ECN needs TSO.
        XCTAssertFalse(driver.initialize(accept: Self.version1 | Self.guestTSO4), "GUEST_TSO4 without GUEST_CSUM")
        XCTAssertFalse(driver.initialize(accept: Self.version1 | Self.guestCsum | Self.guestECN), "GUEST_ECN without TSO")
    }

    /// With GUEST_TSO4/6 a TCP segment of up to 64 KiB from the host goes into one 64 KiB buffer
    /// whole, with its segmentation header; a segment of a kind the guest did not accept, or one
    /// larger than its buffer, is dropped.
    func testReceiveLargeSegmentsWhole() {
        initialize()
        let segment = frame(60000)
        let tso4 = header(flags: 1, gsoType: 1, hdrLen: 54, gsoSize: 1448, csumStart: 34, csumOffset: 16)
        hostSend(segment, header: tso4)
        let big = writableBuffer(65562)
        driver.addChain([big])
        XCTAssertEqual(driver.takeUsed().map(\.length), [UInt32(12 + segment.count)])
        XCTAssertEqual(driver.bytes(at: big.address, 12), Array(tso4[..<10]) + [1, 0], "the header, num_buffers 1")
        XCTAssertEqual(driver.bytes(at: big.address + 12, segment.count), segment)
        XCTAssertEqual(device.counters.receivedSegments, 1)

        hostSend(segment, header: tso4)
        driver.addChain([writableBuffer(1526)])
        XCTAssertEqual(driver.takeUsed().map(\.length), [0], "too big for its buffer")
        XCTAssertEqual(device.counters.receiveDropped, 1)

        initialize(accept: Self.version1 | Self.guestCsum | Self.guestTSO6)
        hostSend(segment, header: tso4)
        driver.addChain([writableBuffer(65562)])
        XCTAssertEqual(driver.takeUsed().map(\.length), [0], "TCPv4 segment without GUEST_TSO4")
        XCTAssertEqual(device.counters.receiveDropped, 2)
    }

    /// A TSO header (TCPV4 with ECN, partial checksum) and a 9000-byte segment go to the host as
    /// the guest wrote them, for its kernel to cut; num_buffers goes out as 0.
    func testTransmitPassesAGSOHeaderThrough() {
        initialize()
        let segment = frame(9000)
        var gso = header(flags: 1, gsoType: 0x81, hdrLen: 66, gsoSize: 1448, csumStart: 34, csumOffset: 16)
        let sent = gso
        gso[10] = 0x55  // num_buffers: not the driver's to say on transmit
        driver.addChain([readableBuffer(gso), readableBuffer(Array(segment[..<100])), readableBuffer(Array(segment[100...]))],
                        queue: Self.transmitq)
        let received = hostReceiveWithHeaders()
        XCTAssertEqual(received.map(\.header), [sent])
        XCTAssertEqual(received.map(\.frame), [segment])
        let checksum = header(flags: 1, csumStart: 34, csumOffset: 6)
        driver.addChain([readableBuffer(checksum + frame(60))], queue: Self.transmitq)
        XCTAssertEqual(hostReceiveWithHeaders().map(\.header), [checksum], "a partial checksum alone (UDP)")
        XCTAssertEqual(driver.status & StatusBit.needsReset, 0)
        XCTAssertEqual(device.counters.transmitted, 2)
        XCTAssertEqual(device.counters.transmittedSegments, 1)
        XCTAssertEqual(device.counters.transmittedBytes, segment.count + 74)
    }

    /// A header that asks for what was not negotiated, or names bytes past its frame, breaks the
    /// device (DEVICE_NEEDS_RESET) and reaches nobody.
    func testMalformedTransmitHeadersNeedReset() {
        let all = Self.version1 | Self.macBit | Self.statusBit | Self.csum | Self.tso4 | Self.tso6 | Self.ecn
        let f = frame(2000)  // 2014 bytes
        let cases: [(UInt64, [UInt8], String)] = [
            (all, header(flags: 2), "flags 0x2, of which the driver may set only NEEDS_CSUM"),
            (all, header(flags: 5), "flags 0x5, of which the driver may set only NEEDS_CSUM"),
            (all, header(flags: 1, csumStart: 2000, csumOffset: 13), "checksum at 2000 + 13 past the 2014-byte frame"),
            (all, header(flags: 1, csumStart: 0xFFFF, csumOffset: 0xFFFF), "checksum at 65535 + 65535 past the 2014-byte frame"),
            (all - Self.csum, header(flags: 1, csumStart: 34, csumOffset: 16), "NEEDS_CSUM without VIRTIO_NET_F_CSUM"),
            (all, header(flags: 1, gsoType: 3, hdrLen: 42, gsoSize: 1000, csumStart: 34, csumOffset: 6),
             "gso_type 0x3 not negotiated"),
            (all, header(flags: 1, gsoType: 0x21, hdrLen: 54, gsoSize: 1000, csumStart: 34, csumOffset: 16),
             "gso_type 0x21 not negotiated"),
            (all, header(gsoType: 0x80), "gso_type 0x80 not negotiated"),
            (all - Self.ecn, header(flags: 1, gsoType: 0x81, hdrLen: 54, gsoSize: 1000, csumStart: 34, csumOffset: 16),
             "gso_type 0x81 not negotiated"),
            (all - Self.tso6, header(flags: 1, gsoType: 4, hdrLen: 74, gsoSize: 1000, csumStart: 54, csumOffset: 16),
             "gso_type 0x4 not negotiated"),
            (all, header(gsoType: 1, hdrLen: 54, gsoSize: 1000), "gso_type without NEEDS_CSUM"),
            (all, header(flags: 1, gsoType: 1, hdrLen: 54, csumStart: 34, csumOffset: 16), "gso_type with gso_size 0"),
            (all, header(flags: 1, gsoType: 1, hdrLen: 2015, gsoSize: 1000, csumStart: 34, csumOffset: 16),
             "hdr_len 2015 past the 2014-byte frame"),
        ]
        for (accept, bad, why) in cases {
            initialize(accept: accept)
            driver.addChain([readableBuffer(bad), readableBuffer(f)], queue: Self.transmitq)
            assertNeedsReset(.malformedRequest("virtio-net transmit header: \(why)"))
            XCTAssertTrue(hostReceiveWithHeaders().isEmpty, why)
        }
        // The same frame with a good header still goes after a reset.
        initialize(accept: all)
        driver.addChain([readableBuffer(header(flags: 1, csumStart: 34, csumOffset: 16)), readableBuffer(f)], queue: Self.transmitq)
        XCTAssertEqual(hostReceiveWithHeaders().map(\.frame), [f])
    }

    /// A driver that accepts no offloads sees the device as before them: whatever its transmit
    /// headers hold, the host gets a plain one; the backend is told no receive offloads, the
    /// guest gets plain headers (DATA_VALID dropped) and no frame that still needs work.
    func testWithoutOffloadsHeadersArePlainBothWays() {
        initialize(accept: Self.version1 | Self.macBit | Self.statusBit)
        XCTAssertEqual(backend.receiveOffloads, [])
        let f = frame(500)
        driver.addChain([readableBuffer(header(flags: 1, gsoType: 1, hdrLen: 54, gsoSize: 9, csumStart: 34, csumOffset: 16) + f)],
                        queue: Self.transmitq)
        XCTAssertEqual(hostReceive(), [f], "plain header, frame as is")
        XCTAssertEqual(driver.status & StatusBit.needsReset, 0)

        hostSend(f, header: header(flags: 2))
        hostSend(f, header: header(flags: 1, csumStart: 34, csumOffset: 16))
        hostSend(f, header: header(flags: 1, gsoType: 1, hdrLen: 54, gsoSize: 100, csumStart: 34, csumOffset: 16))
        let buffers = (0..<3).map { _ in writableBuffer(1526) }
        for b in buffers { driver.addChain([b]) }
        XCTAssertEqual(driver.takeUsed().map(\.length), [UInt32(12 + f.count), 0, 0])
        XCTAssertEqual(driver.bytes(at: buffers[0].address, 12 + f.count), Self.receiveHeader + f)
        XCTAssertEqual(device.counters.receiveDropped, 2)
    }

    /// With GUEST_CSUM the host's checksum flags reach the guest (a partial checksum with where
    /// to finish it, or DATA_VALID); a segment to cut does not, GUEST_TSO not being offered.
    func testReceiveChecksumOffload() {
        initialize(accept: Self.version1 | Self.macBit | Self.statusBit | Self.csum | Self.guestCsum)
        let f = frame(500)
        hostSend(f, header: header(flags: 1, hdrLen: 7, csumStart: 34, csumOffset: 16))
        hostSend(f, header: header(flags: 2))
        hostSend(f, header: header(flags: 1, gsoType: 1, hdrLen: 54, gsoSize: 100, csumStart: 34, csumOffset: 16))
        let buffers = (0..<3).map { _ in writableBuffer(1526) }
        for b in buffers { driver.addChain([b]) }
        XCTAssertEqual(driver.takeUsed().map(\.length), [UInt32(12 + f.count), UInt32(12 + f.count), 0])
        XCTAssertEqual(driver.bytes(at: buffers[0].address, 12 + f.count), [1, 0, 0, 0, 0, 0, 34, 0, 16, 0, 1, 0] + f)
        XCTAssertEqual(driver.bytes(at: buffers[1].address, 12), [2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0])
        XCTAssertEqual(device.counters.receiveDropped, 1)
    }

    /// A read shorter than the header, or only a header, is no frame: dropped, the buffer returned.
    func testReceiveWithoutAFrameIsDropped() {
        initialize()
        hostSend([], header: [0, 0, 0, 0, 0])
        hostSend([])
        driver.addChain([writableBuffer(1526)])
        driver.addChain([writableBuffer(1526)])
        XCTAssertEqual(driver.takeUsed().map(\.length), [0, 0])
        XCTAssertEqual(device.counters.receiveDropped, 2)
        XCTAssertEqual(driver.status & StatusBit.needsReset, 0)
    }

    /// A legacy driver's 10-byte header goes to the host as the 12-byte one, num_buffers 0.
    func testLegacyHeaderWithChecksumOffload() {
        initialize(accept: Self.macBit | Self.statusBit | Self.csum)
        let f = frame(60)
        let partial = header(flags: 1, csumStart: 34, csumOffset: 6)
        driver.addChain([readableBuffer(Array(partial[..<10]) + f)], queue: Self.transmitq)
        let received = hostReceiveWithHeaders()
        XCTAssertEqual(received.map(\.header), [partial])
        XCTAssertEqual(received.map(\.frame), [f])
    }
}
