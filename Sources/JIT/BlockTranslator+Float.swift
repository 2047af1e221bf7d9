@_spi(JIT) import RISCV

/// Double-precision floating point inline with SSE2, where the host computes exactly what the
/// RISC-V D extension specifies: IEEE add, subtract, multiply, divide and square root in
/// round-to-nearest-even (x86 detects tininess after rounding, as RISC-V does), compares,
/// sign injection, moves, and conversions. The host's exception flags accrue in MXCSR and
/// become fflags when translated code next calls a helper or returns (see Helpers.swift).
/// x86's NaN results (the negative default NaN, propagated payloads) are replaced by the
/// canonical NaN.
///
/// Every inline form first checks `floatReady` (FPU Dirty, frm = RNE); otherwise, and for
/// anything else (single precision, fused multiply-add, min/max, classify, unsigned or
/// out-of-range conversions), the interpreter runs the instruction.
extension BlockTranslator {
    static let canonicalNaN64: UInt64 = 0x7ff8_0000_0000_0000
    static let signBit64 = UInt64(1) << 63

    /// True for the instructions `emitFloat` can do inline (at least on its fast path).
    static func hasInlineFloat(_ d: DecodedInstruction) -> Bool {
        let roundsToNearest = d.rm == 0 || d.rm == 7
        switch d.op {
        case .fld, .fsd, .flw, .fsw, .fsgnjD, .fsgnjnD, .fsgnjxD, .fmvXD, .fmvDX, .feqD, .fltD, .fleD:
            return true
        case .fcvtDW:
            // Exact in every mode, but a reserved mode (5, 6) must still raise illegal-instruction.
            return d.rm <= 4 || d.rm == 7
        case .faddD, .fsubD, .fmulD, .fdivD, .fsqrtD, .fcvtDL:
            return roundsToNearest
        case .fcvtWD, .fcvtLD:
            return roundsToNearest || d.rm == 1
        default:
            return false
        }
    }

    private static func freg(_ r: UInt8) -> Memory { .at(.rdi, Int32(r) * 8) }

    mutating func emitFloat(_ instruction: Instruction, unexecutedAfter: Int) {
        let d = instruction.decoded
        // Floating point works on the register files in memory (and its cold path calls the
        // interpreter), so integer registers are written back and forgotten first.
        flushCache()
        let interpret = a.makeLabel(), resume = a.makeLabel()
        a.cmp(Memory.at(.rbp, RuntimeStubs.floatReady), imm: 0)
        a.j(.e, interpret, .near)
        a.mov(.rdi, .at(.rbp, RuntimeStubs.floatRegisters))
        let rd = d.rd, rs1 = d.rs1, rs2 = d.rs2
        switch d.op {
        case .fld, .flw:
            floatLoad(d, slow: interpret)
        case .fsd, .fsw:
            floatStore(d, slow: interpret)
        case .faddD, .fsubD, .fmulD, .fdivD, .fsqrtD:
            let op: ScalarOperation = [.faddD: .add, .fsubD: .sub, .fmulD: .mul, .fdivD: .div][d.op] ?? .sqrt
            a.movsd(.xmm0, Self.freg(rs1))
            if op == .sqrt {
                a.scalar(.sqrt, .double, .xmm0, .xmm0)
            } else {
                a.scalar(op, .double, .xmm0, Self.freg(rs2))
            }
            let nan = a.makeLabel()
            a.ucomis(.double, .xmm0, .xmm0)
            a.j(.p, nan, .near)
            a.movsd(Self.freg(rd), .xmm0)
            coldPaths.append { t in
                t.a.bind(nan)
                t.a.movabs(.rax, imm: Self.canonicalNaN64)
                t.a.mov(Self.freg(rd), .rax)
                t.a.jmp(resume, .near)
            }
        case .fsgnjD, .fsgnjnD, .fsgnjxD:
            a.mov(.rax, Self.freg(rs1))
            a.mov(.rcx, Self.freg(rs2))
            a.movabs(.rdx, imm: Self.signBit64)
            switch d.op {
            case .fsgnjD, .fsgnjnD:
                if d.op == .fsgnjnD { a.not(.rcx) }
                a.and(.rcx, .rdx)
                a.not(.rdx)
                a.and(.rax, .rdx)
                a.or(.rax, .rcx)
            default:
                a.and(.rcx, .rdx)
                a.xor(.rax, .rcx)
            }
            a.mov(Self.freg(rd), .rax)
        case .fmvXD:
            a.mov(.rax, Self.freg(rs1))
            a.mov(Self.reg(rd), .rax)
        case .fmvDX:
            a.mov(.rax, Self.reg(rs1))
            a.mov(Self.freg(rd), .rax)
        case .feqD, .fltD, .fleD:
            a.movsd(.xmm0, Self.freg(rs1))
            a.movsd(.xmm1, Self.freg(rs2))
            a.xor(.rax, .rax, .dword)
            a.xor(.rcx, .rcx, .dword)
            if d.op == .feqD {
                // Quiet compare: invalid only for signaling NaNs; unordered sets ZF and PF.
                a.ucomis(.double, .xmm0, .xmm1)
                a.set(.e, .rax)
                a.set(.np, .rcx)
                a.and(.rax, .rcx, .dword)
            } else {
                // Signaling compare, operands swapped: b > a (or >=) is false when unordered.
                a.comis(.double, .xmm1, .xmm0)
                a.set(d.op == .fltD ? .a : .ae, .rax)
            }
            a.mov(Self.reg(rd), .rax)
        case .fcvtDW, .fcvtDL:
            a.mov(.rax, Self.reg(rs1))
            a.cvtsi2s(.double, .xmm0, .rax, d.op == .fcvtDW ? .dword : .qword)
            a.movsd(Self.freg(rd), .xmm0)
        case .fcvtWD, .fcvtLD:
            // x86 gives the "integer indefinite" (the minimum) for NaN and out-of-range values,
            // where RISC-V saturates; that one result goes to the interpreter (which also
            // handles a true minimum correctly).
            let word = d.op == .fcvtWD
            let size: OperandSize = word ? .dword : .qword
            a.movsd(.xmm0, Self.freg(rs1))
            if d.rm == 1 {
                a.cvtts2si(.double, .rax, .xmm0, size)
            } else {
                a.cvts2si(.double, .rax, .xmm0, size)
            }
            if word {
                a.cmp(.rax, imm: Int32.min, .dword)
                a.j(.e, interpret, .near)
                a.movsx(.rax, .rax, from: .dword)
            } else {
                a.movabs(.rcx, imm: UInt64(bitPattern: Int64.min))
                a.cmp(.rax, .rcx)
                a.j(.e, interpret, .near)
            }
            a.mov(Self.reg(rd), .rax)
        default:
            preconditionFailure("no inline form for \(d.op)")
        }
        a.bind(resume)
        coldPaths.append { t in
            t.a.bind(interpret)
            t.emitInstructionHelperCall(t.targets.helpers.interpret, instruction, unexecutedAfter: unexecutedAfter,
                                        endsBlock: false)
            t.a.jmp(resume, .near)
        }
    }

    /// fld/flw through the load TLB set; a miss or page crossing goes to `slow` (the interpreter
    /// redoes the whole instruction, which has had no effect yet).
    private mutating func floatLoad(_ d: DecodedInstruction, slow: Label) {
        let bytes = d.op == .fld ? 8 : 4
        a.mov(.rsi, Self.reg(d.rs1))
        let imm = Int32(truncatingIfNeeded: d.imm)
        if imm != 0 { a.add(.rsi, imm: imm) }
        probeTLB(.r13, va: .rsi, bytes: bytes, slow: slow)
        if bytes == 8 {
            a.mov(.rax, .at(.rax))
        } else {
            a.mov(.rax, .at(.rax), .dword)
            a.movabs(.rcx, imm: 0xffff_ffff_0000_0000)   // NaN-boxing
            a.or(.rax, .rcx)
        }
        a.mov(Self.freg(d.rd), .rax)
    }

    /// fsd/fsw: as an integer store (TLB probe, then the page-flags check) of the raw bits.
    private mutating func floatStore(_ d: DecodedInstruction, slow: Label) {
        let bytes = d.op == .fsd ? 8 : 4
        a.mov(.rsi, Self.reg(d.rs1))
        let imm = Int32(truncatingIfNeeded: d.imm)
        if imm != 0 { a.add(.rsi, imm: imm) }
        a.mov(.rdx, Self.freg(d.rs2))
        probeTLB(.r14, va: .rsi, bytes: bytes, slow: slow)
        checkPageFlags(slow: slow)
        a.mov(.at(.rax), .rdx, bytes == 8 ? .qword : .dword)
    }
}
