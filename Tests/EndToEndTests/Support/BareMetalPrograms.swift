import Foundation

/// The programs of guests/baremetal/ (M-mode HTIF programs and S-mode SBI programs), built once
/// per test process by guests/baremetal/build.sh with the riscv64 cross compiler.
enum BareMetalPrograms {
    /// The built programs' directory, or why the build failed (reported by every test using it).
    static let directory: Result<URL, E2EError> = {
        let out = outputDirectory
        // Removed when the test process exits (several test classes use the programs).
        atexit { try? FileManager.default.removeItem(at: BareMetalPrograms.outputDirectory) }
        let script = E2EPaths.repoRoot.appendingPathComponent("guests/baremetal/build.sh")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script.path, out.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do {
            try process.run()
        } catch {
            return .failure(E2EError("could not run \(script.path): \(error)"))
        }
        let log = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            return .failure(E2EError("""
                building the bare-metal programs failed (\(script.path) \(out.path); needs \
                gcc-riscv64-linux-gnu):
                \(log)
                """))
        }
        return .success(out)
    }()

    static var outputDirectory: URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("trapeze-baremetal-\(getpid())")
    }

    static func elf(_ name: String) throws -> URL {
        try directory.get().appendingPathComponent(name + ".elf")
    }
}
