import Devices
import XCTest

/// The guest is hostile: any offset, size and value may reach a device. Random accesses from a
/// fixed seed must never crash the host, and devices may only drive the lines they own.
/// 300,000 accesses by default; TRAPEZE_FUZZ_ITERATIONS sets another count (Benchmarks/fuzz.sh).
final class HostileMMIOTests: XCTestCase {
    /// SplitMix64: a small deterministic generator, so a failure reproduces exactly.
    struct SplitMix64 {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    func testRandomAccessesStayInsideTheDevices() {
        let harts = 2
        let lines = (0..<harts).map { _ in InterruptLines() }
        let clock = ManualClock()
        let clint = CLINT(lines: lines, clock: clock)
        let plic = PLIC(lines: lines, sourceCount: 95)
        let irqs = RecordingInterruptSink()
        let output = RecordingByteSink()
        let uart = UART16550(output: output, interrupts: irqs, irq: 10)
        let power = RecordingPowerControl()
        let syscon = Syscon(power: power)
        let bus = Bus()
        bus.map(syscon, at: 0x10_0000, length: 0x1000)
        bus.map(clint, at: 0x200_0000, length: 0x1_0000)
        bus.map(plic, at: 0xC00_0000, length: 0x60_0000)
        bus.map(uart, at: 0x1000_0000, length: 0x100)
        let windows: [(base: UInt64, length: UInt64)] = [
            (0x10_0000, 0x1000), (0x200_0000, 0x1_0000), (0xC00_0000, 0x60_0000), (0x1000_0000, 0x100),
        ]
        let sizes = [1, 2, 4, 8, 3, 16, 0]
        var random = SplitMix64(state: 0x7472_6170_657A_65)
        let iterations = Int(ProcessInfo.processInfo.environment["TRAPEZE_FUZZ_ITERATIONS"] ?? "") ?? 300_000
        for _ in 0..<iterations {
            let r = random.next()
            let window = windows[Int(r % UInt64(windows.count))]
            // Mostly inside a device, sometimes just past its end or at arbitrary addresses.
            let offset: UInt64
            switch (r >> 8) % 8 {
            case 0: offset = window.length &- UInt64((r >> 16) % 16)
            case 1: offset = random.next()
            default: offset = random.next() % window.length
            }
            let address = window.base &+ offset
            let size = sizes[Int((r >> 24) % UInt64(sizes.count))]
            if (r >> 32) & 1 == 0 {
                _ = bus.read(address, size: size)
            } else {
                _ = bus.write(address, size: size, value: random.next())
            }
            if (r >> 40) % 64 == 0 {
                clock.ticks &+= random.next() % 100_000
                clint.update()
                _ = uart.receive(UInt8(truncatingIfNeeded: r))
                plic.setLevel(irq: Int((r >> 48) % 128), high: (r >> 56) & 1 == 1)
                uart.reset()
            }
        }
        // Devices drive only the mip bits they own: MSIP/MTIP (CLINT) and MEIP/SEIP (PLIC).
        let owned = InterruptLines.machineSoftware | InterruptLines.machineTimer
            | InterruptLines.machineExternal | InterruptLines.supervisorExternal
        for line in lines { XCTAssertEqual(line.bits & ~owned, 0) }
        // The UART raised no line but its own.
        XCTAssertTrue(irqs.changes.allSatisfy { $0.irq == 10 })
        // After all that, the devices still work: the UART transmits, the syscon powers off.
        uart.reset()
        output.bytes.removeAll()
        _ = bus.write(0x1000_0003, size: 1, value: 0x03) // LCR: 8N1, DLAB off
        _ = bus.write(0x1000_0000, size: 1, value: UInt64(UInt8(ascii: "k")))
        XCTAssertEqual(output.bytes.last, UInt8(ascii: "k"))
        power.requests.removeAll()
        _ = bus.write(0x10_0000, size: 4, value: 0x5555)
        XCTAssertEqual(power.requests, [.poweroff])
        // Addresses outside every device answer nothing (the hart turns that into an access fault).
        XCTAssertNil(bus.read(0x4000_0000, size: 4))
        XCTAssertFalse(bus.write(0x4000_0000, size: 4, value: 1))
    }
}
