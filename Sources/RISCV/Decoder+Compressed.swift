extension Decoder {
    /// Expands a 16-bit RV64C encoding into the operation of its 32-bit equivalent
    /// (unprivileged spec, "C" Standard Extension, RVC instruction set listings).
    /// Reserved encodings and the all-zero halfword decode to `.illegal`.
    public static func decodeCompressed(_ h: UInt16) -> DecodedInstruction {
        let w = UInt32(h)
        let funct3 = (w >> 13) & 7
        let rdFull = (w >> 7) & 31
        let rs2Full = UInt8((w >> 2) & 31)
        let rdPrime = UInt8(((w >> 7) & 7) + 8)
        let rs2Prime = UInt8(((w >> 2) & 7) + 8)
        let imm6 = signExtend(((w >> 7) & 0x20) | ((w >> 2) & 0x1f), bits: 6)
        let shamt6 = Int64(((w >> 7) & 0x20) | ((w >> 2) & 0x1f))

        // Immediates shared by several formats (unprivileged spec, table "CL/CS format").
        let memW: UInt32 = ((w >> 7) & 0x38) | ((w >> 4) & 4) | ((w << 1) & 0x40)
        let memD: UInt32 = ((w >> 7) & 0x38) | ((w << 1) & 0xc0)
        let spLoadW: UInt32 = ((w >> 7) & 0x20) | ((w >> 2) & 0x1c) | ((w << 4) & 0xc0)
        let spLoadD: UInt32 = ((w >> 7) & 0x20) | ((w >> 2) & 0x18) | ((w << 4) & 0x1c0)
        let spStoreW: UInt32 = ((w >> 7) & 0x3c) | ((w >> 1) & 0xc0)
        let spStoreD: UInt32 = ((w >> 7) & 0x38) | ((w >> 1) & 0x1c0)

        func c(_ op: Opcode, rd: UInt8 = 32, rs1: UInt8 = 0, rs2: UInt8 = 0, imm: Int64 = 0) -> DecodedInstruction {
            DecodedInstruction(op: op, rd: rd, rs1: rs1, rs2: rs2, length: 2, imm: imm)
        }
        let illegal = DecodedInstruction(op: .illegal, length: 2)

        switch (w & 3, funct3) {
        // Quadrant 0
        case (0, 0):
            let imm: UInt32 = ((w >> 7) & 0x30) | ((w >> 1) & 0x3c0) | ((w >> 4) & 0x4) | ((w >> 2) & 0x8)
            return imm == 0 ? illegal : c(.addi, rd: rs2Prime, rs1: 2, imm: Int64(imm))
        case (0, 1):
            return c(.fld, rd: rs2Prime, rs1: rdPrime, imm: Int64(memD))
        case (0, 2):
            return c(.lw, rd: rs2Prime, rs1: rdPrime, imm: Int64(memW))
        case (0, 3):
            return c(.ld, rd: rs2Prime, rs1: rdPrime, imm: Int64(memD))
        case (0, 5):
            return c(.fsd, rs1: rdPrime, rs2: rs2Prime, imm: Int64(memD))
        case (0, 6):
            return c(.sw, rs1: rdPrime, rs2: rs2Prime, imm: Int64(memW))
        case (0, 7):
            return c(.sd, rs1: rdPrime, rs2: rs2Prime, imm: Int64(memD))

        // Quadrant 1
        case (1, 0): // c.addi (c.nop when rd = 0)
            return c(.addi, rd: xd(rdFull), rs1: UInt8(rdFull), imm: imm6)
        case (1, 1): // c.addiw
            return rdFull == 0 ? illegal : c(.addiw, rd: xd(rdFull), rs1: UInt8(rdFull), imm: imm6)
        case (1, 2): // c.li
            return c(.addi, rd: xd(rdFull), rs1: 0, imm: imm6)
        case (1, 3):
            if rdFull == 2 { // c.addi16sp
                let raw: UInt32 = ((w >> 3) & 0x200) | ((w >> 2) & 0x10) | ((w << 1) & 0x40) | ((w << 4) & 0x180) | ((w << 3) & 0x20)
                return raw == 0 ? illegal : c(.addi, rd: 2, rs1: 2, imm: signExtend(raw, bits: 10))
            }
            let raw: UInt32 = ((w << 5) & 0x20000) | ((w << 10) & 0x1f000)
            return raw == 0 ? illegal : c(.lui, rd: xd(rdFull), imm: signExtend(raw, bits: 18))
        case (1, 4):
            switch (w >> 10) & 3 {
            case 0: return c(.srli, rd: rdPrime, rs1: rdPrime, imm: shamt6)
            case 1: return c(.srai, rd: rdPrime, rs1: rdPrime, imm: shamt6)
            case 2: return c(.andi, rd: rdPrime, rs1: rdPrime, imm: imm6)
            default:
                let ops: Opcode?
                switch ((w >> 12) & 1, (w >> 5) & 3) {
                case (0, 0): ops = .sub
                case (0, 1): ops = .xor
                case (0, 2): ops = .or
                case (0, 3): ops = .and
                case (1, 0): ops = .subw
                case (1, 1): ops = .addw
                default: ops = nil
                }
                guard let op = ops else { return illegal }
                return c(op, rd: rdPrime, rs1: rdPrime, rs2: rs2Prime)
            }
        case (1, 5): // c.j
            let high: UInt32 = ((w >> 1) & 0x800) | ((w >> 7) & 0x10) | ((w >> 1) & 0x300) | ((w << 2) & 0x400)
            let low: UInt32 = ((w >> 1) & 0x40) | ((w << 1) & 0x80) | ((w >> 2) & 0xe) | ((w << 3) & 0x20)
            let raw = high | low
            return c(.jal, rd: 32, imm: signExtend(raw, bits: 12))
        case (1, 6), (1, 7): // c.beqz, c.bnez
            let raw: UInt32 = ((w >> 4) & 0x100) | ((w >> 7) & 0x18) | ((w << 1) & 0xc0) | ((w >> 2) & 6) | ((w << 3) & 0x20)
            return c(funct3 == 6 ? .beq : .bne, rs1: rdPrime, rs2: 0, imm: signExtend(raw, bits: 9))

        // Quadrant 2
        case (2, 0):
            return c(.slli, rd: xd(rdFull), rs1: UInt8(rdFull), imm: shamt6)
        case (2, 1):
            return c(.fld, rd: UInt8(rdFull), rs1: 2, imm: Int64(spLoadD))
        case (2, 2):
            return rdFull == 0 ? illegal
                : c(.lw, rd: xd(rdFull), rs1: 2, imm: Int64(spLoadW))
        case (2, 3):
            return rdFull == 0 ? illegal
                : c(.ld, rd: xd(rdFull), rs1: 2, imm: Int64(spLoadD))
        case (2, 4):
            if (w >> 12) & 1 == 0 {
                if rs2Full == 0 { // c.jr
                    return rdFull == 0 ? illegal : c(.jalr, rd: 32, rs1: UInt8(rdFull), imm: 0)
                }
                return c(.add, rd: xd(rdFull), rs1: 0, rs2: rs2Full) // c.mv
            }
            if rs2Full == 0 {
                if rdFull == 0 { return c(.ebreak) }
                return c(.jalr, rd: 1, rs1: UInt8(rdFull), imm: 0) // c.jalr
            }
            return c(.add, rd: xd(rdFull), rs1: UInt8(rdFull), rs2: rs2Full)
        case (2, 5):
            return c(.fsd, rs1: 2, rs2: rs2Full, imm: Int64(spStoreD))
        case (2, 6):
            return c(.sw, rs1: 2, rs2: rs2Full, imm: Int64(spStoreW))
        case (2, 7):
            return c(.sd, rs1: 2, rs2: rs2Full, imm: Int64(spStoreD))
        default:
            return illegal
        }
    }
}
