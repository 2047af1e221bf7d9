import XCTest
@testable import Devices

final class CLINTTests: XCTestCase {
    private let mtimecmp0: UInt64 = 0x4000
    private let mtimecmp1: UInt64 = 0x4008
    private let mtime: UInt64 = 0xBFF8

    private func make(harts: Int = 2) -> (CLINT, [InterruptLines], ManualClock) {
        let lines = (0..<harts).map { _ in InterruptLines() }
        let clock = ManualClock()
        return (CLINT(lines: lines, clock: clock), lines, clock)
    }

    private func mtip(_ l: InterruptLines) -> Bool { l.bits & InterruptLines.machineTimer != 0 }
    private func msip(_ l: InterruptLines) -> Bool { l.bits & InterruptLines.machineSoftware != 0 }

    func testMtimecmpResetsToAllOnesAndRaisesNothing() {
        let (clint, lines, clock) = make()
        clock.ticks = 1 << 40
        clint.update()
        XCTAssertEqual(clint.read(offset: mtimecmp0, size: 8), UInt64.max)
        XCTAssertEqual(clint.read(offset: mtimecmp1 + 4, size: 4), 0xFFFF_FFFF)
        XCTAssertFalse(mtip(lines[0]))
        XCTAssertNil(clint.nextDeadline())
    }

    func testMtimecmp32BitHalvesAnd64BitAccess() {
        let (clint, _, _) = make()
        clint.write(offset: mtimecmp1, size: 4, value: 0x1122_3344)
        clint.write(offset: mtimecmp1 + 4, size: 4, value: 0x5566_7788)
        XCTAssertEqual(clint.read(offset: mtimecmp1, size: 8), 0x5566_7788_1122_3344)
        XCTAssertEqual(clint.read(offset: mtimecmp1, size: 4), 0x1122_3344)
        XCTAssertEqual(clint.read(offset: mtimecmp1 + 4, size: 4), 0x5566_7788)
        // Hart 0's register is untouched.
        XCTAssertEqual(clint.read(offset: mtimecmp0, size: 8), UInt64.max)

        clint.write(offset: mtimecmp0, size: 8, value: 0xAABB_CCDD_EEFF_0011)
        XCTAssertEqual(clint.read(offset: mtimecmp0 + 4, size: 4), 0xAABB_CCDD)
        // Writing the low half keeps the high half (and vice versa).
        clint.write(offset: mtimecmp0, size: 4, value: 0xFFFF_FFFF_0000_0042)
        XCTAssertEqual(clint.read(offset: mtimecmp0, size: 8), 0xAABB_CCDD_0000_0042)
        // Misaligned or odd-sized accesses are not decoded.
        clint.write(offset: mtimecmp0 + 2, size: 4, value: 0)
        clint.write(offset: mtimecmp0, size: 2, value: 0)
        XCTAssertEqual(clint.read(offset: mtimecmp0, size: 8), 0xAABB_CCDD_0000_0042)
        XCTAssertEqual(clint.read(offset: mtimecmp0 + 4, size: 8), 0)
    }

    func testMtimeFollowsTheClockAndCanBeWritten() {
        let (clint, _, clock) = make()
        clock.ticks = 0x1_0000_0005
        XCTAssertEqual(clint.read(offset: mtime, size: 8), 0x1_0000_0005)
        XCTAssertEqual(clint.read(offset: mtime, size: 4), 5)
        XCTAssertEqual(clint.read(offset: mtime + 4, size: 4), 1)
        XCTAssertEqual(clint.mtime, 0x1_0000_0005)

        clint.write(offset: mtime, size: 8, value: 1000)
        XCTAssertEqual(clint.mtime, 1000)
        clock.ticks += 50
        XCTAssertEqual(clint.mtime, 1050)
        clint.write(offset: mtime + 4, size: 4, value: 2)
        XCTAssertEqual(clint.mtime, 0x2_0000_0000 + 1050)
        clint.mtime = 7
        XCTAssertEqual(clint.read(offset: mtime, size: 8), 7)
    }

    func testMTIPRisesAndFallsWithTime() {
        let (clint, lines, clock) = make()
        clock.ticks = 100
        clint.write(offset: mtimecmp0, size: 8, value: 150)
        XCTAssertFalse(mtip(lines[0]))
        XCTAssertEqual(clint.nextDeadline(), 150)

        clock.ticks = 149
        clint.update()
        XCTAssertFalse(mtip(lines[0]))
        clock.ticks = 150
        clint.update()
        XCTAssertTrue(mtip(lines[0]))
        XCTAssertFalse(mtip(lines[1]), "only hart 0's compare register was armed")
        XCTAssertNil(clint.nextDeadline(), "a deadline already reached is not in the future")

        // Moving mtimecmp ahead acknowledges the interrupt at once, without waiting for update().
        clint.write(offset: mtimecmp0, size: 8, value: 300)
        XCTAssertFalse(mtip(lines[0]))
        // And moving it into the past raises it at once.
        clint.write(offset: mtimecmp1, size: 8, value: 10)
        XCTAssertTrue(mtip(lines[1]))
        XCTAssertEqual(clint.nextDeadline(), 300)

        // Writing mtime back lowers MTIP of a hart whose deadline is then in the future.
        clint.mtime = 5
        XCTAssertFalse(mtip(lines[1]))
        XCTAssertEqual(clint.nextDeadline(), 10)
    }

    func testMtimecmpHighHalfFirstAvoidsSpuriousInterrupt() {
        // The privileged spec's RV32 sequence: low = -1, high = new high, low = new low.
        let (clint, lines, clock) = make()
        clock.ticks = 0x1_0000_0000
        clint.write(offset: mtimecmp0, size: 4, value: 0xFFFF_FFFF)
        clint.write(offset: mtimecmp0 + 4, size: 4, value: 2)
        XCTAssertFalse(mtip(lines[0]))
        clint.write(offset: mtimecmp0, size: 4, value: 0)
        XCTAssertFalse(mtip(lines[0]))
        XCTAssertEqual(clint.nextDeadline(), 0x2_0000_0000)
    }

    func testMSIPBitZeroOnly() {
        let (clint, lines, _) = make()
        clint.write(offset: 4, size: 4, value: 0xFFFF_FFFF)
        XCTAssertEqual(clint.read(offset: 4, size: 4), 1)
        XCTAssertTrue(msip(lines[1]))
        XCTAssertFalse(msip(lines[0]))
        clint.write(offset: 4, size: 4, value: 2)
        XCTAssertEqual(clint.read(offset: 4, size: 4), 0)
        XCTAssertFalse(msip(lines[1]))
        // Harts that do not exist and non-word accesses are ignored.
        clint.write(offset: 8, size: 4, value: 1)
        XCTAssertEqual(clint.read(offset: 8, size: 4), 0)
        clint.write(offset: 0, size: 1, value: 1)
        XCTAssertFalse(msip(lines[0]))
    }

    func testOutOfRangeOffsetsAreHarmless() {
        let (clint, _, _) = make(harts: 1)
        XCTAssertEqual(clint.read(offset: 0x4008, size: 8), 0)
        clint.write(offset: 0x4008, size: 8, value: 1)
        XCTAssertEqual(clint.read(offset: 0xC000, size: 8), 0)
        clint.write(offset: 0xFFFF, size: 1, value: 1)
        XCTAssertEqual(clint.read(offset: 0x3FFC, size: 4), 0)
    }

    func testResetDisarmsTimersAndSoftwareInterrupts() {
        let (clint, lines, _) = make()
        clint.write(offset: 0, size: 4, value: 1)
        clint.write(offset: mtimecmp0, size: 8, value: 0)
        XCTAssertTrue(mtip(lines[0]) && msip(lines[0]))
        clint.reset()
        XCTAssertFalse(mtip(lines[0]) || msip(lines[0]))
        XCTAssertEqual(clint.read(offset: mtimecmp0, size: 8), UInt64.max)
    }

    func testHostClockRunsAtTheTimebase() {
        let clock = HostMonotonicClock(frequency: 10_000_000)
        let a = clock.ticks
        usleep(20_000)
        let b = clock.ticks
        // 20 ms is 200,000 ticks at 10 MHz; allow for a slow, loaded machine.
        XCTAssertGreaterThanOrEqual(b - a, 190_000)
        XCTAssertLessThan(b - a, 10_000_000)
    }
}
