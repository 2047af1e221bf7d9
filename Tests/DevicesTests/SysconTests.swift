import XCTest
import Devices

final class SysconTests: XCTestCase {
    func testCommands() {
        let power = RecordingPowerControl()
        let syscon = Syscon(power: power)
        syscon.write(offset: 0, size: 4, value: 0x5555)
        syscon.write(offset: 0, size: 4, value: 0x7777)
        syscon.write(offset: 0, size: 4, value: 0x3333 | (42 << 16))
        syscon.write(offset: 0, size: 4, value: 0x3333 | (0xFFFF << 16))
        XCTAssertEqual(power.requests, [.poweroff, .reboot, .fail(code: 42), .fail(code: 0xFFFF)])
    }

    func testPassIgnoresTheCodeField() {
        let power = RecordingPowerControl()
        let syscon = Syscon(power: power)
        syscon.write(offset: 0, size: 4, value: 0x5555 | (3 << 16))
        XCTAssertEqual(power.requests, [.poweroff])
    }

    func testOtherWritesAndReadsDoNothing() {
        let power = RecordingPowerControl()
        let syscon = Syscon(power: power)
        syscon.write(offset: 0, size: 4, value: 0x1234)
        syscon.write(offset: 4, size: 4, value: 0x5555)
        syscon.write(offset: 0, size: 1, value: 0x55)
        syscon.write(offset: 0, size: 8, value: 0x5555)
        XCTAssertEqual(syscon.read(offset: 0, size: 4), 0)
        XCTAssertEqual(syscon.read(offset: 8, size: 8), 0)
        XCTAssertEqual(power.requests, [])
    }
}
