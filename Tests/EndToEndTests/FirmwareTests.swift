import XCTest

/// Real M-mode firmware instead of the built-in SBI: Debian's OpenSBI 1.1 (fw_jump, fw_dynamic)
/// booting the cached Linux, and U-Boot (S-mode and M-mode builds) to its prompt.
final class FirmwareTests: EndToEndTestCase {
    func testOpenSBIJumpOneHart() throws { try bootThroughOpenSBI("fw_jump.elf", harts: 1) }
    func testOpenSBIJumpTwoHarts() throws { try bootThroughOpenSBI("fw_jump.elf", harts: 2) }
    func testOpenSBIDynamicOneHart() throws { try bootThroughOpenSBI("fw_dynamic.elf", harts: 1) }
    func testOpenSBIDynamicTwoHarts() throws { try bootThroughOpenSBI("fw_dynamic.elf", harts: 2) }

    /// OpenSBI's banner, its hart count, then the Linux shell working on every hart.
    private func bootThroughOpenSBI(_ firmware: String, harts: Int,
                                    file: StaticString = #filePath, line: UInt = #line) throws {
        let path = try E2EPaths.require(E2EPaths.openSBI.appendingPathComponent(firmware), package: "opensbi")
        let guest = try launch(["run", "--firmware", path.path, "--cpus", "\(harts)"])
        try guest.expect("OpenSBI v", file: file, line: line)
        let platform = try guest.expect("Platform HART Count", file: file, line: line)
            + (try guest.expect("\n", file: file, line: line))
        XCTAssertTrue(platform.hasSuffix(": \(harts)\n"), "OpenSBI's hart count line: \(platform.suffix(40))",
                      file: file, line: line)
        try guest.waitForShell(file: file, line: line)
        try guest.shell("nproc", prints: "\(harts)", file: file, line: line)
        try guest.shell("echo $((6*7))", prints: "42", file: file, line: line)
        try guest.shell("seq 1 20000 | md5sum", prints: "e071f707df7bbeee2a6a1eb48011ddd0  -", file: file, line: line)
        try powerOff(guest, file: file, line: line)
    }

    /// U-Boot in S-mode under the built-in SBI: stop autoboot, `version`, `poweroff`.
    func testUBootSupervisorPrompt() throws {
        let uBoot = try E2EPaths.require(E2EPaths.uBootSupervisor, package: "u-boot-qemu")
        try driveUBoot(["--kernel", uBoot.path], needsGuestImages: false)
    }

    /// U-Boot as M-mode firmware (QEMU's -bios): no SBI below it, so its poweroff reaches the
    /// board's devices directly. (trapeze also loads the cached Linux as a next stage that U-Boot
    /// never starts.)
    func testUBootMachineModePrompt() throws {
        let uBoot = try E2EPaths.require(E2EPaths.uBootMachine, package: "u-boot-qemu")
        try driveUBoot(["--firmware", uBoot.path], needsGuestImages: true)
    }

    private func driveUBoot(_ arguments: [String], needsGuestImages: Bool,
                            file: StaticString = #filePath, line: UInt = #line) throws {
        let session = try launch(["run"] + arguments, needsGuestImages: needsGuestImages)
        try session.expect("Hit any key to stop autoboot", file: file, line: line)
        try session.sendRaw(" ", file: file, line: line)
        let toPrompt = try session.expect("=> ", file: file, line: line)
        XCTAssertFalse(toPrompt.contains("scanning bus"), "the key press should have stopped autoboot:\n\(toPrompt)",
                       file: file, line: line)
        try session.sendRaw("version\r", file: file, line: line)
        try session.expect("U-Boot 20", file: file, line: line)
        try session.expect("=> ", file: file, line: line)
        try session.sendRaw("poweroff\r", file: file, line: line)
        let status = try session.waitForExit(file: file, line: line)
        XCTAssertEqual(status, 0, "exit status after U-Boot's poweroff", file: file, line: line)
    }
}
