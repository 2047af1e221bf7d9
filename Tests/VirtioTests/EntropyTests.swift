@testable import Virtio
import XCTest

/// virtio-rng (virtio 1.2 section 5.4).
final class EntropyTests: XCTestCase {
    func testFillsWritableBuffersWithRandomBytes() {
        let driver = TestDriver(device: VirtioEntropy())
        XCTAssertEqual(driver.read(Reg.deviceID), 4)
        XCTAssertEqual(driver.offeredFeatures() & 0xFF_FFFF, 0, "no device feature bits")
        XCTAssertTrue(driver.initialize())
        let a = driver.allocate(64, fill: 0), b = driver.allocate(4000, fill: 0)
        let head = driver.addChain([TestBuffer(address: a, length: 64, writable: true),
                                    TestBuffer(address: b, length: 4000, writable: true)])
        let used = driver.takeUsed()
        XCTAssertEqual(used.map(\.id), [UInt32(head)])
        XCTAssertEqual(used.map(\.length), [4064])
        let bytes = driver.bytes(at: a, 64) + driver.bytes(at: b, 4000)
        // 4064 random bytes: all 256 values should appear (a miss has probability ~256 * e^-15.9).
        XCTAssertEqual(Set(bytes).count, 256)
        XCTAssertTrue(driver.sink.isHigh(TestDriver.irq))
    }

    /// A request asks for at most 64 KiB per chain; the used length says how much was given.
    func testLargeRequestIsCapped() {
        let driver = TestDriver(device: VirtioEntropy(), ramSize: 1 << 20)
        XCTAssertTrue(driver.initialize())
        let big = driver.allocate(200_000)
        driver.addChain([TestBuffer(address: big, length: 200_000, writable: true)])
        XCTAssertEqual(driver.takeUsed().map(\.length), [65536])
        XCTAssertEqual(driver.bytes(at: big + 65536, 1000), [UInt8](repeating: 0, count: 1000))
    }

    /// `--stats`: requests and the random bytes given (capped ones count what was given).
    func testStatistics() {
        let driver = TestDriver(device: VirtioEntropy(), ramSize: 1 << 20)
        XCTAssertTrue(driver.initialize())
        driver.addChain([TestBuffer(address: driver.allocate(100), length: 100, writable: true)])
        driver.addChain([TestBuffer(address: driver.allocate(100_000), length: 100_000, writable: true)])
        let statistics = driver.transport.statistics
        XCTAssertEqual(statistics["requests"], 2)
        XCTAssertEqual(statistics["bytes"], 100 + 65536)
        XCTAssertEqual(statistics["queueNotifications"], 2)
    }

    /// Device-readable buffers are never written.
    func testReadableBuffersAreLeftAlone() {
        let driver = TestDriver(device: VirtioEntropy())
        XCTAssertTrue(driver.initialize())
        let readable = driver.allocate(32, fill: 0x42)
        driver.addChain([TestBuffer(address: readable, length: 32, writable: false),
                         TestBuffer(address: driver.allocate(16), length: 16, writable: true)])
        XCTAssertEqual(driver.takeUsed().map(\.length), [16])
        XCTAssertEqual(driver.bytes(at: readable, 32), [UInt8](repeating: 0x42, count: 32))
    }
}
