extension Decoder {
    /// OP-FP (opcode 0x53): F and D computational, conversion and move instructions.
    static func decodeFloat(_ w: UInt32, funct3: UInt32, funct7: UInt32, rd: UInt32, rs1: UInt8, rs2: UInt8) -> DecodedInstruction {
        let frd = UInt8(rd)
        let rm = UInt8(funct3)
        /// Floating-point destination.
        func f(_ op: Opcode) -> DecodedInstruction { DecodedInstruction(op: op, rd: frd, rs1: rs1, rs2: rs2, rm: rm) }
        /// Integer destination.
        func x(_ op: Opcode) -> DecodedInstruction { DecodedInstruction(op: op, rd: xd(rd), rs1: rs1, rs2: rs2, rm: rm) }

        switch funct7 {
        case 0x00: return f(.faddS)
        case 0x01: return f(.faddD)
        case 0x04: return f(.fsubS)
        case 0x05: return f(.fsubD)
        case 0x08: return f(.fmulS)
        case 0x09: return f(.fmulD)
        case 0x0c: return f(.fdivS)
        case 0x0d: return f(.fdivD)
        case 0x2c: return rs2 == 0 ? f(.fsqrtS) : .illegal
        case 0x2d: return rs2 == 0 ? f(.fsqrtD) : .illegal
        case 0x10, 0x11:
            let single = funct7 == 0x10
            switch funct3 {
            case 0: return f(single ? .fsgnjS : .fsgnjD)
            case 1: return f(single ? .fsgnjnS : .fsgnjnD)
            case 2: return f(single ? .fsgnjxS : .fsgnjxD)
            default: return .illegal
            }
        case 0x14, 0x15:
            let single = funct7 == 0x14
            switch funct3 {
            case 0: return f(single ? .fminS : .fminD)
            case 1: return f(single ? .fmaxS : .fmaxD)
            default: return .illegal
            }
        case 0x20: return rs2 == 1 ? f(.fcvtSD) : .illegal
        case 0x21: return rs2 == 0 ? f(.fcvtDS) : .illegal
        case 0x50, 0x51:
            let single = funct7 == 0x50
            switch funct3 {
            case 0: return x(single ? .fleS : .fleD)
            case 1: return x(single ? .fltS : .fltD)
            case 2: return x(single ? .feqS : .feqD)
            default: return .illegal
            }
        case 0x60, 0x61:
            let single = funct7 == 0x60
            switch rs2 {
            case 0: return x(single ? .fcvtWS : .fcvtWD)
            case 1: return x(single ? .fcvtWUS : .fcvtWUD)
            case 2: return x(single ? .fcvtLS : .fcvtLD)
            case 3: return x(single ? .fcvtLUS : .fcvtLUD)
            default: return .illegal
            }
        case 0x68, 0x69:
            let single = funct7 == 0x68
            switch rs2 {
            case 0: return f(single ? .fcvtSW : .fcvtDW)
            case 1: return f(single ? .fcvtSWU : .fcvtDWU)
            case 2: return f(single ? .fcvtSL : .fcvtDL)
            case 3: return f(single ? .fcvtSLU : .fcvtDLU)
            default: return .illegal
            }
        case 0x70, 0x71:
            guard rs2 == 0 else { return .illegal }
            let single = funct7 == 0x70
            switch funct3 {
            case 0: return x(single ? .fmvXW : .fmvXD)
            case 1: return x(single ? .fclassS : .fclassD)
            default: return .illegal
            }
        case 0x78: return rs2 == 0 && funct3 == 0 ? f(.fmvWX) : .illegal
        case 0x79: return rs2 == 0 && funct3 == 0 ? f(.fmvDX) : .illegal
        default: return .illegal
        }
    }
}
