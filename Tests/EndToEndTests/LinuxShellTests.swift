import XCTest

/// Linux under the built-in SBI, to the busybox shell and back out: the whole stack (interpreter,
/// MMU, traps, timer, PLIC, UART both ways, SBI) has to work for any of these lines to appear.
final class LinuxShellTests: EndToEndTestCase {
    func testShellWithOneHart() throws {
        let guest = try bootToShell()
        try checkShell(guest, harts: 1)
        try powerOff(guest)
    }

    func testShellWithTwoHarts() throws {
        let guest = try bootToShell(["--cpus", "2"])
        try checkShell(guest, harts: 2)
        try guest.shell("cat /sys/devices/system/cpu/online", prints: "0-1")
        try checkBothHartsWork(guest)
        try powerOff(guest)
    }
}

extension EndToEndTestCase {
    /// Work on both harts at once: a pipeline in the background and one in the foreground, both
    /// must finish and print the md5 of `seq 1 3000`.
    func checkBothHartsWork(_ guest: GuestSession, file: StaticString = #filePath, line: UInt = #line) throws {
        let both = try guest.shell("seq 1 3000 | md5sum & seq 1 3000 | md5sum; wait", file: file, line: line)
        XCTAssertEqual(both.components(separatedBy: "ee9762749fc5338b6c9b0948d14219c7").count - 1, 2,
                       "both background and foreground pipelines print the md5 of `seq 1 3000`:\n\(both)",
                       file: file, line: line)
    }

    /// Commands whose output proves user space really computes, does I/O and sees `harts` harts.
    func checkShell(_ guest: GuestSession, harts: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        try guest.shell("echo $((6*7))", prints: "42", file: file, line: line)
        try guest.shell("uname -m", prints: "riscv64", file: file, line: line)
        try guest.shell("nproc", prints: "\(harts)", file: file, line: line)

        let cpuinfo = try guest.shell("cat /proc/cpuinfo", file: file, line: line)
        let processors = cpuinfo.split(separator: "\n").filter { $0.hasPrefix("processor") }
            .map { $0.split(separator: ":").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "" }
        XCTAssertEqual(processors, (0..<harts).map(String.init), "processor lines in /proc/cpuinfo:\n\(cpuinfo)",
                       file: file, line: line)
        XCTAssertTrue(cpuinfo.contains("rv64imafdc"), "isa line in /proc/cpuinfo:\n\(cpuinfo)", file: file, line: line)

        try guest.shell("echo trapeze-e2e-file > /tmp/e2e.txt", file: file, line: line)
        try guest.shell("cat /tmp/e2e.txt", prints: "trapeze-e2e-file", file: file, line: line)
        try guest.shell("seq 1 100 | awk '{s+=$1} END {print s}'", prints: "5050", file: file, line: line)
        try guest.shell("echo trapeze | tr a-z A-Z | rev", prints: "EZEPART", file: file, line: line)
        // 108 KB through a pipe and a hash: the md5 is the host's `seq 1 20000 | md5sum`.
        try guest.shell("seq 1 20000 | md5sum", prints: "e071f707df7bbeee2a6a1eb48011ddd0  -", file: file, line: line)
        // A failing command's status comes back too.
        try guest.shell("false", prints: "", status: 1, file: file, line: line)
        // User code reads the time CSR through the vDSO (clock_gettime): scounteren must allow it.
        // (dd times its copy with clock_gettime; kept short: the harness's echoed line must not wrap.)
        let dd = try guest.shell("dd if=/dev/zero of=/dev/null count=4", file: file, line: line)
        XCTAssertTrue(dd.contains("4+0 records out"), "dd printed: \(dd)", file: file, line: line)
    }
}
