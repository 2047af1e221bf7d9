/// The pre-decoded interpreter: fetch a decoded instruction (decoding a slot only the first
/// time), execute it, repeat. Every instruction sets `pc` last, so an exception leaves the
/// faulting instruction's pc in place for the trap.
extension Hart {
    /// Runs up to `budget` instructions, stopping early at WFI, HSM stop or a request to end the
    /// slice (power off, reset). Returns how many instructions ran.
    public func run(budget: Int) -> Int {
        if let engine { return engine.run(self, budget: budget) }
        return interpret(budget: budget)
    }

    /// The interpreter's run loop (the reference implementation of `run(budget:)`).
    func interpret(budget: Int) -> Int {
        guard runState == .running else { return 0 }
        yieldRequested = false
        seenLineGeneration = lines.generation
        // Steps include instructions that trapped; those do not retire.
        var executed = 0
        var trapped = 0
        while executed < budget {
            sliceBreak = false
            checkInterrupts()
            // pc, the fetch page and the register file live in locals (registers) across
            // instructions. self.pc is written back before anything that reads it (traps, system
            // instructions, the end of the slice); a translation or privilege change breaks out
            // of this loop so the fetch page is reloaded. A store into the fetch page zeroes its
            // slots in place, which the op check below sends to the slow path. (This is `fetch`
            // written out over locals: routing it through `fetch` with inout copies measured ~10%
            // slower on bench-int.)
            var pc = self.pc
            var fetchVPN = self.fetchVPN
            var slots = self.fetchSlots
            let x = self.x
            while executed < budget && !sliceBreak {
                executed &+= 1
                do throws(Exception) {
                    var d: DecodedInstruction
                    if pc >> 12 == fetchVPN {
                        d = slots[Int(truncatingIfNeeded: (pc & 0xfff) >> 1)]
                        if d.op.rawValue <= Opcode.crossesPage.rawValue {
                            d = try fetchSlow(pc)
                            fetchVPN = self.fetchVPN
                            slots = self.fetchSlots
                        }
                    } else {
                        d = try fetchSlow(pc)
                        fetchVPN = self.fetchVPN
                        slots = self.fetchSlots
                    }
                    pc = try execute(d, pc, x, retiredBefore: executed &- 1 &- trapped)
                } catch {
                    trapped &+= 1
                    self.pc = pc
                    take(error)
                    pc = self.pc
                }
            }
            self.pc = pc
            // A break that only asks to re-check interrupts (an enable bit or a device line
            // changed) continues this slice; WFI, HSM stop and power requests end it.
            if yieldRequested || runState != .running { break }
        }
        instret &+= UInt64(executed &- trapped)
        retiredInSlice = 0
        return executed
    }

    /// Runs exactly one instruction (or takes one pending interrupt), for tests and debuggers.
    public func step() {
        guard runState == .running else { return }
        if checkInterrupts() { return }
        do throws(Exception) {
            let d = try fetch(pc)
            pc = try execute(d, pc, x, retiredBefore: 0)
            instret &+= 1
        } catch {
            take(error)
        }
        retiredInSlice = 0
    }

    @inline(__always) static func sext32(_ v: UInt64) -> UInt64 {
        UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: v)))
    }

    /// Executes `d` at `pc` and returns the next pc. Instructions that trap, change privilege
    /// or call out of the hart work on `self.pc`, which is synchronised around them.
    @inline(__always)
    func execute(_ d: DecodedInstruction, _ pc: UInt64, _ x: UnsafeMutablePointer<UInt64>,
                 retiredBefore: Int) throws(Exception) -> UInt64 {
        let rd = Int(d.rd), rs1 = Int(d.rs1), rs2 = Int(d.rs2)
        let imm = UInt64(bitPattern: d.imm)
        let next = pc &+ UInt64(d.length)
        switch d.op {
        case .lui: x[rd] = imm; return next
        case .auipc: x[rd] = pc &+ imm; return next
        case .jal: x[rd] = next; return pc &+ imm
        case .jalr:
            let target = (x[rs1] &+ imm) & ~1
            x[rd] = next
            return target
        case .beq: return x[rs1] == x[rs2] ? pc &+ imm : next
        case .bne: return x[rs1] != x[rs2] ? pc &+ imm : next
        case .blt: return Int64(bitPattern: x[rs1]) < Int64(bitPattern: x[rs2]) ? pc &+ imm : next
        case .bge: return Int64(bitPattern: x[rs1]) >= Int64(bitPattern: x[rs2]) ? pc &+ imm : next
        case .bltu: return x[rs1] < x[rs2] ? pc &+ imm : next
        case .bgeu: return x[rs1] >= x[rs2] ? pc &+ imm : next

        case .lb: x[rd] = UInt64(bitPattern: Int64(Int8(bitPattern: try load(x[rs1] &+ imm, UInt8.self)))); return next
        case .lh: x[rd] = UInt64(bitPattern: Int64(Int16(bitPattern: try load(x[rs1] &+ imm, UInt16.self)))); return next
        case .lw: x[rd] = UInt64(bitPattern: Int64(Int32(bitPattern: try load(x[rs1] &+ imm, UInt32.self)))); return next
        case .ld: x[rd] = try load(x[rs1] &+ imm, UInt64.self); return next
        case .lbu: x[rd] = UInt64(try load(x[rs1] &+ imm, UInt8.self)); return next
        case .lhu: x[rd] = UInt64(try load(x[rs1] &+ imm, UInt16.self)); return next
        case .lwu: x[rd] = UInt64(try load(x[rs1] &+ imm, UInt32.self)); return next
        case .sb: try store(x[rs1] &+ imm, UInt8(truncatingIfNeeded: x[rs2])); return next
        case .sh: try store(x[rs1] &+ imm, UInt16(truncatingIfNeeded: x[rs2])); return next
        case .sw: try store(x[rs1] &+ imm, UInt32(truncatingIfNeeded: x[rs2])); return next
        case .sd: try store(x[rs1] &+ imm, x[rs2]); return next

        case .addi: x[rd] = x[rs1] &+ imm; return next
        case .slti: x[rd] = Int64(bitPattern: x[rs1]) < d.imm ? 1 : 0; return next
        case .sltiu: x[rd] = x[rs1] < imm ? 1 : 0; return next
        case .xori: x[rd] = x[rs1] ^ imm; return next
        case .ori: x[rd] = x[rs1] | imm; return next
        case .andi: x[rd] = x[rs1] & imm; return next
        case .slli: x[rd] = x[rs1] << (imm & 63); return next
        case .srli: x[rd] = x[rs1] >> (imm & 63); return next
        case .srai: x[rd] = UInt64(bitPattern: Int64(bitPattern: x[rs1]) >> (imm & 63)); return next
        case .add: x[rd] = x[rs1] &+ x[rs2]; return next
        case .sub: x[rd] = x[rs1] &- x[rs2]; return next
        case .sll: x[rd] = x[rs1] << (x[rs2] & 63); return next
        case .slt: x[rd] = Int64(bitPattern: x[rs1]) < Int64(bitPattern: x[rs2]) ? 1 : 0; return next
        case .sltu: x[rd] = x[rs1] < x[rs2] ? 1 : 0; return next
        case .xor: x[rd] = x[rs1] ^ x[rs2]; return next
        case .srl: x[rd] = x[rs1] >> (x[rs2] & 63); return next
        case .sra: x[rd] = UInt64(bitPattern: Int64(bitPattern: x[rs1]) >> (x[rs2] & 63)); return next
        case .or: x[rd] = x[rs1] | x[rs2]; return next
        case .and: x[rd] = x[rs1] & x[rs2]; return next

        case .addiw: x[rd] = Self.sext32(x[rs1] &+ imm); return next
        case .slliw: x[rd] = Self.sext32(UInt64(UInt32(truncatingIfNeeded: x[rs1]) << UInt32(imm & 31))); return next
        case .srliw: x[rd] = Self.sext32(UInt64(UInt32(truncatingIfNeeded: x[rs1]) >> UInt32(imm & 31))); return next
        case .sraiw: x[rd] = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: x[rs1]) >> Int32(imm & 31))); return next
        case .addw: x[rd] = Self.sext32(x[rs1] &+ x[rs2]); return next
        case .subw: x[rd] = Self.sext32(x[rs1] &- x[rs2]); return next
        case .sllw: x[rd] = Self.sext32(UInt64(UInt32(truncatingIfNeeded: x[rs1]) << UInt32(x[rs2] & 31))); return next
        case .srlw: x[rd] = Self.sext32(UInt64(UInt32(truncatingIfNeeded: x[rs1]) >> UInt32(x[rs2] & 31))); return next
        case .sraw: x[rd] = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: x[rs1]) >> Int32(x[rs2] & 31))); return next

        case .mul, .mulh, .mulhsu, .mulhu, .div, .divu, .rem, .remu,
             .mulw, .divw, .divuw, .remw, .remuw:
            x[rd] = Self.multiplyDivide(d.op, x[rs1], x[rs2]); return next

        case .fence: return next
        case .fenceI:
            // Every store to a page with decoded code already dropped its slots; resetting the
            // hart's fetch shortcut only matters to `step()` (the run loop holds its own copy).
            fetchVPN = .max
            return next
        case .csrrw, .csrrs, .csrrc, .csrrwi, .csrrsi, .csrrci:
            self.pc = pc
            retiredInSlice = UInt64(retiredBefore)
            try executeCSR(d)
            return self.pc
        case .ecall:
            self.pc = pc
            try executeEcall()
            return self.pc
        case .ebreak: throw Exception(.breakpoint, tval: pc)
        case .mret:
            self.pc = pc
            try executeMret()
            return self.pc
        case .sret:
            self.pc = pc
            try executeSret()
            return self.pc
        case .wfi:
            self.pc = pc
            try executeWfi(next)
            return self.pc
        case .sfenceVMA:
            try executeSfenceVMA()
            return next
        case .hfenceVVMA, .hfenceGVMA, .hlvB, .hlvBU, .hlvH, .hlvHU, .hlvxHU, .hlvW, .hlvWU, .hlvxWU, .hlvD,
             .hsvB, .hsvH, .hsvW, .hsvD:
            try executeHypervisorInstruction(d)
            return next

        case .lrW, .scW, .amoswapW, .amoaddW, .amoxorW, .amoandW, .amoorW, .amominW, .amomaxW, .amominuW, .amomaxuW,
             .lrD, .scD, .amoswapD, .amoaddD, .amoxorD, .amoandD, .amoorD, .amominD, .amomaxD, .amominuD, .amomaxuD:
            try executeAtomic(d)
            return next

        case .sh1add, .sh2add, .sh3add, .addUW, .sh1addUW, .sh2addUW, .sh3addUW, .slliUW,
             .andn, .orn, .xnor, .clz, .ctz, .cpop, .clzw, .ctzw, .cpopw,
             .max, .maxu, .min, .minu, .sextB, .sextH, .zextH,
             .rol, .ror, .rori, .rolw, .rorw, .roriw, .orcB, .rev8:
            x[rd] = Self.bitManipulation(d.op, x[rs1], x[rs2], imm); return next

        case .illegal: throw Exception(.illegalInstruction, tval: UInt64(UInt32(truncatingIfNeeded: d.imm)))
        case .notDecoded, .crossesPage: throw Exception(.illegalInstruction)
        default:
            try executeFloat(d)
            return next
        }
    }

    func executeEcall() throws(Exception) {
        switch privilege {
        case .user: throw Exception(.environmentCallFromU)
        case .supervisor:
            // A VS-mode ecall is the guest's, for its hypervisor: never the built-in SBI's.
            if virtualized { throw Exception(.environmentCallFromVS) }
            if let handler = supervisorCalls, handler.handleSupervisorCall(from: self) {
                pc &+= 4
                return
            }
            throw Exception(.environmentCallFromS)
        case .machine: throw Exception(.environmentCallFromM)
        }
    }

    func executeWfi(_ next: UInt64) throws(Exception) {
        // WFI is illegal in U-mode, and below M-mode when mstatus.TW is set (privileged spec
        // 3.1.6.5, 8.4.1). With TW clear, it is a virtual instruction in VU-mode, and in VS-mode
        // when hstatus.VTW is set (8.6.1).
        if privilege < .machine && mstatus & Mstatus.tw != 0 { throw Exception(.illegalInstruction) }
        if virtualized {
            if privilege == .user || hyp.hstatus & Hstatus.vtw != 0 { throw Exception(.virtualInstruction) }
        } else if privilege == .user {
            throw Exception(.illegalInstruction)
        }
        pc = next
        if !wakeupPending {
            runState = .waitingForInterrupt
            sliceBreak = true
        }
    }

    /// SFENCE.VMA: a supervisor instruction, trapped in HS-mode by mstatus.TVM (privileged spec
    /// 3.1.6.5) and in VS-mode by hstatus.VTVM, where it fences only the VS-stage (8.5.3).
    func executeSfenceVMA() throws(Exception) {
        if virtualized {
            if privilege == .user || hyp.hstatus & Hstatus.vtvm != 0 { throw Exception(.virtualInstruction) }
            flushGuestTranslations()
        } else {
            if privilege == .user || (privilege == .supervisor && mstatus & Mstatus.tvm != 0) {
                throw Exception(.illegalInstruction)
            }
            flushTranslations()
        }
    }

    static func multiplyDivide(_ op: Opcode, _ a: UInt64, _ b: UInt64) -> UInt64 {
        let sa = Int64(bitPattern: a), sb = Int64(bitPattern: b)
        switch op {
        case .mul: return a &* b
        case .mulh: return UInt64(bitPattern: sa.multipliedFullWidth(by: sb).high)
        case .mulhu: return a.multipliedFullWidth(by: b).high
        case .mulhsu:
            // signed x unsigned: the unsigned high word, corrected when a is negative.
            let high = a.multipliedFullWidth(by: b).high
            return sa < 0 ? high &- b : high
        case .div:
            if b == 0 { return .max }
            if sa == .min && sb == -1 { return a }
            return UInt64(bitPattern: sa / sb)
        case .divu: return b == 0 ? .max : a / b
        case .rem:
            if b == 0 { return a }
            if sa == .min && sb == -1 { return 0 }
            return UInt64(bitPattern: sa % sb)
        case .remu: return b == 0 ? a : a % b
        case .mulw: return sext32(a &* b)
        case .divw:
            let wa = Int32(truncatingIfNeeded: a), wb = Int32(truncatingIfNeeded: b)
            if wb == 0 { return .max }
            if wa == .min && wb == -1 { return UInt64(bitPattern: Int64(wa)) }
            return UInt64(bitPattern: Int64(wa / wb))
        case .divuw:
            let wa = UInt32(truncatingIfNeeded: a), wb = UInt32(truncatingIfNeeded: b)
            return wb == 0 ? .max : sext32(UInt64(wa / wb))
        case .remw:
            let wa = Int32(truncatingIfNeeded: a), wb = Int32(truncatingIfNeeded: b)
            if wb == 0 { return UInt64(bitPattern: Int64(wa)) }
            if wa == .min && wb == -1 { return 0 }
            return UInt64(bitPattern: Int64(wa % wb))
        case .remuw:
            let wa = UInt32(truncatingIfNeeded: a), wb = UInt32(truncatingIfNeeded: b)
            return sext32(UInt64(wb == 0 ? wa : wa % wb))
        default: return 0
        }
    }

    static func bitManipulation(_ op: Opcode, _ a: UInt64, _ b: UInt64, _ imm: UInt64) -> UInt64 {
        switch op {
        case .sh1add: return (a << 1) &+ b
        case .sh2add: return (a << 2) &+ b
        case .sh3add: return (a << 3) &+ b
        case .addUW: return (a & 0xffff_ffff) &+ b
        case .sh1addUW: return ((a & 0xffff_ffff) << 1) &+ b
        case .sh2addUW: return ((a & 0xffff_ffff) << 2) &+ b
        case .sh3addUW: return ((a & 0xffff_ffff) << 3) &+ b
        case .slliUW: return (a & 0xffff_ffff) << (imm & 63)
        case .andn: return a & ~b
        case .orn: return a | ~b
        case .xnor: return ~(a ^ b)
        case .clz: return UInt64(a.leadingZeroBitCount)
        case .ctz: return UInt64(a.trailingZeroBitCount)
        case .cpop: return UInt64(a.nonzeroBitCount)
        case .clzw: return UInt64(UInt32(truncatingIfNeeded: a).leadingZeroBitCount)
        case .ctzw: return UInt64(UInt32(truncatingIfNeeded: a).trailingZeroBitCount)
        case .cpopw: return UInt64(UInt32(truncatingIfNeeded: a).nonzeroBitCount)
        case .max: return Int64(bitPattern: a) > Int64(bitPattern: b) ? a : b
        case .maxu: return a > b ? a : b
        case .min: return Int64(bitPattern: a) < Int64(bitPattern: b) ? a : b
        case .minu: return a < b ? a : b
        case .sextB: return UInt64(bitPattern: Int64(Int8(truncatingIfNeeded: a)))
        case .sextH: return UInt64(bitPattern: Int64(Int16(truncatingIfNeeded: a)))
        case .zextH: return a & 0xffff
        case .rol: return a.rotatedLeft(by: b & 63)
        case .ror: return a.rotatedRight(by: b & 63)
        case .rori: return a.rotatedRight(by: imm & 63)
        case .rolw: return sext32(UInt64(UInt32(truncatingIfNeeded: a).rotatedLeft(by: b & 31)))
        case .rorw: return sext32(UInt64(UInt32(truncatingIfNeeded: a).rotatedRight(by: b & 31)))
        case .roriw: return sext32(UInt64(UInt32(truncatingIfNeeded: a).rotatedRight(by: imm & 31)))
        case .orcB:
            var r: UInt64 = 0
            for i in 0..<8 where (a >> (8 * UInt64(i))) & 0xff != 0 { r |= 0xff << (8 * UInt64(i)) }
            return r
        case .rev8: return a.byteSwapped
        default: return 0
        }
    }
}

extension FixedWidthInteger where Self: UnsignedInteger {
    @inline(__always) func rotatedLeft(by n: UInt64) -> Self {
        let k = Int(n) % Self.bitWidth
        return k == 0 ? self : (self << k) | (self >> (Self.bitWidth - k))
    }
    @inline(__always) func rotatedRight(by n: UInt64) -> Self {
        let k = Int(n) % Self.bitWidth
        return k == 0 ? self : (self >> k) | (self << (Self.bitWidth - k))
    }
}
