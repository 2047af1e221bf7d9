@_spi(JIT) import RISCV

/// Translates one guest basic block into x86-64: the instructions from a start pc up to a
/// control transfer, a system instruction, the end of the page, or `maximumInstructions`.
///
/// Blocks are keyed by guest-physical address and never span a page. The code never embeds
/// the block's virtual pc: r12 holds it at run time, so one translation serves every virtual
/// address that maps the same physical code (and the fetch TLB decides which may run).
///
/// Integer arithmetic, branches, jumps and loads/stores are emitted inline, loads and stores
/// with the soft TLB's fast path; a TLB miss, a page-crossing access, MMIO, or a store to a
/// page with code go to helpers that run the interpreter's own path. Every other instruction
/// (floating point, atomics, CSRs and the privileged ones) is a call to the interpreter's
/// executor for that one decoded instruction, so its behaviour is the interpreter's by
/// construction; system instructions end the block.
struct BlockTranslator {
    static let maximumInstructions = 64

    /// What translated code does with an instruction.
    enum Role {
        /// Emitted inline.
        case native
        /// A helper call that continues with the next instruction unless it trapped.
        case helper
        /// A helper call after which the block always returns to Swift.
        case helperEndsBlock
        /// A branch or jump: emitted inline, ends the block.
        case controlTransfer
        /// Binary translation of guest-kernel code: a sensitive instruction, replaced by a direct
        /// call into the VMM's emulation routine. A CSR access continues with the next
        /// instruction unless the VMM changed something translated code depends on; sret,
        /// ecall, wfi and sfence.vma end the block.
        case vmmCallout
        case vmmCalloutEndsBlock
    }

    /// The role of `d` in a block; `rewritingSensitive` for guest-kernel code under `--virt bt`.
    static func role(of d: DecodedInstruction, rewritingSensitive: Bool) -> Role {
        if rewritingSensitive && isSensitive(d) {
            switch d.op {
            case .csrrw, .csrrs, .csrrc, .csrrwi, .csrrsi, .csrrci: return .vmmCallout
            default: return .vmmCalloutEndsBlock
            }
        }
        return role(of: d.op)
    }

    /// The instructions that trap when the guest kernel runs deprivileged in U-mode, and so go
    /// to the VMM: supervisor and machine CSRs (bits 9:8 of the number are the lowest
    /// privilege allowed; user CSRs such as fflags or time need no VMM), sret, wfi,
    /// sfence.vma, and ecall (an SBI call: a hypercall).
    static func isSensitive(_ d: DecodedInstruction) -> Bool {
        switch d.op {
        case .csrrw, .csrrs, .csrrc, .csrrwi, .csrrsi, .csrrci:
            return (UInt16(truncatingIfNeeded: d.imm) >> 8) & 3 != 0
        case .sret, .wfi, .sfenceVMA, .ecall:
            return true
        default:
            return false
        }
    }

    static func role(of op: Opcode) -> Role {
        switch op {
        case .jal, .jalr, .beq, .bne, .blt, .bge, .bltu, .bgeu:
            return .controlTransfer
        case .lui, .auipc, .lb, .lh, .lw, .ld, .lbu, .lhu, .lwu, .sb, .sh, .sw, .sd,
             .addi, .slti, .sltiu, .xori, .ori, .andi, .slli, .srli, .srai,
             .add, .sub, .sll, .slt, .sltu, .xor, .srl, .sra, .or, .and,
             .addiw, .slliw, .srliw, .sraiw, .addw, .subw, .sllw, .srlw, .sraw,
             .mul, .mulh, .mulhsu, .mulhu, .div, .divu, .rem, .remu, .mulw, .divw, .divuw, .remw, .remuw,
             .fence,
             .sh1add, .sh2add, .sh3add, .addUW, .sh1addUW, .sh2addUW, .sh3addUW, .slliUW,
             .andn, .orn, .xnor, .clz, .ctz, .cpop, .clzw, .ctzw, .cpopw,
             .max, .maxu, .min, .minu, .sextB, .sextH, .zextH,
             .rol, .ror, .rori, .rolw, .rorw, .roriw, .orcB, .rev8:
            return .native
        case .fenceI, .ecall, .ebreak, .mret, .sret, .wfi, .sfenceVMA,
             .csrrw, .csrrs, .csrrc, .csrrwi, .csrrsi, .csrrci,
             .hfenceVVMA, .hfenceGVMA, .hlvB, .hlvBU, .hlvH, .hlvHU, .hlvxHU, .hlvW, .hlvWU, .hlvxWU, .hlvD,
             .hsvB, .hsvH, .hsvW, .hsvD,
             .illegal, .notDecoded, .crossesPage:
            return .helperEndsBlock
        default:
            // F, D and A: data-only instructions that may trap but change nothing else.
            return .helper
        }
    }

    /// One guest instruction of the block.
    struct Instruction {
        let decoded: DecodedInstruction
        /// Byte offset from the block's first instruction.
        let offset: Int
        var length: Int { Int(decoded.length) }
    }

    /// A translated block, ready to install at `base`.
    struct Output {
        let code: [UInt8]
        /// Offsets of rel32 fields of same-page jumps not yet chained, and each target's offset
        /// from the block start.
        let chainSites: [(field: Int, targetOffset: Int)]
        let instructionCount: Int
        let guestBytes: Int
        /// The block loops to itself with its registers kept in host registers.
        let keepsLoopInRegisters: Bool
    }

    /// Addresses translated code jumps and calls to.
    struct Targets {
        let stubs: RuntimeStubs
        let helpers: HelperAddresses
        /// The entry of an already translated block at this offset from the block start in the
        /// same physical page, if any (direct chaining when the block is emitted).
        let blockAt: (Int) -> UInt64?
    }

    var a = X86Assembler(reservingCapacity: 4096)
    let base: UInt64
    let pageOffset: Int
    let instructions: [Instruction]
    let targets: Targets
    /// Out-of-line code (slow paths, chain stubs), emitted after the block body.
    var coldPaths: [(inout BlockTranslator) -> Void] = []
    /// Guest registers in host registers at the current point of the block.
    var cache = RegisterCache()
    /// Where the next iteration of a self-looping block starts (BlockTranslator+Loop.swift).
    var loopHead: Label
    var chainSites: [(field: Int, targetOffset: Int)] = []

    /// Collects the block at `pc` (whose page offset is `pc & 0xfff`) through the hart's fetch,
    /// which decodes and caches each instruction. Nil when not even one instruction can be
    /// translated (a 32-bit instruction straddling the page end): the caller interprets it.
    /// `lastHalfword` is the page's final 16-bit parcel: a 32-bit instruction starting there
    /// continues on the next page, whose mapping may differ, so it is left to the interpreter.
    static func collect(_ hart: Hart, at pc: UInt64, lastHalfword: UInt16,
                        rewritingSensitive: Bool) throws(Exception) -> [Instruction]? {
        var list: [Instruction] = []
        var offset = 0
        let pageOffset = Int(pc & 0xfff)
        while list.count < maximumInstructions && pageOffset + offset < 4096 {
            let here = pc &+ UInt64(offset)
            if pageOffset + offset == 4094 && lastHalfword & 3 == 3 { break }
            let d = try hart.fetchDecoded(here)
            if d.op == .crossesPage { break }
            list.append(Instruction(decoded: d, offset: offset))
            offset += Int(d.length)
            switch role(of: d, rewritingSensitive: rewritingSensitive) {
            case .controlTransfer, .helperEndsBlock, .vmmCalloutEndsBlock: return list
            case .native, .helper, .vmmCallout: continue
            }
        }
        return list.isEmpty ? nil : list
    }

    /// Guest-kernel code under `--virt bt`: sensitive instructions become VMM callouts.
    let rewritingSensitive: Bool

    init(instructions: [Instruction], pageOffset: Int, base: UInt64, targets: Targets, rewritingSensitive: Bool) {
        self.instructions = instructions
        self.rewritingSensitive = rewritingSensitive
        self.pageOffset = pageOffset
        self.base = base
        self.targets = targets
        loopHead = a.makeLabel()
    }

    mutating func translate() -> Output {
        let n = instructions.count
        // Entry: stop before running anything if the slice's budget is spent; else claim it.
        a.test(.r15, .r15)
        a.j(.le, to: targets.stubs.exitAtPC, codeBase: base)
        a.sub(.r15, imm: Int32(n))
        let loopRegisters = selfLoopRegisters()
        if let loopRegisters { enterLoop(loopRegisters) }

        var ended = false
        for (i, instruction) in instructions.enumerated() {
            let unexecutedAfter = n - 1 - i
            if loopRegisters != nil && i == n - 1 {
                emitLoopBranch(instruction)
                ended = true
                break
            }
            switch Self.role(of: instruction.decoded, rewritingSensitive: rewritingSensitive) {
            case .native:
                emitNative(instruction, unexecutedAfter: unexecutedAfter)
            case .helper where Self.hasInlineFloat(instruction.decoded):
                emitFloat(instruction, unexecutedAfter: unexecutedAfter)
            case .helper:
                emitInterpreterCall(instruction, unexecutedAfter: unexecutedAfter, endsBlock: false)
            case .helperEndsBlock:
                emitInterpreterCall(instruction, unexecutedAfter: unexecutedAfter, endsBlock: true)
                ended = true
            case .controlTransfer:
                emitControlTransfer(instruction)
                ended = true
            case .vmmCallout:
                emitVMMCallout(instruction, unexecutedAfter: unexecutedAfter, endsBlock: false)
            case .vmmCalloutEndsBlock:
                emitVMMCallout(instruction, unexecutedAfter: unexecutedAfter, endsBlock: true)
                ended = true
            }
        }
        if !ended {
            let last = instructions[n - 1]
            writeBackCache()
            emitJump(toOffset: last.offset + last.length)
        }
        while !coldPaths.isEmpty {
            let paths = coldPaths
            coldPaths = []
            for path in paths { path(&self) }
        }
        let guestBytes = instructions.last.map { $0.offset + $0.length } ?? 0
        return Output(code: a.finish(), chainSites: chainSites, instructionCount: n, guestBytes: guestBytes,
                      keepsLoopInRegisters: loopRegisters != nil)
    }

    // MARK: Guest registers

    @inline(__always) static func reg(_ r: UInt8) -> Memory { .at(.rbx, Int32(r) * 8) }

    /// The block's guest pc plus `delta` into `dst` (r12 + delta).
    mutating func guestPC(_ dst: GPR, plus delta: Int) {
        if let d = Int32(exactly: delta) {
            a.lea(dst, .at(.r12, d))
        } else {
            a.movabs(dst, imm: UInt64(bitPattern: Int64(delta)))
            a.add(dst, .r12)
        }
    }

    // MARK: Helper calls

    /// Stores the budget register where helpers read it (see RuntimeStubs).
    mutating func syncBudget() {
        a.mov(Memory.at(.rbp, RuntimeStubs.budget), .r15)
    }

    /// Calls the interpreter for one instruction: helper(context, pc, decoded bits, packed).
    mutating func emitInterpreterCall(_ instruction: Instruction, unexecutedAfter: Int, endsBlock: Bool) {
        flushCache()
        emitInstructionHelperCall(targets.helpers.interpret, instruction, unexecutedAfter: unexecutedAfter, endsBlock: endsBlock)
    }

    /// Calls the VMM for a sensitive guest-kernel instruction: callout(context, pc, decoded
    /// bits, packed). The VMM leaves the hart where the guest continues.
    mutating func emitVMMCallout(_ instruction: Instruction, unexecutedAfter: Int, endsBlock: Bool) {
        flushCache()
        emitInstructionHelperCall(targets.helpers.vmmCallout, instruction, unexecutedAfter: unexecutedAfter, endsBlock: endsBlock)
    }

    /// helper(context, pc, decoded bits, packed) for one instruction, where no guest register
    /// is cached; leaves the block when the helper says so (always, with `endsBlock`).
    mutating func emitInstructionHelperCall(_ helper: UInt64, _ instruction: Instruction, unexecutedAfter: Int,
                                            endsBlock: Bool) {
        syncBudget()
        a.mov(.rdi, .rbp)
        guestPC(.rsi, plus: instruction.offset)
        a.movabs(.rdx, imm: instruction.decoded.bits)
        a.mov(.rcx, imm: Int64(InstructionArguments(unexecutedAfter: unexecutedAfter, endsBlock: endsBlock).packed))
        a.call(absolute: helper)
        if endsBlock {
            a.jmp(to: targets.stubs.exitHandled, codeBase: base)
        } else {
            a.test(.rax, .rax, .dword)
            a.j(.ne, to: targets.stubs.exitHandled, codeBase: base)
        }
    }

    // MARK: Leaving the block

    /// Continues at the instruction `offset` bytes from the block start: chained directly when
    /// it is on the same page (to the block there, or through a stub that asks Swift to link
    /// it), else through the dispatcher.
    mutating func emitJump(toOffset offset: Int) {
        precondition(cache.isClean, "the register cache must be written back before leaving a block")
        if offset != 0 { guestPC(.r12, plus: offset) }
        let target = pageOffset + offset
        guard target >= 0 && target < 4096 else {
            a.jmp(to: targets.stubs.dispatch, codeBase: base)
            return
        }
        if let entry = targets.blockAt(offset) {
            a.jmp(to: entry, codeBase: base)
            return
        }
        let stub = a.makeLabel()
        let field = a.jmp(stub, .near)
        chainSites.append((field: field, targetOffset: offset))
        let dispatchChained = targets.stubs.dispatchChained
        coldPaths.append { t in
            t.a.bind(stub)
            t.a.movabs(.rax, imm: t.base &+ UInt64(field))
            t.a.jmp(to: dispatchChained, codeBase: t.base)
        }
    }
}
