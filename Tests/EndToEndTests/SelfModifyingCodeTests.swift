import Foundation
import XCTest

/// Code that rewrites itself (guests/baremetal/self-modifying.c): a function rewritten and
/// called a thousand times, a hot loop whose body changes between calls, and a store into the
/// block that is running. In every `--virt` mode, with the engine the suite runs (the JIT by
/// default, the interpreter in scripts/test's second pass), the new instructions must run.
final class SelfModifyingCodeTests: EndToEndTestCase {
    func testRewrittenCodeRunsInEveryMode() throws {
        for virt in [["bare"], ["trap"], VirtualizationTests.binaryTranslation, ["hw"], ["hw", "--mmu", "shadow"]] {
            let program = try BareMetalPrograms.elf("self-modifying")
            let session = try launch(["run", "--virt"] + virt + ["--memory", "64M", "--kernel", program.path])
            let status = try session.waitForExit(timeout: 60)
            let what = "--virt \(virt.joined(separator: " "))"
            XCTAssertEqual(status, 0, "\(what):\n\(session.output)")
            XCTAssertTrue(session.output.contains("self-modifying: ok"), "\(what):\n\(session.output)")
        }
    }
}
