@testable import RISCV

/// Floating point, CSRs, traps and the privileged instructions.
extension ProgramGenerator {
    mutating func floatingPointInstruction() {
        let double = rng.chance(50)
        let fmt: UInt32 = double ? 1 : 0, s = double ? "d" : "s"
        let rm = rng.chance(4) ? UInt32(rng.pick([5, 6])) : UInt32(rng.pick([0, 1, 2, 3, 4, 7, 7, 7]))
        let fd = rng.below(32), f1 = rng.below(32), f2 = rng.below(32), f3 = rng.below(32)
        switch rng.below(12) {
        case 0..<3:
            let (f7, name) = rng.pick([(UInt32(0x00), "fadd"), (0x04, "fsub"), (0x08, "fmul"), (0x0c, "fdiv")])
            b.word(Asm.fp(f7 | fmt, fd, f1, f2, rm: rm), "\(name).\(s) f\(fd), f\(f1), f\(f2), rm\(rm)")
        case 3:
            b.word(Asm.fp(0x2c | fmt, fd, f1, 0, rm: rm), "fsqrt.\(s) f\(fd), f\(f1), rm\(rm)")
        case 4:
            if rng.chance(50) {
                let k = UInt32(rng.below(3))
                b.word(Asm.fp(0x10 | fmt, fd, f1, f2, rm: k), "\(["fsgnj", "fsgnjn", "fsgnjx"][Int(k)]).\(s) f\(fd), f\(f1), f\(f2)")
            } else {
                let k = UInt32(rng.below(2))
                b.word(Asm.fp(0x14 | fmt, fd, f1, f2, rm: k), "\(k == 0 ? "fmin" : "fmax").\(s) f\(fd), f\(f1), f\(f2)")
            }
        case 5:
            let (opcode, name) = rng.pick([(UInt32(0x43), "fmadd"), (0x47, "fmsub"), (0x4b, "fnmsub"), (0x4f, "fnmadd")])
            b.word(Asm.fused(opcode, double: double, fd, f1, f2, f3, rm: rm), "\(name).\(s) f\(fd), f\(f1), f\(f2), f\(f3), rm\(rm)")
        case 6:
            let k = UInt32(rng.below(3)), rd = destination()
            b.word(Asm.fp(0x50 | fmt, rd, f1, f2, rm: k), "\(["fle", "flt", "feq"][Int(k)]).\(s) x\(rd), f\(f1), f\(f2)")
        case 7:
            let k = rng.below(4), rd = destination()
            b.word(Asm.fp(0x60 | fmt, rd, f1, k, rm: rm), "fcvt.\(["w", "wu", "l", "lu"][k]).\(s) x\(rd), f\(f1), rm\(rm)")
        case 8:
            let k = rng.below(4), rs = source()
            b.word(Asm.fp(0x68 | fmt, fd, rs, k, rm: rm), "fcvt.\(s).\(["w", "wu", "l", "lu"][k]) f\(fd), x\(rs), rm\(rm)")
        case 9:
            if rng.chance(50) {
                let k = UInt32(rng.below(2)), rd = destination()
                b.word(Asm.fp(0x70 | fmt, rd, f1, 0, rm: k), "\(k == 0 ? "fmv.x" : "fclass").\(double ? "d" : "w") x\(rd), f\(f1)")
            } else {
                let rs = source()
                b.word(Asm.fp(0x78 | fmt, fd, rs, 0, rm: 0), "fmv.\(double ? "d" : "w").x f\(fd), x\(rs)")
            }
        case 10:
            if double {
                b.word(Asm.fp(0x21, fd, f1, 0, rm: rng.chance(80) ? 0 : rm), "fcvt.d.s f\(fd), f\(f1)")
            } else {
                b.word(Asm.fp(0x20, fd, f1, 1, rm: rm), "fcvt.s.d f\(fd), f\(f1), rm\(rm)")
            }
        default:
            floatingPointMemoryAccess(double: double)
        }
    }

    mutating func floatingPointMemoryAccess(double: Bool) {
        let fr = rng.below(32), s = double ? "d" : "w"
        if double && rng.chance(30) {
            // c.fld/c.fsd through x8-x15, or c.fldsp/c.fsdsp through sp.
            let offset = Int64(rng.range(-2048...1700)), imm = Int64(rng.range(0...31)) * 8
            let load = rng.chance(50)
            if rng.chance(50) {
                let base = compressedRegister(), r = compressedRegister()
                b.word(Asm.addi(base, Self.dataBase, offset), "addi x\(base), x28, \(offset)")
                b.half(CAsm.memD(load ? 1 : 5, r, base, imm), "c.\(load ? "fld" : "fsd") f\(r), \(imm)(x\(base))")
            } else {
                b.word(Asm.addi(2, Self.dataBase, offset), "addi sp, x28, \(offset)")
                b.half(load ? CAsm.ldsp(1, fr, imm) : CAsm.sdsp(5, fr, imm), "c.\(load ? "fldsp" : "fsdsp") f\(fr), \(imm)(sp)")
            }
            return
        }
        let (base, imm) = address(size: double ? 8 : 4)
        if rng.chance(50) {
            b.word(double ? Asm.fld(fr, base, imm) : Asm.flw(fr, base, imm), "fl\(s) f\(fr), \(imm)(x\(base))")
        } else {
            b.word(double ? Asm.fsd(fr, base, imm) : Asm.fsw(fr, base, imm), "fs\(s) f\(fr), \(imm)(x\(base))")
        }
    }

    /// CSRs any program may write without breaking the harness (not the trap vectors,
    /// interrupt enables, delegation, PMP or translation), and ones it may only read.
    static let writableCSRs: [(UInt16, String)] = [
        (CSR.fflags, "fflags"), (CSR.frm, "frm"), (CSR.fcsr, "fcsr"), (CSR.mscratch, "mscratch"),
        (CSR.sscratch, "sscratch"), (CSR.mepc, "mepc"), (CSR.sepc, "sepc"), (CSR.mcause, "mcause"),
        (CSR.scause, "scause"), (CSR.mtval, "mtval"), (CSR.stval, "stval"), (CSR.mcycle, "mcycle"),
        (CSR.minstret, "minstret"), (CSR.mcounteren, "mcounteren"), (CSR.scounteren, "scounteren"),
        (CSR.mcountinhibit, "mcountinhibit"), (0x7c0, "csr 0x7c0 (none)"), (0xb03, "mhpmcounter3"),
    ]
    static let readOnlyCSRs: [(UInt16, String)] = [
        (CSR.cycle, "cycle"), (CSR.instret, "instret"), (CSR.time, "time"), (CSR.mhartid, "mhartid"),
        (CSR.misa, "misa"), (CSR.mstatus, "mstatus"), (CSR.sstatus, "sstatus"), (CSR.satp, "satp"),
        (CSR.mie, "mie"), (CSR.mip, "mip"), (CSR.medeleg, "medeleg"), (CSR.mtvec, "mtvec"),
        (CSR.pmpcfg0, "pmpcfg0"), (0xc03, "hpmcounter3"), (0x600, "hstatus"),
    ]

    mutating func csrAccess() {
        let rd = destination()
        switch rng.below(10) {
        case 0..<5:
            let (csr, name) = rng.pick(Self.writableCSRs)
            let f3 = UInt32(rng.pick([1, 2, 3, 5, 6, 7]))
            let operand = f3 >= 5 ? rng.below(32) : source()
            let mnemonic = ["", "csrrw", "csrrs", "csrrc", "", "csrrwi", "csrrsi", "csrrci"][Int(f3)]
            b.word(Asm.csrOp(f3, rd, csr, operand), "\(mnemonic) x\(rd), \(name), \(f3 >= 5 ? "" : "x")\(operand)")
        case 5..<8:
            let (csr, name) = rng.pick(Self.readOnlyCSRs)
            // A write to a read-only number (bits 11:10 = 3) is illegal even from M-mode.
            if csr >> 10 == 3 && rng.chance(10) {
                b.word(Asm.csrOp(1, rd, csr, source()), "csrrw x\(rd), \(name), ... (illegal)")
            } else {
                b.word(Asm.csrOp(2, rd, csr, 0), "csrr x\(rd), \(name)")
            }
        case 8:
            // Status bits that change FP enablement or translation permissions.
            let t = scratch()
            var masks: [(UInt64, String)] = [(0x6000, "FS"), (0x2000, "FS.initial"), (1 << 18, "SUM"), (1 << 19, "MXR")]
            if privilege == .machine { masks += [(1 << 17, "MPRV"), (0x1800, "MPP"), (0x800, "MPP.S")] }
            let (mask, name) = rng.pick(masks)
            loadImmediate(t, mask)
            let set = rng.chance(60)
            let csr = privilege == .machine && rng.chance(70) ? CSR.mstatus : CSR.sstatus
            b.word(Asm.csrOp(set ? 2 : 3, rd, csr, t), "csrr\(set ? "s" : "c") x\(rd), \(csr == CSR.mstatus ? "mstatus" : "sstatus"), x\(t)  # \(name)")
        default:
            // satp rewritten with its own value (a TLB flush), or sfence.vma.
            if rng.chance(50) {
                let t = scratch()
                b.word(Asm.csrOp(2, t, CSR.satp, 0), "csrr x\(t), satp")
                b.word(Asm.csrOp(1, 0, CSR.satp, t), "csrw satp, x\(t)")
            } else {
                let rs1 = rng.chance(50) ? 0 : source(), rs2 = rng.chance(50) ? 0 : source()
                b.word(Asm.sfenceVMA(rs1, rs2), "sfence.vma x\(rs1), x\(rs2)")
            }
        }
    }

    mutating func systemInstruction() {
        switch rng.below(12) {
        case 0..<4: csrAccess()
        case 4: b.word(Asm.ecall, "ecall")
        case 5: if rng.chance(50) { b.word(Asm.ebreak, "ebreak") } else { b.half(CAsm.ebreak, "c.ebreak") }
        case 6:
            let (w, text) = rng.pick([(UInt32(0xffff_ffff), ".word 0xffffffff (illegal)"),
                                      (0xfe00_00b3, ".word 0xfe0000b3 (illegal funct7)"),
                                      (0x0000_0000, ".word 0 (two c.illegal halves)"),
                                      (Asm.fp(0x2c, 1, 2, 3, rm: 0), "fsqrt with rs2 != 0 (illegal)")])
            b.word(w, text)
        case 7: b.word(rng.chance(50) ? Asm.fence : Asm.fenceI, "fence / fence.i")
        case 8: atomic()
        case 9 where privilege == .machine && rng.chance(60):
            softwareInterrupt()
        case 9:
            // Privileged instructions that trap where they are generated (never a WFI that
            // could park an M- or S-mode hart).
            switch privilege {
            case .user:
                let (w, text) = rng.pick([(Asm.mret, "mret"), (Asm.sret, "sret"), (Asm.wfi, "wfi"), (Asm.sfenceVMA(), "sfence.vma")])
                b.word(w, text + " (illegal in U)")
            case .supervisor: b.word(Asm.mret, "mret (illegal in S)")
            case .machine: b.word(Asm.ecall, "ecall")
            }
        default:
            hypervisorLoadStore()
        }
    }

    /// Raises a software-writable interrupt (SSIP, STIP or SEIP in mip), enables it in mie and
    /// turns on mstatus.MIE, in a random order: the interrupt is taken right after the last of
    /// the three, and the handler clears the pending bit.
    mutating func softwareInterrupt() {
        let t = scratch()
        let bit = rng.pick([UInt64(0x2), 0x20, 0x200])
        loadImmediate(t, bit)
        var steps: [ProgramInstruction] = [
            .word(Asm.csrOp(2, 0, CSR.mip, t), "csrs mip, x\(t)"),
            .word(Asm.csrOp(2, 0, CSR.mie, t), "csrs mie, x\(t)"),
            .word(Asm.csrOp(6, 0, CSR.mstatus, 8), "csrsi mstatus, MIE"),
        ]
        while !steps.isEmpty {
            b.emit(steps.remove(at: rng.below(steps.count)))
            if rng.chance(30) { b.emit(aluInstruction()) }
        }
        if rng.chance(30) { b.word(Asm.csrOp(7, 0, CSR.mstatus, 8), "csrci mstatus, MIE") }
    }

    /// HLV/HLVX/HSV with vsatp and hgatp bare: a load or store at the same address from M or S,
    /// illegal from U.
    mutating func hypervisorLoadStore() {
        let t = scratch(), offset = Int64(rng.range(-2048...2040))
        b.word(Asm.addi(t, Self.dataBase, offset), "addi x\(t), x28, \(offset)")
        if rng.chance(60) {
            let (f7, rs2, name) = rng.pick([(UInt32(0x30), 0, "hlv.b"), (0x30, 1, "hlv.bu"), (0x32, 0, "hlv.h"),
                                           (0x32, 1, "hlv.hu"), (0x32, 3, "hlvx.hu"), (0x34, 0, "hlv.w"),
                                           (0x34, 1, "hlv.wu"), (0x34, 3, "hlvx.wu"), (0x36, 0, "hlv.d")])
            let rd = destination()
            b.word(f7 << 25 | UInt32(rs2) << 20 | UInt32(t) << 15 | 4 << 12 | UInt32(rd) << 7 | 0x73, "\(name) x\(rd), (x\(t))")
        } else {
            let (f7, name) = rng.pick([(UInt32(0x31), "hsv.b"), (0x33, "hsv.h"), (0x35, "hsv.w"), (0x37, "hsv.d")])
            let rs2 = source()
            b.word(f7 << 25 | UInt32(rs2) << 20 | UInt32(t) << 15 | 4 << 12 | 0x73, "\(name) x\(rs2), (x\(t))")
        }
    }
}
