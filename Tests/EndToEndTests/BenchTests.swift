import Foundation
import XCTest

/// The guest bench programs are real workloads (integer, memory, floating point, branchy code)
/// with a checksum of everything they computed; each must print exactly its line from
/// guests/bench/expected.txt, which QEMU produced too. A wrong instruction anywhere changes it.
final class BenchTests: EndToEndTestCase {
    func testBenchInt() throws { try runBench("bench-int") }
    func testBenchMem() throws { try runBench("bench-mem") }
    func testBenchFP() throws { try runBench("bench-fp") }
    func testBenchBranch() throws { try runBench("bench-branch") }

    private func runBench(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let expected = try expectedLine(for: name)
        let guest = try launch(["run", "--cmdline", Self.defaultCommandLine + " trapeze.run=\(name)"])
        try guest.expect("trapeze-init: ready", file: file, line: line)
        let output = try guest.expect("trapeze-run: exit=", timeout: 300, file: file, line: line)
        let status = try guest.expect("\n", file: file, line: line)
        XCTAssertEqual(status.trimmingCharacters(in: .whitespacesAndNewlines), "0", "\(name)'s exit status",
                       file: file, line: line)
        let printed = output.split(separator: "\n").map(String.init).filter { $0.hasPrefix(name + ":") }
        XCTAssertEqual(printed, [expected], """
            \(name) printed something else than guests/bench/expected.txt says (if guests/bench/*.c \
            changed, rebuild the guest images with guests/build.sh)
            """, file: file, line: line)
        let exit = try guest.waitForExit(file: file, line: line)
        XCTAssertEqual(exit, 0, "trapeze's exit status", file: file, line: line)
    }

    private func expectedLine(for name: String) throws -> String {
        let text = try String(contentsOf: E2EPaths.benchExpected, encoding: .utf8)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else {
            throw E2EError("no line for \(name) in \(E2EPaths.benchExpected.path)")
        }
        return String(line)
    }
}
