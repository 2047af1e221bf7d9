import XCTest

/// How the guest's end becomes trapeze's exit status: poweroff and reboot are 0, a kernel panic
/// (with panic=-1 the kernel reboots at once) is 1.
final class ExitStatusTests: EndToEndTestCase {
    func testPoweroffExitsZero() throws {
        let guest = try bootToShell()
        try guest.send("poweroff -f")
        try guest.expect("reboot: Power down")
        let status = try guest.waitForExit()
        XCTAssertEqual(status, 0)
    }

    func testRebootExitsZero() throws {
        let guest = try bootToShell()
        try guest.send("reboot -f")
        try guest.expect("reboot: Restarting system")
        let status = try guest.waitForExit()
        XCTAssertEqual(status, 0)
    }

    /// init exiting is fatal to the kernel: "Attempted to kill init", then the panic=-1 reboot.
    func testPanicWhenInitExitsExitsOne() throws {
        let guest = try launch(["run", "--cmdline", "console=ttyS0 panic=-1 rdinit=/bin/true"])
        try guest.expect("Kernel panic - not syncing: Attempted to kill init")
        let status = try guest.waitForExit()
        XCTAssertEqual(status, 1)
    }

    /// No usable init in the initramfs and no root disk: "Unable to mount root fs".
    func testPanicWithoutRootExitsOne() throws {
        let guest = try launch(["run", "--cmdline", "console=ttyS0 panic=-1 rdinit=/nonexistent"])
        try guest.expect("Kernel panic - not syncing: VFS: Unable to mount root fs")
        let status = try guest.waitForExit()
        XCTAssertEqual(status, 1)
    }

    /// A program that fails under trapeze.run is not a machine failure: init reports it and
    /// powers off normally.
    func testFailingRunProgramStillPowersOff() throws {
        let guest = try launch(["run", "--cmdline", Self.defaultCommandLine + " trapeze.run=false"])
        try guest.expect("trapeze-run: exit=1")
        let status = try guest.waitForExit()
        XCTAssertEqual(status, 0)
    }
}
