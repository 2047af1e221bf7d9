import JIT
import XCTest

/// Calls out of generated code into Swift, callee-saved registers across the bridge, and SSE.
final class CallingAndSSEExecutionTests: XCTestCase {
    var runner: CodeRunner!

    override func setUpWithError() throws { runner = try CodeRunner() }

    /// A Swift function callable from generated code: no context, SysV arguments.
    static let triplePlusOne: @convention(c) (UInt64) -> UInt64 = { $0 &* 3 &+ 1 }

    static func address<F>(of function: F) -> UInt64 {
        UInt64(UInt(bitPattern: unsafeBitCast(function, to: UnsafeRawPointer.self)))
    }

    func testCallsOutToSwiftWithAnAlignedStack() throws {
        // Applies triplePlusOne n times to x, keeping loop state in callee-saved registers
        // (they survive the call); returns ~0 if rsp was ever misaligned at a call.
        let helper = Self.address(of: Self.triplePlusOne)
        let f = try runner.function(Binary.self) { a in
            let frame = a.enterHostFrame(saving: [.rbx, .r12])
            let loop = a.makeLabel(), done = a.makeLabel(), misaligned = a.makeLabel()
            a.mov(.rbx, .rdi); a.mov(.r12, .rsi)
            a.bind(loop)
            a.test(.r12, .r12); a.j(.e, done)
            a.test(.rsp, imm: 15); a.j(.ne, misaligned)
            a.mov(.rdi, .rbx)
            a.call(absolute: helper)
            a.mov(.rbx, .rax)
            a.sub(.r12, imm: 1)
            a.jmp(loop)
            a.bind(misaligned)
            a.mov(.rbx, imm: -1)
            a.bind(done)
            a.mov(.rax, .rbx)
            a.leaveHostFrame(frame)
        }
        var expected: UInt64 = 5
        for _ in 0..<10 { expected = expected &* 3 &+ 1 }
        XCTAssertEqual(f(5, 10), expected)
        XCTAssertEqual(f(5, 0), 5)
    }

    /// A generated caller fills every callee-saved register with a marker, calls a generated
    /// callee that clobbers them all inside `enterHostFrame`/`leaveHostFrame`, and reports
    /// which markers did not survive (0 = all preserved).
    func testCalleeSavedRegistersArePreserved() throws {
        let callee = try runner.function(Unary.self) { a in
            let frame = a.enterHostFrame(saving: SysV.calleeSaved, localBytes: 24)
            for (i, r) in SysV.calleeSaved.enumerated() { a.mov(r, imm: Int64(i) - 1000) }
            a.mov(.at(.rsp, 16), .rdi)
            a.mov(.rax, .at(.rsp, 16))
            a.add(.rax, imm: 1)
            a.leaveHostFrame(frame)
        }
        let calleeAddress = Self.address(of: callee)
        let caller = try runner.function(Unary.self) { a in
            let frame = a.enterHostFrame(saving: SysV.calleeSaved)
            for (i, r) in SysV.calleeSaved.enumerated() { a.mov(r, imm: 0x5A5A_0000 + Int64(i)) }
            a.call(absolute: calleeAddress)
            a.mov(.r10, .rax) // the callee's result: 42 for caller(41)
            a.xor(.rax, .rax, .dword)
            for (i, r) in SysV.calleeSaved.enumerated() {
                let ok = a.makeLabel()
                a.cmp(r, imm: 0x5A5A_0000 + Int32(i))
                a.j(.e, ok, .short)
                a.or(.rax, imm: 1 << Int32(i))
                a.bind(ok)
            }
            let resultOK = a.makeLabel()
            a.cmp(.r10, imm: 42); a.j(.e, resultOK, .short)
            a.or(.rax, imm: 0x100)
            a.bind(resultOK)
            a.leaveHostFrame(frame)
        }
        XCTAssertEqual(caller(41), 0, "bit i set: callee-saved register i was clobbered")
        XCTAssertEqual(callee(41), 42)
        // And from Swift, repeatedly: a corrupted callee-saved register would derail the caller here.
        var total: UInt64 = 0
        for i in 0..<1000 as Range<UInt64> { total &+= callee(i) }
        XCTAssertEqual(total, (1...1000).reduce(0, +))
    }

    func testDoubleArithmetic() throws {
        // hypot(a, b) with sqrtsd; arguments in xmm0/xmm1, result in xmm0.
        let hypot = try runner.function(DoubleBinary.self) { a in
            a.mulsd(.xmm0, .xmm0); a.movaps(.xmm9, .xmm1); a.mulsd(.xmm9, .xmm9)
            a.addsd(.xmm0, .xmm9); a.sqrtsd(.xmm0, .xmm0); a.ret()
        }
        XCTAssertEqual(hypot(3, 4), 5)
        let mixed = try runner.function(DoubleBinary.self) { a in
            a.subsd(.xmm0, .xmm1); a.divsd(.xmm0, .xmm1); a.ret()
        }
        XCTAssertEqual(mixed(10, 4), 1.5)
        let single = try runner.function(FloatBinary.self) { a in
            a.mulss(.xmm0, .xmm1); a.addss(.xmm0, .xmm1); a.sqrtss(.xmm0, .xmm0); a.ret()
        }
        XCTAssertEqual(single(7, 2), 4)
    }

    func testConversionsAndBitMoves() throws {
        // (Double(Int64(x)) * 0.5) truncated back to an integer, via memory and movq.
        let f = try runner.function(Unary.self) { a in
            a.cvtsi2s(.double, .xmm3, .rdi)
            a.mov(.rax, imm: Int64(bitPattern: 0.5.bitPattern))
            a.movq(.xmm12, .rax)
            a.mulsd(.xmm3, .xmm12)
            a.cvtts2si(.double, .rax, .xmm3)
            a.ret()
        }
        for x: Int64 in [0, 1, 7, -7, 1 << 40, -(1 << 52)] {
            XCTAssertEqual(Int64(bitPattern: f(UInt64(bitPattern: x))), Int64(Double(x) * 0.5))
        }
        // float -> double -> bits, through the stack.
        let widen = try runner.function(Unary.self) { a in
            a.movd(.xmm1, .rdi)
            a.cvtPrecision(from: .single, .xmm2, .xmm1)
            a.sub(.rsp, imm: 8)
            a.movsd(.at(.rsp), .xmm2)
            a.mov(.rax, .at(.rsp))
            a.add(.rsp, imm: 8)
            a.ret()
        }
        XCTAssertEqual(widen(UInt64(Float(1.25).bitPattern)), 1.25.bitPattern)
        // Negation by xor with the sign bit (fneg.d).
        let negate = try runner.function(Unary.self) { a in
            a.movq(.xmm0, .rdi); a.mov(.rax, imm: Int64.min); a.movq(.xmm1, .rax)
            a.bitwise(.xor, .double, .xmm0, .xmm1); a.movq(.rax, .xmm0); a.ret()
        }
        XCTAssertEqual(negate(2.5.bitPattern), (-2.5).bitPattern)
    }

    func testUnorderedCompareSeesNaN() throws {
        // feq.d: 1 only when ordered and equal (ZF=1 and PF=0).
        let feq = try runner.function(Binary.self) { a in
            a.movq(.xmm0, .rdi); a.movq(.xmm1, .rsi)
            a.xor(.rax, .rax, .dword); a.xor(.rcx, .rcx, .dword)
            a.ucomis(.double, .xmm0, .xmm1)
            a.set(.e, .rax); a.set(.np, .rcx)
            a.and(.rax, .rcx)
            a.ret()
        }
        XCTAssertEqual(feq(1.0.bitPattern, 1.0.bitPattern), 1)
        XCTAssertEqual(feq(1.0.bitPattern, 2.0.bitPattern), 0)
        XCTAssertEqual(feq(Double.nan.bitPattern, Double.nan.bitPattern), 0)
        XCTAssertEqual(feq(0.0.bitPattern, (-0.0).bitPattern), 1)
    }

    func testMXCSRRoundingMode() throws {
        // cvtsd2si honours MXCSR.RC: round-to-nearest-even by default, toward zero with RC=11.
        let f = try runner.function(Binary.self) { a in
            let frame = a.enterHostFrame(saving: [], localBytes: 16)
            a.stmxcsr(.at(.rsp, 0))
            a.mov(.rax, .at(.rsp, 0), .dword)
            a.mov(.at(.rsp, 4), .rax, .dword)        // saved copy
            a.or(.rax, .rsi, .dword)                 // RC bits from the caller
            a.mov(.at(.rsp, 0), .rax, .dword)
            a.ldmxcsr(.at(.rsp, 0))
            a.movq(.xmm0, .rdi)
            a.cvts2si(.double, .rax, .xmm0)
            a.ldmxcsr(.at(.rsp, 4))                  // restore the host's mode
            a.leaveHostFrame(frame)
        }
        XCTAssertEqual(f(2.5.bitPattern, 0), 2)
        XCTAssertEqual(f(3.5.bitPattern, 0), 4)
        XCTAssertEqual(f(3.7.bitPattern, 0x6000), 3)
        XCTAssertEqual(f(3.2.bitPattern, 0x4000), 4) // RC=10: toward +infinity
    }
}
