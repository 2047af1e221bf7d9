import JIT
import XCTest

/// Integer instructions against GNU as, across all registers, sizes and addressing forms.
final class IntegerEncodingTests: XCTestCase {
    let sizes: [OperandSize] = [.byte, .word, .dword, .qword]
    let aluOps: [(ALUOperation, String)] = [(.add, "add"), (.or, "or"), (.adc, "adc"), (.sbb, "sbb"),
                                            (.and, "and"), (.sub, "sub"), (.xor, "xor"), (.cmp, "cmp")]
    let immediates: [Int32] = [0, 1, -1, 127, -128, 128, -129, 0x7FFF, 0x12345678, Int32.min]

    func testALURegisterRegisterAllPairsAndSizes() throws {
        var cases: [EncodingCase] = []
        for (op, name) in aluOps {
            for size in sizes {
                for d in GPR.allCases {
                    for s in GPR.allCases {
                        cases.append(EncodingCase("\(name)\(ATT.suffix(size)) \(ATT.reg(s, size)), \(ATT.reg(d, size))") {
                            $0.alu(op, d, s, size)
                        })
                    }
                }
            }
        }
        try assertMatchesGNUAssembler(cases)
    }

    func testALUImmediates() throws {
        var cases: [EncodingCase] = []
        for (op, name) in aluOps {
            for size in sizes {
                for d in GPR.allCases {
                    for imm in immediates {
                        let v = Self.truncate(imm, size)
                        cases.append(EncodingCase("\(name)\(ATT.suffix(size)) \(ATT.imm(v, size)), \(ATT.reg(d, size))") {
                            $0.alu(op, d, imm: v, size)
                        })
                    }
                }
                for m in MemoryOperand.sample {
                    for imm: Int32 in [5, -300, 0x12345678] {
                        let v = Self.truncate(imm, size)
                        cases.append(EncodingCase("\(name)\(ATT.suffix(size)) \(ATT.imm(v, size)), \(m.att)") {
                            $0.alu(op, m.memory, imm: v, size)
                        })
                    }
                }
            }
        }
        try assertMatchesGNUAssembler(cases)
    }

    func testALUMemoryOperandsBothDirections() throws {
        var cases: [EncodingCase] = []
        for (op, name) in aluOps {
            for size in sizes {
                for (k, m) in MemoryOperand.sample.enumerated() {
                    let r = GPR.allCases[(k * 5) % 16]
                    cases.append(EncodingCase("\(name)\(ATT.suffix(size)) \(m.att), \(ATT.reg(r, size))") {
                        $0.alu(op, r, m.memory, size)
                    })
                    cases.append(EncodingCase("\(name)\(ATT.suffix(size)) \(ATT.reg(r, size)), \(m.att)") {
                        $0.alu(op, m.memory, r, size)
                    })
                }
            }
        }
        try assertMatchesGNUAssembler(cases)
    }

    /// Loads and stores over every addressing form: this is the ModRM/SIB test.
    func testMovAllAddressingForms() throws {
        var cases: [EncodingCase] = []
        for (k, m) in MemoryOperand.all.enumerated() {
            let r = GPR.allCases[k % 16]
            for size in sizes {
                cases.append(EncodingCase("mov\(ATT.suffix(size)) \(m.att), \(ATT.reg(r, size))") { $0.mov(r, m.memory, size) })
                cases.append(EncodingCase("mov\(ATT.suffix(size)) \(ATT.reg(r, size)), \(m.att)") { $0.mov(m.memory, r, size) })
            }
            cases.append(EncodingCase("lea \(m.att), \(ATT.reg(r))") { $0.lea(r, m.memory) })
            cases.append(EncodingCase("lea \(m.att), \(ATT.reg(r, .dword))") { $0.lea(r, m.memory, .dword) })
        }
        for m in MemoryOperand.sample {
            for size in sizes {
                let v = Self.truncate(-2, size)
                cases.append(EncodingCase("mov\(ATT.suffix(size)) \(ATT.imm(v, size)), \(m.att)") { $0.mov(m.memory, imm: v, size) })
            }
        }
        try assertMatchesGNUAssembler(cases)
    }

    func testMovRegistersAndImmediates() throws {
        var cases: [EncodingCase] = []
        for d in GPR.allCases {
            for s in GPR.allCases {
                for size in sizes {
                    cases.append(EncodingCase("mov\(ATT.suffix(size)) \(ATT.reg(s, size)), \(ATT.reg(d, size))") { $0.mov(d, s, size) })
                }
            }
            // The three immediate forms mov(_:imm:) chooses between.
            for imm: Int64 in [0, 1, 0x7FFF_FFFF, 0xFFFF_FFFF] {
                cases.append(EncodingCase("movl $\(imm), \(ATT.reg(d, .dword))") { $0.mov(d, imm: imm) })
            }
            for imm: Int64 in [-1, -0x8000_0000] {
                cases.append(EncodingCase("movq $\(imm), \(ATT.reg(d))") { $0.mov(d, imm: imm) })
            }
            for imm: Int64 in [0x1_0000_0000, -0x8000_0001, Int64.min, 0x1234_5678_9ABC_DEF0] {
                cases.append(EncodingCase("movabs $\(imm), \(ATT.reg(d))") { $0.mov(d, imm: imm) })
            }
            cases.append(EncodingCase("movabs $1, \(ATT.reg(d))") { $0.movabs(d, imm: 1) })
        }
        try assertMatchesGNUAssembler(cases)
    }

    func testZeroAndSignExtension() throws {
        var cases: [EncodingCase] = []
        for d in GPR.allCases {
            for s in GPR.allCases {
                cases.append(EncodingCase("movzbl \(ATT.reg(s, .byte)), \(ATT.reg(d, .dword))") { $0.movzx(d, s, from: .byte) })
                cases.append(EncodingCase("movzwl \(ATT.reg(s, .word)), \(ATT.reg(d, .dword))") { $0.movzx(d, s, from: .word) })
                cases.append(EncodingCase("movl \(ATT.reg(s, .dword)), \(ATT.reg(d, .dword))") { $0.movzx(d, s, from: .dword) })
                cases.append(EncodingCase("movsbq \(ATT.reg(s, .byte)), \(ATT.reg(d))") { $0.movsx(d, s, from: .byte) })
                cases.append(EncodingCase("movswq \(ATT.reg(s, .word)), \(ATT.reg(d))") { $0.movsx(d, s, from: .word) })
                cases.append(EncodingCase("movslq \(ATT.reg(s, .dword)), \(ATT.reg(d))") { $0.movsx(d, s, from: .dword) })
                cases.append(EncodingCase("movsbl \(ATT.reg(s, .byte)), \(ATT.reg(d, .dword))") { $0.movsx(d, s, from: .byte, to: .dword) })
                cases.append(EncodingCase("movswl \(ATT.reg(s, .word)), \(ATT.reg(d, .dword))") { $0.movsx(d, s, from: .word, to: .dword) })
            }
        }
        for (k, m) in MemoryOperand.sample.enumerated() {
            let d = GPR.allCases[(k * 7) % 16]
            cases.append(EncodingCase("movzbl \(m.att), \(ATT.reg(d, .dword))") { $0.movzx(d, m.memory, from: .byte) })
            cases.append(EncodingCase("movzwl \(m.att), \(ATT.reg(d, .dword))") { $0.movzx(d, m.memory, from: .word) })
            cases.append(EncodingCase("movl \(m.att), \(ATT.reg(d, .dword))") { $0.movzx(d, m.memory, from: .dword) })
            cases.append(EncodingCase("movsbq \(m.att), \(ATT.reg(d))") { $0.movsx(d, m.memory, from: .byte) })
            cases.append(EncodingCase("movswq \(m.att), \(ATT.reg(d))") { $0.movsx(d, m.memory, from: .word) })
            cases.append(EncodingCase("movslq \(m.att), \(ATT.reg(d))") { $0.movsx(d, m.memory, from: .dword) })
        }
        try assertMatchesGNUAssembler(cases)
    }

    func testShifts() throws {
        let ops: [(ShiftOperation, String)] = [(.rol, "rol"), (.ror, "ror"), (.shl, "shl"), (.shr, "shr"), (.sar, "sar")]
        var cases: [EncodingCase] = []
        for (op, name) in ops {
            for size in sizes {
                for r in GPR.allCases {
                    for n: UInt8 in [1, 2, 31, 63] {
                        cases.append(EncodingCase("\(name)\(ATT.suffix(size)) $\(n), \(ATT.reg(r, size))") { $0.shift(op, r, by: n, size) })
                    }
                    cases.append(EncodingCase("\(name)\(ATT.suffix(size)) %cl, \(ATT.reg(r, size))") { $0.shiftByCL(op, r, size) })
                }
            }
        }
        try assertMatchesGNUAssembler(cases)
    }

    func testMultiplyDivideAndUnary() throws {
        let ops: [(X86Assembler.UnaryOperation, String)] = [(.not, "not"), (.neg, "neg"), (.mul, "mul"),
                                                            (.imul, "imul"), (.div, "div"), (.idiv, "idiv")]
        var cases: [EncodingCase] = []
        for (op, name) in ops {
            for size in sizes {
                for r in GPR.allCases {
                    cases.append(EncodingCase("\(name)\(ATT.suffix(size)) \(ATT.reg(r, size))") { $0.unary(op, r, size) })
                }
                for m in MemoryOperand.sample {
                    cases.append(EncodingCase("\(name)\(ATT.suffix(size)) \(m.att)") { $0.unary(op, m.memory, size) })
                }
            }
        }
        for size in [OperandSize.word, .dword, .qword] {
            for d in GPR.allCases {
                for s in GPR.allCases {
                    cases.append(EncodingCase("imul \(ATT.reg(s, size)), \(ATT.reg(d, size))") { $0.imul(d, s, size) })
                    for imm: Int32 in [3, -128, 300] {
                        let v = Self.truncate(imm, size)
                        cases.append(EncodingCase("imul $\(v), \(ATT.reg(s, size)), \(ATT.reg(d, size))") { $0.imul(d, s, imm: v, size) })
                    }
                }
                let m = MemoryOperand.sample[Int(d.rawValue) * 3 % MemoryOperand.sample.count]
                cases.append(EncodingCase("imul \(m.att), \(ATT.reg(d, size))") { $0.imul(d, m.memory, size) })
            }
        }
        cases.append(EncodingCase("cqto") { $0.signExtendAccumulator(.qword) })
        cases.append(EncodingCase("cltd") { $0.signExtendAccumulator(.dword) })
        try assertMatchesGNUAssembler(cases)
    }

    func testTestSetccCmov() throws {
        var cases: [EncodingCase] = []
        for size in sizes {
            for a in GPR.allCases {
                for b in GPR.allCases {
                    cases.append(EncodingCase("test\(ATT.suffix(size)) \(ATT.reg(b, size)), \(ATT.reg(a, size))") { $0.test(a, b, size) })
                }
                for imm: Int32 in [1, 0x80, -1, 0x12345678] {
                    let v = Self.truncate(imm, size)
                    cases.append(EncodingCase("test\(ATT.suffix(size)) \(ATT.imm(v, size)), \(ATT.reg(a, size))") { $0.test(a, imm: v, size) })
                }
            }
            for m in MemoryOperand.sample {
                let v = Self.truncate(0x4321, size)
                cases.append(EncodingCase("test\(ATT.suffix(size)) \(ATT.imm(v, size)), \(m.att)") { $0.test(m.memory, imm: v, size) })
            }
        }
        for cc in Condition.allCases {
            for r in GPR.allCases {
                cases.append(EncodingCase("set\(ATT.cc(cc)) \(ATT.reg(r, .byte))") { $0.set(cc, r) })
                for size in [OperandSize.word, .dword, .qword] {
                    let s = GPR.allCases[(Int(r.rawValue) + Int(cc.rawValue) + 1) % 16]
                    cases.append(EncodingCase("cmov\(ATT.cc(cc)) \(ATT.reg(s, size)), \(ATT.reg(r, size))") { $0.cmov(cc, r, s, size) })
                }
                let m = MemoryOperand.sample[(Int(r.rawValue) + Int(cc.rawValue)) % MemoryOperand.sample.count]
                cases.append(EncodingCase("cmov\(ATT.cc(cc))q \(m.att), \(ATT.reg(r))") { $0.cmov(cc, r, m.memory) })
            }
        }
        try assertMatchesGNUAssembler(cases)
    }

    func testAtomics() throws {
        var cases: [EncodingCase] = []
        for size in sizes {
            for (k, m) in MemoryOperand.sample.enumerated() {
                let r = GPR.allCases[(k * 3) % 16]
                let rs = ATT.reg(r, size)
                cases.append(EncodingCase("xchg \(rs), \(m.att)") { $0.xchg(m.memory, r, size) })
                cases.append(EncodingCase("lock cmpxchg \(rs), \(m.att)") { $0.cmpxchg(m.memory, r, size) })
                cases.append(EncodingCase("cmpxchg \(rs), \(m.att)") { $0.cmpxchg(m.memory, r, size, lock: false) })
                cases.append(EncodingCase("lock xadd \(rs), \(m.att)") { $0.xadd(m.memory, r, size) })
            }
        }
        cases.append(EncodingCase("mfence") { $0.mfence() })
        try assertMatchesGNUAssembler(cases)
    }

    static func truncate(_ imm: Int32, _ size: OperandSize) -> Int32 {
        switch size {
        case .byte: return Int32(Int8(truncatingIfNeeded: imm))
        case .word: return Int32(Int16(truncatingIfNeeded: imm))
        case .dword, .qword: return imm
        }
    }
}
