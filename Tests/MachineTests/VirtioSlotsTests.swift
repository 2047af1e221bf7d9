import Devices
import Foundation
import GuestMemory
@testable import Machine
import XCTest

/// `--disk` parsing and what the board puts in its eight virtio-mmio slots.
final class VirtioSlotsTests: XCTestCase {
    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("trapeze-slots-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDown() {
        if let scratch { try? FileManager.default.removeItem(at: scratch) }
    }

    private func image(_ name: String, bytes: Int) throws -> String {
        let url = scratch.appendingPathComponent(name)
        try Data(count: bytes).write(to: url)
        return url.path
    }

    func testDiskArgumentParsing() throws {
        XCTAssertEqual(try DiskConfig(parsing: "/a/b.img"), DiskConfig(path: "/a/b.img"))
        XCTAssertEqual(try DiskConfig(parsing: "b.img,readonly"), DiskConfig(path: "b.img", readOnly: true))
        XCTAssertThrowsError(try DiskConfig(parsing: "b.img,ro")) {
            XCTAssertEqual($0 as? ConfigError, .diskOption("b.img,ro", option: "ro"))
            XCTAssertTrue("\($0)".contains("--disk"), "\($0)")
        }
        XCTAssertThrowsError(try DiskConfig(parsing: ",readonly")) {
            XCTAssertEqual($0 as? ConfigError, .diskOption(",readonly", option: ""))
        }
        XCTAssertThrowsError(try DiskConfig(parsing: "b.img,")) {
            XCTAssertEqual($0 as? ConfigError, .diskOption("b.img,", option: ""))
        }
    }

    func testAtMostSevenDisks() {
        var config = VMConfig(disks: Array(repeating: DiskConfig(path: "x"), count: 7))
        XCTAssertNoThrow(try config.validate())
        config.disks.append(DiskConfig(path: "x"))
        XCTAssertThrowsError(try config.validate()) { XCTAssertEqual($0 as? ConfigError, .tooManyDisks(8, limit: 7)) }
    }

    /// --console virtio puts a virtio-console below the rng, which leaves six slots for disks.
    func testVirtioConsoleTakesTheSlotBelowTheRNG() throws {
        let output = RecordingSink()
        let devices = try VirtioSlots.devices(for: VMConfig(console: .virtio), consoleOutput: output)
        XCTAssertEqual(devices.map(\.deviceType), [.entropy, .console])
        XCTAssertEqual(try VirtioSlots.devices(for: VMConfig(), consoleOutput: output).map(\.deviceType), [.entropy])
        var config = VMConfig(disks: Array(repeating: DiskConfig(path: "x"), count: 7), console: .virtio)
        XCTAssertThrowsError(try config.validate()) { XCTAssertEqual($0 as? ConfigError, .tooManyDisks(7, limit: 6)) }
        config.disks.removeLast()
        XCTAssertNoThrow(try config.validate())
    }

    func testDiskFileErrorsNameTheFlag() throws {
        let missing = scratch.appendingPathComponent("absent.img").path
        XCTAssertThrowsError(try VirtioSlots.devices(for: VMConfig(disks: [DiskConfig(path: missing)]))) {
            XCTAssertEqual($0 as? ConfigError, .diskMissing(path: missing))
            XCTAssertEqual("\($0)", "\(missing): no such file; check the --disk path")
        }
        XCTAssertThrowsError(try VirtioSlots.devices(for: VMConfig(disks: [DiskConfig(path: scratch.path)]))) {
            XCTAssertEqual($0 as? ConfigError, .notADisk(path: scratch.path))
        }
        // A writable disk is locked: a second VM (here, a second device) cannot open it.
        let path = try image("locked.img", bytes: 4096)
        let first = try VirtioSlots.devices(for: VMConfig(disks: [DiskConfig(path: path)]))
        XCTAssertThrowsError(try VirtioSlots.devices(for: VMConfig(disks: [DiskConfig(path: path)]))) {
            XCTAssertEqual($0 as? ConfigError, .diskInUse(path: path))
        }
        withExtendedLifetime(first) {}
    }

    /// Disks take the slots from the top in `--disk` order, then virtio-rng; the device tree
    /// lists the top slot first, so Linux names the first disk vda (as under QEMU).
    func testDisksFillTheSlotsFromTheTop() throws {
        let first = try image("first.img", bytes: 4 << 20)
        let second = try image("second.img", bytes: 2 << 20)
        let config = VMConfig(disks: [DiskConfig(path: first), DiskConfig(path: second, readOnly: true)])
        let bus = Bus()
        let memory = try GuestMemory(base: VirtMemoryMap.dram, size: 1 << 20)
        let plic = PLIC(lines: [InterruptLines()])
        let transports = VirtioSlots.map(try VirtioSlots.devices(for: config), on: bus, memory: memory, interrupts: plic)
        XCTAssertEqual(transports.count, 3)

        func register(_ slot: Int, _ offset: UInt64, size: Int = 4) -> UInt64? {
            bus.read(VirtMemoryMap.virtio + UInt64(slot) * VirtMemoryMap.virtioSize + offset, size: size)
        }
        XCTAssertEqual((0..<8).map { register($0, 0x000) }, Array(repeating: 0x7472_6976, count: 8), "magic in every slot")
        XCTAssertEqual((0..<8).map { register($0, 0x008) }, [0, 0, 0, 0, 0, 4, 2, 2], "device IDs")
        XCTAssertEqual(register(7, 0x100, size: 8), 8192, "slot 7: the first disk, 4 MiB")
        XCTAssertEqual(register(6, 0x100, size: 8), 4096, "slot 6: the second disk, 2 MiB")
        XCTAssertEqual(register(6, 0x010).map { $0 & 1 << 5 }, 1 << 5, "slot 6 is read-only (VIRTIO_BLK_F_RO)")
        XCTAssertEqual(register(7, 0x010).map { $0 & 1 << 5 }, 0)
    }
}

private final class RecordingSink: ByteSink {
    var bytes: [UInt8] = []
    func write(byte: UInt8) { bytes.append(byte) }
}
