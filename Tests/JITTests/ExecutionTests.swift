import JIT
import XCTest

/// Generated code actually runs and computes what the host computes. SysV: integer arguments
/// arrive in rdi, rsi, rdx; the result leaves in rax.
final class ExecutionTests: XCTestCase {
    var runner: CodeRunner!

    override func setUpWithError() throws { runner = try CodeRunner() }

    static let samples: [UInt64] = [0, 1, 2, 7, 0xFF, 0x8000_0000, 0xFFFF_FFFF, 0x1_0000_0000,
                                    0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000, UInt64.max, 0x0123_4567_89AB_CDEF]

    func testArithmeticAcrossExtendedRegisters() throws {
        // f(a, b) = ((a + b) * 3 - (a ^ b) >> 2) | rol(a, 13), through r8-r11 and back.
        let f = try runner.function(Binary.self) { a in
            a.mov(.r8, .rdi); a.mov(.r9, .rsi)
            a.lea(.r10, .at(.r8, index: .r9, scale: .x1))
            a.imul(.r10, .r10, imm: 3)
            a.mov(.r11, .r8); a.xor(.r11, .r9); a.shr(.r11, by: 2)
            a.sub(.r10, .r11)
            a.mov(.rax, .r8); a.shift(.rol, .rax, by: 13)
            a.or(.rax, .r10)
            a.ret()
        }
        for x in Self.samples {
            for y in Self.samples {
                let expected = ((x &+ y) &* 3 &- ((x ^ y) >> 2)) | ((x << 13) | (x >> 51))
                XCTAssertEqual(f(x, y), expected, "f(\(x), \(y))")
            }
        }
    }

    func testDwordOperationsZeroAndSignExtend() throws {
        // RISC-V addw: 32-bit add, result sign-extended to 64 bits.
        let addw = try runner.function(Binary.self) { a in
            a.mov(.rax, .rdi); a.add(.rax, .rsi, .dword); a.movsx(.rax, .rax, from: .dword); a.ret()
        }
        // A dword write clears bits 63:32 (zext.w).
        let zext = try runner.function(Unary.self) { a in a.mov(.rax, .rdi, .dword); a.ret() }
        let shiftByCL = try runner.function(Binary.self) { a in
            a.mov(.rax, .rdi); a.mov(.rcx, .rsi); a.shiftByCL(.sar, .rax); a.ret()
        }
        for x in Self.samples {
            for y in Self.samples {
                XCTAssertEqual(addw(x, y), UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: x &+ y))))
                XCTAssertEqual(shiftByCL(x, y), UInt64(bitPattern: Int64(bitPattern: x) >> (y & 63)))
            }
            XCTAssertEqual(zext(x), x & 0xFFFF_FFFF)
        }
    }

    func testLoopsWithBackwardAndForwardJumps() throws {
        // sum of i for i in 1...n, leaving early (forward jump) when the sum passes a limit.
        let f = try runner.function(Binary.self) { a in
            let loop = a.makeLabel(), done = a.makeLabel(), capped = a.makeLabel()
            a.xor(.rax, .rax, .dword)
            a.bind(loop)
            a.test(.rdi, .rdi)
            a.j(.e, done, .short)
            a.add(.rax, .rdi)
            a.cmp(.rax, .rsi)
            a.j(.a, capped)
            a.sub(.rdi, imm: 1)
            a.jmp(loop)
            a.bind(capped)
            a.mov(.rax, imm: -1)
            a.bind(done)
            a.ret()
        }
        XCTAssertEqual(f(100, .max), 5050)
        XCTAssertEqual(f(0, .max), 0)
        XCTAssertEqual(f(100_000, .max), 5_000_050_000)
        XCTAssertEqual(f(100, 1000), UInt64.max)
    }

    func testDivision() throws {
        let unsigned = try runner.function(Binary.self) { a in
            a.mov(.rax, .rdi); a.xor(.rdx, .rdx, .dword); a.div(.rsi)
            a.shl(.rax, by: 32); a.or(.rax, .rdx); a.ret() // quotient << 32 | remainder
        }
        let signed = try runner.function(Binary.self) { a in
            a.mov(.rax, .rdi); a.signExtendAccumulator(); a.mov(.rcx, .rsi); a.idiv(.rcx)
            a.ret()
        }
        let signedRemainder32 = try runner.function(Binary.self) { a in
            a.mov(.rax, .rdi, .dword); a.signExtendAccumulator(.dword); a.idiv(.rsi, .dword)
            a.movsx(.rax, .rdx, from: .dword); a.ret()
        }
        XCTAssertEqual(unsigned(1000, 7), 142 << 32 | 6)
        for x: Int64 in [100, -100, 7, -7, Int64.max, Int64.min + 1] {
            for y: Int64 in [3, -3, 1, 1000] {
                XCTAssertEqual(Int64(bitPattern: signed(UInt64(bitPattern: x), UInt64(bitPattern: y))), x / y)
                let x32 = Int32(truncatingIfNeeded: x), y32 = Int32(truncatingIfNeeded: y)
                XCTAssertEqual(Int64(bitPattern: signedRemainder32(UInt64(bitPattern: x), UInt64(bitPattern: y))),
                               Int64(x32 % y32))
            }
        }
    }

    func testWideMultiply() throws {
        // mulhu / mulh: the high half lands in rdx.
        let mulhu = try runner.function(Binary.self) { a in a.mov(.rax, .rdi); a.mul(.rsi); a.mov(.rax, .rdx); a.ret() }
        let mulh = try runner.function(Binary.self) { a in a.mov(.rax, .rdi); a.unary(.imul, .rsi); a.mov(.rax, .rdx); a.ret() }
        for x in Self.samples {
            for y in Self.samples {
                XCTAssertEqual(mulhu(x, y), x.multipliedFullWidth(by: y).high)
                let s = Int64(bitPattern: x).multipliedFullWidth(by: Int64(bitPattern: y)).high
                XCTAssertEqual(mulh(x, y), UInt64(bitPattern: s))
            }
        }
    }

    func testSetccAndCmov() throws {
        // slt: signed compare into a byte register that needs REX (sil), then zero-extend.
        let slt = try runner.function(Binary.self) { a in
            a.cmp(.rdi, .rsi)
            a.set(.l, .rsi)
            a.movzx(.rax, .rsi, from: .byte)
            a.ret()
        }
        let sltu = try runner.function(Binary.self) { a in
            a.xor(.r9, .r9, .dword); a.cmp(.rdi, .rsi); a.set(.b, .r9); a.mov(.rax, .r9); a.ret()
        }
        let maxSigned = try runner.function(Binary.self) { a in
            a.mov(.rax, .rdi); a.cmp(.rsi, .rdi); a.cmov(.g, .rax, .rsi); a.ret()
        }
        for x in Self.samples {
            for y in Self.samples {
                let (sx, sy) = (Int64(bitPattern: x), Int64(bitPattern: y))
                XCTAssertEqual(slt(x, y), sx < sy ? 1 : 0)
                XCTAssertEqual(sltu(x, y), x < y ? 1 : 0)
                XCTAssertEqual(maxSigned(x, y), UInt64(bitPattern: max(sx, sy)))
            }
        }
    }

    func testMemoryOperandsWithSpecialBases() throws {
        // sum of a[i] for i in 0..<n through r12 (needs SIB) and r13 (needs disp8 0) as bases.
        let f = try runner.function(Binary.self) { a in
            let frame = a.enterHostFrame(saving: [.r12, .r13])
            let loop = a.makeLabel(), done = a.makeLabel()
            a.mov(.r12, .rdi); a.mov(.r13, .rdi)
            a.xor(.rax, .rax, .dword); a.xor(.rcx, .rcx, .dword)
            a.bind(loop)
            a.cmp(.rcx, .rsi); a.j(.ae, done)
            a.add(.rax, .at(.r12, index: .rcx, scale: .x8))
            a.add(.rcx, imm: 1)
            a.jmp(loop)
            a.bind(done)
            a.add(.rax, .at(.r13))       // a[0] once more
            a.add(.rax, .at(.r12, -8 + 16)) // and a[1]
            a.leaveHostFrame(frame)
        }
        var values: [UInt64] = (1...50).map { $0 * $0 }
        let result = values.withUnsafeMutableBytes { f(UInt64(UInt(bitPattern: $0.baseAddress!)), 50) }
        XCTAssertEqual(result, values.reduce(0, +) + values[0] + values[1])
        // Byte, word and dword loads with extension; stores of each width.
        let g = try runner.function(Unary.self) { a in
            a.movsx(.rax, .at(.rdi, 0), from: .byte)
            a.movzx(.rcx, .at(.rdi, 8), from: .word)
            a.add(.rax, .rcx)
            a.mov(.at(.rdi, 16), .rax, .dword)
            a.mov(.at(.rdi, 24), imm: -1, .byte)
            a.ret()
        }
        values = [0xF0, 0xFFFF_8001, 0, 0]
        let r = values.withUnsafeMutableBytes { g(UInt64(UInt(bitPattern: $0.baseAddress!))) }
        XCTAssertEqual(r, UInt64(bitPattern: -16) &+ 0x8001)
        XCTAssertEqual(values[2], (UInt64(bitPattern: -16) &+ 0x8001) & 0xFFFF_FFFF)
        XCTAssertEqual(values[3], 0xFF)
    }

    func testRIPRelativeConstantPool() throws {
        let f = try runner.function(Unary.self) { a in
            let pool = a.makeLabel()
            a.mov(.rax, .rip(pool))
            a.add(.rax, .rip(pool, 8))
            a.add(.rax, .rdi)
            a.ret()
            a.align(8)
            a.bind(pool)
            a.emit([0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05, 0, 0, 0, 0, 0, 0, 0])
        }
        XCTAssertEqual(f(1), 0x1_0000_0000 + 5 + 1)
    }

    func testAtomicInstructions() throws {
        let f = try runner.function(Binary.self) { a in
            a.mov(.rax, .rsi); a.xadd(.at(.rdi), .rax)        // old value in rax
            a.mov(.rcx, imm: 99)
            a.mov(.rdx, .rax)
            a.mov(.rax, .at(.rdi)); a.cmpxchg(.at(.rdi, 8), .rcx) // fails: rax != [rdi+8]
            a.mov(.rax, .rdx)
            a.ret()
        }
        var cells: [UInt64] = [10, 0]
        let old = cells.withUnsafeMutableBytes { f(UInt64(UInt(bitPattern: $0.baseAddress!)), 5) }
        XCTAssertEqual(old, 10)
        XCTAssertEqual(cells, [15, 0])
    }
}
