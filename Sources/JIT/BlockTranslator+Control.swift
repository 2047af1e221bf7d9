@_spi(JIT) import RISCV

/// Branches and jumps end a block. Targets on the same page chain straight to the block there;
/// others, and every jalr, go through the dispatcher (fetch TLB, then jump cache). The register
/// cache is written back before the branch, since every way out leaves the block.
extension BlockTranslator {
    mutating func emitControlTransfer(_ instruction: Instruction) {
        let d = instruction.decoded
        let next = instruction.offset + instruction.length
        let target = instruction.offset + Int(d.imm)
        switch d.op {
        case .jal:
            if d.rd != 32 {
                guestPC(.rax, plus: next)
                writeGuest(d.rd, from: .rax)
            }
            writeBackCache()
            emitJump(toOffset: target)
        case .jalr:
            // The target first: rd may be rs1.
            loadGuest(.rax, d.rs1)
            let imm = Int32(truncatingIfNeeded: d.imm)
            if imm != 0 { a.add(.rax, imm: imm) }
            a.and(.rax, imm: -2)
            if d.rd != 32 {
                guestPC(.rcx, plus: next)
                writeGuest(d.rd, from: .rcx)
            }
            writeBackCache()
            a.mov(.r12, .rax)
            a.jmp(to: targets.stubs.dispatch, codeBase: base)
        default:
            let condition = Self.branchCondition(d.op)
            let taken = a.makeLabel()
            loadGuest(.rax, d.rs1)
            let other = operand(d.rs2)
            writeBackCache()   // plain moves: the flags of the compare below are not touched
            switch other {
            case .register(let h): a.cmp(.rax, h)
            case .memory(let m): a.cmp(.rax, m)
            }
            a.j(condition, taken, .near)
            emitJump(toOffset: next)
            a.bind(taken)
            emitJump(toOffset: target)
        }
    }

    /// The x86 condition that is true when the RISC-V branch `op` is taken, after cmp rs1, rs2.
    static func branchCondition(_ op: Opcode) -> Condition {
        switch op {
        case .beq: return .e
        case .bne: return .ne
        case .blt: return .l
        case .bge: return .ge
        case .bltu: return .b
        default: return .ae
        }
    }
}
