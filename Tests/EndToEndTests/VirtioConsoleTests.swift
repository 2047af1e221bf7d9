import XCTest

/// `--console virtio`: the guest's console is the virtio-console port (a shell on an hvc tty),
/// host input goes to it and its output comes back on stdout; the UART still carries earlycon.
final class VirtioConsoleTests: EndToEndTestCase {
    func testShellOnVirtioConsole() throws {
        let guest = try bootToShell(["--console", "virtio"])
        // The default guest kernel has no SBI hvc console, so the virtio port is hvc0
        // (DefaultGuest.commandLine explains); the shell's tty and /dev/console are it.
        XCTAssertTrue(guest.output.contains("console=hvc0"), "default command line:\n\(guest.output)")
        try guest.shell("tty", prints: "/dev/hvc0")
        try guest.shell("cat /sys/class/tty/console/active", prints: "hvc0")
        try guest.shell("echo $((6*7)) | tr 0-9 a-j", prints: "ec")
        // The port really is virtio-console: its driver is bound to a virtio device.
        // (virtio0 is the rng in the top slot; the console sits in the slot below it.)
        try guest.shell("cd /sys/bus/virtio/drivers/virtio_console")
        try guest.shell("echo virtio*", prints: "virtio1")
        try guest.shell("cd /")
        // Longer output than one transmit buffer of the hvc layer, through the device in order.
        try guest.shell("seq 1 2000 | md5sum", prints: "\(Self.seqMD5)  -")
        try powerOff(guest)
    }

    /// `seq 1 2000 | md5sum` on the host.
    static let seqMD5 = "ea4d0a24dabcaa11f9aa979b872d162b"
}
