/// Branches, calls, the stack, and traps.
extension X86Assembler {
    // MARK: Jumps to labels

    /// Unconditional jump: eb rel8 or e9 rel32. Returns the offset of the displacement field,
    /// which block chaining records to re-point the jump later.
    @discardableResult
    public mutating func jmp(_ target: Label, _ distance: JumpDistance = .automatic) -> Int {
        if useShort(target, distance, instructionLength: 2) {
            emit(0xEB)
            return displacement(to: target, width: 1)
        }
        emit(0xE9)
        return displacement(to: target, width: 4)
    }

    /// Conditional jump: 70+cc rel8 or 0f 80+cc rel32.
    @discardableResult
    public mutating func j(_ cc: Condition, _ target: Label, _ distance: JumpDistance = .automatic) -> Int {
        if useShort(target, distance, instructionLength: 2) {
            emit(0x70 + cc.rawValue)
            return displacement(to: target, width: 1)
        }
        emit(0x0F)
        emit(0x80 + cc.rawValue)
        return displacement(to: target, width: 4)
    }

    /// Direct call to a label in the same code (e8 rel32).
    @discardableResult
    public mutating func call(_ target: Label) -> Int {
        emit(0xE8)
        return displacement(to: target, width: 4)
    }

    /// rel8 for `.short`; for `.automatic`, only when the label is already bound (a backward
    /// branch) and within reach, since a forward distance is unknown when the jump is emitted.
    private func useShort(_ target: Label, _ distance: JumpDistance, instructionLength: Int) -> Bool {
        switch distance {
        case .short: return true
        case .near: return false
        case .automatic:
            guard let bound = offset(of: target) else { return false }
            return Int8(exactly: bound - (offset + instructionLength)) != nil
        }
    }

    /// Emits a rel8/rel32 field measured from the end of the instruction (the field is last).
    private mutating func displacement(to target: Label, width: Int) -> Int {
        let field = offset
        for _ in 0..<width { emit(0) }
        reference(target, field: field, width: width, end: field + width)
        return field
    }

    // MARK: Jumps to code at known addresses

    /// jmp rel32 to `target`, for code that will run with its byte 0 at `codeBase` (translated
    /// blocks jumping to the shared runtime stubs in the same buffer). Returns the field offset.
    @discardableResult
    public mutating func jmp(to target: UInt64, codeBase: UInt64) -> Int {
        emit(0xE9)
        return relativeField(to: target, codeBase: codeBase)
    }

    /// jcc rel32 to `target` (see `jmp(to:codeBase:)`).
    @discardableResult
    public mutating func j(_ cc: Condition, to target: UInt64, codeBase: UInt64) -> Int {
        emit(0x0F)
        emit(0x80 + cc.rawValue)
        return relativeField(to: target, codeBase: codeBase)
    }

    private mutating func relativeField(to target: UInt64, codeBase: UInt64) -> Int {
        let field = offset
        let delta = Int64(bitPattern: target &- (codeBase &+ UInt64(field + 4)))
        precondition(Int32(exactly: delta) != nil, "rel32 target out of range")
        emit32(Int32(delta))
        return field
    }

    // MARK: Indirect and absolute control transfer

    /// call *reg (ff /2). Operand size is 64 bits by default in long mode: no REX.W.
    public mutating func call(_ target: GPR) {
        instruction(size: nil, 0xFF, reg: 2, rm: .register(target.rawValue))
    }

    /// call *[m]: dispatch through a table of helper addresses.
    public mutating func call(_ target: Memory) {
        instruction(size: nil, 0xFF, reg: 2, rm: .memory(target))
    }

    /// jmp *reg (ff /4): the indirect-branch exit of a translated block.
    public mutating func jmp(_ target: GPR) {
        instruction(size: nil, 0xFF, reg: 4, rm: .register(target.rawValue))
    }

    public mutating func jmp(_ target: Memory) {
        instruction(size: nil, 0xFF, reg: 4, rm: .memory(target))
    }

    /// Calls a host function at an absolute address. Code may sit anywhere relative to the
    /// Swift runtime (farther than rel32's ±2 GiB), so the address goes through `scratch`
    /// (movabs + call *scratch). The caller owns the SysV rules: arguments in rdi, rsi, rdx,
    /// rcx, r8, r9; rsp 16-byte aligned at the call; rax, rcx, rdx, rsi, rdi, r8-r11 and all
    /// xmm registers clobbered. r11 is the conventional scratch: never an argument register.
    public mutating func call(absolute address: UInt64, scratch: GPR = .r11) {
        movabs(scratch, imm: address)
        call(scratch)
    }

    /// Jumps to an absolute address (tail call into a helper or the dispatcher).
    public mutating func jmp(absolute address: UInt64, scratch: GPR = .r11) {
        movabs(scratch, imm: address)
        jmp(scratch)
    }

    public mutating func ret() { emit(0xC3) }

    // MARK: Stack

    /// push reg (50+r). Always 64-bit in long mode; REX.B selects r8-r15.
    public mutating func push(_ r: GPR) { instruction(opcodePlusRegister: 0x50, r, rexW: false) }

    public mutating func pop(_ r: GPR) { instruction(opcodePlusRegister: 0x58, r, rexW: false) }

    /// push imm, sign-extended to 64 bits (6a ib or 68 id).
    public mutating func push(imm: Int32) {
        if let imm8 = Int8(exactly: imm) {
            emit(0x6A)
            emit(UInt8(bitPattern: imm8))
        } else {
            emit(0x68)
            emit32(imm)
        }
    }

    // MARK: Traps and padding

    /// Breakpoint (cc): fill for unreachable code, so a wild jump stops at once.
    public mutating func int3() { emit(0xCC) }

    /// Guaranteed-invalid opcode (0f 0b): marks paths the translator believes unreachable.
    public mutating func ud2() { emit([0x0F, 0x0B]) }

    public mutating func nop() { emit(0x90) }
}
