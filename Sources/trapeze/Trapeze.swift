import ArgumentParser
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import GuestMemory
import Machine

/// The `trapeze` command. `run` is the default subcommand, so `trapeze` alone boots the default guest.
@main
struct Trapeze: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trapeze",
        abstract: "A RISC-V (RV64GC) virtual machine for QEMU's virt board.",
        subcommands: [Run.self],
        defaultSubcommand: Run.self)

    /// Every failure ends as one line, `trapeze: <message>`, and a non-zero status: 2 for a bad
    /// command line or bad files, 1 for anything else. Help and version print as usual.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
            terminate(0)
        } catch let status as ExitCode {
            terminate(status.rawValue)
        } catch {
            if exitCode(for: error) == .success { Self.exit(withError: error) } // --help
            let message = Self.message(for: error)
                .split(whereSeparator: \.isNewline).joined(separator: "; ")
            printError("trapeze: \(message)\n")
            terminate(isUsageError(error) ? 2 : 1)
        }
    }

    private static func isUsageError(_ error: Error) -> Bool {
        switch error {
        case is ConfigError, is LoadError, is GuestMemoryError, is DefaultGuestError: return true
        case MachineError.placement: return true
        default: return exitCode(for: error) == .validationFailure
        }
    }
}

private func printError(_ line: String) {
    var bytes = Array(line.utf8)
    _ = write(STDERR_FILENO, &bytes, bytes.count)
}

/// exit(3), so atexit hooks (the console's final flush and terminal restore) still run.
private func terminate(_ status: Int32) -> Never { exit(status) }
