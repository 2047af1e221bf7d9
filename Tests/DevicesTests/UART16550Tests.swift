import XCTest
import Devices

final class UART16550Tests: XCTestCase {
    // Register offsets (reg-shift 0).
    private let rbr: UInt64 = 0, thr: UInt64 = 0, ier: UInt64 = 1, iir: UInt64 = 2, fcr: UInt64 = 2
    private let lcr: UInt64 = 3, mcr: UInt64 = 4, lsr: UInt64 = 5, msr: UInt64 = 6, scr: UInt64 = 7
    private let irq = 10

    private func make() -> (UART16550, RecordingByteSink, RecordingInterruptSink) {
        let sink = RecordingByteSink()
        let pic = RecordingInterruptSink()
        return (UART16550(output: sink, interrupts: pic, irq: irq), sink, pic)
    }

    private func r(_ u: UART16550, _ off: UInt64) -> UInt64 { u.read(offset: off, size: 1) }
    private func w(_ u: UART16550, _ off: UInt64, _ v: UInt64) { u.write(offset: off, size: 1, value: v) }

    func testResetState() {
        let (u, _, pic) = make()
        XCTAssertEqual(r(u, iir), 0x01)
        XCTAssertEqual(r(u, lsr), 0x60, "THRE and TEMT")
        XCTAssertEqual(r(u, ier), 0)
        XCTAssertEqual(r(u, mcr), 0x08)
        XCTAssertEqual(r(u, msr), 0xB0)
        XCTAssertFalse(pic.isHigh(irq))
        XCTAssertTrue(u.canReceive)
    }

    func testTHROutputGoesToTheSink() {
        let (u, sink, pic) = make()
        for byte in Array("hi\n".utf8) { w(u, thr, UInt64(byte)) }
        XCTAssertEqual(sink.bytes, Array("hi\n".utf8))
        XCTAssertEqual(r(u, lsr) & 0x60, 0x60, "transmission is instant")
        XCTAssertFalse(pic.isHigh(irq), "no interrupt without IER")
        // A wide access reaches the same byte register.
        u.write(offset: thr, size: 4, value: 0x1234_5641)
        XCTAssertEqual(sink.bytes.last, 0x41)
    }

    func testDivisorLatchBehindDLAB() {
        let (u, sink, _) = make()
        w(u, lcr, 0x83)
        w(u, 0, 0x0C)
        w(u, 1, 0x01)
        XCTAssertEqual(r(u, 0), 0x0C)
        XCTAssertEqual(r(u, 1), 0x01)
        w(u, lcr, 0x03)
        XCTAssertEqual(r(u, ier), 0, "IER untouched by the divisor write")
        XCTAssertEqual(sink.bytes, [], "DLL writes are not output")
        XCTAssertEqual(r(u, lcr), 0x03)
        w(u, scr, 0x5A)
        XCTAssertEqual(r(u, scr), 0x5A)
    }

    func testReceiveFIFOAndDataReady() {
        let (u, _, _) = make()
        w(u, fcr, 0x07)  // enable and clear FIFOs
        XCTAssertEqual(r(u, lsr) & 1, 0)
        for i in 0..<16 { XCTAssertTrue(u.receive(UInt8(0x30 + i))) }
        XCTAssertFalse(u.canReceive)
        XCTAssertFalse(u.receive(0xFF), "full: the run loop must retry")
        XCTAssertEqual(r(u, lsr) & 1, 1)
        for i in 0..<16 { XCTAssertEqual(r(u, rbr), UInt64(0x30 + i)) }
        XCTAssertEqual(r(u, lsr) & 1, 0)
        XCTAssertTrue(u.canReceive)
        XCTAssertEqual(r(u, rbr), 0, "empty FIFO reads 0")

        // Ring wrap-around.
        for i in 0..<10 { XCTAssertTrue(u.receive(UInt8(i))) }
        for i in 0..<5 { XCTAssertEqual(r(u, rbr), UInt64(i)) }
        for i in 10..<21 { XCTAssertTrue(u.receive(UInt8(i))) }
        XCTAssertFalse(u.receive(99))
        for i in 5..<21 { XCTAssertEqual(r(u, rbr), UInt64(i)) }

        // FCR receive-clear drops pending data.
        XCTAssertTrue(u.receive(1))
        w(u, fcr, 0x03)
        XCTAssertEqual(r(u, lsr) & 1, 0)
    }

    func testWithoutFIFOsOneByteAtATime() {
        let (u, _, _) = make()
        XCTAssertTrue(u.receive(0x61))
        XCTAssertFalse(u.canReceive)
        XCTAssertFalse(u.receive(0x62))
        XCTAssertEqual(r(u, rbr), 0x61)
        XCTAssertTrue(u.receive(0x62))
    }

    func testReceivedDataInterrupt() {
        let (u, _, pic) = make()
        w(u, fcr, 0x01)
        w(u, ier, 0x01)
        XCTAssertFalse(pic.isHigh(irq))
        XCTAssertEqual(r(u, iir), 0xC1, "no interrupt, FIFOs enabled")
        XCTAssertTrue(u.receive(0x41))
        XCTAssertTrue(pic.isHigh(irq))
        XCTAssertEqual(r(u, iir), 0xC4)
        XCTAssertEqual(r(u, rbr), 0x41)
        XCTAssertFalse(pic.isHigh(irq))
        XCTAssertEqual(r(u, iir), 0xC1)
    }

    func testTHREInterruptRaisedOnIEREnableAndClearedByIIRRead() {
        let (u, sink, pic) = make()
        // Enabling ETBEI with THR empty raises the interrupt at once (Linux's start_tx relies on it).
        w(u, ier, 0x02)
        XCTAssertTrue(pic.isHigh(irq))
        // Reading IIR while it reports THRE acknowledges it.
        XCTAssertEqual(r(u, iir), 0x02)
        XCTAssertFalse(pic.isHigh(irq))
        XCTAssertEqual(r(u, iir), 0x01)
        // Each THR write empties at once and raises THRE again.
        w(u, thr, 0x41)
        XCTAssertTrue(pic.isHigh(irq))
        XCTAssertEqual(sink.bytes, [0x41])
        XCTAssertEqual(r(u, iir), 0x02)
        XCTAssertFalse(pic.isHigh(irq))
        // Toggling IER off and on re-raises it (the 8250 console write path does exactly this).
        w(u, ier, 0x00)
        XCTAssertFalse(pic.isHigh(irq))
        w(u, ier, 0x02)
        XCTAssertTrue(pic.isHigh(irq))
        // Writing IER with ETBEI unchanged does not re-raise an acknowledged THRE.
        _ = r(u, iir)
        w(u, ier, 0x03)
        XCTAssertFalse(pic.isHigh(irq))
        // Turning ETBEI off lowers a pending THRE interrupt.
        w(u, ier, 0x02)
        w(u, ier, 0x00)
        w(u, ier, 0x02)
        XCTAssertTrue(pic.isHigh(irq))
        w(u, ier, 0x00)
        XCTAssertFalse(pic.isHigh(irq))
    }

    func testIIRPriorities() {
        let (u, _, pic) = make()
        w(u, ier, 0x0F)
        XCTAssertEqual(r(u, iir) & 0x0F, 0x02, "THRE alone")
        w(u, ier, 0x00)
        w(u, ier, 0x0F)
        XCTAssertTrue(u.receive(0x41))
        XCTAssertEqual(r(u, iir) & 0x0F, 0x04, "received data outranks THRE")
        XCTAssertEqual(r(u, iir) & 0x0F, 0x04, "reading IIR does not clear received data")
        // Loopback overrun: line status outranks received data.
        w(u, mcr, 0x10)
        w(u, thr, 0x42)  // FIFOs off: the one-byte holding register is full, so this overruns
        XCTAssertEqual(r(u, iir) & 0x0F, 0x06)
        XCTAssertEqual(r(u, lsr) & 0x02, 0x02, "LSR.OE")
        XCTAssertEqual(r(u, lsr) & 0x02, 0, "reading LSR clears OE")
        XCTAssertEqual(r(u, iir) & 0x0F, 0x04)
        XCTAssertEqual(r(u, rbr), 0x41)
        // THRE is still pending from the THR write and shows once data is gone.
        XCTAssertEqual(r(u, iir) & 0x0F, 0x02)
        XCTAssertEqual(r(u, iir) & 0x0F, 0x01)
        XCTAssertFalse(pic.isHigh(irq))
    }

    func testLoopback() {
        let (u, sink, _) = make()
        w(u, mcr, 0x10 | 0x0B)  // loop, OUT2, RTS, DTR
        XCTAssertFalse(u.canReceive, "the receiver listens to the transmitter in loopback")
        w(u, thr, 0x55)
        XCTAssertEqual(sink.bytes, [], "nothing leaves the chip")
        XCTAssertEqual(r(u, lsr) & 1, 1)
        XCTAssertEqual(r(u, rbr), 0x55)
        XCTAssertEqual(r(u, msr), 0x80 | 0x10 | 0x20, "DCD from OUT2, CTS from RTS, DSR from DTR")
        w(u, mcr, 0x08)
        XCTAssertTrue(u.canReceive)
    }

    func testLineFollowsChangesOnly() {
        let (u, _, pic) = make()
        w(u, ier, 0x01)
        XCTAssertTrue(u.receive(1))
        XCTAssertFalse(u.receive(2))
        XCTAssertEqual(pic.changes.count, 1, "a level stays up without repeated setLevel calls")
        _ = r(u, rbr)
        XCTAssertEqual(pic.changes.count, 2)
        XCTAssertEqual(pic.changes.last?.high, false)
    }

    func testUnknownOffsetsAndReset() {
        let (u, sink, pic) = make()
        XCTAssertEqual(u.read(offset: 8, size: 1), 0)
        XCTAssertEqual(u.read(offset: .max, size: 8), 0)
        u.write(offset: 0xFF, size: 1, value: 0x41)
        XCTAssertEqual(sink.bytes, [])
        w(u, ier, 0x02)
        XCTAssertTrue(pic.isHigh(irq))
        u.reset()
        XCTAssertFalse(pic.isHigh(irq))
        XCTAssertEqual(r(u, ier), 0)
    }
}
