import Foundation
import XCTest
@testable import Machine

final class DeviceTreeTests: XCTestCase {
    // MARK: The virt board's tree, checked with the real dtc and fdtget

    private let initrdStart: UInt64 = 0x8800_0000
    private let initrdEnd: UInt64 = 0x8812_3456

    private func virtTree() -> [UInt8] {
        makeVirtDeviceTree(DeviceTreeParameters(
            memorySize: 512 << 20, hartCount: 2, bootargs: "console=ttyS0 earlycon=sbi",
            initrd: (initrdStart, initrdEnd)))
    }

    func testVirtTreeDecompilesWithDtc() throws {
        let path = try writeTemporary(virtTree())
        let dts = try run("dtc", ["-I", "dtb", "-O", "dts", path])

        for expected in [
            "#address-cells = <0x02>;", "#size-cells = <0x02>;",
            "compatible = \"riscv-virtio\";", "model = \"riscv-virtio,qemu\";",
            // /chosen
            "bootargs = \"console=ttyS0 earlycon=sbi\";",
            "stdout-path = \"/soc/serial@10000000\";",
            "linux,initrd-start = <0x00 0x88000000>;",
            "linux,initrd-end = <0x00 0x88123456>;",
            // memory
            "memory@80000000 {", "device_type = \"memory\";", "reg = <0x00 0x80000000 0x00 0x20000000>;",
            // cpus
            "cpus {", "timebase-frequency = <0x989680>;", "cpu@0 {", "cpu@1 {",
            "device_type = \"cpu\";", "status = \"okay\";", "compatible = \"riscv\";",
            "riscv,isa = \"rv64imafdc_zicsr_zifencei\";", "mmu-type = \"riscv,sv48\";",
            "compatible = \"riscv,cpu-intc\";", "#interrupt-cells = <0x01>;", "interrupt-controller;",
            "cpu-map {", "cluster0 {", "core0 {", "core1 {",
            // soc
            "soc {", "compatible = \"simple-bus\";", "ranges;",
            "clint@2000000 {", "compatible = \"sifive,clint0\\0riscv,clint0\";",
            "reg = <0x00 0x2000000 0x00 0x10000>;",
            "plic@c000000 {", "compatible = \"sifive,plic-1.0.0\\0riscv,plic0\";",
            "riscv,ndev = <0x5f>;", "reg = <0x00 0xc000000 0x00 0x600000>;", "#address-cells = <0x00>;",
            "serial@10000000 {", "compatible = \"ns16550a\";", "interrupts = <0x0a>;",
            "reg = <0x00 0x10000000 0x00 0x100>;",
            "test@100000 {", "compatible = \"sifive,test1\\0sifive,test0\\0syscon\";",
            "poweroff {", "compatible = \"syscon-poweroff\";", "value = <0x5555>;",
            "reboot {", "compatible = \"syscon-reboot\";", "value = <0x7777>;",
        ] {
            XCTAssertTrue(dts.contains(expected), "dtc output lacks \(expected)\n\(dts)")
        }
        for slot in 0..<8 {
            let base = String(0x1000_1000 + 0x1000 * slot, radix: 16)
            XCTAssertTrue(dts.contains("virtio_mmio@\(base) {"), "missing virtio_mmio@\(base)")
            XCTAssertTrue(dts.contains("interrupts = <0x0\(slot + 1)>;"))
        }
        XCTAssertFalse(dts.contains("rng-seed"))
        // 3.6864 MHz has a zero byte at each end, so dtc prints it as a string: check it with fdtget.
    }

    func testVirtTreeValuesWithFdtget() throws {
        let path = try writeTemporary(virtTree())
        func get(_ node: String, _ property: String, _ type: String = "x") throws -> String {
            try run("fdtget", ["-t", type, path, node, property]).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        XCTAssertEqual(try get("/chosen", "linux,initrd-start"), "0 88000000")
        XCTAssertEqual(try get("/chosen", "linux,initrd-end"), "0 88123456")
        XCTAssertEqual(try get("/chosen", "bootargs", "s"), "console=ttyS0 earlycon=sbi")
        XCTAssertEqual(try get("/soc/serial@10000000", "clock-frequency"), "384000")
        XCTAssertEqual(try get("/cpus/cpu@1", "reg"), "1")
        XCTAssertEqual(try get("/cpus", "timebase-frequency", "u"), "10000000")

        // Phandle wiring: the CLINT and PLIC point at each hart's intc with the right causes.
        let intc0 = try get("/cpus/cpu@0/interrupt-controller", "phandle")
        let intc1 = try get("/cpus/cpu@1/interrupt-controller", "phandle")
        XCTAssertNotEqual(intc0, intc1)
        XCTAssertEqual(try get("/soc/clint@2000000", "interrupts-extended"), "\(intc0) 3 \(intc0) 7 \(intc1) 3 \(intc1) 7")
        XCTAssertEqual(try get("/soc/plic@c000000", "interrupts-extended"), "\(intc0) b \(intc0) 9 \(intc1) b \(intc1) 9")
        let plic = try get("/soc/plic@c000000", "phandle")
        XCTAssertEqual(try get("/soc/serial@10000000", "interrupt-parent"), plic)
        XCTAssertEqual(try get("/soc/virtio_mmio@10008000", "interrupt-parent"), plic)
        XCTAssertEqual(try get("/soc/virtio_mmio@10008000", "interrupts"), "8")
        XCTAssertEqual(try get("/poweroff", "regmap"), try get("/soc/test@100000", "phandle"))
        XCTAssertEqual(try get("/cpus/cpu-map/cluster0/core1", "cpu"), try get("/cpus/cpu@1", "phandle"))
    }

    func testChosenWithoutInitrdOrBootargs() throws {
        let blob = makeVirtDeviceTree(DeviceTreeParameters(memorySize: 1 << 30, hartCount: 1))
        let dts = try run("dtc", ["-I", "dtb", "-O", "dts", try writeTemporary(blob)])
        XCTAssertFalse(dts.contains("linux,initrd"))
        XCTAssertFalse(dts.contains("bootargs"))
        XCTAssertFalse(dts.contains("cpu@1"))
        XCTAssertTrue(dts.contains("reg = <0x00 0x80000000 0x00 0x40000000>;"))
    }

    // MARK: The generic writer

    func testHeaderStringDedupAndAlignment() throws {
        var root = FDTNode("", ["#address-cells": .u32(1)])
        root.add(FDTNode("a@1", ["compatible": .string("x"), "reg": .u32(1), "flag": .empty]))
        root.add(FDTNode("b@2", ["compatible": .strings(["yy", "z"]), "reg": .u32(2), "blob": .bytes([1, 2, 3])]))
        root.add(FDTNode("c", ["wide": .u64(0x0102_0304_0506_0708), "cells": .u32Array([5, 6])]))
        let tree = FlattenedDeviceTree(root: root, memoryReservations: [.init(address: 0x8000_0000, size: 0x20_0000)],
                                       bootCPU: 0)
        let blob = tree.encoded()

        func be32(_ at: Int) -> UInt32 { blob[at..<at + 4].reduce(0) { $0 << 8 | UInt32($1) } }
        func be64(_ at: Int) -> UInt64 { UInt64(be32(at)) << 32 | UInt64(be32(at + 4)) }
        XCTAssertEqual(be32(0), 0xD00D_FEED)
        XCTAssertEqual(Int(be32(4)), blob.count, "totalsize")
        let structOffset = Int(be32(8)), stringsOffset = Int(be32(12)), rsvOffset = Int(be32(16))
        XCTAssertEqual(be32(20), 17)
        XCTAssertEqual(be32(24), 16)
        XCTAssertEqual(rsvOffset % 8, 0)
        XCTAssertEqual(structOffset % 4, 0)
        XCTAssertEqual(be64(rsvOffset), 0x8000_0000)
        XCTAssertEqual(be64(rsvOffset + 8), 0x20_0000)
        XCTAssertEqual(be64(rsvOffset + 16), 0, "terminator")
        XCTAssertEqual(be64(rsvOffset + 24), 0)
        XCTAssertEqual(Int(be32(32)), blob.count - stringsOffset, "size_dt_strings")
        XCTAssertEqual(Int(be32(36)), stringsOffset - structOffset, "size_dt_struct")
        XCTAssertEqual(be32(stringsOffset - 4), 9, "FDT_END closes the structure block")

        // Each property name appears once in the strings block, however many nodes use it.
        let strings = String(decoding: blob[stringsOffset...], as: UTF8.self)
        let names = strings.split(separator: "\0", omittingEmptySubsequences: false).dropLast().map(String.init)
        XCTAssertEqual(names, ["#address-cells", "compatible", "reg", "flag", "blob", "wide", "cells"])

        // Every token in the structure block sits on a 4-byte boundary: walk it.
        var at = structOffset
        var depth = 0
        var properties = 0
        walk: while at < stringsOffset {
            XCTAssertEqual(at % 4, 0)
            switch be32(at) {
            case 1:
                depth += 1
                var end = at + 4
                while blob[end] != 0 { end += 1 }
                at = (end + 1 + 3) & ~3
            case 2: depth -= 1; at += 4
            case 3:
                properties += 1
                let length = Int(be32(at + 4))
                XCTAssertLessThan(Int(be32(at + 8)), blob.count - stringsOffset)
                at = (at + 12 + length + 3) & ~3
            case 9: break walk
            default: XCTFail("bad token \(be32(at)) at \(at)"); break walk
            }
        }
        XCTAssertEqual(depth, 0)
        XCTAssertEqual(properties, 9)

        // And dtc agrees with the encoding of each value type (this toy tree breaks dtc's
        // conventions for reg and unit addresses, so its warnings are expected).
        let dts = try run("dtc", ["-I", "dtb", "-O", "dts", try writeTemporary(blob)], allowWarnings: true)
        for expected in ["/memreserve/\t0x0000000080000000 0x0000000000200000;", "a@1 {", "flag;", "blob = [01 02 03];",
                         "compatible = \"yy\\0z\";", "wide = <0x1020304 0x5060708>;", "cells = <0x05 0x06>;"] {
            XCTAssertTrue(dts.contains(expected), "dtc output lacks \(expected)\n\(dts)")
        }
    }

    func testSettingAPropertyTwiceReplacesIt() {
        var node = FDTNode("n")
        node.set("x", .u32(1))
        node.set("y", .empty)
        node.set("x", .u32(2))
        XCTAssertEqual(node.properties.map(\.name), ["x", "y"])
        XCTAssertEqual(node.property("x"), .u32(2))
        XCTAssertEqual(FDTValue.string("ab").encoded, [0x61, 0x62, 0])
        XCTAssertEqual(FDTValue.u64Array([1]).encoded, [0, 0, 0, 0, 0, 0, 0, 1])
    }

    // MARK: Helpers

    private func writeTemporary(_ blob: [UInt8]) throws -> String {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("trapeze-fdt-\(UUID().uuidString).dtb")
        try Data(blob).write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }

    /// Runs a device-tree tool. A missing tool is a failure, not a skip: these tests are the
    /// only check that the blob is what real parsers expect.
    private func run(_ tool: String, _ arguments: [String], allowWarnings: Bool = false) throws -> String {
        let candidates = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
            .split(separator: ":").map { "\($0)/\(tool)" } + ["/usr/bin/\(tool)"]
        guard let executable = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            XCTFail("\(tool) not found: install the device-tree-compiler package (apt-get install device-tree-compiler)")
            throw CocoaError(.fileNoSuchFile)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let stderr = String(decoding: errors, as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 0, "\(tool) \(arguments.joined(separator: " ")) failed: \(stderr)")
        // dtc warns (on stderr) about anything that breaks the spec's conventions. The one warning
        // QEMU 7.2's own virt tree also draws (cpu-intc nodes without #address-cells) is expected.
        let warnings = stderr.split(separator: "\n").filter {
            $0.contains("Warning") && !($0.contains("interrupt_provider") && $0.contains("/interrupt-controller: Missing #address-cells"))
        }
        if !allowWarnings { XCTAssertEqual(warnings, [], "\(tool) warned") }
        return String(decoding: output, as: UTF8.self)
    }
}
