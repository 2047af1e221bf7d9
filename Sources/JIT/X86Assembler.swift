/// An x86-64 machine-code assembler: emits bytes into an array, with labels whose forward
/// references are patched when the label is bound.
///
/// The instruction families live in extensions by concept (integer, control, SSE); this file
/// holds the buffer, labels, and the one encoder that every instruction goes through:
///
///     [legacy prefix] [0x66] [REX] [0x0F [0x38|0x3A]] opcode [ModRM [SIB] [disp]] [imm]
///
/// Encodings follow the Intel SDM vol. 2, chapter 2, and match what GNU as emits for the same
/// AT&T source (the tests compare byte for byte), including its choice among equivalent forms.
public struct X86Assembler {
    public private(set) var bytes: [UInt8] = []

    /// Offset of each label once bound (index = label id).
    private var labelOffsets: [Int?] = []
    /// References waiting for each label to be bound (index = label id).
    private var pending: [[Fixup]] = []

    /// A displacement field to fill with `target - end + addend`, where `end` is the offset
    /// the CPU measures from: the end of the instruction, which for a RIP-relative operand
    /// followed by an immediate lies after the immediate.
    struct Fixup {
        let field: Int
        let width: Int
        let end: Int
        let addend: Int
    }

    public init(reservingCapacity capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    /// The offset the next byte will be written to.
    public var offset: Int { bytes.count }

    // MARK: Labels

    public mutating func makeLabel() -> Label {
        labelOffsets.append(nil)
        pending.append([])
        return Label(id: labelOffsets.count - 1)
    }

    /// Binds `label` to the current offset and patches every reference made so far.
    public mutating func bind(_ label: Label) {
        precondition(labelOffsets[label.id] == nil, "label bound twice")
        labelOffsets[label.id] = offset
        for fixup in pending[label.id] { resolve(fixup, target: offset) }
        pending[label.id] = []
    }

    /// The offset a label is bound to, or nil before `bind`.
    public func offset(of label: Label) -> Int? { labelOffsets[label.id] }

    /// The finished code. Every label that was referenced must be bound: an unresolved
    /// reference would leave a jump to offset zero, a bug in the code generator.
    public func finish() -> [UInt8] {
        precondition(pending.allSatisfy { $0.isEmpty }, "code refers to a label that was never bound")
        return bytes
    }

    /// Records a reference to `label` in a `width`-byte field at `field`; fills it now if the
    /// label is already bound.
    mutating func reference(_ label: Label, field: Int, width: Int, end: Int, addend: Int = 0) {
        let fixup = Fixup(field: field, width: width, end: end, addend: addend)
        if let target = labelOffsets[label.id] {
            resolve(fixup, target: target)
        } else {
            pending[label.id].append(fixup)
        }
    }

    private mutating func resolve(_ fixup: Fixup, target: Int) {
        let value = target - fixup.end + fixup.addend
        if fixup.width == 1 {
            precondition(Int8(exactly: value) != nil, "short jump target out of rel8 range (\(value)); use .near")
            bytes[fixup.field] = UInt8(bitPattern: Int8(value))
        } else {
            precondition(Int32(exactly: value) != nil, "rel32 target out of range")
            let v = UInt32(bitPattern: Int32(value))
            for i in 0..<4 { bytes[fixup.field + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) }
        }
    }

    // MARK: Raw emission

    public mutating func emit(_ byte: UInt8) { bytes.append(byte) }

    public mutating func emit(_ raw: [UInt8]) { bytes.append(contentsOf: raw) }

    mutating func emit16(_ value: Int16) {
        let v = UInt16(bitPattern: value)
        bytes.append(UInt8(truncatingIfNeeded: v))
        bytes.append(UInt8(truncatingIfNeeded: v >> 8))
    }

    mutating func emit32(_ value: Int32) {
        let v = UInt32(bitPattern: value)
        bytes.append(UInt8(truncatingIfNeeded: v))
        bytes.append(UInt8(truncatingIfNeeded: v >> 8))
        bytes.append(UInt8(truncatingIfNeeded: v >> 16))
        bytes.append(UInt8(truncatingIfNeeded: v >> 24))
    }

    mutating func emit64(_ value: UInt64) {
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
    }

    /// Emits an immediate of the operand size (imm32 for qword: x86 sign-extends it).
    mutating func emitImmediate(_ value: Int32, _ size: OperandSize) {
        switch size {
        case .byte: emit(UInt8(truncatingIfNeeded: value))
        case .word: emit16(Int16(truncatingIfNeeded: value))
        case .dword, .qword: emit32(value)
        }
    }

    /// Pads with `fill` (int3 by default: padding is never meant to run) to a multiple of `alignment`.
    public mutating func align(_ alignment: Int, fill: UInt8 = 0xCC) {
        while offset % alignment != 0 { emit(fill) }
    }

    // MARK: The encoder

    /// Which opcode table: the one-byte map, or the 0x0F two-byte map (and its 0x38/0x3A pages).
    enum OpcodeMap {
        case primary, twoByte, threeByte38, threeByte3A
    }

    /// What the ModRM r/m field names: a register (GPR or XMM number) or memory.
    enum RM {
        case register(UInt8)
        case memory(Memory)
    }

    /// Emits one instruction with a ModRM byte.
    /// - prefix: a mandatory or lock prefix (0xF0, 0xF2, 0xF3, or 0x66 for SSE), 0 for none.
    ///   Mandatory prefixes must precede REX, or the CPU ignores the REX (SDM 2.2.1).
    /// - size: sets 0x66 for word and REX.W for qword; nil for instructions whose operand size
    ///   is fixed or defaults to 64 bits (push, pop, indirect call/jmp).
    /// - reg: register number or opcode extension (/digit) for the ModRM reg field.
    /// - byteRegisters: registers used as byte operands; any of spl/bpl/sil/dil forces a REX.
    /// - immediateBytes: how many immediate bytes follow, so RIP-relative operands can be
    ///   made relative to the true end of the instruction.
    mutating func instruction(prefix: UInt8 = 0, size: OperandSize?, map: OpcodeMap = .primary,
                              _ opcode: UInt8, reg: UInt8, rm: RM,
                              byteRegisters: (GPR?, GPR?) = (nil, nil), immediateBytes: Int = 0) {
        // GNU as orders an operand-size prefix before lock; the CPU accepts either order.
        if size == .word { emit(0x66) }
        if prefix != 0 { emit(prefix) }
        var rex: UInt8 = size == .qword ? 0x08 : 0
        rex |= (reg >> 3) << 2
        switch rm {
        case .register(let r):
            rex |= r >> 3
        case .memory(let m):
            if let index = m.index { rex |= index.high << 1 }
            if case .register(let base) = m.base { rex |= base.high }
        }
        let forceREX = (byteRegisters.0?.byteNeedsREX ?? false) || (byteRegisters.1?.byteNeedsREX ?? false)
        if rex != 0 || forceREX { emit(0x40 | rex) }
        switch map {
        case .primary: break
        case .twoByte: emit(0x0F)
        case .threeByte38: emit(0x0F); emit(0x38)
        case .threeByte3A: emit(0x0F); emit(0x3A)
        }
        emit(opcode)
        switch rm {
        case .register(let r): emit(modRM(3, reg, r))
        case .memory(let m): emitAddress(m, reg: reg, immediateBytes: immediateBytes)
        }
    }

    /// Emits a one-byte opcode that carries its register in the low three bits (push, pop,
    /// mov r, imm), with REX.B for r8-r15.
    mutating func instruction(opcodePlusRegister opcode: UInt8, _ register: GPR, rexW: Bool) {
        let rex: UInt8 = (rexW ? 0x08 : 0) | register.high
        if rex != 0 { emit(0x40 | rex) }
        emit(opcode + register.low3)
    }

    @inline(__always) private func modRM(_ mod: UInt8, _ reg: UInt8, _ rm: UInt8) -> UInt8 {
        (mod << 6) | ((reg & 7) << 3) | (rm & 7)
    }

    /// ModRM, SIB and displacement for a memory operand. The special cases (SDM tables 2-2, 2-3):
    /// - r/m = 100 means "a SIB byte follows", so rsp and r12 as a base always need a SIB;
    /// - mod = 00 with r/m = 101 means RIP-relative (no SIB) or disp32 with no base (SIB base
    ///   101), so rbp and r13 as a base with no displacement need mod = 01 and a disp8 of 0;
    /// - SIB index = 100 means "no index" (REX.X = 0), hence rsp can never be an index.
    private mutating func emitAddress(_ m: Memory, reg: UInt8, immediateBytes: Int) {
        switch m.base {
        case .rip(let label):
            emit(modRM(0, reg, 0b101))
            let field = offset
            emit32(label == nil ? m.displacement : 0)
            if let label {
                reference(label, field: field, width: 4, end: field + 4 + immediateBytes,
                          addend: Int(m.displacement))
            }
        case .none:
            emit(modRM(0, reg, 0b100))
            emit(sib(m.scale, m.index?.low3 ?? 0b100, 0b101))
            emit32(m.displacement)
        case .register(let base):
            let mod: UInt8
            if m.displacement == 0 && base.low3 != 0b101 {
                mod = 0
            } else if Int8(exactly: m.displacement) != nil {
                mod = 1
            } else {
                mod = 2
            }
            if m.index == nil && base.low3 != 0b100 {
                emit(modRM(mod, reg, base.low3))
            } else {
                emit(modRM(mod, reg, 0b100))
                emit(sib(m.scale, m.index?.low3 ?? 0b100, base.low3))
            }
            if mod == 1 { emit(UInt8(bitPattern: Int8(m.displacement))) }
            if mod == 2 { emit32(m.displacement) }
        }
    }

    @inline(__always) private func sib(_ scale: Scale, _ index: UInt8, _ base: UInt8) -> UInt8 {
        (scale.rawValue << 6) | ((index & 7) << 3) | (base & 7)
    }
}
