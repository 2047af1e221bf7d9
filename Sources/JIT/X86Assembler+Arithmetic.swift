/// Shift and rotate operations; the value is the ModRM /digit of c0/c1/d0-d3.
public enum ShiftOperation: UInt8, Sendable {
    case rol = 0, ror = 1, shl = 4, shr = 5, sar = 7
}

/// Shifts, multiply/divide, unary group 3, flag-consuming instructions and atomics.
extension X86Assembler {
    // MARK: Shifts

    /// dst shifted by an immediate count: d1 (no immediate) for 1, as GNU as does, else c1 ib.
    /// The CPU masks the count to 5 bits (dword) or 6 bits (qword), exactly as RISC-V's
    /// sllw/sll do, so a translator can pass counts through unmasked.
    public mutating func shift(_ op: ShiftOperation, _ dst: GPR, by count: UInt8, _ size: OperandSize = .qword) {
        let byte = size == .byte
        if count == 1 {
            instruction(size: size, byte ? 0xD0 : 0xD1, reg: op.rawValue, rm: .register(dst.rawValue),
                        byteRegisters: byteOperands(size, dst))
        } else {
            instruction(size: size, byte ? 0xC0 : 0xC1, reg: op.rawValue, rm: .register(dst.rawValue),
                        byteRegisters: byteOperands(size, dst))
            emit(count)
        }
    }

    /// dst shifted by cl (d3 /digit): variable shifts need their count in rcx.
    public mutating func shiftByCL(_ op: ShiftOperation, _ dst: GPR, _ size: OperandSize = .qword) {
        instruction(size: size, size == .byte ? 0xD2 : 0xD3, reg: op.rawValue, rm: .register(dst.rawValue),
                    byteRegisters: byteOperands(size, dst))
    }

    public mutating func shl(_ d: GPR, by n: UInt8, _ size: OperandSize = .qword) { shift(.shl, d, by: n, size) }
    public mutating func shr(_ d: GPR, by n: UInt8, _ size: OperandSize = .qword) { shift(.shr, d, by: n, size) }
    public mutating func sar(_ d: GPR, by n: UInt8, _ size: OperandSize = .qword) { shift(.sar, d, by: n, size) }

    // MARK: Group 3: not, neg, mul, imul, div, idiv (f6/f7 /digit)

    public enum UnaryOperation: UInt8, Sendable {
        case not = 2, neg = 3
        /// rdx:rax = rax * src, unsigned (RISC-V mulhu takes rdx).
        case mul = 4
        /// rdx:rax = rax * src, signed (mulh).
        case imul = 5
        /// rax = rdx:rax / src, rdx = remainder, unsigned. Faults (#DE) on a zero divisor:
        /// RISC-V defines that result, so the translator must branch around it.
        case div = 6
        /// Signed; also faults on INT_MIN / -1, which RISC-V defines as well.
        case idiv = 7
    }

    public mutating func unary(_ op: UnaryOperation, _ src: GPR, _ size: OperandSize = .qword) {
        instruction(size: size, size == .byte ? 0xF6 : 0xF7, reg: op.rawValue, rm: .register(src.rawValue),
                    byteRegisters: byteOperands(size, src))
    }

    public mutating func unary(_ op: UnaryOperation, _ src: Memory, _ size: OperandSize = .qword) {
        instruction(size: size, size == .byte ? 0xF6 : 0xF7, reg: op.rawValue, rm: .memory(src))
    }

    public mutating func neg(_ r: GPR, _ size: OperandSize = .qword) { unary(.neg, r, size) }
    public mutating func not(_ r: GPR, _ size: OperandSize = .qword) { unary(.not, r, size) }
    public mutating func mul(_ r: GPR, _ size: OperandSize = .qword) { unary(.mul, r, size) }
    public mutating func div(_ r: GPR, _ size: OperandSize = .qword) { unary(.div, r, size) }
    public mutating func idiv(_ r: GPR, _ size: OperandSize = .qword) { unary(.idiv, r, size) }

    /// Sign-extends rax into rdx (cqo, REX.W 99) or eax into edx (cdq, 99) before idiv.
    public mutating func signExtendAccumulator(_ size: OperandSize = .qword) {
        precondition(size == .qword || size == .dword)
        if size == .qword { emit(0x48) }
        emit(0x99)
    }

    /// dst = dst * src, truncated (0f af /r): the low half, identical signed or unsigned.
    public mutating func imul(_ dst: GPR, _ src: GPR, _ size: OperandSize = .qword) {
        instruction(size: size, map: .twoByte, 0xAF, reg: dst.rawValue, rm: .register(src.rawValue))
    }

    public mutating func imul(_ dst: GPR, _ src: Memory, _ size: OperandSize = .qword) {
        instruction(size: size, map: .twoByte, 0xAF, reg: dst.rawValue, rm: .memory(src))
    }

    /// dst = src * imm (6b ib when the immediate fits a signed byte, else 69 id).
    public mutating func imul(_ dst: GPR, _ src: GPR, imm: Int32, _ size: OperandSize = .qword) {
        if let imm8 = Int8(exactly: imm) {
            instruction(size: size, 0x6B, reg: dst.rawValue, rm: .register(src.rawValue))
            emit(UInt8(bitPattern: imm8))
        } else {
            instruction(size: size, 0x69, reg: dst.rawValue, rm: .register(src.rawValue))
            emitImmediate(imm, size)
        }
    }

    // MARK: Flags to values

    /// dst8 = condition ? 1 : 0 (0f 90+cc). Only the low byte is written: zero the register
    /// first (xor before the flag-setting instruction) or movzx afterwards.
    public mutating func set(_ cc: Condition, _ dst: GPR) {
        instruction(size: nil, map: .twoByte, 0x90 + cc.rawValue, reg: 0, rm: .register(dst.rawValue),
                    byteRegisters: (dst, nil))
    }

    /// dst = condition ? src : dst (0f 40+cc /r). The dword form zero-extends even when the
    /// condition is false (SDM: CMOVcc "in 64-bit mode... the upper 32 bits are cleared").
    public mutating func cmov(_ cc: Condition, _ dst: GPR, _ src: GPR, _ size: OperandSize = .qword) {
        instruction(size: size, map: .twoByte, 0x40 + cc.rawValue, reg: dst.rawValue, rm: .register(src.rawValue))
    }

    public mutating func cmov(_ cc: Condition, _ dst: GPR, _ src: Memory, _ size: OperandSize = .qword) {
        instruction(size: size, map: .twoByte, 0x40 + cc.rawValue, reg: dst.rawValue, rm: .memory(src))
    }

    // MARK: Atomics (RISC-V A extension)

    /// [m] <-> r (87 /r). Locked implicitly: no prefix needed for atomicity (amoswap).
    public mutating func xchg(_ m: Memory, _ r: GPR, _ size: OperandSize = .qword) {
        instruction(size: size, size == .byte ? 0x86 : 0x87, reg: r.rawValue, rm: .memory(m),
                    byteRegisters: byteOperands(size, r))
    }

    /// if [m] == rax { [m] = r } else { rax = [m] } (0f b1 /r), ZF set on success: sc and the
    /// compare-and-swap loop behind amoand/amoor/amomin. `lock` makes it atomic across CPUs.
    public mutating func cmpxchg(_ m: Memory, _ r: GPR, _ size: OperandSize = .qword, lock: Bool = true) {
        instruction(prefix: lock ? 0xF0 : 0, size: size, map: .twoByte, size == .byte ? 0xB0 : 0xB1,
                    reg: r.rawValue, rm: .memory(m), byteRegisters: byteOperands(size, r))
    }

    /// tmp = [m]; [m] += r; r = tmp (0f c1 /r): amoadd in one instruction.
    public mutating func xadd(_ m: Memory, _ r: GPR, _ size: OperandSize = .qword, lock: Bool = true) {
        instruction(prefix: lock ? 0xF0 : 0, size: size, map: .twoByte, size == .byte ? 0xC0 : 0xC1,
                    reg: r.rawValue, rm: .memory(m), byteRegisters: byteOperands(size, r))
    }

    /// Full fence (0f ae f0): x86 orders everything except store-to-load, which RISC-V
    /// `fence rw,rw` (and .aqrl sequences) need.
    public mutating func mfence() { emit([0x0F, 0xAE, 0xF0]) }
}
