import Foundation
import XCTest

/// Linux on Trapeze's virtio-mmio devices: disks given with `--disk` and the always-present
/// virtio-rng. Each test boots the cached guest and checks from both sides: what the guest sees
/// and what lands in the image files on the host.
///
/// Commands whose output is compared stay under about 50 characters: the guest's line editor
/// wraps the echoed line at 80 columns, and `GuestSession.shell` finds the output after the
/// echo. Longer work goes into shell functions defined first.
final class VirtioGuestTests: EndToEndTestCase {
    private var scratch: URL!

    override func setUpWithError() throws {
        try super.setUpWithError()
        scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("trapeze-e2e-virtio-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDown() {
        super.tearDown()  // kills any guest still running before its images go away
        if let scratch { try? FileManager.default.removeItem(at: scratch) }
    }

    /// A disk image in the scratch directory: `contents`, then zeros up to `size` bytes.
    private func makeDisk(_ name: String, contents: [UInt8] = [], size: Int = 8 << 20) throws -> URL {
        let url = scratch.appendingPathComponent(name)
        try Data(contents + [UInt8](repeating: 0, count: max(0, size - contents.count))).write(to: url)
        return url
    }

    private func contents(_ url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }

    /// What `seq 1 20000` prints, the pattern the guest writes (its md5 is known, see LinuxShellTests).
    private static let seqPattern = Array((1...20000).map { "\($0)\n" }.joined().utf8)
    private static let seqMD5 = "e071f707df7bbeee2a6a1eb48011ddd0"

    /// Deterministic bytes that are not text (xorshift64*).
    private static func noise(_ count: Int, seed: UInt64) -> [UInt8] {
        var x = seed | 1
        return (0..<count).map { _ in
            x ^= x >> 12; x ^= x << 25; x ^= x >> 27
            return UInt8(truncatingIfNeeded: (x &* 0x2545_F491_4F6C_DD1D) >> 56)
        }
    }

    /// md5sum of `bytes` as the host's coreutils prints it.
    private func md5(_ bytes: [UInt8]) throws -> String {
        let file = scratch.appendingPathComponent("md5-input")
        try Data(bytes).write(to: file)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/md5sum")
        process.arguments = [file.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: output, as: UTF8.self).split(separator: " ").first.map(String.init) ?? ""
    }

    // MARK: Tests

    /// The guest probes every device the board put in the slots and binds the right drivers;
    /// `--disk A --disk B` gives vda = A and vdb = B, as under QEMU.
    func testDevicesAndDriversInSysfs() throws {
        let first = try makeDisk("first.img", size: 4 << 20)
        let second = try makeDisk("second.img", size: 2 << 20)
        let guest = try bootToShell(["--disk", first.path, "--disk", second.path + ",readonly"])
        try guest.shell("v() { for d in /sys/bus/virtio/devices/*; do echo ${d##*/} $(cat $d/device) "
                        + "$(basename $(readlink $d/driver)); done; }")
        try guest.shell("v", prints: "virtio0 0x0002 virtio_blk\nvirtio1 0x0002 virtio_blk\nvirtio2 0x0004 virtio_rng")
        // GET_ID gives the image's file name; capacity in 512-byte sectors; the read-only flag.
        try guest.shell("b() { cat /sys/block/$1/serial; echo; cat /sys/block/$1/size /sys/block/$1/ro; }")
        try guest.shell("b vda", prints: "first.img\n8192\n0")
        try guest.shell("b vdb", prints: "second.img\n4096\n1")
        try powerOff(guest)
    }

    /// A pattern written with dd conv=fsync is in the image file after the guest powers off, and
    /// `--stats-json` counted the I/O.
    func testGuestWritesReachTheImage() throws {
        let disk = try makeDisk("disk.img")
        let json = scratch.appendingPathComponent("stats.json")
        let guest = try bootToShell(["--disk", disk.path, "--stats-json", json.path])
        try guest.shell("seq 1 20000 > /tmp/pattern; md5sum /tmp/pattern", prints: "\(Self.seqMD5)  /tmp/pattern")
        try guest.shell("dd if=/tmp/pattern of=/dev/vda bs=4096 conv=fsync 2>/dev/null")
        // Read back through the guest too, past its page cache (quietly: drop_caches logs).
        try guest.shell("dmesg -n 1; echo 3 > /proc/sys/vm/drop_caches")
        try guest.shell("head -c \(Self.seqPattern.count) /dev/vda | md5sum", prints: "\(Self.seqMD5)  -")
        try powerOff(guest)
        let image = try contents(disk)
        XCTAssertEqual(try md5(Array(image.prefix(Self.seqPattern.count))), Self.seqMD5)
        XCTAssertEqual(Array(image.prefix(Self.seqPattern.count)), Self.seqPattern)
        XCTAssertEqual(image.count, 8 << 20, "the image keeps its size")
        XCTAssertTrue(image[Self.seqPattern.count...].allSatisfy { $0 == 0 }, "nothing written past the pattern")

        let devices = try virtioStatistics(json)
        let vda = try XCTUnwrap(devices["virtio-blk vda"], "\(devices.keys)")
        XCTAssertGreaterThanOrEqual(vda["bytesWritten"] ?? 0, UInt64(Self.seqPattern.count), "\(vda)")
        XCTAssertGreaterThanOrEqual(vda["bytesRead"] ?? 0, UInt64(Self.seqPattern.count), "read back past the page cache: \(vda)")
        XCTAssertGreaterThan(vda["writeRequests"] ?? 0, 0, "\(vda)")
        XCTAssertGreaterThan(vda["flushRequests"] ?? 0, 0, "conv=fsync: \(vda)")
        XCTAssertGreaterThan(vda["queueNotifications"] ?? 0, 0, "\(vda)")
        XCTAssertGreaterThan(vda["interrupts"] ?? 0, 0, "\(vda)")
        XCTAssertEqual(vda["ioErrors"], 0, "\(vda)")
        XCTAssertEqual(vda["needsReset"], 0, "\(vda)")
        XCTAssertGreaterThan(devices["virtio-rng"]?["bytes"] ?? 0, 0, "the kernel seeds from virtio-rng: \(devices)")

        // The disk's host I/O ran on the I/O thread, unless the run asked for it inline.
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any])
        let io = try XCTUnwrap(object["deviceIO"] as? [String: Any], "a deviceIO record")
        let mode = ProcessInfo.processInfo.environment["TRAPEZE_E2E_IO"].flatMap { $0.isEmpty ? nil : $0 } ?? "thread"
        XCTAssertEqual(io["mode"] as? String, mode)
        let batches = (io["completionBatches"] as? NSNumber)?.uint64Value ?? 0
        if mode == "thread" {
            XCTAssertGreaterThan(batches, 0, "requests completed on the I/O thread: \(io)")
        } else {
            XCTAssertEqual(batches, 0, "\(io)")
        }
    }

    /// `--stats-json`'s virtio records by device name; its other keys are still there.
    private func virtioStatistics(_ json: URL) throws -> [String: [String: UInt64]] {
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any])
        for key in ["seconds", "harts", "codeInvalidations", "sbiCalls"] { XCTAssertNotNil(object[key], key) }
        let records = try XCTUnwrap(object["virtio"] as? [[String: Any]], "a virtio array")
        var devices: [String: [String: UInt64]] = [:]
        for record in records {
            let name = try XCTUnwrap(record["name"] as? String)
            let counters = try XCTUnwrap(record["counters"] as? [String: NSNumber])
            devices[name] = counters.mapValues(\.uint64Value)
        }
        return devices
    }

    /// Data the host put in the image reads back in the guest, from the start and at an offset.
    func testGuestReadsWhatTheHostWrote() throws {
        let pattern = Self.noise(1 << 20, seed: 0x5EED)
        let disk = try makeDisk("disk.img", contents: pattern)
        let guest = try bootToShell(["--disk", disk.path])
        try guest.shell("head -c 1048576 /dev/vda | md5sum", prints: "\(try md5(pattern))  -")
        let sector = Array(pattern[(777 * 512)..<(778 * 512)])
        try guest.shell("head -c \(778 * 512) /dev/vda | tail -c 512 | md5sum", prints: "\(try md5(sector))  -")
        try powerOff(guest)
        XCTAssertEqual(Array(try contents(disk).prefix(pattern.count)), pattern, "reading changed nothing")
    }

    /// A `,readonly` disk: Linux sees it read-only and refuses writes; the file is unchanged.
    func testReadOnlyDiskRefusesWrites() throws {
        let pattern = Self.noise(64 << 10, seed: 7)
        let disk = try makeDisk("disk.img", contents: pattern, size: 1 << 20)
        let before = try contents(disk)
        let guest = try bootToShell(["--disk", disk.path + ",readonly"])
        try guest.shell("cat /sys/block/vda/ro", prints: "1")
        try guest.shell("w() { dd if=/dev/zero of=/dev/vda bs=512 count=8 conv=fsync; }")
        // dd reports the refusal and exits with 1 (not, say, killed by a signal).
        let refused = try guest.shell("w", status: 1)
        XCTAssertTrue(refused.contains("dd: error writing '/dev/vda'") || refused.contains("dd: can't open '/dev/vda'"),
                      "dd must report the refusal:\n\(refused)")
        XCTAssertFalse(refused.contains("8+0 records out"), "dd must not succeed:\n\(refused)")
        try guest.shell("head -c 65536 /dev/vda | md5sum", prints: "\(try md5(pattern))  -")
        try powerOff(guest)
        XCTAssertEqual(try contents(disk), before)
    }

    /// /dev/hwrng (virtio-rng, always on the board) gives data.
    func testHardwareRandomNumberGenerator() throws {
        let guest = try bootToShell()
        try guest.shell("cat /sys/class/misc/hw_random/rng_current", prints: "virtio_rng.0")
        try guest.shell("head -c 64 /dev/hwrng | wc -c", prints: "64")
        // Two reads differ (a stuck source would not).
        try guest.shell("h() { head -c 32 /dev/hwrng | md5sum; }")
        try guest.shell("[ \"$(h)\" != \"$(h)\" ] && echo differ", prints: "differ")
        try powerOff(guest)
    }

    /// Linux boots from the ext4 root disk the image scripts build, to a shell, and a file
    /// written there is still there on the next boot.
    func testBootFromExt4RootDisk() throws {
        let rootfs = E2EPaths.images.appendingPathComponent("rootfs.ext4").resolvingSymlinksInPath()
        guard FileManager.default.isReadableFile(atPath: rootfs.path) else {
            throw E2EError("\(rootfs.path) is missing; run guests/build.sh rootfs")
        }
        // A copy: the guest writes to its root, and the cached image is shared.
        let disk = scratch.appendingPathComponent("rootfs.ext4")
        try FileManager.default.copyItem(at: rootfs, to: disk)
        let arguments = ["run", "--kernel", E2EPaths.kernel.path, "--disk", disk.path,
                         "--cmdline", "console=ttyS0 root=/dev/vda rw panic=-1"]
        let guest = try launch(arguments)
        try guest.waitForShell()
        try guest.shell("grep ' / ' /proc/mounts", prints: "/dev/root / ext4 rw,relatime 0 0")
        try guest.shell("echo persisted-\(getpid()) > /root/e2e-file; sync")
        try powerOff(guest)

        let again = try launch(arguments)
        try again.waitForShell()
        try again.shell("cat /root/e2e-file", prints: "persisted-\(getpid())")
        try powerOff(again)
    }

    /// Once the guest's fsync returned, the data is in the image even if trapeze dies at once
    /// (SIGKILL, no chance to flush anything of its own).
    func testDataSurvivesSIGKILLAfterFsync() throws {
        let disk = try makeDisk("disk.img")
        let guest = try bootToShell(["--disk", disk.path])
        try guest.shell("seq 1 20000 > /tmp/pattern")
        try guest.shell("dd if=/tmp/pattern of=/dev/vda bs=4096 conv=fsync 2>/dev/null")
        guest.kill()
        XCTAssertEqual(Array(try contents(disk).prefix(Self.seqPattern.count)), Self.seqPattern)
    }

    /// U-Boot (S-mode, under the built-in SBI) finds the disk and reads a block from it.
    func testUBootSeesTheDisk() throws {
        let uBoot = try E2EPaths.require(E2EPaths.uBootSupervisor, package: "u-boot-qemu")
        let disk = try makeDisk("disk.img", contents: Array("trapeze-uboot-block".utf8), size: 4 << 20)
        let session = try launch(["run", "--kernel", uBoot.path, "--disk", disk.path], needsGuestImages: false)
        try session.expect("Hit any key to stop autoboot")
        try session.sendRaw(" ")
        try session.expect("=> ")
        try session.sendRaw("virtio scan; virtio info\r")
        let info = try session.expect("=> ")
        XCTAssertTrue(info.contains("Device 0: QEMU VirtIO Block Device"), info)
        XCTAssertTrue(info.contains("Capacity: 4.0 MB = 0.0 GB (8192 x 512)"), info)
        try session.sendRaw("virtio read 0x84000000 0 1; md 0x84000000 4\r")
        let read = try session.expect("=> ")
        XCTAssertTrue(read.contains("1 blocks read: OK"), read)
        XCTAssertTrue(read.contains("70617274 2d657a65 6f6f6275 6c622d74"), "\"trapeze-uboot-bl\" in memory:\n\(read)")
        try session.sendRaw("poweroff\r")
        XCTAssertEqual(try session.waitForExit(), 0)
    }

    /// A bad --disk is one `trapeze:` line naming the flag and exit status 2, before any boot.
    func testBadDiskArguments() throws {
        let disk = try makeDisk("disk.img", size: 4096)
        let cases: [([String], String)] = [
            (["--disk", scratch.appendingPathComponent("absent.img").path], "no such file; check the --disk path"),
            (["--disk", scratch.path], "not a regular file or block device"),
            (["--disk", disk.path + ",bogus"], "unknown option \"bogus\""),
            (Array(repeating: ["--disk", disk.path + ",readonly"], count: 8).flatMap { $0 }, "--disk given 8 times"),
        ]
        for (arguments, message) in cases {
            let session = try launch(["run"] + arguments, needsGuestImages: false)
            let status = try session.waitForExit(timeout: 20)
            let errors = session.errorOutput
            XCTAssertEqual(status, 2, "\(arguments): \(errors)")
            XCTAssertTrue(errors.hasPrefix("trapeze: ") && errors.contains(message), "\(arguments): \(errors)")
            XCTAssertEqual(errors.split(separator: "\n").count, 1, "one line: \(errors)")
        }
    }
}
