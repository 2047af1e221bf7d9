/// Small arguments translated code hands a helper packed into one register: the translator
/// packs them (as an immediate) and the helper unpacks them, with the layout in one place.

/// For a helper that runs one instruction (the interpreter, a VMM callout).
struct InstructionArguments {
    /// Instructions of the block after this one: given back to the budget if the block ends here.
    var unexecutedAfter: Int
    /// The block always ends after this instruction.
    var endsBlock: Bool

    init(unexecutedAfter: Int, endsBlock: Bool) {
        self.unexecutedAfter = unexecutedAfter
        self.endsBlock = endsBlock
    }

    init(packed: UInt64) {
        unexecutedAfter = Int(packed & 0xffff)
        endsBlock = packed & (1 << 16) != 0
    }

    var packed: UInt32 { UInt32(unexecutedAfter) | (endsBlock ? 1 << 16 : 0) }
}

/// For the slow path of a load or store.
struct MemoryArguments {
    /// The load's destination register (unused by stores).
    var rd: UInt8
    /// Access size in bytes (1, 2, 4, 8), and whether a load sign-extends.
    var size: Int
    var signed: Bool
    /// The instruction's length (2 or 4): where execution goes on after it.
    var length: Int
    var unexecutedAfter: Int

    init(rd: UInt8, size: Int, signed: Bool, length: Int, unexecutedAfter: Int) {
        self.rd = rd
        self.size = size
        self.signed = signed
        self.length = length
        self.unexecutedAfter = unexecutedAfter
    }

    init(packed: UInt64) {
        rd = UInt8(packed & 0x3f)
        size = Int((packed >> 8) & 0xf)
        signed = packed & (1 << 12) != 0
        length = packed & (1 << 13) != 0 ? 2 : 4
        unexecutedAfter = Int(packed >> 16)
    }

    var packed: UInt32 {
        UInt32(rd) | UInt32(size) << 8 | (signed ? 1 << 12 : 0) | (length == 2 ? 1 << 13 : 0)
            | UInt32(unexecutedAfter) << 16
    }
}
