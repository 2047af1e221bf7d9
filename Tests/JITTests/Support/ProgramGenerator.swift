@testable import RISCV

/// Random RV64GC programs that always terminate: forward branches and jumps, counted loops
/// (x29 counts down and is written nowhere else), calls to leaf subroutines (only calls write
/// x1), and a final `ecall` that the trap handler turns into a WFI halt. x28 holds the data base
/// throughout. Every other register is fair game, including x0 as a destination.
struct ProgramGenerator {
    static let dataBase = 28, loopCounter = 29, ra = 1
    /// Destinations: everything but x1, x28 and x29 (x0 only now and then).
    static let writable = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
                           21, 22, 23, 24, 25, 26, 27, 30, 31]
    static let hot = [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]

    var rng: SplitMix64
    let privilege: Privilege
    let floatingPoint: Bool
    var b = ProgramBuilder()
    var subroutines: [Int] = []
    var inLoop = false
    var inSubroutine = false

    init(rng: SplitMix64, privilege: Privilege, floatingPoint: Bool) {
        self.rng = rng
        self.privilege = privilege
        self.floatingPoint = floatingPoint
    }

    /// The program and the label of its final `ecall`.
    mutating func generate(segments: Int) -> (pieces: [ProgramPiece], halt: Int) {
        subroutines = (0..<rng.below(3)).map { _ in b.newLabel() }
        let halt = b.newLabel()
        for _ in 0..<segments { segment(depth: 2) }
        b.bind(halt)
        b.word(Asm.ecall, "ecall                    # halt")
        if rng.chance(30) { b.word(0xffff_ffff, ".word 0xffffffff (never reached)") }
        inSubroutine = true
        for s in subroutines {
            b.bind(s)
            for _ in 0..<rng.range(1...3) { segment(depth: 1) }
            if rng.chance(50) { b.half(CAsm.jr(Self.ra), "c.jr x1") } else { b.word(Asm.jalr(0, Self.ra, 0), "ret") }
        }
        return (b.pieces, halt)
    }

    // MARK: Registers and immediates

    mutating func source() -> Int { rng.chance(60) ? rng.pick(Self.hot) : rng.below(32) }
    mutating func destination() -> Int {
        if rng.chance(3) { return 0 }
        return rng.chance(60) ? rng.pick(Self.hot) : rng.pick(Self.writable)
    }
    /// A writable register other than x0 and those in `avoiding`.
    mutating func scratch(avoiding: [Int] = []) -> Int {
        while true {
            let r = rng.pick(Self.writable)
            if !avoiding.contains(r) { return r }
        }
    }
    /// x8-x15, the registers compressed CL/CS/CA/CB forms can name.
    mutating func compressedRegister() -> Int { rng.range(8...15) }

    mutating func imm12() -> Int64 {
        switch rng.below(6) {
        case 0: return rng.pick([0, 1, -1, 2047, -2048, 0x7ff, -0x800, 0x400])
        case 1: return Int64(rng.range(-16...16))
        default: return Int64(rng.range(-2048...2047))
        }
    }
    mutating func shamt(_ bits: Int) -> UInt32 {
        let limit = (1 << bits) - 1
        return rng.chance(30) ? UInt32(rng.pick([0, 1, limit / 2, limit / 2 + 1, limit])) : UInt32(rng.range(0...limit))
    }

    static let interesting: [UInt64] = [
        0, 1, 2, 31, 32, 63, 64, 0x80, 0xff, 0x8000, 0xffff, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff,
        0x1_0000_0000, 0xffff_ffff_8000_0000, 0x7fff_ffff_ffff_ffff, 0x8000_0000_0000_0000,
        0x8000_0000_0000_0001, .max, 0xffff_ffff_ffff_fffe,
    ]

    mutating func interestingValue() -> UInt64 {
        switch rng.below(5) {
        case 0, 1: return rng.pick(Self.interesting)
        case 2: return UInt64(bitPattern: Int64(rng.range(-100...100)))
        case 3: return UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: rng.next())))
        default: return rng.next()
        }
    }

    /// rd = value, by lui/addiw/addi, then slli/addi for the upper bits.
    mutating func loadImmediate(_ rd: Int, _ value: UInt64) {
        let v = Int64(bitPattern: value)
        if Int64(Int32(truncatingIfNeeded: v)) == v {
            let hi = (v + 0x800) >> 12, lo = v - (hi << 12)
            if hi == 0 {
                b.word(Asm.addi(rd, 0, lo), "li x\(rd), \(lo)")
            } else {
                b.word(Asm.lui(rd, hi << 12), "lui x\(rd), 0x\(String(UInt32(truncatingIfNeeded: hi) & 0xfffff, radix: 16))")
                if lo != 0 { b.word(Asm.i(Asm.addiw, rd, rd, lo), "addiw x\(rd), x\(rd), \(lo)") }
            }
            return
        }
        let lo = (v << 52) >> 52
        loadImmediate(rd, UInt64(bitPattern: (v &- lo) >> 12))
        b.word(Asm.shift(Asm.slli, rd, rd, 12), "slli x\(rd), x\(rd), 12")
        if lo != 0 { b.word(Asm.addi(rd, rd, lo), "addi x\(rd), x\(rd), \(lo)") }
    }

    // MARK: Structure

    mutating func segment(depth: Int) {
        let roll = rng.below(100)
        switch roll {
        case 0..<30: straight(rng.range(1...10))
        case 30..<45 where depth > 0: forwardBranch(depth: depth)
        case 45..<53 where depth > 0 && !inLoop && !inSubroutine: loop(depth: depth)
        case 53..<59 where !inSubroutine && !subroutines.isEmpty: call()
        case 59..<65 where depth > 0: forwardJump(depth: depth)
        case 65..<72: selfModifyingCode()
        case 72..<82: for _ in 0..<rng.range(2...6) { memoryAccess() }
        case 82..<88: for _ in 0..<rng.range(1...6) { floatingPointInstruction() }
        case 88..<99: systemInstruction()
        default:
            // Rarely: an indirect jump out of RAM or mapped memory, which ends the program.
            if rng.chance(10) && !inSubroutine {
                let t = scratch()
                loadImmediate(t, rng.pick([0x1000, 0x4000_0000, GuestLayout.ramBase + GuestLayout.ramSize]))
                b.word(Asm.jalr(0, t, 0), "jr x\(t)               # fetch fault: ends the program")
            } else {
                straight(rng.range(1...4))
            }
        }
    }

    mutating func straight(_ count: Int) {
        for _ in 0..<count { randomInstruction() }
    }

    /// One instruction (or a short sequence) of any kind that falls through.
    mutating func randomInstruction() {
        switch rng.below(100) {
        case 0..<30: b.emit(aluInstruction())
        case 30..<42: b.emit(compressedALU())
        case 42..<46: loadImmediate(destination(), interestingValue())
        case 46..<50: divisionEdgeCase()
        case 50..<54:
            let rd = destination(), imm = Int64(Int32(truncatingIfNeeded: rng.next())) & ~0xfff
            if rng.chance(50) {
                b.word(Asm.lui(rd, imm), "lui x\(rd), 0x\(String((imm >> 12) & 0xfffff, radix: 16))")
            } else {
                b.word(Asm.auipc(rd, imm), "auipc x\(rd), 0x\(String((imm >> 12) & 0xfffff, radix: 16))")
            }
        case 54..<72: memoryAccess()
        case 72..<80: floatingPointInstruction()
        case 80..<84: atomic()
        case 84..<90: csrAccess()
        default: b.emit(aluInstruction())
        }
    }

    /// A forward conditional branch (or jump) over a random body, in a form whose range
    /// reaches: B-type, c.beqz/c.bnez, jal, c.j.
    mutating func forwardBranch(depth: Int) {
        let mark = b.mark
        for _ in 0..<rng.range(0...3) { segment(depth: depth - 1) }
        let body = b.take(from: mark)
        let distance = ProgramBuilder.bytes(body) + 2
        let skip = b.newLabel()
        let form = rng.below(10)
        if form < 2 && distance <= 254 {
            let r = compressedRegister(), ne = rng.chance(50)
            b.emit(ProgramInstruction(size: 2, text: "c.\(ne ? "bnez" : "beqz") x\(r), L\(skip)", target: skip) {
                UInt32(CAsm.branch(notEqual: ne, r, $0))
            })
        } else if form == 2 && distance <= 2046 {
            b.emit(ProgramInstruction(size: 2, text: "c.j L\(skip)", target: skip) { UInt32(CAsm.j($0)) })
        } else if form == 3 {
            let rd = destination()
            b.emit(ProgramInstruction(size: 4, text: "jal x\(rd), L\(skip)", target: skip) { Asm.jal(rd, $0) })
        } else {
            let (f3, name) = rng.pick([(Asm.beq, "beq"), (Asm.bne, "bne"), (Asm.blt, "blt"), (Asm.bge, "bge"),
                                       (Asm.bltu, "bltu"), (Asm.bgeu, "bgeu")])
            let rs1 = source(), rs2 = rng.chance(15) ? rs1 : source()
            b.emit(ProgramInstruction(size: 4, text: "\(name) x\(rs1), x\(rs2), L\(skip)", target: skip) {
                Asm.b(f3, rs1, rs2, $0)
            })
        }
        b.append(body)
        b.bind(skip)
    }

    /// for x29 = n; x29 > 0; x29 -= 1 { body } (signed test, so a stray x29 cannot spin).
    mutating func loop(depth: Int) {
        let n = rng.range(1...6)
        b.word(Asm.addi(Self.loopCounter, 0, Int64(n)), "li x29, \(n)")
        let top = b.newLabel()
        b.bind(top)
        inLoop = true
        if rng.chance(25) { selfModifyingCode(backward: true) }
        for _ in 0..<rng.range(1...4) { segment(depth: depth - 1) }
        inLoop = false
        b.word(Asm.addi(Self.loopCounter, Self.loopCounter, -1), "addi x29, x29, -1")
        b.emit(ProgramInstruction(size: 4, text: "blt x0, x29, L\(top)", target: top) {
            Asm.b(Asm.blt, 0, Self.loopCounter, $0)
        })
    }

    mutating func call() {
        let target = rng.pick(subroutines)
        if rng.chance(50) {
            b.emit(ProgramInstruction(size: 4, text: "jal x1, S\(target)", target: target) { Asm.jal(Self.ra, $0) })
            return
        }
        // auipc/addi of the address, then c.jalr or jalr x1.
        let t = scratch(), anchor = b.newLabel()
        b.bind(anchor)
        b.emit(ProgramInstruction(size: 4, text: "auipc x\(t), %hi(S\(target))", target: target, anchor: anchor) {
            Asm.auipc(t, ($0 + 0x800) & ~0xfff)
        })
        b.emit(ProgramInstruction(size: 4, text: "addi x\(t), x\(t), %lo(S\(target))", target: target, anchor: anchor) {
            Asm.addi(t, t, $0 - (($0 + 0x800) & ~0xfff))
        })
        if rng.chance(50) { b.half(CAsm.jalr(t), "c.jalr x\(t)") } else { b.word(Asm.jalr(Self.ra, t, 0), "jalr x1, 0(x\(t))") }
    }

    /// auipc + jalr over a body; the jalr's immediate sometimes has bit 0 set (jalr clears it),
    /// and its destination may be its own base register.
    mutating func forwardJump(depth: Int) {
        let t = scratch(), rd = rng.chance(30) ? t : destination(), odd = rng.chance(30) ? Int64(1) : 0
        let anchor = b.newLabel(), over = b.newLabel()
        b.bind(anchor)
        b.word(Asm.auipc(t, 0), "auipc x\(t), 0")
        b.emit(ProgramInstruction(size: 4, text: "jalr x\(rd), L\(over)+\(odd)-.(x\(t))", target: over, anchor: anchor) {
            Asm.jalr(rd, t, $0 + odd)
        })
        for _ in 0..<rng.range(0...2) { segment(depth: depth - 1) }
        b.bind(over)
    }

    // MARK: Integer arithmetic

    static let registerOps: [(Asm.R, String)] = [
        (Asm.add, "add"), (Asm.sub, "sub"), (Asm.sll, "sll"), (Asm.slt, "slt"), (Asm.sltu, "sltu"),
        (Asm.xor, "xor"), (Asm.srl, "srl"), (Asm.sra, "sra"), (Asm.or, "or"), (Asm.and, "and"),
        (Asm.addw, "addw"), (Asm.subw, "subw"), (Asm.sllw, "sllw"), (Asm.srlw, "srlw"), (Asm.sraw, "sraw"),
        (Asm.mul, "mul"), (Asm.mulh, "mulh"), (Asm.mulhsu, "mulhsu"), (Asm.mulhu, "mulhu"),
        (Asm.div, "div"), (Asm.divu, "divu"), (Asm.rem, "rem"), (Asm.remu, "remu"),
        (Asm.mulw, "mulw"), (Asm.divw, "divw"), (Asm.divuw, "divuw"), (Asm.remw, "remw"), (Asm.remuw, "remuw"),
        (Asm.sh1add, "sh1add"), (Asm.sh2add, "sh2add"), (Asm.sh3add, "sh3add"), (Asm.adduw, "add.uw"),
        (Asm.sh1adduw, "sh1add.uw"), (Asm.sh2adduw, "sh2add.uw"), (Asm.sh3adduw, "sh3add.uw"),
        (Asm.andn, "andn"), (Asm.orn, "orn"), (Asm.xnor, "xnor"), (Asm.max, "max"), (Asm.maxu, "maxu"),
        (Asm.min, "min"), (Asm.minu, "minu"), (Asm.rol, "rol"), (Asm.ror, "ror"), (Asm.rolw, "rolw"),
        (Asm.rorw, "rorw"),
    ]
    static let immediateOps: [(Asm.I, String)] = [
        (Asm.addi, "addi"), (Asm.slti, "slti"), (Asm.sltiu, "sltiu"), (Asm.xori, "xori"), (Asm.ori, "ori"),
        (Asm.andi, "andi"), (Asm.addiw, "addiw"),
    ]
    static let shiftOps: [(Asm.Shift, String)] = [
        (Asm.slli, "slli"), (Asm.srli, "srli"), (Asm.srai, "srai"), (Asm.rori, "rori"), (Asm.slliuw, "slli.uw"),
        (Asm.slliw, "slliw"), (Asm.srliw, "srliw"), (Asm.sraiw, "sraiw"), (Asm.roriw, "roriw"),
    ]
    /// Zbb unary: imm12, opcode, funct3.
    static let unaryOps: [(UInt32, UInt32, UInt32, String)] = [
        (0x600, 0x13, 1, "clz"), (0x601, 0x13, 1, "ctz"), (0x602, 0x13, 1, "cpop"), (0x604, 0x13, 1, "sext.b"),
        (0x605, 0x13, 1, "sext.h"), (0x600, 0x1b, 1, "clzw"), (0x601, 0x1b, 1, "ctzw"), (0x602, 0x1b, 1, "cpopw"),
        (0x287, 0x13, 5, "orc.b"), (0x6b8, 0x13, 5, "rev8"),
    ]

    /// A 32-bit integer instruction that falls through and writes a writable register.
    mutating func aluInstruction() -> ProgramInstruction {
        let rd = destination(), rs1 = source()
        switch rng.below(10) {
        case 0..<4:
            let (op, name) = rng.pick(Self.registerOps)
            let rs2 = rng.chance(10) ? rs1 : source()
            return .word(Asm.r(op, rd, rs1, rs2), "\(name) x\(rd), x\(rs1), x\(rs2)")
        case 4..<7:
            let (op, name) = rng.pick(Self.immediateOps)
            let imm = imm12()
            return .word(Asm.i(op, rd, rs1, imm), "\(name) x\(rd), x\(rs1), \(imm)")
        case 7, 8:
            let (op, name) = rng.pick(Self.shiftOps)
            let amount = shamt(Int(op.shamtBits))
            return .word(Asm.shift(op, rd, rs1, amount), "\(name) x\(rd), x\(rs1), \(amount)")
        default:
            if rng.chance(15) { return .word(Asm.zexth(rd, rs1), "zext.h x\(rd), x\(rs1)") }
            let (imm, opcode, f3, name) = rng.pick(Self.unaryOps)
            return .word(Asm.unary(imm, rd, rs1, opcode: opcode, f3: f3), "\(name) x\(rd), x\(rs1)")
        }
    }

    /// Division and remainder by zero, and the one signed overflow (minimum / -1).
    mutating func divisionEdgeCase() {
        let a = scratch(), d = scratch(avoiding: [a])
        loadImmediate(a, rng.pick([0x8000_0000_0000_0000, 0xffff_ffff_8000_0000, 0x8000_0000, .max, 0, 7]))
        loadImmediate(d, rng.pick([0, .max, 1, 0xffff_ffff, 0x1_0000_0000, 0x1_ffff_ffff]))
        let (op, name) = rng.pick([(Asm.div, "div"), (Asm.divu, "divu"), (Asm.rem, "rem"), (Asm.remu, "remu"),
                                   (Asm.divw, "divw"), (Asm.divuw, "divuw"), (Asm.remw, "remw"), (Asm.remuw, "remuw")])
        let rd = rng.chance(30) ? a : destination()
        b.word(Asm.r(op, rd, a, d), "\(name) x\(rd), x\(a), x\(d)")
    }

    /// A compressed integer instruction (quadrants 0-2, no memory or control flow).
    mutating func compressedALU() -> ProgramInstruction {
        let rd = scratch(), p = compressedRegister(), q = compressedRegister()
        switch rng.below(13) {
        case 0:
            let imm = Int64(rng.range(-32...31))
            return .half(CAsm.ci(0, rd, imm), "c.addi x\(rd), \(imm)")
        case 1:
            let imm = Int64(rng.range(-32...31))
            return .half(CAsm.ci(1, rd, imm), "c.addiw x\(rd), \(imm)")
        case 2:
            let imm = Int64(rng.range(-32...31))
            return .half(CAsm.ci(2, rd, imm), "c.li x\(rd), \(imm)")
        case 3:
            let r = rd == 2 ? 3 : rd
            var imm = Int64(rng.range(-32...31))
            if imm == 0 { imm = 1 }
            return .half(CAsm.lui(r, imm << 12), "c.lui x\(r), \(imm)")
        case 4:
            var imm = Int64(rng.range(-32...31)) * 16
            if imm == 0 { imm = 16 }
            return .half(CAsm.addi16sp(imm), "c.addi16sp sp, \(imm)")
        case 5:
            let imm = Int64(rng.range(1...255)) * 4
            return .half(CAsm.addi4spn(p, imm), "c.addi4spn x\(p), sp, \(imm)")
        case 6:
            let kind = UInt16(rng.below(2)), amount = Int64(shamt(6))
            return .half(CAsm.cb(kind, p, amount), "c.\(kind == 0 ? "srli" : "srai") x\(p), \(amount)")
        case 7:
            let imm = Int64(rng.range(-32...31))
            return .half(CAsm.cb(2, p, imm), "c.andi x\(p), \(imm)")
        case 8:
            let kind = UInt16(rng.below(4))
            return .half(CAsm.ca(kind, word: false, p, q), "c.\(["sub", "xor", "or", "and"][Int(kind)]) x\(p), x\(q)")
        case 9:
            let kind = UInt16(rng.below(2))
            return .half(CAsm.ca(kind, word: true, p, q), "c.\(kind == 0 ? "subw" : "addw") x\(p), x\(q)")
        case 10:
            let amount = Int64(shamt(6))
            return .half(CAsm.slli(rd, amount), "c.slli x\(rd), \(amount)")
        case 11:
            let rs = rng.range(1...31)
            return .half(CAsm.mv(rd, rs), "c.mv x\(rd), x\(rs)")
        default:
            let rs = rng.range(1...31)
            return .half(CAsm.add(rd, rs), "c.add x\(rd), x\(rs)")
        }
    }
}
