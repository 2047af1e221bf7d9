import XCTest
@testable import Devices

final class PLICTests: XCTestCase {
    private func make(harts: Int = 2) -> (PLIC, [InterruptLines]) {
        let lines = (0..<harts).map { _ in InterruptLines() }
        return (PLIC(lines: lines, sourceCount: 95), lines)
    }

    // Register helpers, per the virt board layout.
    private func setPriority(_ plic: PLIC, _ source: Int, _ value: UInt32) {
        plic.write(offset: UInt64(4 * source), size: 4, value: UInt64(value))
    }
    private func enable(_ plic: PLIC, context: Int, _ sources: [Int]) {
        var words = [UInt32](repeating: 0, count: 3)
        for s in sources { words[s / 32] |= 1 << UInt32(s % 32) }
        for (w, bits) in words.enumerated() {
            plic.write(offset: 0x2000 + 0x80 * UInt64(context) + 4 * UInt64(w), size: 4, value: UInt64(bits))
        }
    }
    private func setThreshold(_ plic: PLIC, context: Int, _ value: UInt32) {
        plic.write(offset: 0x20_0000 + 0x1000 * UInt64(context), size: 4, value: UInt64(value))
    }
    private func claim(_ plic: PLIC, context: Int) -> UInt64 {
        plic.read(offset: 0x20_0004 + 0x1000 * UInt64(context), size: 4)
    }
    private func complete(_ plic: PLIC, context: Int, _ source: Int) {
        plic.write(offset: 0x20_0004 + 0x1000 * UInt64(context), size: 4, value: UInt64(source))
    }
    private func meip(_ l: InterruptLines) -> Bool { l.bits & InterruptLines.machineExternal != 0 }
    private func seip(_ l: InterruptLines) -> Bool { l.bits & InterruptLines.supervisorExternal != 0 }

    func testPriorityRegistersAreWARL() {
        let (plic, _) = make()
        setPriority(plic, 10, 0xFF)
        XCTAssertEqual(plic.read(offset: 40, size: 4), 7)
        setPriority(plic, 0, 5)
        XCTAssertEqual(plic.read(offset: 0, size: 4), 0, "source 0 does not exist")
        setThreshold(plic, context: 1, 9)
        XCTAssertEqual(plic.read(offset: 0x20_1000, size: 4), 1)
    }

    func testClaimHighestPriorityThenLowestID() {
        let (plic, lines) = make()
        enable(plic, context: 1, [3, 5, 7, 40])
        setPriority(plic, 3, 1)
        setPriority(plic, 5, 2)
        setPriority(plic, 7, 2)
        setPriority(plic, 40, 1)
        for s in [3, 5, 7, 40] { plic.setLevel(irq: s, high: true) }
        XCTAssertTrue(seip(lines[0]))
        XCTAssertFalse(meip(lines[0]), "the M-mode context has nothing enabled")
        XCTAssertEqual(plic.read(offset: 0x1000, size: 4), (1 << 3) | (1 << 5) | (1 << 7))
        XCTAssertEqual(plic.read(offset: 0x1004, size: 4), 1 << 8)

        XCTAssertEqual(claim(plic, context: 1), 5, "priority 2 wins; of 5 and 7 the lower ID")
        XCTAssertEqual(claim(plic, context: 1), 7)
        XCTAssertEqual(claim(plic, context: 1), 3)
        XCTAssertEqual(claim(plic, context: 1), 40)
        XCTAssertEqual(claim(plic, context: 1), 0, "everything in service")
        XCTAssertFalse(seip(lines[0]))
    }

    func testThresholdAndPriorityZeroMask() {
        let (plic, lines) = make()
        enable(plic, context: 0, [1, 2])
        setPriority(plic, 1, 0)
        setPriority(plic, 2, 3)
        plic.setLevel(irq: 1, high: true)
        XCTAssertFalse(meip(lines[0]), "priority 0 never interrupts")
        plic.setLevel(irq: 2, high: true)
        XCTAssertTrue(meip(lines[0]))
        setThreshold(plic, context: 0, 3)
        XCTAssertFalse(meip(lines[0]), "priority must exceed the threshold")
        XCTAssertEqual(claim(plic, context: 0), 0)
        setThreshold(plic, context: 0, 2)
        XCTAssertTrue(meip(lines[0]))
        XCTAssertEqual(claim(plic, context: 0), 2)
    }

    func testLevelSourceRependsOnCompleteWhileLineHigh() {
        let (plic, lines) = make()
        enable(plic, context: 1, [10])
        setPriority(plic, 10, 1)
        plic.setLevel(irq: 10, high: true)
        XCTAssertEqual(claim(plic, context: 1), 10)
        XCTAssertFalse(seip(lines[0]), "in service: not pending, no interrupt")
        XCTAssertEqual(plic.read(offset: 0x1000, size: 4) & (1 << 10), 0)

        // The device still holds its line: completion re-arms the gateway, pending again.
        complete(plic, context: 1, 10)
        XCTAssertTrue(seip(lines[0]))
        XCTAssertEqual(claim(plic, context: 1), 10)

        // The device lowers its line while in service: completion leaves nothing pending.
        plic.setLevel(irq: 10, high: false)
        complete(plic, context: 1, 10)
        XCTAssertFalse(seip(lines[0]))
        XCTAssertEqual(claim(plic, context: 1), 0)

        // A line that drops before it is claimed withdraws its request (QEMU's behaviour).
        plic.setLevel(irq: 10, high: true)
        XCTAssertTrue(seip(lines[0]))
        plic.setLevel(irq: 10, high: false)
        XCTAssertFalse(seip(lines[0]))
        XCTAssertEqual(claim(plic, context: 1), 0)
    }

    func testCompletingASourceNotInServiceIsIgnored() {
        let (plic, lines) = make()
        enable(plic, context: 1, [4])
        setPriority(plic, 4, 1)
        complete(plic, context: 1, 4)
        complete(plic, context: 1, 0)
        complete(plic, context: 1, 1000)
        plic.setLevel(irq: 4, high: true)
        XCTAssertTrue(seip(lines[0]))
    }

    func testTwoHartsContexts() {
        let (plic, lines) = make(harts: 2)
        setPriority(plic, 1, 1)
        setPriority(plic, 8, 1)
        enable(plic, context: 3, [1])     // hart 1, S-mode
        enable(plic, context: 2, [8])     // hart 1, M-mode
        plic.setLevel(irq: 1, high: true)
        XCTAssertTrue(seip(lines[1]))
        XCTAssertFalse(meip(lines[1]))
        XCTAssertFalse(seip(lines[0]) || meip(lines[0]))
        plic.setLevel(irq: 8, high: true)
        XCTAssertTrue(meip(lines[1]))

        // A source enabled in two contexts is claimed once; the other context then sees nothing.
        enable(plic, context: 1, [1])     // hart 0, S-mode too
        XCTAssertTrue(seip(lines[0]))
        XCTAssertEqual(claim(plic, context: 1), 1)
        XCTAssertFalse(seip(lines[0]))
        XCTAssertFalse(seip(lines[1]))
        XCTAssertEqual(claim(plic, context: 3), 0)
        XCTAssertEqual(claim(plic, context: 2), 8)
        XCTAssertFalse(meip(lines[1]))
    }

    func testEnableBitsForMissingSourcesReadAsZero() {
        let (plic, _) = make()
        plic.write(offset: 0x2000, size: 4, value: 0xFFFF_FFFF)
        plic.write(offset: 0x2008, size: 4, value: 0xFFFF_FFFF)
        XCTAssertEqual(plic.read(offset: 0x2000, size: 4), 0xFFFF_FFFE, "source 0 does not exist")
        XCTAssertEqual(plic.read(offset: 0x2008, size: 4), 0xFFFF_FFFF, "sources 64...95")
        XCTAssertEqual(plic.read(offset: 0x200C, size: 4), 0, "no fourth word")
    }

    func testHostileAccessesAreIgnored() {
        let (plic, lines) = make(harts: 1)
        plic.setLevel(irq: 0, high: true)
        plic.setLevel(irq: 96, high: true)
        plic.setLevel(irq: -1, high: true)
        plic.setLevel(irq: .max, high: true)
        XCTAssertEqual(plic.read(offset: 0x1000, size: 4), 0)
        // Context 2 does not exist with one hart.
        XCTAssertEqual(plic.read(offset: 0x2000 + 0x80 * 2, size: 4), 0)
        plic.write(offset: 0x20_0000 + 0x1000 * 2, size: 4, value: 1)
        XCTAssertEqual(plic.read(offset: 0x20_2004, size: 4), 0)
        XCTAssertEqual(plic.read(offset: 0x5F_FFFC, size: 4), 0)
        XCTAssertEqual(plic.read(offset: UInt64.max - 3, size: 4), 0)
        plic.write(offset: UInt64.max - 3, size: 4, value: 1)
        // Non-32-bit accesses do nothing.
        plic.write(offset: 4, size: 8, value: 7)
        plic.write(offset: 4, size: 1, value: 7)
        plic.write(offset: 6, size: 4, value: 7)
        XCTAssertEqual(plic.read(offset: 4, size: 4), 0)
        XCTAssertEqual(plic.read(offset: 4, size: 8), 0)
        XCTAssertEqual(lines[0].bits, 0)
    }

    func testResetClearsConfigurationButNotLines() {
        let (plic, lines) = make(harts: 1)
        enable(plic, context: 0, [2])
        setPriority(plic, 2, 1)
        plic.setLevel(irq: 2, high: true)
        XCTAssertTrue(meip(lines[0]))
        plic.reset()
        XCTAssertFalse(meip(lines[0]))
        XCTAssertEqual(plic.read(offset: 8, size: 4), 0)
        XCTAssertEqual(plic.read(offset: 0x2000, size: 4), 0)
        // The device still holds its line: once the guest sets the PLIC up again, it interrupts.
        enable(plic, context: 0, [2])
        setPriority(plic, 2, 1)
        XCTAssertTrue(meip(lines[0]))
    }

    func testRepeatedLevelsAreHarmless() {
        let (plic, lines) = make(harts: 1)
        enable(plic, context: 0, [5])
        setPriority(plic, 5, 1)
        plic.setLevel(irq: 5, high: true)
        plic.setLevel(irq: 5, high: true)
        XCTAssertEqual(claim(plic, context: 0), 5)
        plic.setLevel(irq: 5, high: true)
        XCTAssertFalse(meip(lines[0]), "in service until completed")
        complete(plic, context: 0, 5)
        XCTAssertTrue(meip(lines[0]))
    }
}
