import Devices
@testable import Virtio
import XCTest

/// Collects what the device writes, as the terminal would receive it.
final class RecordingByteSink: ByteSink {
    var bytes: [UInt8] = []
    func write(byte: UInt8) { bytes.append(byte) }
}

/// virtio-console, port 0 only (virtio 1.2 section 5.3): queue 0 receives, queue 1 transmits.
final class ConsoleTests: XCTestCase {
    let sink = RecordingByteSink()

    func makeDriver() -> (TestDriver, VirtioConsole) {
        let console = VirtioConsole(output: sink)
        let driver = TestDriver(device: console)
        XCTAssertTrue(driver.initialize())
        return (driver, console)
    }

    func testIdentityFeaturesAndConfig() {
        let driver = TestDriver(device: VirtioConsole(output: sink))
        XCTAssertEqual(driver.read(Reg.deviceID), 3)
        XCTAssertEqual(driver.offeredFeatures() & 0xFF_FFFF, 1, "VIRTIO_CONSOLE_F_SIZE only: no MULTIPORT")
        XCTAssertEqual(driver.read(Reg.config, size: 2), 80, "cols")
        XCTAssertEqual(driver.read(Reg.config + 2, size: 2), 25, "rows")
        XCTAssertEqual(driver.read(Reg.config + 4), 0, "max_nr_ports is not valid without MULTIPORT")
        XCTAssertTrue(driver.initialize())
        driver.write(Reg.queueSel, 1)
        XCTAssertEqual(driver.read(Reg.queueNumMax), 64)
        driver.write(Reg.queueSel, 2)
        XCTAssertEqual(driver.read(Reg.queueNumMax), 0, "no control queues")
    }

    func testTransmitGoesToTheSink() {
        let (driver, console) = makeDriver()
        let a = driver.allocate(bytes: Array("hello, ".utf8)), b = driver.allocate(bytes: Array("hvc0\n".utf8))
        let head = driver.addChain([TestBuffer(address: a, length: 7, writable: false),
                                    TestBuffer(address: b, length: 5, writable: false)], queue: 1)
        XCTAssertEqual(String(decoding: sink.bytes, as: UTF8.self), "hello, hvc0\n")
        let used = driver.takeUsed(queue: 1)
        XCTAssertEqual(used.map(\.id), [UInt32(head)])
        XCTAssertEqual(used.map(\.length), [0], "the device writes nothing into transmit buffers")
        XCTAssertTrue(driver.sink.isHigh(TestDriver.irq))
        XCTAssertEqual(console.statistics, ["bytesIn": 0, "bytesOut": 12])
    }

    /// Device-writable buffers in the transmitq are not output and not written.
    func testTransmitIgnoresWritableBuffers() {
        let (driver, _) = makeDriver()
        let w = driver.allocate(8, fill: 0x41)
        driver.addChain([TestBuffer(address: driver.allocate(bytes: [0x42]), length: 1, writable: false),
                         TestBuffer(address: w, length: 8, writable: true)], queue: 1)
        XCTAssertEqual(sink.bytes, [0x42])
        XCTAssertEqual(driver.bytes(at: w, 8), [UInt8](repeating: 0x41, count: 8))
        XCTAssertEqual(driver.takeUsed(queue: 1).map(\.length), [0])
    }

    func testReceiveFillsGuestBuffers() {
        let (driver, console) = makeDriver()
        XCTAssertFalse(console.canReceive, "no receive buffer yet")
        var input = Array("ls\n".utf8)[...]
        XCTAssertEqual(console.receive { input.popFirst() }, 0, "nothing taken without a buffer")
        XCTAssertEqual(input.count, 3)

        let small = driver.allocate(2), big = driver.allocate(16)
        let h1 = driver.addChain([TestBuffer(address: small, length: 2, writable: true)])
        let h2 = driver.addChain([TestBuffer(address: big, length: 16, writable: true)])
        XCTAssertTrue(console.canReceive)
        XCTAssertEqual(console.receive { input.popFirst() }, 3)
        let used = driver.takeUsed()
        XCTAssertEqual(used.map(\.id), [UInt32(h1), UInt32(h2)])
        XCTAssertEqual(used.map(\.length), [2, 1], "a partly filled buffer goes back at once")
        XCTAssertEqual(driver.bytes(at: small, 2) + driver.bytes(at: big, 1), Array("ls\n".utf8))
        XCTAssertTrue(driver.sink.isHigh(TestDriver.irq))
        XCTAssertEqual(console.statistics, ["bytesIn": 3, "bytesOut": 0])
        XCTAssertFalse(console.canReceive, "both buffers used")
    }

    /// A receive chain with no writable byte goes back unused; the next one gets the input.
    func testReadableOnlyReceiveChainIsReturnedUnused() {
        let (driver, console) = makeDriver()
        let bad = driver.addChain([TestBuffer(address: driver.allocate(4, fill: 7), length: 4, writable: false)])
        let good = driver.allocate(4)
        let head = driver.addChain([TestBuffer(address: good, length: 4, writable: true)])
        var input: [UInt8] = [0x61]
        XCTAssertEqual(console.receive { input.popLast() }, 1)
        XCTAssertEqual(driver.takeUsed().map { [$0.id, $0.length] }, [[UInt32(bad), 0], [UInt32(head), 1]])
        XCTAssertEqual(driver.bytes(at: good, 1), [0x61])
        XCTAssertEqual(driver.status & StatusBit.needsReset, 0)
    }

    /// A receive chain outside guest RAM sets NEEDS_RESET; input stops until the driver resets.
    func testBrokenReceiveChainNeedsReset() {
        let (driver, console) = makeDriver()
        driver.addChain([TestBuffer(address: 0x1000, length: 16, writable: true)])
        var input: [UInt8] = [1, 2, 3]
        XCTAssertEqual(console.receive { input.popLast() }, 0)
        XCTAssertEqual(input.count, 3, "no input lost")
        XCTAssertNotEqual(driver.status & StatusBit.needsReset, 0)
        XCTAssertEqual(driver.transport.lastError, .bufferOutsideMemory(address: 0x1000, length: 16))
        XCTAssertFalse(console.canReceive)

        XCTAssertTrue(driver.initialize(), "a reset brings the device back")
        let buffer = driver.allocate(4)
        driver.addChain([TestBuffer(address: buffer, length: 4, writable: true)])
        XCTAssertEqual(console.receive { input.popLast() }, 3)
        XCTAssertEqual(driver.bytes(at: buffer, 3), [3, 2, 1])
    }

    /// A looping transmit chain sets NEEDS_RESET, outputs nothing, and stops input as well.
    func testBrokenTransmitChainNeedsReset() {
        let (driver, console) = makeDriver()
        let layout = driver.queues[1]
        let data = driver.allocate(bytes: [0x58])
        driver.writeDescriptor(table: layout.desc, index: 0, address: data, length: 1, flags: 1, next: 1)
        driver.writeDescriptor(table: layout.desc, index: 1, address: data, length: 1, flags: 1, next: 0)
        driver.makeAvailable(head: 0, queue: 1)
        XCTAssertEqual(sink.bytes, [])
        XCTAssertNotEqual(driver.status & StatusBit.needsReset, 0)
        XCTAssertEqual(driver.transport.lastError, .chainTooLong(limit: 64))
        driver.addChain([TestBuffer(address: driver.allocate(4), length: 4, writable: true)])
        XCTAssertFalse(console.canReceive)
    }

    /// Before DRIVER_OK, or with the receiveq not ready, input waits in the host's queue.
    func testNoInputBeforeDriverOK() {
        let console = VirtioConsole(output: sink)
        let driver = TestDriver(device: console)
        XCTAssertTrue(driver.initialize(driverOK: false))
        var input: [UInt8] = [1]
        XCTAssertEqual(console.receive { input.popLast() }, 0)
        XCTAssertEqual(input, [1])
    }
}
