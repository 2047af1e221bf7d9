import JIT

/// AT&T spellings of our operands, for the GNU as reference.
enum ATT {
    static let qwordNames = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                             "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"]
    static let dwordNames = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
                             "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d"]
    static let wordNames = ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di",
                            "r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w"]
    static let byteNames = ["al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil",
                            "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b"]

    static func reg(_ r: GPR, _ size: OperandSize = .qword) -> String {
        let i = Int(r.rawValue)
        switch size {
        case .byte: return "%" + byteNames[i]
        case .word: return "%" + wordNames[i]
        case .dword: return "%" + dwordNames[i]
        case .qword: return "%" + qwordNames[i]
        }
    }

    static func xmm(_ x: XMM) -> String { "%xmm\(x.rawValue)" }

    static func suffix(_ size: OperandSize) -> String {
        switch size {
        case .byte: return "b"
        case .word: return "w"
        case .dword: return "l"
        case .qword: return "q"
        }
    }

    static func suffix(_ p: FloatPrecision) -> String { p == .single ? "ss" : "sd" }

    static let conditionNames = ["o", "no", "b", "ae", "e", "ne", "be", "a",
                                 "s", "ns", "p", "np", "l", "ge", "le", "g"]
    static func cc(_ c: Condition) -> String { conditionNames[Int(c.rawValue)] }

    /// Immediate as GNU as must see it for that operand size (in range, so it does not warn).
    static func imm(_ value: Int32, _ size: OperandSize) -> String {
        switch size {
        case .byte: return "$\(Int8(truncatingIfNeeded: value))"
        case .word: return "$\(Int16(truncatingIfNeeded: value))"
        case .dword, .qword: return "$\(value)"
        }
    }
}

/// A memory operand both ways: for our assembler and in AT&T syntax.
struct MemoryOperand {
    let memory: Memory
    let att: String

    static func base(_ b: GPR, _ disp: Int32) -> MemoryOperand {
        MemoryOperand(memory: .at(b, disp), att: "\(disp)(\(ATT.reg(b)))")
    }

    static func indexed(_ b: GPR, _ i: GPR, _ s: Scale, _ disp: Int32) -> MemoryOperand {
        MemoryOperand(memory: .at(b, index: i, scale: s, disp),
                      att: "\(disp)(\(ATT.reg(b)),\(ATT.reg(i)),\(1 << Int(s.rawValue)))")
    }

    static func noBase(_ i: GPR, _ s: Scale, _ disp: Int32) -> MemoryOperand {
        MemoryOperand(memory: .indexed(i, scale: s, disp), att: "\(disp)(,\(ATT.reg(i)),\(1 << Int(s.rawValue)))")
    }

    static func absolute(_ disp: Int32) -> MemoryOperand {
        MemoryOperand(memory: .absolute(disp), att: "\(disp)")
    }

    static func rip(_ disp: Int32) -> MemoryOperand {
        MemoryOperand(memory: .rip(disp), att: "\(disp)(%rip)")
    }

    static let displacements: [Int32] = [0, 1, -1, 127, -128, 128, -129, 0x1234, Int32.max, Int32.min]

    /// Every base with every displacement class, every base/index pair at every scale, and
    /// the forms without a base register: the ModRM/SIB special cases all appear here.
    static let all: [MemoryOperand] = {
        var operands: [MemoryOperand] = []
        for b in GPR.allCases {
            for d in displacements { operands.append(.base(b, d)) }
            for i in GPR.allCases where i != .rsp {
                for s in [Scale.x1, .x2, .x4, .x8] {
                    for d: Int32 in [0, -8, 0x1000] { operands.append(.indexed(b, i, s, d)) }
                }
            }
        }
        for i in GPR.allCases where i != .rsp { operands.append(.noBase(i, .x8, 16)) }
        for d: Int32 in [0, 0x10, -0x10, Int32.max] {
            operands.append(.absolute(d))
            operands.append(.rip(d))
        }
        return operands
    }()

    /// A smaller set still covering every special case, for instruction-by-memory products.
    static let sample: [MemoryOperand] = {
        var operands: [MemoryOperand] = []
        for b in GPR.allCases {
            operands.append(.base(b, 0))
            operands.append(.base(b, -8))
            operands.append(.base(b, 0x12345))
        }
        for (b, i) in [(GPR.rsp, GPR.r12), (.r12, .rbp), (.r13, .r13), (.rbp, .rax), (.r15, .r9)] {
            operands.append(.indexed(b, i, .x8, 0))
            operands.append(.indexed(b, i, .x2, -300))
        }
        operands.append(.noBase(.r11, .x4, 64))
        operands.append(.absolute(0x100))
        operands.append(.rip(0x40))
        return operands
    }()
}
