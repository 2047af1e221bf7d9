import Foundation
import XCTest

/// A setup problem the person running the tests has to fix (build the binary, build the guests).
/// It fails the test rather than skipping it: a missing prerequisite must not look like a pass.
struct E2EError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Where the end-to-end tests find what they drive: the release binary in this checkout and the
/// guest images guests/build.sh put in the cache.
enum E2EPaths {
    /// Tests/EndToEndTests/Support/<this file> → the repository root.
    static let repoRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The release binary of this checkout, or `TRAPEZE_BINARY` when set (a build with another
    /// `--scratch-path`).
    static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["TRAPEZE_BINARY"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        return repoRoot.appendingPathComponent(".build/release/trapeze")
    }

    /// `${TRAPEZE_CACHE:-$HOME/.cache/trapeze}/current`, as trapeze itself and guests/build.sh see it.
    static var images: URL {
        let environment = ProcessInfo.processInfo.environment
        let cache = environment["TRAPEZE_CACHE"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.cache/trapeze"
        return URL(fileURLWithPath: cache).appendingPathComponent("current")
    }

    static var kernel: URL { images.appendingPathComponent("Image") }
    static var initrd: URL { images.appendingPathComponent("initramfs.cpio.gz") }
    static var benchExpected: URL { repoRoot.appendingPathComponent("guests/bench/expected.txt") }

    static let openSBI = URL(fileURLWithPath: "/usr/lib/riscv64-linux-gnu/opensbi/generic")
    static let uBootSupervisor = URL(fileURLWithPath: "/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin")
    static let uBootMachine = URL(fileURLWithPath: "/usr/lib/u-boot/qemu-riscv64/u-boot.bin")

    static func requireBinary() throws -> URL {
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw E2EError("\(binary.path) is missing; build it first: "
                           + "swift build -c release --product trapeze (in \(repoRoot.path))")
        }
        return binary
    }

    static func requireGuestImages() throws {
        for file in [kernel, initrd] where !FileManager.default.isReadableFile(atPath: file.path) {
            throw E2EError("guest image \(file.path) is missing; run guests/build.sh "
                           + "(it fills ${TRAPEZE_CACHE:-~/.cache/trapeze}/current)")
        }
    }

    static func require(_ file: URL, package: String) throws -> URL {
        guard FileManager.default.isReadableFile(atPath: file.path) else {
            throw E2EError("\(file.path) is missing; apt-get install \(package)")
        }
        return file
    }
}

/// Base for the end-to-end tests: starts trapeze processes and makes sure none outlives its test.
class EndToEndTestCase: XCTestCase {
    /// Kernel command line of the default guest, plus whatever a test appends.
    static let defaultCommandLine = "console=ttyS0 earlycon=sbi panic=-1"

    private var sessions: [GuestSession] = []

    override func tearDown() {
        for session in sessions { session.kill() }
        sessions.removeAll()
        super.tearDown()
    }

    /// Starts `trapeze ARGUMENTS...` (arguments after the binary name, e.g. ["run", "--cpus", "2"]).
    /// A `prefix` runs trapeze under another command, e.g. ["/usr/sbin/ip", "netns", "exec", NAME]:
    /// its first element is the executable's path.
    func launch(_ arguments: [String], environment: [String: String] = [:],
                needsGuestImages: Bool = true, prefix: [String] = []) throws -> GuestSession {
        let binary = try E2EPaths.requireBinary()
        if needsGuestImages { try E2EPaths.requireGuestImages() }
        // TRAPEZE_E2E_EXEC=interp|jit runs every VM with that engine (scripts/test runs the
        // suite under both); a test that picks its engine itself keeps its choice.
        var arguments = arguments
        if arguments.first == "run", !arguments.contains("--exec"),
           let engine = ProcessInfo.processInfo.environment["TRAPEZE_E2E_EXEC"], !engine.isEmpty {
            arguments.insert(contentsOf: ["--exec", engine], at: 1)
        }
        // TRAPEZE_E2E_IO=inline|thread: where devices do their host I/O, likewise (scripts/test's
        // second pass runs the devices inline).
        if arguments.first == "run", !arguments.contains("--io"),
           let io = ProcessInfo.processInfo.environment["TRAPEZE_E2E_IO"], !io.isEmpty {
            arguments.insert(contentsOf: ["--io", io], at: 1)
        }
        let session = try prefix.first.map {
            try GuestSession(binary: URL(fileURLWithPath: $0), arguments: Array(prefix.dropFirst()) + [binary.path] + arguments,
                             environment: environment)
        } ?? GuestSession(binary: binary, arguments: arguments, environment: environment)
        sessions.append(session)
        return session
    }

    /// Boots the cached guest (`trapeze run` plus `extra` arguments) and waits for its shell.
    func bootToShell(_ extra: [String] = [], file: StaticString = #filePath, line: UInt = #line) throws -> GuestSession {
        let session = try launch(["run"] + extra)
        try session.waitForShell(file: file, line: line)
        return session
    }

    /// Powers the guest off from its shell and checks trapeze exits with status 0.
    func powerOff(_ session: GuestSession, file: StaticString = #filePath, line: UInt = #line) throws {
        try session.send("poweroff -f", file: file, line: line)
        let status = try session.waitForExit(file: file, line: line)
        XCTAssertEqual(status, 0, "exit status after `poweroff -f`", file: file, line: line)
    }
}
