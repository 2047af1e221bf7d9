import XCTest
import Devices

final class BusTests: XCTestCase {
    func testDispatchByRangeWithOffsets() {
        let bus = Bus()
        let a = EchoDevice(name: "a", answer: 0x1000)
        let b = EchoDevice(name: "b", answer: 0x2000)
        bus.map(a, at: 0x1000_0000, length: 0x100)
        bus.map(b, at: 0x0200_0000, length: 0x1_0000)

        XCTAssertEqual(bus.read(0x1000_0005, size: 1), 0x1005)
        XCTAssertEqual(a.lastRead?.offset, 5)
        XCTAssertEqual(a.lastRead?.size, 1)
        XCTAssertEqual(bus.read(0x0200_BFF8, size: 8), 0x2000 + 0xBFF8)
        XCTAssertEqual(bus.read(0x1000_0000, size: 4), 0x1000, "switching back after a hit elsewhere")

        XCTAssertTrue(bus.write(0x0200_4000, size: 8, value: 99))
        XCTAssertEqual(b.lastWrite?.offset, 0x4000)
        XCTAssertEqual(b.lastWrite?.size, 8)
        XCTAssertEqual(b.lastWrite?.value, 99)
        XCTAssertNil(a.lastWrite)
    }

    func testUnmappedAddressesAnswerNil() {
        let bus = Bus()
        let a = EchoDevice(name: "a", answer: 0)
        bus.map(a, at: 0x1000, length: 0x100)
        XCTAssertNil(bus.read(0xFFF, size: 1))
        XCTAssertNil(bus.read(0x1100, size: 1))
        XCTAssertFalse(bus.write(0x1100, size: 4, value: 1))
        XCTAssertNil(bus.read(UInt64.max, size: 8))
        // An access that starts inside but runs past the end is not the device's.
        XCTAssertNil(bus.read(0x10FC, size: 8))
        XCTAssertNotNil(bus.read(0x10F8, size: 8))
        XCTAssertNil(a.lastWrite)
        XCTAssertNil(Bus().read(0, size: 4), "an empty bus answers nothing")
    }

    func testRealDevicesBehindTheBus() {
        let bus = Bus()
        let power = RecordingPowerControl()
        bus.map(Syscon(power: power), at: 0x10_0000, length: 0x1000)
        XCTAssertTrue(bus.write(0x10_0000, size: 4, value: 0x5555))
        XCTAssertEqual(power.requests, [.poweroff])
    }
}
