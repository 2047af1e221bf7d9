@testable import Virtio
import XCTest

/// The virtio-mmio register protocol (virtio 1.2 section 4.2.2 and 4.2.3), device status and
/// feature negotiation (2.1, 2.2), reset (2.4).
final class TransportTests: XCTestCase {
    private var device: RecordingDevice!
    private var driver: TestDriver!

    override func setUp() {
        device = RecordingDevice(queueMaxSizes: [8, 16])
        driver = TestDriver(device: device)
    }

    func testIdentification() {
        XCTAssertEqual(driver.read(Reg.magic), 0x7472_6976)
        XCTAssertEqual(driver.read(Reg.version), 2)
        XCTAssertEqual(driver.read(Reg.deviceID), 3)
        XCTAssertEqual(driver.read(Reg.vendorID), 0x554D_4551)
        XCTAssertEqual(driver.transport.name, "virtio-mmio (console)")
    }

    /// 4.2.2.2: control registers take only 32-bit aligned accesses; others read 0, writes are ignored.
    func testWrongWidthAndUnknownOffsets() {
        for size in [1, 2, 8] {
            XCTAssertEqual(driver.read(Reg.magic, size: size), 0, "magic read with size \(size)")
            driver.write(Reg.status, 1, size: size)
            XCTAssertEqual(driver.status, 0, "status written with size \(size)")
        }
        for offset: UInt64 in [0x002, 0x018, 0x03c, 0x0c4, 0x0f8, 0x0fe] {
            XCTAssertEqual(driver.read(offset), 0, "read at 0x\(String(offset, radix: 16))")
            driver.write(offset, 0xFFFF_FFFF)
        }
        for offset: UInt64 in [Reg.magic, Reg.version, Reg.deviceID, Reg.vendorID, Reg.queueNumMax] {
            let before = driver.read(offset)
            driver.write(offset, 0x1234)
            XCTAssertEqual(driver.read(offset), before, "read-only register 0x\(String(offset, radix: 16))")
        }
        XCTAssertEqual(driver.status, 0)
    }

    func testFeatureWordsAndNegotiation() {
        let offered = driver.offeredFeatures()
        // VERSION_1, INDIRECT_DESC, EVENT_IDX from the core, bit 0 from the device.
        XCTAssertEqual(offered, 1 << 32 | 1 << 29 | 1 << 28 | 1)
        driver.write(Reg.deviceFeaturesSel, 2)
        XCTAssertEqual(driver.read(Reg.deviceFeatures), 0, "no feature bits past 63")
        XCTAssertTrue(driver.initialize(accept: 1 << 32 | 1))
        XCTAssertEqual(device.acceptedFeatures, VirtioFeatures(rawValue: 1 << 32 | 1))
        XCTAssertEqual(device.activations, 1)
        XCTAssertEqual(driver.transport.queues.map(\.eventIndex), [false, false])
    }

    /// GUESTS.md: some guests set FEATURES_OK after writing only word 0, without VERSION_1,
    /// and expect the bit to stay set, as on QEMU.
    func testFeaturesOKWithoutVersion1() {
        XCTAssertTrue(driver.initialize(accept: 1))
        XCTAssertNotEqual(driver.status & StatusBit.featuresOK, 0)
        XCTAssertNotEqual(driver.status & StatusBit.driverOK, 0)
        XCTAssertEqual(device.activations, 1)
    }

    /// 2.2.1: accepting a bit the device did not offer, or a subset the device refuses, leaves FEATURES_OK clear.
    func testFeaturesOKRefused() {
        XCTAssertFalse(driver.initialize(accept: 1 << 32 | 1 << 5))
        XCTAssertEqual(driver.status & StatusBit.featuresOK, 0)
        device.refuse = VirtioFeatures(bit: 0)
        XCTAssertFalse(driver.initialize(accept: 1 << 32 | 1))
        XCTAssertTrue(driver.initialize(accept: 1 << 32))
    }

    func testDriverFeaturesAreFixedAfterFeaturesOK() {
        XCTAssertTrue(driver.initialize(accept: 1 << 32, driverOK: false))
        driver.write(Reg.driverFeaturesSel, 0)
        driver.write(Reg.driverFeatures, 1)
        driver.write(Reg.status, UInt64(driver.status | StatusBit.driverOK))
        XCTAssertEqual(device.acceptedFeatures, VirtioFeatures.version1)
    }

    func testQueueRegisters() {
        driver.write(Reg.queueSel, 1)
        XCTAssertEqual(driver.read(Reg.queueNumMax), 16)
        XCTAssertEqual(driver.read(Reg.queueReady), 0)
        driver.write(Reg.queueSel, 2)
        XCTAssertEqual(driver.read(Reg.queueNumMax), 0, "a queue that does not exist")
        driver.write(Reg.queueNum, 4)
        driver.write(Reg.queueReady, 1)
        XCTAssertEqual(driver.read(Reg.queueReady), 0)

        driver.setUpQueue(1, size: 4, desc: 0x8000_1000, avail: 0x8000_2000, used: 0x8000_3000)
        driver.write(Reg.queueSel, 1)
        XCTAssertEqual(driver.read(Reg.queueReady), 1)
        let queue = driver.transport.queues[1]
        XCTAssertEqual(queue.size, 4)
        XCTAssertEqual(queue.descriptorTable, 0x8000_1000)
        XCTAssertEqual(queue.availableRing, 0x8000_2000)
        XCTAssertEqual(queue.usedRing, 0x8000_3000)
        // 4.2.3.2: configuration written while the queue is ready is ignored.
        driver.write(Reg.queueNum, 2)
        driver.write(Reg.queueDescLow, 0x5000)
        driver.write(Reg.queueDeviceHigh, 1)
        XCTAssertEqual(queue.size, 4)
        XCTAssertEqual(queue.descriptorTable, 0x8000_1000)
        XCTAssertEqual(queue.usedRing, 0x8000_3000)
        driver.write(Reg.queueReady, 0)
        XCTAssertEqual(driver.read(Reg.queueReady), 0)
        driver.write(Reg.queueNum, 2)
        XCTAssertEqual(queue.size, 2)
    }

    func testBadQueueConfigurationSetsNeedsReset() {
        let cases: [(UInt16, UInt64, UInt64, UInt64, VirtioError)] = [
            (3, 0x8000_1000, 0x8000_2000, 0x8000_3000, .queueSizeInvalid(queue: 0, size: 3, max: 8)),
            (16, 0x8000_1000, 0x8000_2000, 0x8000_3000, .queueSizeInvalid(queue: 0, size: 16, max: 8)),
            (0, 0x8000_1000, 0x8000_2000, 0x8000_3000, .queueSizeInvalid(queue: 0, size: 0, max: 8)),
            (8, 0x8000_1008, 0x8000_2000, 0x8000_3000, .ringMisaligned(queue: 0, area: "descriptor table", address: 0x8000_1008)),
            (8, 0x7FFF_FF80, 0x8000_2000, 0x8000_3000, .ringOutsideMemory(queue: 0, area: "descriptor table", address: 0x7FFF_FF80)),
            (8, 0x8000_1000, 0x800F_FFF0, 0x8000_3000, .ringOutsideMemory(queue: 0, area: "available ring", address: 0x800F_FFF0)),
            (8, 0x8000_1000, 0x8000_2000, 0x1_8000_3000, .ringOutsideMemory(queue: 0, area: "used ring", address: 0x1_8000_3000)),
            (8, 0x8000_1000, 0x8000_2000, 0x8000_3002, .ringMisaligned(queue: 0, area: "used ring", address: 0x8000_3002)),
        ]
        for (size, desc, avail, used, error) in cases {
            setUp()
            XCTAssertTrue(driver.initialize(driverOK: false))
            driver.write(Reg.queueSel, 0)
            driver.write(Reg.queueReady, 0)
            driver.setUpQueue(0, size: size, desc: desc, avail: avail, used: used)
            XCTAssertEqual(driver.read(Reg.queueReady), 0, "\(error)")
            XCTAssertNotEqual(driver.status & StatusBit.needsReset, 0, "\(error)")
            XCTAssertEqual(driver.transport.lastError, error)
            // Before DRIVER_OK there is no configuration change interrupt (2.1.2).
            XCTAssertFalse(driver.sink.isHigh(TestDriver.irq))
            // The driver cannot clear DEVICE_NEEDS_RESET by writing the status.
            driver.write(Reg.status, UInt64(driver.status & ~StatusBit.needsReset | StatusBit.driverOK))
            XCTAssertNotEqual(driver.status & StatusBit.needsReset, 0)
            XCTAssertEqual(device.activations, 0, "a device that needs a reset is not activated")
        }
    }

    /// 3.1.1: the device uses no buffers before DRIVER_OK.
    func testNotifyBeforeDriverOKIsIgnored() {
        XCTAssertTrue(driver.initialize(driverOK: false))
        driver.addChain([TestBuffer(address: driver.allocate(4), length: 4, writable: true)])
        XCTAssertTrue(device.chains.isEmpty)
        driver.write(Reg.status, UInt64(driver.status | StatusBit.driverOK))
        driver.write(Reg.queueNotify, 0)
        XCTAssertEqual(device.chains.count, 1)
        driver.write(Reg.queueNotify, 7)  // no such queue: ignored
        XCTAssertEqual(driver.status & StatusBit.needsReset, 0)
    }

    /// The slot's line is high exactly while InterruptStatus is not zero (level-triggered, like QEMU).
    func testInterruptLineFollowsInterruptStatus() {
        XCTAssertTrue(driver.initialize())
        let b = TestBuffer(address: driver.allocate(4), length: 4, writable: true)
        driver.addChain([b])
        XCTAssertEqual(driver.read(Reg.interruptStatus), 1)
        XCTAssertTrue(driver.sink.isHigh(TestDriver.irq))
        driver.transport.configurationChanged()
        XCTAssertEqual(driver.read(Reg.interruptStatus), 3)
        driver.write(Reg.interruptACK, 1)
        XCTAssertEqual(driver.read(Reg.interruptStatus), 2)
        XCTAssertTrue(driver.sink.isHigh(TestDriver.irq))
        driver.write(Reg.interruptACK, 2)
        XCTAssertEqual(driver.read(Reg.interruptStatus), 0)
        XCTAssertFalse(driver.sink.isHigh(TestDriver.irq))
    }

    func testConfigurationSpaceAndGeneration() {
        XCTAssertEqual(driver.read(Reg.config + 0x10, size: 1), 0x10)
        XCTAssertEqual(driver.read(Reg.config + 0x24, size: 8), 0x24)
        let generation = driver.read(Reg.configGeneration)
        driver.transport.configurationChanged()
        XCTAssertNotEqual(driver.read(Reg.configGeneration), generation)
    }

    /// 4.2.2: a shared memory region that does not exist reads as length and base -1.
    func testNoSharedMemoryRegions() {
        driver.write(Reg.shmSel, 0)
        XCTAssertEqual(driver.read(Reg.shmLenLow), 0xFFFF_FFFF)
        XCTAssertEqual(driver.read(Reg.shmBaseHigh), 0xFFFF_FFFF)
    }

    /// 2.4 and 4.2.2.1: reset clears the status, InterruptStatus, the ready bits and the queues.
    func testReset() {
        XCTAssertTrue(driver.initialize())
        driver.addChain([TestBuffer(address: driver.allocate(4), length: 4, writable: true)])
        XCTAssertTrue(driver.sink.isHigh(TestDriver.irq))
        let resets = device.resets
        driver.write(Reg.status, 0)
        XCTAssertEqual(device.resets, resets + 1)
        XCTAssertEqual(driver.status, 0)
        XCTAssertEqual(driver.read(Reg.interruptStatus), 0)
        XCTAssertFalse(driver.sink.isHigh(TestDriver.irq))
        for q in 0..<2 {
            driver.write(Reg.queueSel, UInt64(q))
            XCTAssertEqual(driver.read(Reg.queueReady), 0)
            XCTAssertEqual(driver.read(Reg.queueDescLow), 0)
        }
        // A new driver can start over, and ring indices start at 0 again.
        XCTAssertTrue(driver.initialize())
        driver.addChain([TestBuffer(address: driver.allocate(4), length: 4, writable: true)])
        XCTAssertEqual(driver.usedIndex(), 1)
    }
}
