/// Scalar floating-point precision: selects the mandatory prefix of the scalar SSE forms
/// (f3 = single "ss", f2 = double "sd") and the 66/none prefix of the packed logic forms.
public enum FloatPrecision: Sendable {
    case single, double

    var scalarPrefix: UInt8 { self == .single ? 0xF3 : 0xF2 }
    var packedPrefix: UInt8 { self == .single ? 0 : 0x66 }
}

/// Scalar arithmetic with one opcode per operation in the 0f map.
public enum ScalarOperation: UInt8, Sendable {
    case sqrt = 0x51, add = 0x58, mul = 0x59, sub = 0x5C, min = 0x5D, div = 0x5E, max = 0x5F
}

/// SSE/SSE2 scalar floating point: the host side of RISC-V's F and D extensions.
///
/// Caveats the translator must handle around these: minsd/maxsd return the second operand
/// when either is NaN or both are zero (RISC-V wants the non-NaN one and orders -0 < +0);
/// conversions to integer return 0x8000... on overflow and NaN (RISC-V saturates); the
/// rounding mode and the exception flags live in MXCSR (ldmxcsr/stmxcsr), not per instruction.
extension X86Assembler {
    // MARK: Moves

    /// Load a scalar (movss/movsd xmm, m: f3/f2 0f 10): clears the rest of the register.
    public mutating func movs(_ p: FloatPrecision, _ dst: XMM, _ src: Memory) {
        sse(p.scalarPrefix, 0x10, dst.rawValue, .memory(src))
    }

    /// Store a scalar (f3/f2 0f 11).
    public mutating func movs(_ p: FloatPrecision, _ dst: Memory, _ src: XMM) {
        sse(p.scalarPrefix, 0x11, src.rawValue, .memory(dst))
    }

    /// Register to register (f3/f2 0f 10): merges into dst's low lane only.
    public mutating func movs(_ p: FloatPrecision, _ dst: XMM, _ src: XMM) {
        sse(p.scalarPrefix, 0x10, dst.rawValue, .register(src.rawValue))
    }

    public mutating func movsd(_ d: XMM, _ s: Memory) { movs(.double, d, s) }
    public mutating func movsd(_ d: Memory, _ s: XMM) { movs(.double, d, s) }
    public mutating func movss(_ d: XMM, _ s: Memory) { movs(.single, d, s) }
    public mutating func movss(_ d: Memory, _ s: XMM) { movs(.single, d, s) }

    /// Whole-register copy (movaps, 0f 28): no dependency on dst's old value, unlike movsd.
    public mutating func movaps(_ dst: XMM, _ src: XMM) {
        sse(0, 0x28, dst.rawValue, .register(src.rawValue))
    }

    /// Bit moves between integer and SSE registers (66 0f 6e / 66 0f 7e; REX.W makes them
    /// movq): how RISC-V fmv.x.d / fmv.d.x and NaN-boxing are done.
    public mutating func movq(_ dst: XMM, _ src: GPR) {
        sse(0x66, 0x6E, dst.rawValue, .register(src.rawValue), size: .qword)
    }

    public mutating func movq(_ dst: GPR, _ src: XMM) {
        sse(0x66, 0x7E, src.rawValue, .register(dst.rawValue), size: .qword)
    }

    public mutating func movd(_ dst: XMM, _ src: GPR) {
        sse(0x66, 0x6E, dst.rawValue, .register(src.rawValue))
    }

    public mutating func movd(_ dst: GPR, _ src: XMM) {
        sse(0x66, 0x7E, src.rawValue, .register(dst.rawValue))
    }

    // MARK: Arithmetic

    public mutating func scalar(_ op: ScalarOperation, _ p: FloatPrecision, _ dst: XMM, _ src: XMM) {
        sse(p.scalarPrefix, op.rawValue, dst.rawValue, .register(src.rawValue))
    }

    public mutating func scalar(_ op: ScalarOperation, _ p: FloatPrecision, _ dst: XMM, _ src: Memory) {
        sse(p.scalarPrefix, op.rawValue, dst.rawValue, .memory(src))
    }

    public mutating func addsd(_ d: XMM, _ s: XMM) { scalar(.add, .double, d, s) }
    public mutating func subsd(_ d: XMM, _ s: XMM) { scalar(.sub, .double, d, s) }
    public mutating func mulsd(_ d: XMM, _ s: XMM) { scalar(.mul, .double, d, s) }
    public mutating func divsd(_ d: XMM, _ s: XMM) { scalar(.div, .double, d, s) }
    public mutating func sqrtsd(_ d: XMM, _ s: XMM) { scalar(.sqrt, .double, d, s) }
    public mutating func addss(_ d: XMM, _ s: XMM) { scalar(.add, .single, d, s) }
    public mutating func subss(_ d: XMM, _ s: XMM) { scalar(.sub, .single, d, s) }
    public mutating func mulss(_ d: XMM, _ s: XMM) { scalar(.mul, .single, d, s) }
    public mutating func divss(_ d: XMM, _ s: XMM) { scalar(.div, .single, d, s) }
    public mutating func sqrtss(_ d: XMM, _ s: XMM) { scalar(.sqrt, .single, d, s) }

    /// Unordered compare (ucomiss 0f 2e, ucomisd 66 0f 2e): ZF/PF/CF = 111 when unordered, so
    /// "equal" is e and np. Raises invalid only for signalling NaNs, like RISC-V feq.
    public mutating func ucomis(_ p: FloatPrecision, _ a: XMM, _ b: XMM) {
        sse(p.packedPrefix, 0x2E, a.rawValue, .register(b.rawValue))
    }

    /// Ordered compare (comiss/comisd, 0f 2f): invalid on any NaN, like RISC-V flt/fle.
    public mutating func comis(_ p: FloatPrecision, _ a: XMM, _ b: XMM) {
        sse(p.packedPrefix, 0x2F, a.rawValue, .register(b.rawValue))
    }

    // MARK: Bitwise (packed forms, used on scalars for sign injection and negation)

    public enum BitwiseOperation: UInt8, Sendable {
        case and = 0x54, andNot = 0x55, or = 0x56, xor = 0x57
    }

    public mutating func bitwise(_ op: BitwiseOperation, _ p: FloatPrecision, _ dst: XMM, _ src: XMM) {
        sse(p.packedPrefix, op.rawValue, dst.rawValue, .register(src.rawValue))
    }

    // MARK: Conversions

    /// Integer (dword or qword, signed) to float: cvtsi2ss/sd (f3/f2 [REX.W] 0f 2a).
    public mutating func cvtsi2s(_ p: FloatPrecision, _ dst: XMM, _ src: GPR, _ size: OperandSize = .qword) {
        sse(p.scalarPrefix, 0x2A, dst.rawValue, .register(src.rawValue), size: size)
    }

    /// Float to signed integer truncating toward zero (cvtts*2si, 0f 2c).
    public mutating func cvtts2si(_ p: FloatPrecision, _ dst: GPR, _ src: XMM, _ size: OperandSize = .qword) {
        sse(p.scalarPrefix, 0x2C, dst.rawValue, .register(src.rawValue), size: size)
    }

    /// Float to signed integer in the MXCSR rounding mode (cvts*2si, 0f 2d).
    public mutating func cvts2si(_ p: FloatPrecision, _ dst: GPR, _ src: XMM, _ size: OperandSize = .qword) {
        sse(p.scalarPrefix, 0x2D, dst.rawValue, .register(src.rawValue), size: size)
    }

    /// Between precisions: cvtsd2ss (f2 0f 5a) narrows, cvtss2sd (f3 0f 5a) widens.
    /// `from` is the source precision.
    public mutating func cvtPrecision(from: FloatPrecision, _ dst: XMM, _ src: XMM) {
        sse(from.scalarPrefix, 0x5A, dst.rawValue, .register(src.rawValue))
    }

    // MARK: MXCSR

    /// MXCSR = [m] (0f ae /2): the rounding mode (bits 14:13) for the next operations.
    public mutating func ldmxcsr(_ m: Memory) {
        instruction(size: nil, map: .twoByte, 0xAE, reg: 2, rm: .memory(m))
    }

    /// [m] = MXCSR (0f ae /3): sticky exception flags (bits 5:0) for RISC-V's fflags.
    public mutating func stmxcsr(_ m: Memory) {
        instruction(size: nil, map: .twoByte, 0xAE, reg: 3, rm: .memory(m))
    }

    /// Every SSE instruction here: mandatory prefix, then REX, then 0f opcode.
    private mutating func sse(_ prefix: UInt8, _ opcode: UInt8, _ reg: UInt8, _ rm: RM, size: OperandSize? = nil) {
        instruction(prefix: prefix, size: size == .qword ? .qword : nil, map: .twoByte, opcode, reg: reg, rm: rm)
    }
}
