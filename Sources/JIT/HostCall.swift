/// The System V AMD64 ABI (psABI 3.2) as generated code sees it: how Swift calls into a
/// translated block, and how a block calls back into Swift helpers.
public enum SysV {
    /// Integer/pointer arguments, in order.
    public static let argumentRegisters: [GPR] = [.rdi, .rsi, .rdx, .rcx, .r8, .r9]
    /// Preserved across calls: generated code that uses them must save and restore them, and
    /// in exchange they survive every helper call (where guest state pointers belong).
    public static let calleeSaved: [GPR] = [.rbx, .rbp, .r12, .r13, .r14, .r15]
    /// Free for the callee to destroy (and for generated code between calls).
    public static let callerSaved: [GPR] = [.rax, .rcx, .rdx, .rsi, .rdi, .r8, .r9, .r10, .r11]
    /// Integer result (rdx holds the high half of a 128-bit one).
    public static let returnRegister: GPR = .rax
}

/// The Swift-visible signature of a translated block: (guest context, an argument such as
/// the current pc) -> the next guest pc. `@convention(c)` makes it a bare SysV function
/// pointer with no Swift context to retain (closures cost 40-90 MIPS here, pointers do not).
public typealias TranslatedCode = @convention(c) (UnsafeMutableRawPointer, UInt64) -> UInt64

/// Turns an executable address into a callable `@convention(c)` function of type `F`.
/// The caller vouches that the code there really has that signature.
public func hostFunction<F>(at address: UnsafeRawPointer, as type: F.Type) -> F {
    precondition(MemoryLayout<F>.size == MemoryLayout<UnsafeRawPointer>.size,
                 "only @convention(c) function types can be made from a code address")
    return unsafeBitCast(address, to: F.self)
}

/// The frame `enterHostFrame` built; `leaveHostFrame` undoes exactly that.
public struct HostFrame: Sendable {
    public let saved: [GPR]
    /// Bytes reserved below the saved registers: the locals plus alignment padding.
    /// Locals start at [rsp + 0].
    public let reserved: Int32
}

extension X86Assembler {
    /// Prologue of a function called from the host: pushes the callee-saved registers it will
    /// use, then reserves `localBytes` and aligns the stack. At entry rsp is 8 mod 16 (the
    /// call pushed the return address onto a 16-aligned stack); every outgoing call needs rsp
    /// 0 mod 16, so after n pushes (rsp = 8 + 8n mod 16) an even n needs 8 more bytes.
    public mutating func enterHostFrame(saving: [GPR], localBytes: Int = 0) -> HostFrame {
        precondition(saving.allSatisfy { SysV.calleeSaved.contains($0) }, "only callee-saved registers need saving")
        for r in saving { push(r) }
        var reserved = (localBytes + 15) & ~15
        if (8 + 8 * saving.count + reserved) % 16 != 0 { reserved += 8 }
        if reserved > 0 { sub(.rsp, imm: Int32(reserved)) }
        return HostFrame(saved: saving, reserved: Int32(reserved))
    }

    /// Epilogue matching `enterHostFrame`: releases the locals, pops in reverse, returns.
    /// The result must already be in rax.
    public mutating func leaveHostFrame(_ frame: HostFrame) {
        if frame.reserved > 0 { add(.rsp, imm: frame.reserved) }
        for r in frame.saved.reversed() { pop(r) }
        ret()
    }
}
