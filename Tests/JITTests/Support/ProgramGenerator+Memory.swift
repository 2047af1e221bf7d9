@testable import RISCV

/// Loads, stores, atomics and self-modifying code.
extension ProgramGenerator {
    /// Emits what puts an address in a register; returns that register and the immediate to
    /// use with it. Mostly in the data pages around x28 (aligned or not, some straddling a page
    /// boundary), sometimes data-dependent, sometimes where nothing is mapped.
    mutating func address(size: Int) -> (base: Int, imm: Int64) {
        let aligned = rng.chance(65)
        func align(_ v: Int64) -> Int64 { aligned ? v & ~Int64(size - 1) : v }
        switch rng.below(20) {
        case 0..<9:
            return (Self.dataBase, align(Int64(rng.range(-2048...2047))))
        case 9..<13:
            // Far in the data pages, or just below a page boundary (crossing it when the
            // access is wider than the gap).
            let pageBoundary = Int64(rng.range(0...4)) * 0x1000
            let offset = rng.chance(50) ? pageBoundary - Int64(rng.range(1...8)) : align(Int64(rng.range(-0x1000...0x4ff8)))
            let t = scratch()
            let hi = (offset + 0x800) >> 12, lo = offset - (hi << 12)
            b.word(Asm.lui(t, hi << 12), "lui x\(t), \(hi)")
            b.word(Asm.r(Asm.add, t, t, Self.dataBase), "add x\(t), x\(t), x28")
            return (t, lo)
        case 13..<16:
            // Data-dependent: x28 + (some register & 0x7f8 or 0x7ff).
            let t = scratch(), r = source()
            let mask: Int64 = aligned ? 0x7f8 : 0x7ff
            b.word(Asm.i(Asm.andi, t, r, mask), "andi x\(t), x\(r), \(mask)")
            b.word(Asm.r(Asm.add, t, t, Self.dataBase), "add x\(t), x\(t), x28")
            return (t, Int64(rng.range(-64...64)))
        case 16:
            // The mailbox device: its registers, the line register, or across its end.
            let t = scratch()
            let offset = rng.chance(15) ? MailboxDevice.lineRegister : UInt64(rng.range(0...Int(MailboxDevice.length) + 4))
            loadImmediate(t, MailboxDevice.base + (aligned ? offset & ~UInt64(size - 1) : offset))
            return (t, 0)
        case 17:
            let t = scratch()
            loadImmediate(t, rng.pick([
                0, 0x1000, 0x4000_0000, GuestLayout.ramBase - 8, GuestLayout.ramBase + GuestLayout.ramSize - 4,
                GuestLayout.ramBase + GuestLayout.ramSize, GuestLayout.megapageAlias + 0x11000,
                GuestLayout.ramBase + 0x30000, 0xffff_ffff_ffff_fffc, 0x0000_4000_0000_0000,
                GuestLayout.dataBase + 0xfff,
            ]))
            return (t, Int64(rng.range(-4...4)))
        default:
            return (source(), imm12())
        }
    }

    static let loads: [(Asm.I, Int, String)] = [
        (Asm.lb, 1, "lb"), (Asm.lh, 2, "lh"), (Asm.lw, 4, "lw"), (Asm.ld, 8, "ld"),
        (Asm.lbu, 1, "lbu"), (Asm.lhu, 2, "lhu"), (Asm.lwu, 4, "lwu"),
    ]

    mutating func memoryAccess() {
        switch rng.below(10) {
        case 0..<4:
            let (op, size, name) = rng.pick(Self.loads)
            let (base, imm) = address(size: size)
            let rd = rng.chance(15) ? (base == Self.dataBase ? destination() : base) : destination()
            b.word(Asm.i(op, rd, base, imm), "\(name) x\(rd), \(imm)(x\(base))")
        case 4..<8:
            let (f3, size, name) = rng.pick([(UInt32(0), 1, "sb"), (1, 2, "sh"), (2, 4, "sw"), (3, 8, "sd")])
            let (base, imm) = address(size: size)
            let value = source()
            b.word(Asm.s(f3, value, base, imm), "\(name) x\(value), \(imm)(x\(base))")
        default:
            compressedMemoryAccess()
        }
    }

    /// c.lw/c.ld/c.sw/c.sd through x8-x15, and the sp-relative forms through sp, after
    /// pointing the base at the data pages.
    mutating func compressedMemoryAccess() {
        let offset = Int64(rng.range(-2048...1700))
        if rng.chance(50) {
            let base = compressedRegister(), r = compressedRegister()
            b.word(Asm.addi(base, Self.dataBase, offset), "addi x\(base), x28, \(offset)")
            switch rng.below(4) {
            case 0:
                let imm = Int64(rng.range(0...31)) * 4
                b.half(CAsm.memW(2, r, base, imm), "c.lw x\(r), \(imm)(x\(base))")
            case 1:
                let imm = Int64(rng.range(0...31)) * 8
                b.half(CAsm.memD(3, r, base, imm), "c.ld x\(r), \(imm)(x\(base))")
            case 2:
                let imm = Int64(rng.range(0...31)) * 4
                b.half(CAsm.memW(6, r, base, imm), "c.sw x\(r), \(imm)(x\(base))")
            default:
                let imm = Int64(rng.range(0...31)) * 8
                b.half(CAsm.memD(7, r, base, imm), "c.sd x\(r), \(imm)(x\(base))")
            }
            return
        }
        b.word(Asm.addi(2, Self.dataBase, offset), "addi sp, x28, \(offset)")
        let rd = scratch(), rs = source()
        switch rng.below(4) {
        case 0:
            let imm = Int64(rng.range(0...63)) * 4
            b.half(CAsm.lwsp(rd, imm), "c.lwsp x\(rd), \(imm)(sp)")
        case 1:
            let imm = Int64(rng.range(0...63)) * 8
            b.half(CAsm.ldsp(3, rd, imm), "c.ldsp x\(rd), \(imm)(sp)")
        case 2:
            let imm = Int64(rng.range(0...63)) * 4
            b.half(CAsm.swsp(rs, imm), "c.swsp x\(rs), \(imm)(sp)")
        default:
            let imm = Int64(rng.range(0...63)) * 8
            b.half(CAsm.sdsp(7, rs, imm), "c.sdsp x\(rs), \(imm)(sp)")
        }
    }

    /// LR/SC pairs, SC without a reservation, and every AMO, aligned or not.
    mutating func atomic() {
        let word = rng.chance(50)
        let t = scratch()
        var offset = Int64(rng.range(-2048...2040)) & ~(word ? 3 : 7)
        if rng.chance(10) { offset += Int64(rng.range(1...3)) }
        b.word(Asm.addi(t, Self.dataBase, offset), "addi x\(t), x28, \(offset)")
        let w = word ? "w" : "d", aq = rng.chance(30), rl = rng.chance(30)
        let rd = destination(), rs2 = source()
        switch rng.below(4) {
        case 0:
            b.word(Asm.amo(.lr, word: word, rd, t, 0, aq: aq), "lr.\(w) x\(rd), (x\(t))")
            if rng.chance(30) { b.emit(aluInstruction()) }
            if rng.chance(20) { memoryAccess() }
            let rd2 = destination()
            b.word(Asm.amo(.sc, word: rng.chance(90) ? word : !word, rd2, t, rs2, rl: rl), "sc.? x\(rd2), x\(rs2), (x\(t))")
        case 1:
            b.word(Asm.amo(.sc, word: word, rd, t, rs2, rl: rl), "sc.\(w) x\(rd), x\(rs2), (x\(t))")
        default:
            let op = rng.pick(Asm.AMO.allCases.filter { $0 != .lr && $0 != .sc })
            b.word(Asm.amo(op, word: word, rd, t, rs2, aq: aq, rl: rl), "amo\(op).\(w) x\(rd), x\(rs2), (x\(t))")
        }
    }

    /// A store that rewrites an instruction about to run: later in the same block, after a
    /// block boundary (a branch or fence.i), through an AMO, an FP store or two halfword stores,
    /// a compressed instruction, or (in a loop) one that already ran, so the next iteration
    /// runs the new one.
    mutating func selfModifyingCode(backward: Bool = false) {
        let value = scratch(), pointer = scratch(avoiding: [value])
        let compressed = !backward && rng.chance(20)
        let original = compressed ? compressedALU() : aluInstruction()
        let replacement = compressed ? compressedALU() : aluInstruction()
        let newBits = replacement.encode(0)
        let target = b.newLabel(), anchor = b.newLabel()
        let storeText = "\(compressed ? "sh" : "sw") x\(value), T\(target)-A\(anchor)(x\(pointer))   # -> \(replacement.text)"
        func store() {
            b.bind(anchor)
            b.word(Asm.auipc(pointer, 0), "auipc x\(pointer), 0")
            b.emit(ProgramInstruction(size: 4, text: storeText, target: target, anchor: anchor) {
                compressed ? Asm.sh(value, pointer, $0) : Asm.sw(value, pointer, $0)
            })
        }
        if backward {
            b.bind(target)
            b.emit(original)
            if rng.chance(50) { b.emit(aluInstruction()) }
            loadImmediate(value, UInt64(bitPattern: Int64(Int32(bitPattern: newBits))))
            store()
            return
        }
        loadImmediate(value, UInt64(bitPattern: Int64(Int32(bitPattern: newBits))))
        switch rng.below(8) {
        case 0 where !compressed:
            // amoswap.w through the exact address.
            b.bind(anchor)
            b.emit(ProgramInstruction(size: 4, text: "auipc x\(pointer), %hi(T\(target))", target: target, anchor: anchor) {
                Asm.auipc(pointer, ($0 + 0x800) & ~0xfff)
            })
            b.emit(ProgramInstruction(size: 4, text: "addi x\(pointer), x\(pointer), %lo(T\(target))", target: target, anchor: anchor) {
                Asm.addi(pointer, pointer, $0 - (($0 + 0x800) & ~0xfff))
            })
            let rd = destination()
            b.word(Asm.amo(.swap, word: true, rd, pointer, value),
                   "amoswap.w x\(rd), x\(value), (x\(pointer))   # -> \(replacement.text)")
        case 1 where floatingPoint && !compressed:
            let fr = rng.below(32)
            b.word(Asm.fp(0x78, fr, value, 0, rm: 0), "fmv.w.x f\(fr), x\(value)")
            b.bind(anchor)
            b.word(Asm.auipc(pointer, 0), "auipc x\(pointer), 0")
            b.emit(ProgramInstruction(size: 4, text: "fsw f\(fr), T\(target)-A\(anchor)(x\(pointer))", target: target, anchor: anchor) {
                Asm.fsw(fr, pointer, $0)
            })
        case 2 where !compressed:
            // Low half, then high half: the instruction is only whole again after both.
            b.bind(anchor)
            b.word(Asm.auipc(pointer, 0), "auipc x\(pointer), 0")
            b.emit(ProgramInstruction(size: 4, text: "sh x\(value), T\(target)-A\(anchor)(x\(pointer))", target: target, anchor: anchor) {
                Asm.sh(value, pointer, $0)
            })
            b.word(Asm.shift(Asm.srli, value, value, 16), "srli x\(value), x\(value), 16")
            b.emit(ProgramInstruction(size: 4, text: "sh x\(value), T\(target)-A\(anchor)+2(x\(pointer))", target: target, anchor: anchor) {
                Asm.sh(value, pointer, $0 + 2)
            })
        default:
            store()
        }
        switch rng.below(4) {
        case 0:
            b.word(Asm.fenceI, "fence.i")
        case 1:
            let next = b.newLabel()
            b.emit(ProgramInstruction(size: 4, text: "beq x0, x0, L\(next)", target: next) { Asm.b(Asm.beq, 0, 0, $0) })
            b.bind(next)
        default:
            break
        }
        for _ in 0..<rng.range(0...3) { b.emit(aluInstruction()) }
        b.bind(target)
        b.emit(original)
    }
}
