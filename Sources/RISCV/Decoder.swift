/// Decodes 32-bit RV64GC (plus Zba/Zbb) encodings (unprivileged spec, chapter "RV32/64G
/// Instruction Set Listings"). Anything not listed decodes to `.illegal`, which the hart turns
/// into an illegal-instruction exception with the encoding in tval.
public enum Decoder {
    /// Integer destination: x0 becomes the scratch slot 32.
    @inline(__always) static func xd(_ r: UInt32) -> UInt8 { r == 0 ? 32 : UInt8(r) }

    @inline(__always) static func signExtend(_ value: UInt32, bits: Int) -> Int64 {
        let shift = 64 - bits
        return (Int64(value) << shift) >> shift
    }

    public static func decode(_ w: UInt32) -> DecodedInstruction {
        let opcode = w & 0x7f
        let rd = (w >> 7) & 31
        let funct3 = (w >> 12) & 7
        let rs1 = UInt8((w >> 15) & 31)
        let rs2 = UInt8((w >> 20) & 31)
        let funct7 = w >> 25
        let immI = Int64(Int32(bitPattern: w) >> 20)
        let immS = Int64(Int32(bitPattern: w & 0xfe00_0000) >> 20) | Int64((w >> 7) & 31)
        let immB = signExtend(((w >> 31) << 12) | (((w >> 7) & 1) << 11) | (((w >> 25) & 0x3f) << 5)
                              | (((w >> 8) & 0xf) << 1), bits: 13)
        let immU = Int64(Int32(bitPattern: w & 0xffff_f000))
        let immJ = signExtend(((w >> 31) << 20) | (((w >> 12) & 0xff) << 12) | (((w >> 20) & 1) << 11)
                              | (((w >> 21) & 0x3ff) << 1), bits: 21)

        func r(_ op: Opcode) -> DecodedInstruction {
            DecodedInstruction(op: op, rd: xd(rd), rs1: rs1, rs2: rs2)
        }
        func i(_ op: Opcode, _ imm: Int64) -> DecodedInstruction {
            DecodedInstruction(op: op, rd: xd(rd), rs1: rs1, imm: imm)
        }
        let illegal = DecodedInstruction.illegal

        switch opcode {
        case 0x37: return DecodedInstruction(op: .lui, rd: xd(rd), imm: immU)
        case 0x17: return DecodedInstruction(op: .auipc, rd: xd(rd), imm: immU)
        case 0x6f: return DecodedInstruction(op: .jal, rd: xd(rd), imm: immJ)
        case 0x67: return funct3 == 0 ? i(.jalr, immI) : illegal
        case 0x63:
            guard let op = branchOps[Int(funct3)] else { return illegal }
            return DecodedInstruction(op: op, rs1: rs1, rs2: rs2, imm: immB)
        case 0x03:
            guard let op = loadOps[Int(funct3)] else { return illegal }
            return i(op, immI)
        case 0x23:
            guard let op = storeOps[Int(funct3)] else { return illegal }
            return DecodedInstruction(op: op, rs1: rs1, rs2: rs2, imm: immS)
        case 0x13: return decodeOpImm(w, funct3: funct3, rd: rd, rs1: rs1, immI: immI)
        case 0x1b: return decodeOpImm32(w, funct3: funct3, rd: rd, rs1: rs1, immI: immI)
        case 0x33: return decodeOp(w, funct3: funct3, funct7: funct7, rd: rd, rs1: rs1, rs2: rs2)
        case 0x3b: return decodeOp32(w, funct3: funct3, funct7: funct7, rd: rd, rs1: rs1, rs2: rs2)
        case 0x0f:
            switch funct3 {
            case 0: return DecodedInstruction(op: .fence)
            case 1: return DecodedInstruction(op: .fenceI)
            default: return illegal
            }
        case 0x73: return decodeSystem(w, funct3: funct3, rd: rd, rs1: rs1, rs2: rs2, funct7: funct7)
        case 0x2f: return decodeAtomic(w, funct3: funct3, rd: rd, rs1: rs1, rs2: rs2)
        case 0x07:
            switch funct3 {
            case 2: return DecodedInstruction(op: .flw, rd: UInt8(rd), rs1: rs1, imm: immI)
            case 3: return DecodedInstruction(op: .fld, rd: UInt8(rd), rs1: rs1, imm: immI)
            default: return illegal
            }
        case 0x27:
            switch funct3 {
            case 2: return DecodedInstruction(op: .fsw, rs1: rs1, rs2: rs2, imm: immS)
            case 3: return DecodedInstruction(op: .fsd, rs1: rs1, rs2: rs2, imm: immS)
            default: return illegal
            }
        case 0x43, 0x47, 0x4b, 0x4f:
            let fmt = (w >> 25) & 3
            let rs3 = UInt8(w >> 27)
            let index = Int((opcode - 0x43) >> 2)
            let op: Opcode
            switch fmt {
            case 0: op = fusedSingle[index]
            case 1: op = fusedDouble[index]
            default: return illegal
            }
            return DecodedInstruction(op: op, rd: UInt8(rd), rs1: rs1, rs2: rs2, rs3: rs3, rm: UInt8(funct3))
        case 0x53: return decodeFloat(w, funct3: funct3, funct7: funct7, rd: rd, rs1: rs1, rs2: rs2)
        default: return illegal
        }
    }

    static func decodeOpImm(_ w: UInt32, funct3: UInt32, rd: UInt32, rs1: UInt8, immI: Int64) -> DecodedInstruction {
        let shamt = Int64((w >> 20) & 63)
        let top6 = w >> 26
        func i(_ op: Opcode, _ imm: Int64) -> DecodedInstruction { DecodedInstruction(op: op, rd: xd(rd), rs1: rs1, imm: imm) }
        switch funct3 {
        case 0: return i(.addi, immI)
        case 2: return i(.slti, immI)
        case 3: return i(.sltiu, immI)
        case 4: return i(.xori, immI)
        case 6: return i(.ori, immI)
        case 7: return i(.andi, immI)
        case 1:
            if top6 == 0 { return i(.slli, shamt) }
            switch w >> 20 {
            case 0x600: return i(.clz, 0)
            case 0x601: return i(.ctz, 0)
            case 0x602: return i(.cpop, 0)
            case 0x604: return i(.sextB, 0)
            case 0x605: return i(.sextH, 0)
            default: return .illegal
            }
        case 5:
            if top6 == 0 { return i(.srli, shamt) }
            if top6 == 0x10 { return i(.srai, shamt) }
            if top6 == 0x18 { return i(.rori, shamt) }
            if (w >> 20) == 0x287 { return i(.orcB, 0) }
            if (w >> 20) == 0x6b8 { return i(.rev8, 0) }
            return .illegal
        default: return .illegal
        }
    }

    static func decodeOpImm32(_ w: UInt32, funct3: UInt32, rd: UInt32, rs1: UInt8, immI: Int64) -> DecodedInstruction {
        let shamt = Int64((w >> 20) & 31)
        let funct7 = w >> 25
        func i(_ op: Opcode, _ imm: Int64) -> DecodedInstruction { DecodedInstruction(op: op, rd: xd(rd), rs1: rs1, imm: imm) }
        switch (funct3, funct7) {
        case (0, _): return i(.addiw, immI)
        case (1, 0): return i(.slliw, shamt)
        case (1, 0x04), (1, 0x05): return i(.slliUW, Int64((w >> 20) & 63))
        case (1, 0x30):
            switch (w >> 20) & 31 {
            case 0: return i(.clzw, 0)
            case 1: return i(.ctzw, 0)
            case 2: return i(.cpopw, 0)
            default: return .illegal
            }
        case (5, 0): return i(.srliw, shamt)
        case (5, 0x20): return i(.sraiw, shamt)
        case (5, 0x30): return i(.roriw, shamt)
        default: return .illegal
        }
    }

    static func decodeOp(_ w: UInt32, funct3: UInt32, funct7: UInt32, rd: UInt32, rs1: UInt8, rs2: UInt8) -> DecodedInstruction {
        let op: Opcode?
        switch (funct7, funct3) {
        case (0, 0): op = .add
        case (0x20, 0): op = .sub
        case (0, 1): op = .sll
        case (0, 2): op = .slt
        case (0, 3): op = .sltu
        case (0, 4): op = .xor
        case (0, 5): op = .srl
        case (0x20, 5): op = .sra
        case (0, 6): op = .or
        case (0, 7): op = .and
        case (1, 0): op = .mul
        case (1, 1): op = .mulh
        case (1, 2): op = .mulhsu
        case (1, 3): op = .mulhu
        case (1, 4): op = .div
        case (1, 5): op = .divu
        case (1, 6): op = .rem
        case (1, 7): op = .remu
        case (0x10, 2): op = .sh1add
        case (0x10, 4): op = .sh2add
        case (0x10, 6): op = .sh3add
        case (0x20, 7): op = .andn
        case (0x20, 6): op = .orn
        case (0x20, 4): op = .xnor
        case (0x05, 6): op = .max
        case (0x05, 7): op = .maxu
        case (0x05, 4): op = .min
        case (0x05, 5): op = .minu
        case (0x30, 1): op = .rol
        case (0x30, 5): op = .ror
        default: op = nil
        }
        guard let op else { return .illegal }
        return DecodedInstruction(op: op, rd: xd(rd), rs1: rs1, rs2: rs2)
    }

    static func decodeOp32(_ w: UInt32, funct3: UInt32, funct7: UInt32, rd: UInt32, rs1: UInt8, rs2: UInt8) -> DecodedInstruction {
        let op: Opcode?
        switch (funct7, funct3) {
        case (0, 0): op = .addw
        case (0x20, 0): op = .subw
        case (0, 1): op = .sllw
        case (0, 5): op = .srlw
        case (0x20, 5): op = .sraw
        case (1, 0): op = .mulw
        case (1, 4): op = .divw
        case (1, 5): op = .divuw
        case (1, 6): op = .remw
        case (1, 7): op = .remuw
        case (0x04, 0): op = .addUW
        case (0x10, 2): op = .sh1addUW
        case (0x10, 4): op = .sh2addUW
        case (0x10, 6): op = .sh3addUW
        case (0x04, 4) where rs2 == 0: op = .zextH
        case (0x30, 1): op = .rolw
        case (0x30, 5): op = .rorw
        default: op = nil
        }
        guard let op else { return .illegal }
        return DecodedInstruction(op: op, rd: xd(rd), rs1: rs1, rs2: rs2)
    }

    static func decodeSystem(_ w: UInt32, funct3: UInt32, rd: UInt32, rs1: UInt8, rs2: UInt8, funct7: UInt32) -> DecodedInstruction {
        if funct3 == 0 {
            guard rd == 0 else { return .illegal }
            if funct7 == 0x09 { return DecodedInstruction(op: .sfenceVMA, rs1: rs1, rs2: rs2) }
            if funct7 == 0x11 { return DecodedInstruction(op: .hfenceVVMA, rs1: rs1, rs2: rs2) }
            if funct7 == 0x31 { return DecodedInstruction(op: .hfenceGVMA, rs1: rs1, rs2: rs2) }
            guard rs1 == 0 else { return .illegal }
            switch w >> 20 {
            case 0x000: return DecodedInstruction(op: .ecall)
            case 0x001: return DecodedInstruction(op: .ebreak)
            case 0x102: return DecodedInstruction(op: .sret)
            case 0x302: return DecodedInstruction(op: .mret)
            case 0x105: return DecodedInstruction(op: .wfi)
            default: return .illegal
            }
        }
        if funct3 == 4 { return decodeHypervisorLoadStore(funct7: funct7, rd: rd, rs1: rs1, rs2: rs2) }
        let csr = Int64(w >> 20)
        guard let op = csrOps[Int(funct3)] else { return .illegal }
        // rs1 holds the register, or the 5-bit zero-extended immediate for the *i forms.
        return DecodedInstruction(op: op, rd: xd(rd), rs1: rs1, imm: csr)
    }

    /// HLV, HLVX and HSV (privileged spec 8.3.1): SYSTEM with funct3 = 4; funct7 gives the size
    /// and load or store, and a load's rs2 field the variant (0 signed, 1 unsigned, 3 HLVX).
    static func decodeHypervisorLoadStore(funct7: UInt32, rd: UInt32, rs1: UInt8, rs2: UInt8) -> DecodedInstruction {
        let op: Opcode?
        switch (funct7, rs2) {
        case (0x30, 0): op = .hlvB
        case (0x30, 1): op = .hlvBU
        case (0x32, 0): op = .hlvH
        case (0x32, 1): op = .hlvHU
        case (0x32, 3): op = .hlvxHU
        case (0x34, 0): op = .hlvW
        case (0x34, 1): op = .hlvWU
        case (0x34, 3): op = .hlvxWU
        case (0x36, 0): op = .hlvD
        default: op = nil
        }
        if let op { return DecodedInstruction(op: op, rd: xd(rd), rs1: rs1) }
        let store: Opcode
        switch funct7 {
        case 0x31: store = .hsvB
        case 0x33: store = .hsvH
        case 0x35: store = .hsvW
        case 0x37: store = .hsvD
        default: return .illegal
        }
        guard rd == 0 else { return .illegal }
        return DecodedInstruction(op: store, rs1: rs1, rs2: rs2)
    }

    static func decodeAtomic(_ w: UInt32, funct3: UInt32, rd: UInt32, rs1: UInt8, rs2: UInt8) -> DecodedInstruction {
        let funct5 = w >> 27
        let table: [UInt32: Opcode]
        switch funct3 {
        case 2: table = atomicWord
        case 3: table = atomicDouble
        default: return .illegal
        }
        guard let op = table[funct5] else { return .illegal }
        if (op == .lrW || op == .lrD) && rs2 != 0 { return .illegal }
        return DecodedInstruction(op: op, rd: xd(rd), rs1: rs1, rs2: rs2)
    }

    // Tables are static so decoding allocates nothing.
    static let branchOps: [Opcode?] = [.beq, .bne, nil, nil, .blt, .bge, .bltu, .bgeu]
    static let loadOps: [Opcode?] = [.lb, .lh, .lw, .ld, .lbu, .lhu, .lwu, nil]
    static let storeOps: [Opcode?] = [.sb, .sh, .sw, .sd, nil, nil, nil, nil]
    static let fusedSingle: [Opcode] = [.fmaddS, .fmsubS, .fnmsubS, .fnmaddS]
    static let fusedDouble: [Opcode] = [.fmaddD, .fmsubD, .fnmsubD, .fnmaddD]
    static let csrOps: [Opcode?] = [nil, .csrrw, .csrrs, .csrrc, nil, .csrrwi, .csrrsi, .csrrci]
    static let atomicWord: [UInt32: Opcode] = [0x02: .lrW, 0x03: .scW, 0x01: .amoswapW, 0x00: .amoaddW, 0x04: .amoxorW,
                                      0x0c: .amoandW, 0x08: .amoorW, 0x10: .amominW, 0x14: .amomaxW,
                                      0x18: .amominuW, 0x1c: .amomaxuW]
    static let atomicDouble: [UInt32: Opcode] = [0x02: .lrD, 0x03: .scD, 0x01: .amoswapD, 0x00: .amoaddD, 0x04: .amoxorD,
                                        0x0c: .amoandD, 0x08: .amoorD, 0x10: .amominD, 0x14: .amomaxD,
                                        0x18: .amominuD, 0x1c: .amomaxuD]
}
