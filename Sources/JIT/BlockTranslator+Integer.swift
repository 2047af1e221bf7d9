@_spi(JIT) import RISCV

/// Inline x86-64 for RV64IM and Zba/Zbb register arithmetic. Operands come from the register
/// cache or the guest register file ([rbx + 8 * r]), results go to the cache
/// (BlockTranslator+Registers.swift). rax, rcx and rdx are the temporaries.
extension BlockTranslator {
    mutating func emitNative(_ instruction: Instruction, unexecutedAfter: Int) {
        let d = instruction.decoded
        let rd = d.rd, rs1 = d.rs1, rs2 = d.rs2
        let imm = d.imm
        let imm32 = Int32(truncatingIfNeeded: imm)
        switch d.op {
        case .lui:
            writeGuest(rd, immediate: Int64(imm32))
        case .auipc:
            guestPC(.rax, plus: instruction.offset + Int(imm))
            writeGuest(rd, from: .rax)
        case .fence:
            break   // One host thread runs every hart: memory is already sequentially consistent.

        case .addi:
            if rs1 == 0 {
                writeGuest(rd, immediate: Int64(imm32))
            } else {
                aluImmediate(.add, rd, rs1, imm32)
            }
        case .xori: aluImmediate(.xor, rd, rs1, imm32)
        case .ori: aluImmediate(.or, rd, rs1, imm32)
        case .andi: aluImmediate(.and, rd, rs1, imm32)
        case .slti, .sltiu:
            a.xor(.rcx, .rcx, .dword)
            loadGuest(.rax, rs1)
            a.cmp(.rax, imm: imm32)
            a.set(d.op == .slti ? .l : .b, .rcx)
            writeGuest(rd, from: .rcx)
        case .slli: shiftImmediate(.shl, rd, rs1, imm, .qword)
        case .srli: shiftImmediate(.shr, rd, rs1, imm, .qword)
        case .srai: shiftImmediate(.sar, rd, rs1, imm, .qword)
        case .add: aluRegister(.add, rd, rs1, rs2, .qword)
        case .sub: aluRegister(.sub, rd, rs1, rs2, .qword)
        case .xor: aluRegister(.xor, rd, rs1, rs2, .qword)
        case .or: aluRegister(.or, rd, rs1, rs2, .qword)
        case .and: aluRegister(.and, rd, rs1, rs2, .qword)
        case .sll: shiftRegister(.shl, rd, rs1, rs2, .qword)
        case .srl: shiftRegister(.shr, rd, rs1, rs2, .qword)
        case .sra: shiftRegister(.sar, rd, rs1, rs2, .qword)
        case .slt, .sltu:
            a.xor(.rcx, .rcx, .dword)
            loadGuest(.rax, rs1)
            aluGuest(.cmp, .rax, rs2)
            a.set(d.op == .slt ? .l : .b, .rcx)
            writeGuest(rd, from: .rcx)

        case .addiw:
            loadGuest(.rax, rs1, .dword)
            if imm32 != 0 { a.add(.rax, imm: imm32, .dword) }
            signExtendWordResult(rd)
        case .slliw: shiftImmediate(.shl, rd, rs1, imm, .dword)
        case .srliw: shiftImmediate(.shr, rd, rs1, imm, .dword)
        case .sraiw: shiftImmediate(.sar, rd, rs1, imm, .dword)
        case .addw: aluRegister(.add, rd, rs1, rs2, .dword)
        case .subw: aluRegister(.sub, rd, rs1, rs2, .dword)
        case .sllw: shiftRegister(.shl, rd, rs1, rs2, .dword)
        case .srlw: shiftRegister(.shr, rd, rs1, rs2, .dword)
        case .sraw: shiftRegister(.sar, rd, rs1, rs2, .dword)

        case .mul, .mulw:
            let size: OperandSize = d.op == .mul ? .qword : .dword
            loadGuest(.rax, rs1, size)
            switch operand(rs2) {
            case .register(let h): a.imul(.rax, h, size)
            case .memory(let m): a.imul(.rax, m, size)
            }
            if size == .dword { signExtendWordResult(rd) } else { writeGuest(rd, from: .rax) }
        case .mulh, .mulhu:
            loadGuest(.rax, rs1)
            loadGuest(.rcx, rs2)
            a.unary(d.op == .mulh ? .imul : .mul, .rcx)
            writeGuest(rd, from: .rdx)
        case .mulhsu:
            // signed x unsigned high word = unsigned high word - (rs1 < 0 ? rs2 : 0).
            loadGuest(.rax, rs1)
            loadGuest(.rcx, rs2)
            a.mul(.rcx)
            loadGuest(.rax, rs1)
            a.sar(.rax, by: 63)
            a.and(.rax, .rcx)
            a.sub(.rdx, .rax)
            writeGuest(rd, from: .rdx)
        case .div, .divu, .rem, .remu, .divw, .divuw, .remw, .remuw:
            emitDivide(d.op, rd, rs1, rs2)

        case .lb, .lh, .lw, .ld, .lbu, .lhu, .lwu:
            emitLoad(instruction, unexecutedAfter: unexecutedAfter)
        case .sb, .sh, .sw, .sd:
            emitStore(instruction, unexecutedAfter: unexecutedAfter)

        default:
            // Zba/Zbb: the interpreter's pure function, called directly (no hart state involved).
            flushCache()
            a.mov(.rdi, imm: Int64(d.op.rawValue))
            a.mov(.rsi, Self.reg(rs1))
            a.mov(.rdx, Self.reg(rs2))
            a.mov(.rcx, imm: imm)
            a.call(absolute: targets.helpers.bitManipulation)
            writeGuest(rd, from: .rax)
        }
    }

    private mutating func aluImmediate(_ op: ALUOperation, _ rd: UInt8, _ rs1: UInt8, _ imm: Int32) {
        loadGuest(.rax, rs1)
        if imm != 0 || op == .and { a.alu(op, .rax, imm: imm) }
        writeGuest(rd, from: .rax)
    }

    private mutating func aluRegister(_ op: ALUOperation, _ rd: UInt8, _ rs1: UInt8, _ rs2: UInt8, _ size: OperandSize) {
        loadGuest(.rax, rs1, size)
        aluGuest(op, .rax, rs2, size)
        if size == .dword { signExtendWordResult(rd) } else { writeGuest(rd, from: .rax) }
    }

    /// x86 masks shift counts to 6 bits (qword) or 5 bits (dword), exactly as RISC-V does.
    private mutating func shiftImmediate(_ op: ShiftOperation, _ rd: UInt8, _ rs1: UInt8, _ imm: Int64, _ size: OperandSize) {
        let mask: Int64 = size == .qword ? 63 : 31
        loadGuest(.rax, rs1, size)
        let count = UInt8(imm & mask)
        if count != 0 { a.shift(op, .rax, by: count, size) }
        if size == .dword { signExtendWordResult(rd) } else { writeGuest(rd, from: .rax) }
    }

    private mutating func shiftRegister(_ op: ShiftOperation, _ rd: UInt8, _ rs1: UInt8, _ rs2: UInt8, _ size: OperandSize) {
        loadGuest(.rcx, rs2)
        loadGuest(.rax, rs1, size)
        a.shiftByCL(op, .rax, size)
        if size == .dword { signExtendWordResult(rd) } else { writeGuest(rd, from: .rax) }
    }

    /// rd = sign-extended eax (every RV64 *W result).
    private mutating func signExtendWordResult(_ rd: UInt8) {
        a.movsx(.rax, .rax, from: .dword)
        writeGuest(rd, from: .rax)
    }

    /// RISC-V division never traps: x / 0 = all ones, x % 0 = x, and the one signed overflow
    /// (minimum / -1) gives the minimum and remainder 0 (unprivileged spec, "M" chapter).
    /// x86 idiv faults on both, so they are tested first.
    private mutating func emitDivide(_ op: Opcode, _ rd: UInt8, _ rs1: UInt8, _ rs2: UInt8) {
        let word = [.divw, .divuw, .remw, .remuw].contains(op)
        let signed = [.div, .rem, .divw, .remw].contains(op)
        let remainder = [.rem, .remu, .remw, .remuw].contains(op)
        let size: OperandSize = word ? .dword : .qword
        let byZero = a.makeLabel(), overflow = a.makeLabel(), divide = a.makeLabel(), done = a.makeLabel()
        loadGuest(.rax, rs1, size)
        loadGuest(.rcx, rs2, size)
        a.test(.rcx, .rcx, size)
        a.j(.e, byZero, .near)
        if signed {
            a.cmp(.rcx, imm: -1, size)
            a.j(.ne, divide, .near)
            if word {
                a.cmp(.rax, imm: Int32.min, .dword)
            } else {
                a.movabs(.rdx, imm: UInt64(bitPattern: Int64.min))
                a.cmp(.rax, .rdx)
            }
            a.j(.e, overflow, .near)
        }
        a.bind(divide)
        if signed {
            a.signExtendAccumulator(size)
            a.idiv(.rcx, size)
        } else {
            a.xor(.rdx, .rdx, .dword)
            a.div(.rcx, size)
        }
        if remainder { a.mov(.rax, .rdx) }
        a.jmp(done, .near)
        a.bind(byZero)
        if !remainder { a.mov(.rax, imm: -1) }  // else the dividend, already in rax
        a.jmp(done, .near)
        a.bind(overflow)
        if remainder { a.xor(.rax, .rax, .dword) }  // else the dividend (the minimum)
        a.bind(done)
        if word { a.movsx(.rax, .rax, from: .dword) }
        writeGuest(rd, from: .rax)
    }
}
