import Foundation
import XCTest

/// Code that rewrites itself (guests/baremetal/self-modifying.c): a function rewritten and
/// called a thousand times, a hot loop whose body changes between calls, and a store into the
/// block that is running. In every `--virt` mode, with the engine the suite runs (the JIT by
/// default, the interpreter in scripts/test's second pass), the new instructions must run.
final class SelfModifyingCodeTests: EndToEndTestCase {
    func testRewrittenCodeRunsInEveryMode() throws {
        for virt in VirtualizationTests.everyMode {
            let program = try BareMetalPrograms.elf("self-modifying")
            let session = try launch(["run", "--virt"] + virt + ["--memory", "64M", "--kernel", program.path])
            let status = try session.waitForExit(timeout: 60)
            let what = "--virt \(virt.joined(separator: " "))"
            XCTAssertEqual(status, 0, "\(what):\n\(session.output)")
            XCTAssertTrue(session.output.contains("self-modifying: ok"), "\(what):\n\(session.output)")
        }
    }

    /// Kernel module loading: two builds of guests/linux/smc-module (smc_a computes 3 * 11 + 11,
    /// smc_b 3 * 22 + 22 in its own code) loaded and unloaded in turn, so the kernel writes new
    /// module code where the other module's code ran; each load must print its own value.
    func testKernelModulesLoadedWhereOthersRanInEveryMode() throws {
        for virt in [["bare"], ["trap"], VirtualizationTests.binaryTranslation, ["hw"]] {
            let what = "--virt \(virt.joined(separator: " "))"
            let guest = try bootToShell(["--virt"] + virt)
            try guest.shell("for m in smc_a smc_b smc_a smc_b; do insmod /lib/modules/$m.ko && rmmod $m; done")
            let loaded = try guest.shell("dmesg | sed -n 's/^.*trapeze-smc: /MODULE /p'")
                .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.hasPrefix("MODULE ") }
            XCTAssertEqual(loaded, ["MODULE smc_a computes 44", "MODULE smc_b computes 88",
                                    "MODULE smc_a computes 44", "MODULE smc_b computes 88"], "\(what)")
            try powerOff(guest)
        }
    }

    /// The same under Linux (guests/bench/smc.c): a process rewrites a function in a
    /// read-write-execute mapping a thousand times, and loads code from a file into executable
    /// mappings a hundred times, as a JIT and a program loader do.
    func testLinuxProcessRunsCodeItWroteInEveryMode() throws {
        for virt in [["bare"], ["trap"], VirtualizationTests.binaryTranslation, ["hw"]] {
            let what = "--virt \(virt.joined(separator: " "))"
            let guest = try launch(["run", "--virt"] + virt + ["--cmdline", Self.defaultCommandLine + " trapeze.run=smc"])
            let output = try guest.expect("trapeze-run: exit=", timeout: 120)
            let status = try guest.expect("\n")
            XCTAssertTrue(output.contains("smc: ok"), "\(what):\n\(output)")
            XCTAssertEqual(status.trimmingCharacters(in: .whitespacesAndNewlines), "0", "\(what): smc's exit status")
            XCTAssertEqual(try guest.waitForExit(), 0, "\(what): trapeze's exit status")
        }
    }
}
