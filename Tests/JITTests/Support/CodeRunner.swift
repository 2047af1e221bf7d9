import Foundation
import JIT

/// Assembles test functions into executable memory and hands them back as `@convention(c)`
/// function values.
final class CodeRunner {
    let memory: ExecutableMemory

    init(capacity: Int = 1 << 16, mapping: ExecutableMappingPreference = .automatic) throws {
        memory = try ExecutableMemory(capacity: capacity, mapping: mapping)
    }

    func function<F>(_ type: F.Type, _ build: (inout X86Assembler) -> Void) throws -> F {
        var a = X86Assembler()
        build(&a)
        let address = try memory.install(a.finish())
        try memory.seal()
        return hostFunction(at: address, as: F.self)
    }
}

typealias Unary = @convention(c) (UInt64) -> UInt64
typealias Binary = @convention(c) (UInt64, UInt64) -> UInt64
typealias Ternary = @convention(c) (UInt64, UInt64, UInt64) -> UInt64
typealias PointerFunction = @convention(c) (UnsafeMutableRawPointer) -> UInt64
typealias DoubleBinary = @convention(c) (Double, Double) -> Double
typealias FloatBinary = @convention(c) (Float, Float) -> Float

/// One line of /proc/self/maps: the protections of the mapping holding an address.
struct HostMapping {
    let start: UInt
    let end: UInt
    let permissions: String // e.g. "r-xs"

    var readable: Bool { permissions.hasPrefix("r") }
    var writable: Bool { Array(permissions)[1] == "w" }
    var executable: Bool { Array(permissions)[2] == "x" }
    var shared: Bool { Array(permissions)[3] == "s" }

    static func containing(_ address: UnsafeRawPointer) -> HostMapping? {
        // procfs files report size 0, so read until EOF rather than by the file's size.
        guard let handle = FileHandle(forReadingAtPath: "/proc/self/maps") else { return nil }
        defer { try? handle.close() }
        let maps = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        let a = UInt(bitPattern: address)
        for line in maps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2 else { continue }
            let range = fields[0].split(separator: "-")
            guard range.count == 2, let start = UInt(range[0], radix: 16), let end = UInt(range[1], radix: 16) else { continue }
            if a >= start && a < end { return HostMapping(start: start, end: end, permissions: String(fields[1])) }
        }
        return nil
    }

    /// Every mapping overlapping [address, address + length): a range can be split into
    /// several VMAs when part of it changed protection.
    static func overlapping(_ address: UnsafeRawPointer, length: Int) -> [HostMapping] {
        var result: [HostMapping] = []
        var p = address
        let end = address + length
        while p < end, let m = containing(p) {
            result.append(m)
            p = UnsafeRawPointer(bitPattern: m.end)!
        }
        return result
    }
}
