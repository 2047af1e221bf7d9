import JIT
import XCTest

final class ExecutableMemoryTests: XCTestCase {
    /// A tiny function returning `value`: mov eax, imm32; ret.
    func returning(_ value: UInt32) -> [UInt8] {
        var a = X86Assembler()
        a.mov(.rax, imm: Int64(value))
        a.ret()
        return a.finish()
    }

    typealias Nullary = @convention(c) () -> UInt64

    func testDualViewIsWriteXorExecute() throws {
        let memory = try ExecutableMemory(capacity: 3 * 4096 + 1, mapping: .dualView)
        XCTAssertEqual(memory.mapping, .dualView)
        XCTAssertEqual(memory.capacity, 4 * 4096, "capacity rounds up to pages")
        XCTAssertNotEqual(memory.writableBase, memory.executableBase)
        let f = try memory.install(returning(42))
        try memory.seal()
        XCTAssertEqual(hostFunction(at: f, as: Nullary.self)(), 42)

        // The kernel's view of the protections: no mapping of either view is W and X at once.
        let rx = HostMapping.overlapping(memory.executableBase, length: memory.capacity)
        let rw = HostMapping.overlapping(memory.writableBase, length: memory.capacity)
        XCTAssertFalse(rx.isEmpty)
        XCTAssertFalse(rw.isEmpty)
        for m in rx {
            XCTAssertEqual(m.permissions, "r-xs", "the executable view must not be writable")
        }
        for m in rw {
            XCTAssertEqual(m.permissions, "rw-s", "the writable view must not be executable")
        }
    }

    func testDualViewsShareTheSamePages() throws {
        let memory = try ExecutableMemory(capacity: 4096, mapping: .dualView)
        let block = try memory.allocate(size: 8)
        block.writable.storeBytes(of: 0x1122_3344_5566_7788 as UInt64, as: UInt64.self)
        XCTAssertEqual(block.executable.load(as: UInt64.self), 0x1122_3344_5566_7788)
        XCTAssertEqual(memory.executableAddress(of: block.writable), block.executable)
        XCTAssertEqual(UnsafeRawPointer(memory.writableAddress(of: block.executable)), UnsafeRawPointer(block.writable))
        XCTAssertTrue(memory.contains(executable: block.executable))
        XCTAssertFalse(memory.contains(executable: UnsafeRawPointer(block.writable)))
    }

    func testToggledMappingFlipsInBatches() throws {
        let memory = try ExecutableMemory(capacity: 8192, mapping: .toggled)
        XCTAssertEqual(memory.mapping, .toggled)
        XCTAssertEqual(memory.writableBase, memory.executableBase)
        let f = try memory.install(returning(1))
        let g = try memory.install(returning(2))
        var maps = HostMapping.overlapping(memory.executableBase, length: memory.capacity)
        XCTAssertFalse(maps.isEmpty)
        XCTAssertTrue(maps.allSatisfy { $0.permissions == "rw-p" }, "\(maps.map(\.permissions))")

        try memory.seal()
        maps = HostMapping.overlapping(memory.executableBase, length: memory.capacity)
        XCTAssertTrue(maps.allSatisfy { $0.permissions == "r-xp" }, "\(maps.map(\.permissions))")
        XCTAssertEqual(hostFunction(at: f, as: Nullary.self)(), 1)
        XCTAssertEqual(hostFunction(at: g, as: Nullary.self)(), 2)

        // Writing again unseals the whole buffer; earlier code runs again after the next seal.
        let h = try memory.install(returning(3))
        maps = HostMapping.overlapping(memory.executableBase, length: memory.capacity)
        XCTAssertTrue(maps.allSatisfy { $0.permissions == "rw-p" }, "\(maps.map(\.permissions))")
        try memory.seal()
        XCTAssertEqual(hostFunction(at: f, as: Nullary.self)(), 1)
        XCTAssertEqual(hostFunction(at: h, as: Nullary.self)(), 3)
    }

    func testResetDropsCodeAndReusesSpace() throws {
        for mapping in [ExecutableMappingPreference.dualView, .toggled] {
            let memory = try ExecutableMemory(capacity: 4096, mapping: mapping)
            let first = try memory.install(returning(7))
            _ = try memory.install(returning(8))
            try memory.seal()
            XCTAssertEqual(hostFunction(at: first, as: Nullary.self)(), 7)
            XCTAssertGreaterThan(memory.used, 0)

            try memory.reset()
            XCTAssertEqual(memory.used, 0)
            // Flushed code is int3 so a stale jump traps instead of running leftovers.
            XCTAssertEqual(memory.writableAddress(of: first).load(as: UInt8.self), 0xCC)

            let second = try memory.install(returning(9))
            try memory.seal()
            XCTAssertEqual(second, first, "bump allocation restarts at the beginning")
            XCTAssertEqual(hostFunction(at: second, as: Nullary.self)(), 9)
        }
    }

    func testAlignment() throws {
        let memory = try ExecutableMemory(capacity: 4096)
        _ = try memory.allocate(size: 3, alignment: 1)
        let a = try memory.allocate(size: 5, alignment: 64)
        XCTAssertEqual(UInt(bitPattern: a.executable) % 64, 0)
        XCTAssertEqual(memory.used, 64 + 5)
        let b = try memory.allocate(size: 1)
        XCTAssertEqual(UInt(bitPattern: b.executable) % 16, 0, "code blocks default to 16-byte alignment")
    }

    func testExhaustionIsAnErrorNotACrash() throws {
        let memory = try ExecutableMemory(capacity: 4096)
        _ = try memory.allocate(size: 4000)
        XCTAssertThrowsError(try memory.allocate(size: 200)) { error in
            XCTAssertEqual(error as? ExecutableMemoryError, .exhausted(requested: 200, available: 96))
            XCTAssertTrue("\(error)".contains("flush"), "\(error)")
        }
        XCTAssertEqual(memory.used, 4000, "a failed allocation takes nothing")
        // Alignment padding alone can exhaust the buffer.
        _ = try memory.allocate(size: 90, alignment: 1)
        XCTAssertThrowsError(try memory.allocate(size: 1, alignment: 4096))
        XCTAssertThrowsError(try memory.install([UInt8](repeating: 0x90, count: 10_000)))
        try memory.reset()
        XCTAssertNoThrow(try memory.allocate(size: 4096))
    }

    func testInvalidCapacities() {
        for bad in [0, -1, ExecutableMemory.maximumCapacity + 1] {
            XCTAssertThrowsError(try ExecutableMemory(capacity: bad)) { error in
                XCTAssertEqual(error as? ExecutableMemoryError, .invalidCapacity(bytes: bad))
            }
        }
    }

    /// Re-pointing installed code in place: how block chaining will rewrite a jump.
    func testPatchThroughTheWritableView() throws {
        for mapping in [ExecutableMappingPreference.dualView, .toggled] {
            let memory = try ExecutableMemory(capacity: 4096, mapping: mapping)
            let f = try memory.install(returning(5)) // b8 05 00 00 00 c3
            try memory.seal()
            XCTAssertEqual(hostFunction(at: f, as: Nullary.self)(), 5)
            try memory.patch(executable: f + 1, with: [0x39, 0x30, 0, 0])
            try memory.seal()
            XCTAssertEqual(hostFunction(at: f, as: Nullary.self)(), 0x3039)
        }
    }
}
