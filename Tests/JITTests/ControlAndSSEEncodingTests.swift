import JIT
import XCTest

/// Branches, labels, calls, stack and SSE against GNU as.
final class ControlAndSSEEncodingTests: XCTestCase {
    func testStackCallsAndTraps() throws {
        var cases: [EncodingCase] = []
        for r in GPR.allCases {
            cases.append(EncodingCase("push \(ATT.reg(r))") { $0.push(r) })
            cases.append(EncodingCase("pop \(ATT.reg(r))") { $0.pop(r) })
            cases.append(EncodingCase("call *\(ATT.reg(r))") { $0.call(r) })
            cases.append(EncodingCase("jmp *\(ATT.reg(r))") { $0.jmp(r) })
            cases.append(EncodingCase("movabs $0x7f0012345678, \(ATT.reg(r))\ncall *\(ATT.reg(r))") {
                $0.call(absolute: 0x7F00_1234_5678, scratch: r)
            })
            cases.append(EncodingCase("movabs $0x401000, \(ATT.reg(r))\njmp *\(ATT.reg(r))") {
                $0.jmp(absolute: 0x40_1000, scratch: r)
            })
        }
        for m in MemoryOperand.sample {
            cases.append(EncodingCase("call *\(m.att)") { $0.call(m.memory) })
            cases.append(EncodingCase("jmp *\(m.att)") { $0.jmp(m.memory) })
        }
        for imm: Int32 in [0, -128, 127, 128, -100_000] {
            cases.append(EncodingCase("pushq $\(imm)") { $0.push(imm: imm) })
        }
        cases.append(EncodingCase("ret") { $0.ret() })
        cases.append(EncodingCase("int3") { $0.int3() })
        cases.append(EncodingCase("ud2") { $0.ud2() })
        cases.append(EncodingCase("nop") { $0.nop() })
        try assertMatchesGNUAssembler(cases)
    }

    /// Forward references patched at bind, backward ones resolved at once; rel8 and rel32.
    /// GNU as relaxes un-annotated jumps to the shortest form; {disp32} forces rel32.
    func testJumpsAndLabels() throws {
        var cases: [EncodingCase] = []
        for cc in Condition.allCases {
            let n = ATT.cc(cc)
            cases.append(EncodingCase("j\(n) 1f\nnop\n1:") { a in
                let l = a.makeLabel(); a.j(cc, l, .short); a.nop(); a.bind(l)
            })
            cases.append(EncodingCase("{disp32} j\(n) 1f\nnop\n1:") { a in
                let l = a.makeLabel(); a.j(cc, l); a.nop(); a.bind(l)
            })
            cases.append(EncodingCase("1:\nnop\nj\(n) 1b") { a in
                let l = a.makeLabel(); a.bind(l); a.nop(); a.j(cc, l)
            })
            cases.append(EncodingCase("1:\n.fill 200, 1, 0x90\nj\(n) 1b") { a in
                let l = a.makeLabel(); a.bind(l); for _ in 0..<200 { a.nop() }; a.j(cc, l)
            })
        }
        cases.append(EncodingCase("jmp 1f\n.fill 127, 1, 0x90\n1:") { a in
            let l = a.makeLabel(); a.jmp(l, .short); for _ in 0..<127 { a.nop() }; a.bind(l)
        })
        cases.append(EncodingCase("{disp32} jmp 1f\nnop\n1:") { a in
            let l = a.makeLabel(); a.jmp(l); a.nop(); a.bind(l)
        })
        cases.append(EncodingCase("1:\n.fill 126, 1, 0x90\njmp 1b") { a in
            let l = a.makeLabel(); a.bind(l); for _ in 0..<126 { a.nop() }; a.jmp(l)
        })
        cases.append(EncodingCase("1:\n.fill 127, 1, 0x90\njmp 1b") { a in
            let l = a.makeLabel(); a.bind(l); for _ in 0..<127 { a.nop() }; a.jmp(l)
        })
        cases.append(EncodingCase("1:\n{disp32} jmp 1b") { a in
            let l = a.makeLabel(); a.bind(l); a.jmp(l, .near)
        })
        cases.append(EncodingCase("call 1f\nnop\n1:\ncall 1b") { a in
            let l = a.makeLabel(); a.call(l); a.nop(); a.bind(l); a.call(l)
        })
        // Several references to one label, mixed widths, plus RIP-relative data references
        // whose displacement must be measured past a trailing immediate.
        cases.append(EncodingCase("""
            jmp 1f
            {disp32} jne 1f
            lea 1f(%rip), %rax
            cmpl $5, 1f(%rip)
            addq $1000, 1f+8(%rip)
            movb $7, 1f-4(%rip)
            1:
            .quad 0x1122334455667788
            """) { a in
            let l = a.makeLabel()
            a.jmp(l, .short); a.j(.ne, l)
            a.lea(.rax, .rip(l))
            a.cmp(.rip(l), imm: 5, .dword)
            a.alu(.add, .rip(l, 8), imm: 1000)
            a.mov(.rip(l, -4), imm: 7, .byte)
            a.bind(l)
            a.emit([0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11])
        })
        cases.append(EncodingCase("1:\n.quad 0\nmovsd 1b(%rip), %xmm9") { a in
            let l = a.makeLabel(); a.bind(l); a.emit([UInt8](repeating: 0, count: 8)); a.movsd(.xmm9, .rip(l))
        })
        try assertMatchesGNUAssembler(cases)
    }

    func testSSEArithmeticAllRegisterPairs() throws {
        let ops: [(ScalarOperation, String)] = [(.add, "add"), (.sub, "sub"), (.mul, "mul"), (.div, "div"),
                                                (.sqrt, "sqrt"), (.min, "min"), (.max, "max")]
        var cases: [EncodingCase] = []
        for p in [FloatPrecision.single, .double] {
            let sfx = ATT.suffix(p)
            for (op, name) in ops {
                for d in XMM.allCases {
                    for s in XMM.allCases {
                        cases.append(EncodingCase("\(name)\(sfx) \(ATT.xmm(s)), \(ATT.xmm(d))") { $0.scalar(op, p, d, s) })
                    }
                }
                for (k, m) in MemoryOperand.sample.enumerated() {
                    let d = XMM.allCases[k % 16]
                    cases.append(EncodingCase("\(name)\(sfx) \(m.att), \(ATT.xmm(d))") { $0.scalar(op, p, d, m.memory) })
                }
            }
            let packed = p == .single ? "ps" : "pd"
            let bitOps: [(X86Assembler.BitwiseOperation, String)] = [(.and, "and"), (.andNot, "andn"), (.or, "or"), (.xor, "xor")]
            for d in XMM.allCases {
                for s in XMM.allCases {
                    cases.append(EncodingCase("mov\(sfx) \(ATT.xmm(s)), \(ATT.xmm(d))") { $0.movs(p, d, s) })
                    cases.append(EncodingCase("ucomi\(sfx) \(ATT.xmm(s)), \(ATT.xmm(d))") { $0.ucomis(p, d, s) })
                    cases.append(EncodingCase("comi\(sfx) \(ATT.xmm(s)), \(ATT.xmm(d))") { $0.comis(p, d, s) })
                    for (op, name) in bitOps {
                        cases.append(EncodingCase("\(name)\(packed) \(ATT.xmm(s)), \(ATT.xmm(d))") { $0.bitwise(op, p, d, s) })
                    }
                }
            }
        }
        for d in XMM.allCases {
            for s in XMM.allCases {
                cases.append(EncodingCase("movaps \(ATT.xmm(s)), \(ATT.xmm(d))") { $0.movaps(d, s) })
                cases.append(EncodingCase("cvtsd2ss \(ATT.xmm(s)), \(ATT.xmm(d))") { $0.cvtPrecision(from: .double, d, s) })
                cases.append(EncodingCase("cvtss2sd \(ATT.xmm(s)), \(ATT.xmm(d))") { $0.cvtPrecision(from: .single, d, s) })
            }
        }
        try assertMatchesGNUAssembler(cases)
    }

    func testSSEMovesConversionsAndMXCSR() throws {
        var cases: [EncodingCase] = []
        for (k, m) in MemoryOperand.all.enumerated() where k % 3 == 0 {
            let x = XMM.allCases[k % 16]
            cases.append(EncodingCase("movsd \(m.att), \(ATT.xmm(x))") { $0.movsd(x, m.memory) })
            cases.append(EncodingCase("movsd \(ATT.xmm(x)), \(m.att)") { $0.movsd(m.memory, x) })
            cases.append(EncodingCase("movss \(m.att), \(ATT.xmm(x))") { $0.movss(x, m.memory) })
            cases.append(EncodingCase("movss \(ATT.xmm(x)), \(m.att)") { $0.movss(m.memory, x) })
        }
        for x in XMM.allCases {
            for r in GPR.allCases {
                cases.append(EncodingCase("movq \(ATT.reg(r)), \(ATT.xmm(x))") { $0.movq(x, r) })
                cases.append(EncodingCase("movq \(ATT.xmm(x)), \(ATT.reg(r))") { $0.movq(r, x) })
                cases.append(EncodingCase("movd \(ATT.reg(r, .dword)), \(ATT.xmm(x))") { $0.movd(x, r) })
                cases.append(EncodingCase("movd \(ATT.xmm(x)), \(ATT.reg(r, .dword))") { $0.movd(r, x) })
                for p in [FloatPrecision.single, .double] {
                    let sfx = ATT.suffix(p)
                    for size in [OperandSize.dword, .qword] {
                        let s = ATT.suffix(size)
                        cases.append(EncodingCase("cvtsi2\(sfx)\(s) \(ATT.reg(r, size)), \(ATT.xmm(x))") { $0.cvtsi2s(p, x, r, size) })
                        cases.append(EncodingCase("cvtt\(sfx)2si \(ATT.xmm(x)), \(ATT.reg(r, size))") { $0.cvtts2si(p, r, x, size) })
                        cases.append(EncodingCase("cvt\(sfx)2si \(ATT.xmm(x)), \(ATT.reg(r, size))") { $0.cvts2si(p, r, x, size) })
                    }
                }
            }
        }
        for m in MemoryOperand.sample {
            cases.append(EncodingCase("ldmxcsr \(m.att)") { $0.ldmxcsr(m.memory) })
            cases.append(EncodingCase("stmxcsr \(m.att)") { $0.stmxcsr(m.memory) })
        }
        try assertMatchesGNUAssembler(cases)
    }

    func testHostFramePrologueAndEpilogue() throws {
        var cases: [EncodingCase] = []
        cases.append(EncodingCase("push %rbx\nsub $16, %rsp\nadd $16, %rsp\npop %rbx\nret") { a in
            let f = a.enterHostFrame(saving: [.rbx], localBytes: 16); a.leaveHostFrame(f)
        })
        cases.append(EncodingCase("push %r15\npush %rbx\nsub $8, %rsp\nadd $8, %rsp\npop %rbx\npop %r15\nret") { a in
            let f = a.enterHostFrame(saving: [.r15, .rbx]); a.leaveHostFrame(f)
        })
        cases.append(EncodingCase("sub $8, %rsp\nadd $8, %rsp\nret") { a in
            let f = a.enterHostFrame(saving: []); a.leaveHostFrame(f)
        })
        try assertMatchesGNUAssembler(cases)
    }
}
