/// The eight classic ALU operations. The value is both the ModRM /digit of the immediate
/// forms (0x80/0x81/0x83) and bits 5:3 of the register forms' opcode (add 0x00, or 0x08, ...).
public enum ALUOperation: UInt8, Sendable {
    case add = 0, or, adc, sbb, and, sub, xor, cmp
}

/// Integer ALU, moves, extensions and address arithmetic.
extension X86Assembler {
    // MARK: ALU: add, or, adc, sbb, and, sub, xor, cmp

    /// dst op= src. Encoded as the "r/m, reg" form (opcode +1; +0 for bytes), as GNU as does.
    public mutating func alu(_ op: ALUOperation, _ dst: GPR, _ src: GPR, _ size: OperandSize = .qword) {
        instruction(size: size, op.rawValue << 3 | (size == .byte ? 0 : 1), reg: src.rawValue,
                    rm: .register(dst.rawValue), byteRegisters: byteOperands(size, dst, src))
    }

    /// dst op= [src] ("reg, r/m" form, opcode +3; +2 for bytes).
    public mutating func alu(_ op: ALUOperation, _ dst: GPR, _ src: Memory, _ size: OperandSize = .qword) {
        instruction(size: size, op.rawValue << 3 | (size == .byte ? 2 : 3), reg: dst.rawValue,
                    rm: .memory(src), byteRegisters: byteOperands(size, dst))
    }

    /// [dst] op= src.
    public mutating func alu(_ op: ALUOperation, _ dst: Memory, _ src: GPR, _ size: OperandSize = .qword) {
        instruction(size: size, op.rawValue << 3 | (size == .byte ? 0 : 1), reg: src.rawValue,
                    rm: .memory(dst), byteRegisters: byteOperands(size, src))
    }

    /// dst op= imm. A sign-extended imm8 (0x83) when it fits; otherwise the accumulator's
    /// one-byte-shorter form (op*8+4/+5) for al/ax/eax/rax, else 0x81 with a full immediate.
    /// For qword the imm32 is sign-extended to 64 bits.
    public mutating func alu(_ op: ALUOperation, _ dst: GPR, imm: Int32, _ size: OperandSize = .qword) {
        if size == .byte {
            if dst == .rax {
                emit(op.rawValue << 3 | 4)
            } else {
                instruction(size: size, 0x80, reg: op.rawValue, rm: .register(dst.rawValue),
                            byteRegisters: (dst, nil))
            }
            emitImmediate(imm, size)
        } else if Int8(exactly: imm) != nil {
            instruction(size: size, 0x83, reg: op.rawValue, rm: .register(dst.rawValue))
            emit(UInt8(bitPattern: Int8(imm)))
        } else {
            if dst == .rax {
                if size == .word { emit(0x66) }
                if size == .qword { emit(0x48) }
                emit(op.rawValue << 3 | 5)
            } else {
                instruction(size: size, 0x81, reg: op.rawValue, rm: .register(dst.rawValue))
            }
            emitImmediate(imm, size)
        }
    }

    /// [dst] op= imm.
    public mutating func alu(_ op: ALUOperation, _ dst: Memory, imm: Int32, _ size: OperandSize = .qword) {
        let short = size != .byte && Int8(exactly: imm) != nil
        let opcode: UInt8 = size == .byte ? 0x80 : (short ? 0x83 : 0x81)
        let immBytes = short ? 1 : min(size.rawValue, 4)
        instruction(size: size, opcode, reg: op.rawValue, rm: .memory(dst), immediateBytes: immBytes)
        if short { emit(UInt8(bitPattern: Int8(imm))) } else { emitImmediate(imm, size) }
    }

    public mutating func add(_ d: GPR, _ s: GPR, _ size: OperandSize = .qword) { alu(.add, d, s, size) }
    public mutating func add(_ d: GPR, _ s: Memory, _ size: OperandSize = .qword) { alu(.add, d, s, size) }
    public mutating func add(_ d: GPR, imm: Int32, _ size: OperandSize = .qword) { alu(.add, d, imm: imm, size) }
    public mutating func sub(_ d: GPR, _ s: GPR, _ size: OperandSize = .qword) { alu(.sub, d, s, size) }
    public mutating func sub(_ d: GPR, _ s: Memory, _ size: OperandSize = .qword) { alu(.sub, d, s, size) }
    public mutating func sub(_ d: GPR, imm: Int32, _ size: OperandSize = .qword) { alu(.sub, d, imm: imm, size) }
    public mutating func and(_ d: GPR, _ s: GPR, _ size: OperandSize = .qword) { alu(.and, d, s, size) }
    public mutating func and(_ d: GPR, imm: Int32, _ size: OperandSize = .qword) { alu(.and, d, imm: imm, size) }
    public mutating func or(_ d: GPR, _ s: GPR, _ size: OperandSize = .qword) { alu(.or, d, s, size) }
    public mutating func or(_ d: GPR, imm: Int32, _ size: OperandSize = .qword) { alu(.or, d, imm: imm, size) }
    public mutating func xor(_ d: GPR, _ s: GPR, _ size: OperandSize = .qword) { alu(.xor, d, s, size) }
    public mutating func xor(_ d: GPR, imm: Int32, _ size: OperandSize = .qword) { alu(.xor, d, imm: imm, size) }
    public mutating func cmp(_ d: GPR, _ s: GPR, _ size: OperandSize = .qword) { alu(.cmp, d, s, size) }
    public mutating func cmp(_ d: GPR, _ s: Memory, _ size: OperandSize = .qword) { alu(.cmp, d, s, size) }
    public mutating func cmp(_ d: GPR, imm: Int32, _ size: OperandSize = .qword) { alu(.cmp, d, imm: imm, size) }
    public mutating func cmp(_ d: Memory, imm: Int32, _ size: OperandSize = .qword) { alu(.cmp, d, imm: imm, size) }

    // MARK: test

    /// Flags of a & b (85 /r; 84 for bytes).
    public mutating func test(_ a: GPR, _ b: GPR, _ size: OperandSize = .qword) {
        instruction(size: size, size == .byte ? 0x84 : 0x85, reg: b.rawValue, rm: .register(a.rawValue),
                    byteRegisters: byteOperands(size, a, b))
    }

    /// Flags of a & imm: a8/a9 for the accumulator, else f6/f7 /0. There is no imm8 form.
    public mutating func test(_ a: GPR, imm: Int32, _ size: OperandSize = .qword) {
        if a == .rax {
            if size == .word { emit(0x66) }
            if size == .qword { emit(0x48) }
            emit(size == .byte ? 0xA8 : 0xA9)
        } else {
            instruction(size: size, size == .byte ? 0xF6 : 0xF7, reg: 0, rm: .register(a.rawValue),
                        byteRegisters: (size == .byte ? a : nil, nil))
        }
        emitImmediate(imm, size)
    }

    public mutating func test(_ a: Memory, imm: Int32, _ size: OperandSize = .qword) {
        instruction(size: size, size == .byte ? 0xF6 : 0xF7, reg: 0, rm: .memory(a),
                    immediateBytes: min(size.rawValue, 4))
        emitImmediate(imm, size)
    }

    // MARK: Moves

    /// dst = src (89 /r, the store direction, as GNU as picks for register pairs). A dword move
    /// zero-extends into the upper half: the idiom for RISC-V's zext.w.
    public mutating func mov(_ dst: GPR, _ src: GPR, _ size: OperandSize = .qword) {
        instruction(size: size, size == .byte ? 0x88 : 0x89, reg: src.rawValue, rm: .register(dst.rawValue),
                    byteRegisters: byteOperands(size, dst, src))
    }

    /// Load: dst = [src]. Byte and word loads leave the rest of dst unchanged; use movzx/movsx.
    public mutating func mov(_ dst: GPR, _ src: Memory, _ size: OperandSize = .qword) {
        instruction(size: size, size == .byte ? 0x8A : 0x8B, reg: dst.rawValue, rm: .memory(src),
                    byteRegisters: byteOperands(size, dst))
    }

    /// Store: [dst] = src.
    public mutating func mov(_ dst: Memory, _ src: GPR, _ size: OperandSize = .qword) {
        instruction(size: size, size == .byte ? 0x88 : 0x89, reg: src.rawValue, rm: .memory(dst),
                    byteRegisters: byteOperands(size, src))
    }

    /// Store an immediate: [dst] = imm (c6/c7 /0; sign-extended imm32 for qword).
    public mutating func mov(_ dst: Memory, imm: Int32, _ size: OperandSize = .qword) {
        instruction(size: size, size == .byte ? 0xC6 : 0xC7, reg: 0, rm: .memory(dst),
                    immediateBytes: min(size.rawValue, 4))
        emitImmediate(imm, size)
    }

    /// dst = imm, in the shortest form: b8+r imm32 for values that fit unsigned 32 bits (the
    /// dword write zero-extends), REX.W c7 /0 imm32 for negative values that fit signed 32
    /// bits, movabs otherwise.
    public mutating func mov(_ dst: GPR, imm: Int64) {
        if UInt32(exactly: imm) != nil {
            instruction(opcodePlusRegister: 0xB8, dst, rexW: false)
            emit32(Int32(bitPattern: UInt32(imm)))
        } else if let imm32 = Int32(exactly: imm) {
            instruction(size: .qword, 0xC7, reg: 0, rm: .register(dst.rawValue))
            emit32(imm32)
        } else {
            movabs(dst, imm: UInt64(bitPattern: imm))
        }
    }

    /// dst = imm64 (REX.W b8+r io), always 10 bytes: the form whose immediate can be patched
    /// in place (helper addresses, chaining targets).
    public mutating func movabs(_ dst: GPR, imm: UInt64) {
        instruction(opcodePlusRegister: 0xB8, dst, rexW: true)
        emit64(imm)
    }

    /// Zero-extending move from a byte or word (0f b6 / 0f b7 into the dword register, which
    /// clears bits 63:32 too) or a dword (a plain dword mov does that).
    public mutating func movzx(_ dst: GPR, _ src: GPR, from: OperandSize) {
        switch from {
        case .byte, .word:
            instruction(size: .dword, map: .twoByte, from == .byte ? 0xB6 : 0xB7, reg: dst.rawValue,
                        rm: .register(src.rawValue), byteRegisters: (from == .byte ? src : nil, nil))
        case .dword: mov(dst, src, .dword)
        case .qword: mov(dst, src, .qword)
        }
    }

    /// Zero-extending load (RISC-V lbu/lhu/lwu).
    public mutating func movzx(_ dst: GPR, _ src: Memory, from: OperandSize) {
        switch from {
        case .byte, .word:
            instruction(size: .dword, map: .twoByte, from == .byte ? 0xB6 : 0xB7, reg: dst.rawValue, rm: .memory(src))
        case .dword: mov(dst, src, .dword)
        case .qword: mov(dst, src, .qword)
        }
    }

    /// Sign-extending move into a dword or qword register: 0f be / 0f bf for bytes and words,
    /// movsxd (REX.W 63) for dwords — RISC-V's sext.w and every *W result.
    public mutating func movsx(_ dst: GPR, _ src: GPR, from: OperandSize, to: OperandSize = .qword) {
        movsx(dst, rm: .register(src.rawValue), byteSource: from == .byte ? src : nil, from: from, to: to)
    }

    /// Sign-extending load (RISC-V lb/lh/lw).
    public mutating func movsx(_ dst: GPR, _ src: Memory, from: OperandSize, to: OperandSize = .qword) {
        movsx(dst, rm: .memory(src), byteSource: nil, from: from, to: to)
    }

    private mutating func movsx(_ dst: GPR, rm: RM, byteSource: GPR?, from: OperandSize, to: OperandSize) {
        precondition(from.rawValue < to.rawValue && to.rawValue >= 4, "movsx widens to dword or qword")
        switch from {
        case .byte, .word:
            instruction(size: to, map: .twoByte, from == .byte ? 0xBE : 0xBF, reg: dst.rawValue, rm: rm,
                        byteRegisters: (byteSource, nil))
        case .dword, .qword:
            instruction(size: .qword, 0x63, reg: dst.rawValue, rm: rm)
        }
    }

    /// dst = effective address of src (8d /r), no flags changed: three-operand adds.
    public mutating func lea(_ dst: GPR, _ src: Memory, _ size: OperandSize = .qword) {
        instruction(size: size, 0x8D, reg: dst.rawValue, rm: .memory(src))
    }

    /// The registers that are byte operands for this operand size (REX needed for sil etc.).
    @inline(__always)
    func byteOperands(_ size: OperandSize, _ a: GPR, _ b: GPR? = nil) -> (GPR?, GPR?) {
        size == .byte ? (a, b) : (nil, nil)
    }
}
