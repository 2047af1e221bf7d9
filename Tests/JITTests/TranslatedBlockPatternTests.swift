import JIT
import XCTest

/// The pattern the RISC-V translator will follow, end to end: Swift calls a block through a
/// `TranslatedCode` pointer with the guest context (a register file of UInt64) in rdi; the
/// block pins the context in a callee-saved register (r15) so it survives helper calls,
/// loads and stores guest registers as [r15 + 8 * n], and returns the next guest pc in rax.
final class TranslatedBlockPatternTests: XCTestCase {
    static let context: GPR = .r15

    static func x(_ n: Int32) -> Memory { .at(context, 8 * n) }

    /// Guest block at `pc`: x3 = x1 + x2 * 7; then falls through to pc + 8.
    static func emitAddMulBlock(_ a: inout X86Assembler, pc: UInt64) {
        let frame = a.enterHostFrame(saving: [context])
        a.mov(context, .rdi)
        a.mov(.rax, x(2))
        a.imul(.rax, .rax, imm: 7)
        a.add(.rax, x(1))
        a.mov(x(3), .rax)
        a.mov(.rax, imm: Int64(pc + 8))
        a.leaveHostFrame(frame)
    }

    func testRegisterFileBlock() throws {
        let memory = try ExecutableMemory(capacity: 4096)
        var a = X86Assembler()
        Self.emitAddMulBlock(&a, pc: 0x8000_0000)
        let entry = try memory.install(a.finish())
        try memory.seal()
        let block = hostFunction(at: entry, as: TranslatedCode.self)

        let registers = UnsafeMutablePointer<UInt64>.allocate(capacity: 32)
        defer { registers.deallocate() }
        registers.initialize(repeating: 0, count: 32)
        registers[1] = 5
        registers[2] = 6
        let next = block(UnsafeMutableRawPointer(registers), 0x8000_0000)
        XCTAssertEqual(next, 0x8000_0008)
        XCTAssertEqual(registers[3], 47)
        XCTAssertEqual(registers[1], 5)
        XCTAssertEqual(registers[2], 6)

        registers[1] = .max
        registers[2] = 1 << 61
        _ = block(UnsafeMutableRawPointer(registers), 0)
        XCTAssertEqual(registers[3], UInt64.max &+ (1 << 61) &* 7, "wrapping 64-bit arithmetic, as RISC-V")
    }

    /// A "sensitive instruction" becomes a direct call into Swift (the `--virt bt` callout):
    /// the helper receives the context, the pinned register survives the call, and the block
    /// continues with guest state the helper changed.
    func testCalloutIntoTheVMM() throws {
        let callout: @convention(c) (UnsafeMutableRawPointer, UInt64) -> UInt64 = { context, csr in
            let x = context.assumingMemoryBound(to: UInt64.self)
            x[31] &+= 1       // count the callout
            return csr &+ 0x100 // "the CSR's value"
        }
        let helper = UInt64(UInt(bitPattern: unsafeBitCast(callout, to: UnsafeRawPointer.self)))
        let memory = try ExecutableMemory(capacity: 4096)
        var a = X86Assembler()
        let frame = a.enterHostFrame(saving: [Self.context])
        a.mov(Self.context, .rdi)
        a.mov(.rdi, Self.context)   // argument 0: the context
        a.mov(.rsi, imm: 0x180)     // argument 1: which CSR (satp)
        a.call(absolute: helper)
        a.mov(Self.x(10), .rax)     // csrr a0, satp
        a.mov(.rax, Self.x(10))
        a.add(.rax, Self.x(31))     // uses r15 after the call
        a.mov(Self.x(11), .rax)
        a.mov(.rax, imm: 0x8000_0104)
        a.leaveHostFrame(frame)
        let block = hostFunction(at: try memory.install(a.finish()), as: TranslatedCode.self)
        try memory.seal()

        var registers = [UInt64](repeating: 0, count: 32)
        let next = registers.withUnsafeMutableBytes { block($0.baseAddress!, 0x8000_0100) }
        XCTAssertEqual(next, 0x8000_0104)
        XCTAssertEqual(registers[31], 1)
        XCTAssertEqual(registers[10], 0x280)
        XCTAssertEqual(registers[11], 0x281)
    }

    /// Chaining: block A ends in a rel32 jmp to an exit stub; once block B exists the jmp
    /// is patched to go straight to B's body, so A -> B never returns to Swift in between.
    func testChainingByPatchingARel32Jump() throws {
        let memory = try ExecutableMemory(capacity: 4096)

        // A: x1 += 1, then jmp (initially to its own exit returning pc 0xB).
        var a = X86Assembler()
        let frame = a.enterHostFrame(saving: [Self.context])
        a.mov(Self.context, .rdi)
        a.alu(.add, Self.x(1), imm: 1)
        let exit = a.makeLabel()
        let jumpField = a.jmp(exit, .near)
        a.bind(exit)
        a.mov(.rax, imm: 0xB)
        a.leaveHostFrame(frame)
        let blockA = try memory.install(a.finish())

        // B's chained entry runs inside A's frame (same saved registers, context in r15):
        // x1 *= 10 and return pc 0xC through the shared epilogue shape.
        var b = X86Assembler()
        b.mov(.rax, Self.x(1)); b.imul(.rax, .rax, imm: 10); b.mov(Self.x(1), .rax)
        b.mov(.rax, imm: 0xC)
        b.leaveHostFrame(frame)
        let blockB = try memory.install(b.finish())
        try memory.seal()

        let run = hostFunction(at: blockA, as: TranslatedCode.self)
        var registers = [UInt64](repeating: 0, count: 32)
        registers[1] = 4
        XCTAssertEqual(registers.withUnsafeMutableBytes { run($0.baseAddress!, 0) }, 0xB)
        XCTAssertEqual(registers[1], 5)

        let fieldAddress = blockA + jumpField
        let rel32 = Int32(blockB - (fieldAddress + 4))
        try memory.patch(executable: fieldAddress, with: withUnsafeBytes(of: rel32.littleEndian) { Array($0) })
        try memory.seal()
        XCTAssertEqual(registers.withUnsafeMutableBytes { run($0.baseAddress!, 0) }, 0xC)
        XCTAssertEqual(registers[1], 60)
    }
}
