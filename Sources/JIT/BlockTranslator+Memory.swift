@_spi(JIT) import RISCV

/// Loads and stores with the soft TLB's fast path inline, as `Hart.load`/`Hart.store` do it:
/// the set entry for the virtual page, the page-offset check (an access may not cross the
/// page), then host = va + addend. Stores also check the page's flags byte (code to drop or a
/// watched page). Anything else goes to a helper that runs the interpreter's full path and
/// either continues or leaves the block with precise state (a fault, MMIO that raised an
/// interrupt, a store that dropped code).
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

    private static func operandSize(_ bytes: Int) -> OperandSize {
        switch bytes {
        case 1: return .byte
        case 2: return .word
        case 4: return .dword
        default: return .qword
        }
    }

    /// rsi = va; then the TLB probe of `set`: rcx = entry offset, jumps to `slow` on a miss or
    /// when the access would cross the page. Leaves rax = host address.
    mutating func probeTLB(_ set: GPR, bytes: Int, slow: Label) {
        a.mov(.rax, .rsi)
        a.shr(.rax, by: 12)
        a.movzx(.rcx, .rax, from: .byte)
        a.shl(.rcx, by: 4, .dword)
        a.cmp(.rax, .at(set, index: .rcx))
        a.j(.ne, slow, .near)
        if bytes > 1 {
            a.mov(.rax, .rsi, .dword)
            a.and(.rax, imm: 0xfff, .dword)
            a.cmp(.rax, imm: Int32(4096 - bytes), .dword)
            a.j(.a, slow, .near)
        }
        a.mov(.rax, .at(set, index: .rcx, 8))
        a.add(.rax, .rsi)
    }

    private mutating func effectiveAddress(_ d: DecodedInstruction) {
        a.mov(.rsi, Self.reg(d.rs1))
        let imm = Int32(truncatingIfNeeded: d.imm)
        if imm != 0 { a.add(.rsi, imm: imm) }
    }

    mutating func emitLoad(_ instruction: Instruction, unexecutedAfter: Int) {
        let d = instruction.decoded
        let (bytes, signed) = Self.size(of: d.op)
        let slow = a.makeLabel(), resume = a.makeLabel()
        effectiveAddress(d)
        probeTLB(.r13, bytes: bytes, slow: slow)
        let source = Memory.at(.rax)
        switch (bytes, signed) {
        case (8, _): a.mov(.rax, source)
        case (4, false): a.mov(.rax, source, .dword)
        case (_, false): a.movzx(.rax, source, from: Self.operandSize(bytes))
        default: a.movsx(.rax, source, from: Self.operandSize(bytes))
        }
        a.mov(Self.reg(d.rd), .rax)
        a.bind(resume)

        let packed = HelperArguments.packMemory(rd: d.rd, size: bytes, signed: signed, length: instruction.length,
                                                unexecutedAfter: unexecutedAfter)
        let offset = instruction.offset
        let helper = targets.helpers.load
        coldPaths.append { t in
            // helper(context, va, packed, pc): writes the register itself.
            t.a.bind(slow)
            t.a.mov(.rdi, .rbp)
            t.a.mov(.rdx, imm: Int64(packed))
            t.guestPC(.rcx, plus: offset)
            t.a.call(absolute: helper)
            t.a.test(.rax, .rax, .dword)
            t.a.j(.ne, to: t.targets.stubs.exitHandled, codeBase: t.base)
            t.a.jmp(resume, .near)
        }
    }

    mutating func emitStore(_ instruction: Instruction, unexecutedAfter: Int) {
        let d = instruction.decoded
        let (bytes, _) = Self.size(of: d.op)
        let slow = a.makeLabel(), resume = a.makeLabel()
        effectiveAddress(d)
        a.mov(.rdx, Self.reg(d.rs2))
        probeTLB(.r14, bytes: bytes, slow: slow)
        // The page's flags byte: pageFlags[(host - ramHost) >> 12].
        a.mov(.rcx, .rax)
        a.sub(.rcx, .at(.rbp, RuntimeStubs.ramHost))
        a.shr(.rcx, by: 12)
        a.add(.rcx, .at(.rbp, RuntimeStubs.pageFlags))
        a.cmp(.at(.rcx), imm: 0, .byte)
        a.j(.ne, slow, .near)
        a.mov(.at(.rax), .rdx, Self.operandSize(bytes))
        a.bind(resume)

        let packed = HelperArguments.packMemory(rd: 0, size: bytes, signed: false, length: instruction.length,
                                                unexecutedAfter: unexecutedAfter)
        let offset = instruction.offset
        let helper = targets.helpers.store
        coldPaths.append { t in
            // helper(context, va, value, packed, pc)
            t.a.bind(slow)
            t.a.mov(.rdi, .rbp)
            t.a.mov(.rcx, imm: Int64(packed))
            t.guestPC(.r8, plus: offset)
            t.a.call(absolute: helper)
            t.a.test(.rax, .rax, .dword)
            t.a.j(.ne, to: t.targets.stubs.exitHandled, codeBase: t.base)
            t.a.jmp(resume, .near)
        }
    }
}
