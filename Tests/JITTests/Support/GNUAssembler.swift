import Foundation
import JIT
import XCTest

/// The reference for encodings: the host's GNU as (binutils). Each case's AT&T source is
/// preceded by a `case_N:` symbol; the object's .text is sliced at those symbols' addresses
/// (from nm), so multi-instruction cases and label arithmetic work like single instructions.
enum GNUAssembler {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func tool(_ name: String) -> String? {
        ["/usr/bin/", "/usr/local/bin/", "/bin/"].map { $0 + name }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Assembles every case and returns its bytes, in order.
    static func assemble(_ sources: [String]) throws -> [[UInt8]] {
        guard let asPath = tool("as"), let objcopy = tool("objcopy"), let nm = tool("nm") else {
            throw XCTSkip("GNU binutils (as, objcopy, nm) not installed")
        }
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("trapeze-jit-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }

        var text = ".text\n"
        for (i, source) in sources.enumerated() { text += "case_\(i):\n\(source)\n" }
        text += "case_\(sources.count):\n"
        let s = dir.appendingPathComponent("cases.s").path
        let o = dir.appendingPathComponent("cases.o").path
        let bin = dir.appendingPathComponent("cases.bin").path
        try text.write(toFile: s, atomically: true, encoding: .utf8)

        _ = try run(asPath, ["--64", "-o", o, s])
        _ = try run(objcopy, ["-O", "binary", "-j", ".text", o, bin])
        let symbols = try run(nm, [o])
        let blob = [UInt8](try Data(contentsOf: URL(fileURLWithPath: bin)))

        var starts = [Int](repeating: -1, count: sources.count + 1)
        for line in symbols.split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard parts.count == 3, parts[2].hasPrefix("case_"), let n = Int(parts[2].dropFirst(5)),
                  let address = Int(parts[0], radix: 16) else { continue }
            starts[n] = address
        }
        guard !starts.contains(-1) else { throw Failure(description: "nm did not list every case symbol") }
        return (0..<sources.count).map { i in
            // objcopy drops trailing bytes only if the section is shorter; guard anyway.
            Array(blob[min(starts[i], blob.count)..<min(starts[i + 1], blob.count)])
        }
    }

    @discardableResult
    static func run(_ path: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read before waiting: a full pipe would block the child forever.
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let message = String(decoding: errors, as: UTF8.self).split(separator: "\n").prefix(20).joined(separator: "\n")
            throw Failure(description: "\(path) failed:\n\(message)")
        }
        return String(decoding: output, as: UTF8.self)
    }
}

/// One encoding to check: AT&T source for GNU as, and the same instruction(s) through our assembler.
struct EncodingCase {
    let att: String
    let bytes: [UInt8]

    init(_ att: String, _ build: (inout X86Assembler) -> Void) {
        var a = X86Assembler()
        build(&a)
        self.att = att
        self.bytes = a.finish()
    }
}

extension XCTestCase {
    /// Compares every case with GNU as, reporting each mismatch with both encodings.
    func assertMatchesGNUAssembler(_ cases: [EncodingCase], file: StaticString = #filePath, line: UInt = #line) throws {
        let reference = try GNUAssembler.assemble(cases.map(\.att))
        var mismatches = 0
        for (c, expected) in zip(cases, reference) where c.bytes != expected {
            mismatches += 1
            if mismatches <= 25 {
                XCTFail("\(c.att.replacingOccurrences(of: "\n", with: "; ")): ours \(hex(c.bytes)), as \(hex(expected))",
                        file: file, line: line)
            }
        }
        XCTAssertEqual(mismatches, 0, "\(mismatches) of \(cases.count) encodings differ from GNU as", file: file, line: line)
    }
}

func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String(format: "%02x", $0) }.joined(separator: " ")
}
