import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// One `trapeze` process driven like a person at its console: bytes go to its stdin (the guest's
/// UART), its stdout is collected as it arrives and searched with `expect`.
///
/// `expect` consumes output: each call searches only what came after the previous match, so a
/// test reads the console front to back and an old line never satisfies a later wait.
/// Failures are recorded at the caller's line with the last 2 KB of output, then `Stop` is thrown
/// so the test ends there instead of piling up timeouts.
final class GuestSession: @unchecked Sendable {
    /// Thrown after a failure was recorded; the test method rethrows it and ends.
    struct Stop: Error, CustomStringConvertible {
        var description: String { "stopped after the failure reported above" }
    }

    let arguments: [String]
    private let process = Process()
    private let stdinPipe = Pipe()
    private let stdoutPipe = Pipe()
    private let stderrPipe = Pipe()

    /// Guards everything below; readers broadcast on every chunk and at end of stream.
    private let state = NSCondition()
    private var stdoutBytes: [UInt8] = []
    private var stderrBytes: [UInt8] = []
    private var openStreams = 2
    private var stdoutOpen = true
    /// Where the next `expect` starts searching in `stdoutBytes`.
    private var cursor = 0
    private var commandCount = 0

    init(binary: URL, arguments: [String], environment: [String: String] = [:]) throws {
        self.arguments = arguments
        // A write to a guest that already exited must fail with EPIPE, not kill the test runner.
        signal(SIGPIPE, SIG_IGN)
        process.executableURL = binary
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardInput = stdinPipe
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        try process.run()
        startReader(stdoutPipe.fileHandleForReading.fileDescriptor,
                    append: { $0.stdoutBytes.append(contentsOf: $1) }, end: { $0.stdoutOpen = false })
        startReader(stderrPipe.fileHandleForReading.fileDescriptor,
                    append: { $0.stderrBytes.append(contentsOf: $1) }, end: { _ in })
    }

    deinit { kill() }

    // MARK: Output

    /// Everything trapeze printed on stdout so far, carriage returns dropped.
    var output: String { locked { Self.text(stdoutBytes) } }
    /// Everything trapeze printed on stderr so far (not carriage-return filtered).
    var errorOutput: String { locked { String(decoding: stderrBytes, as: UTF8.self) } }

    /// Waits until stdout, past the previous match, contains `text`. Returns the output from the
    /// previous match up to and including this one (carriage returns dropped).
    @discardableResult
    func expect(_ text: String, timeout: TimeInterval = 60,
                file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let needle = Array(text.utf8)
        let deadline = Date(timeIntervalSinceNow: timeout)
        state.lock()
        defer { state.unlock() }
        while true {
            if let end = Self.find(needle, in: stdoutBytes, from: cursor) {
                let chunk = Self.text(stdoutBytes[cursor..<end])
                cursor = end
                return chunk
            }
            if !stdoutOpen {
                fail("trapeze closed its output before printing \(text.debugDescription)\(statusNote)",
                     file: file, line: line)
                throw Stop()
            }
            if Date() >= deadline {
                fail("timed out after \(Int(timeout)) s waiting for \(text.debugDescription)", file: file, line: line)
                throw Stop()
            }
            _ = state.wait(until: deadline)
        }
    }

    /// Types `line` and Enter (a newline; the guest tty maps it as a terminal would).
    func send(_ line: String, file: StaticString = #filePath, line callerLine: UInt = #line) throws {
        try sendRaw(line + "\n", file: file, line: callerLine)
    }

    /// Writes bytes to the guest console exactly as given (U-Boot wants "\r" to end a command).
    func sendRaw(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws {
        var bytes = Array(text.utf8)
        let fd = stdinPipe.fileHandleForWriting.fileDescriptor
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                state.lock()
                fail("could not write \(text.debugDescription) to trapeze's stdin: \(String(cString: strerror(errno)))",
                     file: file, line: line)
                state.unlock()
                throw Stop()
            }
            done += n
        }
    }

    // MARK: Shell helpers

    /// Waits for the guest init's marker and the shell prompt; input sent earlier could be lost.
    func waitForShell(timeout: TimeInterval = 60, file: StaticString = #filePath, line: UInt = #line) throws {
        try expect("trapeze-init: ready", timeout: timeout, file: file, line: line)
        try expect("~ # ", timeout: timeout, file: file, line: line)
    }

    /// Runs `command` at the guest shell prompt and returns its output, without the echoed command
    /// line and with surrounding newlines trimmed, once the prompt is back. A status other than
    /// `status` (nil: any) is a test failure.
    ///
    /// The end marker is spelled with a quote pair inside ("E2E-3-""END") so the terminal's echo
    /// of the typed line never matches it; only the shell's output does.
    @discardableResult
    func shell(_ command: String, status: Int32? = 0, timeout: TimeInterval = 60,
               file: StaticString = #filePath, line: UInt = #line) throws -> String {
        commandCount += 1
        let marker = "E2E-\(commandCount)-END:"
        let typedTail = "\"\"END:$?\""
        try send("\(command); echo \"E2E-\(commandCount)-\(typedTail)", file: file, line: line)
        var chunk = try expect(marker, timeout: timeout, file: file, line: line)
        let statusText = try expect("\n", timeout: timeout, file: file, line: line)
        try expect("~ # ", timeout: timeout, file: file, line: line)
        chunk.removeLast(marker.count)
        if let echo = chunk.range(of: typedTail) {
            chunk = String(chunk[echo.upperBound...].drop { $0 != "\n" }.dropFirst())
        }
        let exitStatus = Int32(statusText.trimmingCharacters(in: .whitespacesAndNewlines))
        if let status, exitStatus != status {
            XCTFail("`\(command)` exited with \(statusText.trimmingCharacters(in: .whitespacesAndNewlines)), "
                    + "expected \(status); its output:\n\(chunk)", file: file, line: line)
        }
        return chunk.trimmingCharacters(in: .newlines)
    }

    /// `shell(command)` whose output must equal `expected`. Use this rather than
    /// `XCTAssertEqual(try shell(...), ...)`: XCTAssert swallows a thrown `Stop`, and the test
    /// would go on waiting for a guest that stopped answering.
    func shell(_ command: String, prints expected: String, status: Int32? = 0, timeout: TimeInterval = 60,
               file: StaticString = #filePath, line: UInt = #line) throws {
        let printed = try shell(command, status: status, timeout: timeout, file: file, line: line)
        XCTAssertEqual(printed, expected, "output of `\(command)`", file: file, line: line)
    }

    // MARK: Exit

    /// Waits for trapeze to exit and for its output to drain; returns the exit status. A timeout
    /// (the process is then killed) or death by a signal is a test failure.
    @discardableResult
    func waitForExit(timeout: TimeInterval = 60, file: StaticString = #filePath, line: UInt = #line) throws -> Int32 {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill()
            locked { fail("trapeze still running after \(Int(timeout)) s; killed it", file: file, line: line) }
            throw Stop()
        }
        state.lock()
        defer { state.unlock() }
        // The guest is gone; its last output is at most a pipe buffer away.
        let drainDeadline = Date(timeIntervalSinceNow: 5)
        while openStreams > 0 && state.wait(until: drainDeadline) {}
        if process.terminationReason == .uncaughtSignal {
            fail("trapeze died from signal \(process.terminationStatus)", file: file, line: line)
            throw Stop()
        }
        return process.terminationStatus
    }

    /// Kills trapeze if it is still running. Safe to call any number of times.
    func kill() {
        guard process.isRunning else { return }
        _ = Glibc.kill(process.processIdentifier, SIGKILL)
        let deadline = Date(timeIntervalSinceNow: 5)
        while process.isRunning && Date() < deadline { usleep(5_000) }
    }

    // MARK: Private

    /// A thread per stream doing blocking reads until end of file; simpler and more predictable
    /// than FileHandle's readabilityHandler on Linux.
    private func startReader(_ fd: Int32, append: @escaping @Sendable (GuestSession, ArraySlice<UInt8>) -> Void,
                             end: @escaping @Sendable (GuestSession) -> Void) {
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                state.lock()
                append(self, buffer[0..<n])
                state.broadcast()
                state.unlock()
            }
            state.lock()
            openStreams -= 1
            end(self)
            state.broadcast()
            state.unlock()
        }
        thread.start()
    }

    private var statusNote: String {
        process.isRunning ? "" : " (exit status \(process.terminationStatus))"
    }

    /// Records a failure with the context a reader needs: the command, the tail of stdout, stderr.
    private func fail(_ message: String, file: StaticString, line: UInt) {
        let tail = Self.text(stdoutBytes.suffix(2048))
        let errors = String(decoding: stderrBytes.suffix(1024), as: UTF8.self)
        XCTFail("""
            \(message)
            command: trapeze \(arguments.joined(separator: " "))
            --- last 2 KB of output ---
            \(tail)
            --- stderr ---
            \(errors)
            """, file: file, line: line)
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        state.lock()
        defer { state.unlock() }
        return try body()
    }

    private static func text<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        String(decoding: bytes.filter { $0 != 0x0D }, as: UTF8.self)
    }

    /// End index of the first occurrence of `needle` in `haystack` at or after `start`.
    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty else { return start }
        guard haystack.count - start >= needle.count else { return nil }
        var i = start
        while i + needle.count <= haystack.count {
            if haystack[i] == needle[0] && haystack[i..<(i + needle.count)].elementsEqual(needle) {
                return i + needle.count
            }
            i += 1
        }
        return nil
    }
}
