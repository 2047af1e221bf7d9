@_spi(JIT) import RISCV

/// A block that is a whole loop (its final branch jumps back to its own start) keeps its guest
/// registers in host registers across iterations: they are loaded once on entry, the back edge
/// re-checks the budget and jumps past those loads, and only the way out of the loop writes
/// them back. Without this, every iteration would store its registers and the next would load
/// them again, putting a store-to-load delay on the loop's critical path.
///
/// This applies when every guest register the block uses fits in the register cache and the
/// block calls no helper in its hot path (a helper call empties the cache). Slow paths of loads
/// and stores still work: from the loop head on, every register the body writes counts as
/// dirty, so any cold path writes back what a previous iteration changed.
extension BlockTranslator {
    /// The guest registers of a self-looping block, or nil when it is not one this can keep.
    func selfLoopRegisters() -> [UInt8]? {
        guard let last = instructions.last else { return nil }
        let d = last.decoded
        switch d.op {
        case .beq, .bne, .blt, .bge, .bltu, .bgeu:
            guard last.offset + Int(d.imm) == 0 else { return nil }
        default:
            return nil
        }
        var registers: [UInt8] = []
        for instruction in instructions {
            let d = instruction.decoded
            guard Self.role(of: d, rewritingSensitive: rewritingSensitive) == .native || instruction.offset == last.offset,
                  Self.keepsCacheAcrossIteration(d.op) else { return nil }
            for r in [d.rd, d.rs1, d.rs2] where r != 0 && r < 32 && !registers.contains(r) {
                registers.append(r)
            }
        }
        return registers.count <= RegisterCache.hosts.count ? registers : nil
    }

    /// Native instructions whose code never empties the register cache (Zba/Zbb call a helper).
    private static func keepsCacheAcrossIteration(_ op: Opcode) -> Bool {
        switch op {
        case .sh1add, .sh2add, .sh3add, .addUW, .sh1addUW, .sh2addUW, .sh3addUW, .slliUW,
             .andn, .orn, .xnor, .clz, .ctz, .cpop, .clzw, .ctzw, .cpopw,
             .max, .maxu, .min, .minu, .sextB, .sextH, .zextH,
             .rol, .ror, .rori, .rolw, .rorw, .roriw, .orcB, .rev8:
            return false
        default:
            return true
        }
    }

    /// Loads `registers` into the cache and binds the loop head after those loads.
    mutating func enterLoop(_ registers: [UInt8]) {
        for r in registers { _ = operand(r) }
        a.bind(loopHead)
        for instruction in instructions {
            let rd = instruction.decoded.rd
            if rd != 0 && rd < 32, let s = cache.slot(of: rd) { cache.markDirty(s) }
        }
    }

    /// The loop's final branch: back to the head while taken (budget permitting), out through
    /// the not-taken side with the registers written back.
    mutating func emitLoopBranch(_ instruction: Instruction) {
        let d = instruction.decoded
        let condition = Self.branchCondition(d.op)
        let again = a.makeLabel(), outOfBudget = a.makeLabel()
        loadGuest(.rax, d.rs1)
        switch operand(d.rs2) {
        case .register(let h): a.cmp(.rax, h)
        case .memory(let m): a.cmp(.rax, m)
        }
        a.j(condition, again, .near)
        let state = cache
        writeBackCache()
        emitJump(toOffset: instruction.offset + instruction.length)
        a.bind(again)
        a.test(.r15, .r15)
        a.j(.le, outOfBudget, .near)
        a.sub(.r15, imm: Int32(instructions.count))
        a.jmp(loopHead, .near)
        let exitAtPC = targets.stubs.exitAtPC
        coldPaths.append { t in
            // The next iteration would start the block again: leave with pc = its start (r12).
            t.a.bind(outOfBudget)
            t.emitWriteBack(state)
            t.a.jmp(to: exitAtPC, codeBase: t.base)
        }
    }
}
