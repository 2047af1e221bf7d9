import GuestMemory
@testable import Virtio
import XCTest

/// The split virtqueue and descriptor-chain walking (virtio 1.2 section 2.7), driven through the
/// MMIO transport by a test driver, with a device that records what it popped.
final class VirtqueueTests: XCTestCase {
    private var device: RecordingDevice!
    private var driver: TestDriver!

    override func setUp() {
        device = RecordingDevice(queueMaxSizes: [8])
        driver = TestDriver(device: device)
        XCTAssertTrue(driver.initialize())
    }

    private func buffers(_ spec: [(Int, Bool)]) -> [TestBuffer] {
        spec.map { TestBuffer(address: driver.allocate($0.0, fill: 0x11), length: UInt32($0.0), writable: $0.1) }
    }

    private func assertNeedsReset(_ expected: VirtioError, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNotEqual(driver.status & StatusBit.needsReset, 0, "DEVICE_NEEDS_RESET", file: file, line: line)
        XCTAssertEqual(driver.transport.lastError, expected, file: file, line: line)
        // 2.1.2: with DRIVER_OK set, the driver hears of it through a configuration change interrupt.
        XCTAssertEqual(driver.read(Reg.interruptStatus) & 2, 2, "configuration change interrupt", file: file, line: line)
    }

    func testChainOfReadableThenWritableBuffers() {
        let chain = buffers([(16, false), (100, false), (512, true), (1, true)])
        let head = driver.addChain(chain)
        XCTAssertEqual(device.chains.count, 1)
        XCTAssertEqual(device.chains[0].head, head)
        XCTAssertEqual(device.chains[0].buffers.map(\.address), chain.map(\.address))
        XCTAssertEqual(device.chains[0].buffers.map(\.isWritable), [false, false, true, true])
        let used = driver.takeUsed()
        XCTAssertEqual(used.map(\.id), [UInt32(head)])
        XCTAssertEqual(used.map(\.length), [513])
        // The device wrote only the writable buffers.
        XCTAssertEqual(driver.bytes(at: chain[1].address, 100), [UInt8](repeating: 0x11, count: 100))
        XCTAssertEqual(driver.bytes(at: chain[2].address, 512), [UInt8](repeating: 0xEE, count: 512))
        XCTAssertTrue(driver.sink.isHigh(TestDriver.irq))
        XCTAssertEqual(driver.status & StatusBit.needsReset, 0)
    }

    /// Device writes are reported to guest memory's observer (which drops decoded and
    /// translated code there): exactly the writable buffers, never the readable ones.
    func testDeviceWritesAreReportedToTheMemoryObserver() {
        var reported: [(UInt64, UInt64)] = []
        driver.memory.deviceWriteObserver = { reported.append(($0, $1)) }
        let chain = buffers([(16, false), (512, true), (1, true)])
        driver.addChain(chain)
        XCTAssertEqual(reported.map(\.0), [chain[1].address, chain[2].address])
        XCTAssertEqual(reported.map(\.1), [512, 1])
    }

    func testIndirectTable() {
        let chain = buffers([(16, false), (4096, true), (1, true)])
        driver.addChain(chain, indirect: true)
        XCTAssertEqual(device.chains.count, 1)
        XCTAssertEqual(device.chains[0].buffers.map(\.address), chain.map(\.address))
        XCTAssertEqual(driver.takeUsed().map(\.length), [4097])
    }

    /// 2.7.5.3.2: "zero or more normal chained descriptors followed by a single descriptor with
    /// VIRTQ_DESC_F_INDIRECT".
    func testDirectDescriptorsThenIndirectTable() {
        let direct = buffers([(16, false)])
        let indirect = buffers([(32, false), (8, true)])
        let table = driver.allocate(32)
        for (i, b) in indirect.enumerated() {
            driver.writeDescriptor(table: table, index: i, address: b.address, length: b.length,
                                   flags: (i == 0 ? 1 : 0) | (b.writable ? 2 : 0), next: UInt16(i + 1))
        }
        let desc = driver.queues[0].desc
        driver.writeDescriptor(table: desc, index: 0, address: direct[0].address, length: 16, flags: 1, next: 5)
        // The table's own WRITE flag must be ignored (2.7.5.3.2).
        driver.writeDescriptor(table: desc, index: 5, address: table, length: 32, flags: 4 | 2, next: 0)
        driver.makeAvailable(head: 0)
        XCTAssertEqual(device.chains.first?.buffers.map(\.address), (direct + indirect).map(\.address))
        XCTAssertEqual(driver.status & StatusBit.needsReset, 0)
    }

    func testLoopInChainSetsNeedsReset() {
        let b = buffers([(8, false), (8, false)])
        let desc = driver.queues[0].desc
        driver.writeDescriptor(table: desc, index: 0, address: b[0].address, length: 8, flags: 1, next: 1)
        driver.writeDescriptor(table: desc, index: 1, address: b[1].address, length: 8, flags: 1, next: 0)
        driver.makeAvailable(head: 0)
        assertNeedsReset(.chainTooLong(limit: 8))
        XCTAssertTrue(device.chains.isEmpty)
        XCTAssertEqual(driver.usedIndex(), 0, "nothing goes to the used ring")
    }

    func testLoopInIndirectTableSetsNeedsReset() {
        let b = driver.allocate(8)
        let table = driver.allocate(32)
        driver.writeDescriptor(table: table, index: 0, address: b, length: 8, flags: 1, next: 1)
        driver.writeDescriptor(table: table, index: 1, address: b, length: 8, flags: 1, next: 0)
        driver.writeDescriptor(table: driver.queues[0].desc, index: 0, address: table, length: 32, flags: 4, next: 0)
        driver.makeAvailable(head: 0)
        assertNeedsReset(.chainTooLong(limit: 8))
    }

    func testNestedIndirectTableSetsNeedsReset() {
        let inner = driver.allocate(16)
        let outer = driver.allocate(16)
        driver.writeDescriptor(table: outer, index: 0, address: inner, length: 16, flags: 4, next: 0)
        driver.writeDescriptor(table: driver.queues[0].desc, index: 0, address: outer, length: 16, flags: 4, next: 0)
        driver.makeAvailable(head: 0)
        assertNeedsReset(.indirectNested)
    }

    func testIndirectWithNextSetsNeedsReset() {
        let table = driver.allocate(16)
        driver.writeDescriptor(table: table, index: 0, address: driver.allocate(8), length: 8, flags: 0, next: 0)
        driver.writeDescriptor(table: driver.queues[0].desc, index: 0, address: table, length: 16, flags: 4 | 1, next: 1)
        driver.makeAvailable(head: 0)
        assertNeedsReset(.indirectWithNext)
    }

    func testIndirectTableLengthsAreChecked() {
        for (length, error) in [(UInt32(0), VirtioError.indirectTableLength(0)), (24, .indirectTableLength(24)),
                                (16 * 9, .indirectTableLength(16 * 9))] {
            setUp()
            let table = driver.allocate(16 * 9)
            driver.writeDescriptor(table: driver.queues[0].desc, index: 0, address: table, length: length, flags: 4, next: 0)
            driver.makeAvailable(head: 0)
            assertNeedsReset(error)
        }
    }

    func testIndirectTableOutsideRAMSetsNeedsReset() {
        let address = driver.memory.end - 16
        driver.writeDescriptor(table: driver.queues[0].desc, index: 0, address: address, length: 32, flags: 4, next: 0)
        driver.makeAvailable(head: 0)
        assertNeedsReset(.bufferOutsideMemory(address: address, length: 32))
    }

    func testIndirectWithoutTheFeatureSetsNeedsReset() {
        let offered = driver.offeredFeatures()
        XCTAssertTrue(driver.initialize(accept: offered & ~(1 << 28)))
        let table = driver.allocate(16)
        driver.writeDescriptor(table: table, index: 0, address: driver.allocate(8), length: 8, flags: 0, next: 0)
        driver.writeDescriptor(table: driver.queues[0].desc, index: 0, address: table, length: 16, flags: 4, next: 0)
        driver.makeAvailable(head: 0)
        assertNeedsReset(.indirectNotNegotiated)
    }

    func testBuffersOutsideRAMSetNeedsReset() {
        let ram = driver.memory
        let cases: [(UInt64, UInt32)] = [
            (ram.base - 16, 8),          // below RAM
            (ram.end - 4, 8),            // straddles the end
            (ram.end, 1),                // just past the end
            (UInt64.max - 3, 8),         // wraps around the address space
            (ram.base, UInt32.max),      // longer than RAM
        ]
        for (address, length) in cases {
            setUp()
            driver.writeDescriptor(table: driver.queues[0].desc, index: 0, address: address, length: length, flags: 2, next: 0)
            driver.makeAvailable(head: 0)
            assertNeedsReset(.bufferOutsideMemory(address: address, length: length))
        }
    }

    func testZeroLengthBufferSetsNeedsReset() {
        let address = driver.allocate(8)
        driver.writeDescriptor(table: driver.queues[0].desc, index: 0, address: address, length: 0, flags: 2, next: 0)
        driver.makeAvailable(head: 0)
        assertNeedsReset(.emptyBuffer(address: address))
    }

    func testReadableAfterWritableSetsNeedsReset() {
        driver.addChain(buffers([(8, true), (8, false)]))
        assertNeedsReset(.readableAfterWritable)
    }

    func testNextOutsideTheTableSetsNeedsReset() {
        driver.writeDescriptor(table: driver.queues[0].desc, index: 0, address: driver.allocate(8), length: 8, flags: 1, next: 8)
        driver.makeAvailable(head: 0)
        assertNeedsReset(.nextOutOfRange(index: 8, tableSize: 8))
    }

    func testHeadOutsideTheTableSetsNeedsReset() {
        driver.makeAvailable(head: 9)
        assertNeedsReset(.headOutOfRange(queue: 0, head: 9))
    }

    func testAvailableIndexRunningAheadSetsNeedsReset() {
        driver.setAvailableIndex(9)
        driver.write(Reg.queueNotify, 0)
        assertNeedsReset(.availableIndexJumped(queue: 0, from: 0, to: 9))
    }

    /// After NEEDS_RESET the device ignores notifications until the driver resets it, and works again after.
    func testDeviceIsSilentUntilReset() {
        driver.makeAvailable(head: 9)
        XCTAssertNotEqual(driver.status & StatusBit.needsReset, 0)
        driver.addChain(buffers([(8, true)]))
        XCTAssertTrue(device.chains.isEmpty)
        XCTAssertTrue(driver.initialize())
        XCTAssertEqual(driver.status & StatusBit.needsReset, 0)
        driver.addChain(buffers([(8, true)]))
        XCTAssertEqual(device.chains.count, 1)
    }

    /// Free-running 16-bit indices wrap at 65536; slots are index % size (2.7.6, 2.7.8).
    func testRingIndicesWrapAround() {
        let b = buffers([(4, true)])
        let rounds = 65536 + 100
        for _ in 0..<rounds { driver.addChain(b, notify: false); driver.write(Reg.queueNotify, 0) }
        XCTAssertEqual(device.chains.count, rounds)
        XCTAssertEqual(driver.usedIndex(), UInt16(truncatingIfNeeded: rounds))
        XCTAssertEqual(driver.status & StatusBit.needsReset, 0)
    }

    /// A full ring (size entries outstanding) is fine; the driver batches and notifies once.
    func testFullRingInOneNotification() {
        for _ in 0..<8 { driver.addChain(buffers([(4, true)]), notify: false) }
        driver.write(Reg.queueNotify, 0)
        XCTAssertEqual(device.chains.count, 8)
        XCTAssertEqual(driver.takeUsed().count, 8)
        XCTAssertEqual(driver.sink.raised, 1, "one interrupt for the batch")
    }

    func testNoInterruptFlagSuppressesNotifications() {
        XCTAssertTrue(driver.initialize(accept: driver.offeredFeatures() & ~(1 << 29)))
        driver.setAvailableFlags(1)
        driver.addChain(buffers([(4, true)]))
        XCTAssertEqual(driver.takeUsed().count, 1)
        XCTAssertFalse(driver.sink.isHigh(TestDriver.irq))
        driver.setAvailableFlags(0)
        driver.addChain(buffers([(4, true)]))
        XCTAssertTrue(driver.sink.isHigh(TestDriver.irq))
    }

    /// VIRTIO_F_EVENT_IDX (2.7.7, 2.7.10): interrupts only when used.idx passes used_event, and
    /// avail_event tells the driver which index to notify at.
    func testEventIndexSuppression() {
        let b = buffers([(4, true)])
        driver.setUsedEvent(2)  // "interrupt me when entry 2 is used"
        driver.addChain(b)      // used.idx 1: the first batch since reset always notifies
        XCTAssertTrue(driver.sink.isHigh(TestDriver.irq))
        driver.acknowledgeInterrupts()
        XCTAssertEqual(driver.availEvent(), 1, "device asks to hear about available entry 1")
        driver.addChain(b)      // used.idx 2: entry 1 used, not yet 2
        XCTAssertFalse(driver.sink.isHigh(TestDriver.irq))
        driver.addChain(b)      // used.idx 3: entry 2 used
        XCTAssertTrue(driver.sink.isHigh(TestDriver.irq))
        XCTAssertEqual(driver.availEvent(), 3)
    }

    func testNeedsEventAcrossWraparound() {
        XCTAssertTrue(Virtqueue.needsEvent(0, new: 1, old: 0))
        XCTAssertFalse(Virtqueue.needsEvent(1, new: 1, old: 0))
        XCTAssertTrue(Virtqueue.needsEvent(65535, new: 2, old: 65534))
        XCTAssertTrue(Virtqueue.needsEvent(0, new: 2, old: 65534))
        XCTAssertFalse(Virtqueue.needsEvent(2, new: 2, old: 65534))
        XCTAssertFalse(Virtqueue.needsEvent(65533, new: 2, old: 65534))
    }

    func testSegmentsSpanBufferBoundaries() throws {
        let memory = driver.memory
        let a = driver.allocate(bytes: [1, 2, 3])
        let b = driver.allocate(bytes: [4, 5, 6, 7, 8, 9, 10])
        let w1 = driver.allocate(2), w2 = driver.allocate(5)
        let desc = driver.queues[0].desc
        driver.writeDescriptor(table: desc, index: 0, address: a, length: 3, flags: 1, next: 1)
        driver.writeDescriptor(table: desc, index: 1, address: b, length: 7, flags: 1, next: 2)
        driver.writeDescriptor(table: desc, index: 2, address: w1, length: 2, flags: 3, next: 3)
        driver.writeDescriptor(table: desc, index: 3, address: w2, length: 5, flags: 2, next: 0)
        let queue = driver.transport.queues[0]
        driver.makeAvailable(head: 0, notify: false)
        var chain = DescriptorChain()
        XCTAssertTrue(try queue.pop(into: &chain))
        XCTAssertEqual(chain.readableLength, 10)
        XCTAssertEqual(chain.writableLength, 7)
        XCTAssertEqual(chain.readableInteger(at: 1, size: 4), 0x0504_0302)
        XCTAssertEqual(chain.readableInteger(at: 2, size: 8), 0x0A09_0807_0605_0403)
        XCTAssertNil(chain.readableInteger(at: 3, size: 8), "only 7 bytes left")
        XCTAssertEqual(([0xA, 0xB, 0xC] as [UInt8]).withUnsafeBytes { chain.copyToWritable($0, at: 1) }, 3)
        XCTAssertTrue(chain.storeWritableByte(0xFF, at: 6))
        XCTAssertFalse(chain.storeWritableByte(0xFF, at: 7))
        XCTAssertEqual(memory.copyOut(w1, length: 2), [0, 0xA])
        XCTAssertEqual(memory.copyOut(w2, length: 5), [0xB, 0xC, 0, 0, 0xFF])
    }
}
