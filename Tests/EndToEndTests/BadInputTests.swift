import Foundation
import XCTest

/// What a user can get wrong on the command line: each must end in one line on stderr starting
/// `trapeze:`, a non-zero status (2: bad command line or files), no crash and no hang.
final class BadInputTests: EndToEndTestCase {
    private var scratch: URL!

    override func setUpWithError() throws {
        try super.setUpWithError()
        scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("trapeze-e2e-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDown() {
        if let scratch { try? FileManager.default.removeItem(at: scratch) }
        super.tearDown()
    }

    func testKernelForAnotherArchitecture() throws {
        try expectRejected(["--kernel", "/bin/true"], mentioning: "not a RISC-V image")
    }

    func testKernelLargerThanRAM() throws {
        let big = scratch.appendingPathComponent("big.bin")
        _ = FileManager.default.createFile(atPath: big.path, contents: nil)
        let handle = try FileHandle(forWritingTo: big)
        try handle.truncate(atOffset: 40 << 20)  // sparse 40 MiB of zeros: a "raw binary"
        try handle.close()
        try expectRejected(["--kernel", big.path, "--memory", "16M"], mentioning: "larger than")
    }

    func testMissingKernel() throws {
        try expectRejected(["--kernel", scratch.appendingPathComponent("no-such-Image").path],
                           mentioning: "no such file")
    }

    func testMissingInitrdAndFirmware() throws {
        let missing = scratch.appendingPathComponent("absent").path
        try expectRejected(["--initrd", missing], mentioning: "no such file")
        try expectRejected(["--firmware", missing], mentioning: "no such file")
    }

    /// The tests run as root, where chmod 000 does not stop a read; a directory is a file that
    /// cannot be read as an image whoever runs it.
    func testUnreadableKernel() throws {
        try expectRejected(["--kernel", scratch.path], mentioning: "cannot read")
        try expectRejected(["--kernel", "/dev/null"], mentioning: "cannot read")
    }

    func testFirmwareForAnotherArchitecture() throws {
        try expectRejected(["--firmware", "/bin/true"], mentioning: "not a RISC-V image")
    }

    func testHartCountOutOfRange() throws {
        try expectRejected(["--cpus", "0"], mentioning: "--cpus")
        try expectRejected(["--cpus", "9"], mentioning: "--cpus")
    }

    func testBadMemorySizes() throws {
        try expectRejected(["--memory", "banana"], mentioning: "--memory")
        try expectRejected(["--memory", "0"], mentioning: "--memory")
        try expectRejected(["--memory", "1T"], mentioning: "--memory")
    }

    func testVirtualizationCombinationsThatDoNotExist() throws {
        try expectRejected(["--virt", "trap", "--mmu", "nested"], mentioning: "--virt trap --mmu nested")
        try expectRejected(["--virt", "bt", "--mmu", "nested"], mentioning: "--virt bt --mmu nested")
        try expectRejected(["--virt", "bt", "--exec", "interp"], mentioning: "--virt bt")
        try expectRejected(["--exec", "native"], mentioning: "--exec")
        try expectRejected(["--io", "async"], mentioning: "--io")
        try expectRejected(["--mmu", "shadow"], mentioning: "--virt bare --mmu shadow")
        try expectRejected(["--virt", "trap", "--firmware", "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf"],
                           mentioning: "drop --firmware")
        try expectRejected(["--virt", "vmware"], mentioning: "--virt")
    }

    func testUnknownOption() throws {
        try expectRejected(["--bogus"], mentioning: "--bogus")
    }

    /// Runs `trapeze run ARGUMENTS` and checks it refuses: exactly one stderr line starting
    /// `trapeze:` that mentions `text`, nothing on stdout, status 2, within 20 s.
    private func expectRejected(_ arguments: [String], mentioning text: String,
                                file: StaticString = #filePath, line: UInt = #line) throws {
        let session = try launch(["run"] + arguments, needsGuestImages: false)
        let status = try session.waitForExit(timeout: 20, file: file, line: line)
        let errors = session.errorOutput
        let what = "trapeze run \(arguments.joined(separator: " "))"
        XCTAssertEqual(status, 2, "\(what): exit status; stderr: \(errors)", file: file, line: line)
        XCTAssertTrue(errors.hasPrefix("trapeze: "), "\(what): stderr should start with \"trapeze: \": \(errors.debugDescription)",
                      file: file, line: line)
        XCTAssertTrue(errors.hasSuffix("\n") && errors.filter { $0 == "\n" }.count == 1,
                      "\(what): stderr should be exactly one line: \(errors.debugDescription)", file: file, line: line)
        XCTAssertTrue(errors.contains(text), "\(what): stderr should mention \(text.debugDescription): \(errors)",
                      file: file, line: line)
        XCTAssertEqual(session.output, "", "\(what): nothing on stdout", file: file, line: line)
    }
}
