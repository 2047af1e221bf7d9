@_spi(JIT) import RISCV

/// Loads and stores with the soft TLB's fast path inline, as `Hart.load`/`Hart.store` do it:
/// the set entry for the virtual page, the page-offset check (an access may not cross the
/// page), then host = va + addend. Stores also check the page's flags byte (code to drop or a
/// watched page). Anything else goes to a helper that runs the interpreter's full path and
/// either continues or leaves the block with precise state (a fault, MMIO that raised an
/// interrupt, a store that dropped code).
///
/// The slow path is cold code: it writes back the register cache as it was at the branch,
/// calls the helper (which works on the register file), and reloads that cache state.
extension BlockTranslator {
    private static func size(of op: Opcode) -> (bytes: Int, signed: Bool) {
        switch op {
        case .lb: return (1, true)
        case .lbu, .sb: return (1, false)
        case .lh: return (2, true)
        case .lhu, .sh: return (2, false)
        case .lw: return (4, true)
        case .lwu, .sw: return (4, false)
        default: return (8, false)
        }
    }

    static func operandSize(_ bytes: Int) -> OperandSize {
        switch bytes {
        case 1: return .byte
        case 2: return .word
        case 4: return .dword
        default: return .qword
        }
    }

    /// The TLB probe of `set` for the address in `va`: jumps to `slow` on a miss or when the
    /// access would cross the page; leaves rax = host address. Uses rax and rcx.
    ///
    /// The entry is the one of the first byte's page, but it is compared with the *last* byte's
    /// page number: an access that crosses into the next page cannot match (that page's entry
    /// would sit at the next index), so one compare checks both, as QEMU's fast path does.
    mutating func probeTLB(_ set: GPR, va: GPR, bytes: Int, slow: Label) {
        a.mov(.rax, va)
        a.shr(.rax, by: 12)
        a.movzx(.rcx, .rax, from: .byte)
        a.shl(.rcx, by: 4, .dword)
        if bytes > 1 {
            a.lea(.rax, .at(va, Int32(bytes - 1)))
            a.shr(.rax, by: 12)
        }
        a.cmp(.rax, .at(set, index: .rcx))
        a.j(.ne, slow, .near)
        a.mov(.rax, .at(set, index: .rcx, 8))
        a.add(.rax, va)
    }

    /// rcx = the flags byte's address for the host address in rax; jumps to `slow` if nonzero.
    mutating func checkPageFlags(slow: Label) {
        a.mov(.rcx, .rax)
        a.sub(.rcx, .at(.rbp, RuntimeStubs.ramHost))
        a.shr(.rcx, by: 12)
        a.add(.rcx, .at(.rbp, RuntimeStubs.pageFlags))
        a.cmp(Memory.at(.rcx), imm: 0, .byte)
        a.j(.ne, slow, .near)
    }

    /// Cold code for a load or store that left the fast path with the address in rdx: writes
    /// back the register cache `state` of the branch, calls helper(context, va, ...) with the
    /// rest of the `arguments` (rdx and on), leaves the block if it says so, else reloads
    /// `state` and resumes the hot path.
    private mutating func emitSlowPath(_ slow: Label, resume: Label, state: RegisterCache, helper: UInt64,
                                       arguments: @escaping (inout BlockTranslator) -> Void,
                                       afterwards: @escaping (inout BlockTranslator) -> Void) {
        coldPaths.append { t in
            t.a.bind(slow)
            t.emitWriteBack(state)
            t.syncBudget()
            t.a.mov(.rsi, .rdx)
            t.a.mov(.rdi, .rbp)
            arguments(&t)
            t.a.call(absolute: helper)
            t.a.test(.rax, .rax, .dword)
            t.a.j(.ne, to: t.targets.stubs.exitHandled, codeBase: t.base)
            t.emitReload(state)
            afterwards(&t)
            t.a.jmp(resume, .near)
        }
    }

    /// rdx = guest register rs1 + the immediate.
    private mutating func effectiveAddress(_ d: DecodedInstruction) {
        loadGuest(.rdx, d.rs1)
        let imm = Int32(truncatingIfNeeded: d.imm)
        if imm != 0 { a.add(.rdx, imm: imm) }
    }

    mutating func emitLoad(_ instruction: Instruction, unexecutedAfter: Int) {
        let d = instruction.decoded
        let (bytes, signed) = Self.size(of: d.op)
        let slow = a.makeLabel(), resume = a.makeLabel()
        effectiveAddress(d)
        let state = cache
        probeTLB(.r13, va: .rdx, bytes: bytes, slow: slow)
        let source = Memory.at(.rax)
        switch (bytes, signed) {
        case (8, _): a.mov(.rax, source)
        case (4, false): a.mov(.rax, source, .dword)
        case (_, false): a.movzx(.rax, source, from: Self.operandSize(bytes))
        default: a.movsx(.rax, source, from: Self.operandSize(bytes))
        }
        a.bind(resume)
        writeGuest(d.rd, from: .rax)

        let packed = MemoryArguments(rd: d.rd, size: bytes, signed: signed, length: instruction.length,
                                     unexecutedAfter: unexecutedAfter).packed
        let offset = instruction.offset
        let helper = targets.helpers.load
        let rd = d.rd
        // helper(context, va, packed, pc) writes the register file; rax takes the result.
        emitSlowPath(slow, resume: resume, state: state, helper: helper, arguments: { t in
            t.a.mov(.rdx, imm: Int64(packed))
            t.guestPC(.rcx, plus: offset)
        }, afterwards: { t in t.a.mov(.rax, Self.reg(rd)) })
    }

    mutating func emitStore(_ instruction: Instruction, unexecutedAfter: Int) {
        let d = instruction.decoded
        let (bytes, _) = Self.size(of: d.op)
        let slow = a.makeLabel(), resume = a.makeLabel()
        effectiveAddress(d)
        let value = operand(d.rs2)
        let state = cache
        probeTLB(.r14, va: .rdx, bytes: bytes, slow: slow)
        checkPageFlags(slow: slow)
        switch value {
        case .register(let h):
            a.mov(.at(.rax), h, Self.operandSize(bytes))
        case .memory(let m):
            a.mov(.rcx, m)
            a.mov(.at(.rax), .rcx, Self.operandSize(bytes))
        }
        a.bind(resume)

        let packed = MemoryArguments(rd: 0, size: bytes, signed: false, length: instruction.length,
                                     unexecutedAfter: unexecutedAfter).packed
        let offset = instruction.offset
        let helper = targets.helpers.store
        let rs2 = d.rs2
        // helper(context, va, value, packed, pc)
        emitSlowPath(slow, resume: resume, state: state, helper: helper, arguments: { t in
            t.a.mov(.rdx, Self.reg(rs2))
            t.a.mov(.rcx, imm: Int64(packed))
            t.guestPC(.r8, plus: offset)
        }, afterwards: { _ in })
    }
}
