/// What a trap into HS-mode or M-mode writes to htinst or mtinst (privileged spec 8.6.3): zero,
/// a pseudoinstruction for the implicit page-table accesses of VS-stage translation, or a
/// transformation of the trapping load or store, which lets a hypervisor emulate an MMIO access
/// without fetching and decoding the guest's instruction.
enum TrapInstruction {
    /// A 64-bit read or write (to set A/D) of a VS-level PTE that faulted in the G-stage
    /// (VSXLEN = 64). Required whenever htval/mtval2 is nonzero for such a fault.
    static let pageTableRead: UInt32 = 0x0000_3000
    static let pageTableWrite: UInt32 = 0x0000_3020
}

extension Hart {
    /// The transformed instruction for a guest-page fault of an explicit load or store, else 0.
    /// Written for loads, stores, HLV, HLVX and HSV; atomics get 0 (allowed), since their
    /// aq/rl bits are not kept by the decoder.
    func transformedInstruction(for e: Exception) -> UInt64 {
        guard e.cause == .loadGuestPageFault || e.cause == .storeGuestPageFault,
              let d = decodedInstruction(at: pc) else { return 0 }
        return UInt64(Self.transform(d, faultingAddress: e.tval, registers: x))
    }

    /// The formats of privileged spec 8.6.3: opcode, funct3 and rd (loads) or rs2 (stores) kept, immediates
    /// zero, and bits 19:15 the faulting address minus the original one (nonzero only for a
    /// misaligned access that faulted on its second page). A compressed instruction is
    /// transformed as its 32-bit expansion with bit 1 cleared.
    static func transform(_ d: DecodedInstruction, faultingAddress: UInt64, registers x: UnsafeMutablePointer<UInt64>) -> UInt32 {
        let base = x[Int(d.rs1)]
        let rd = UInt32(d.rd == 32 ? 0 : d.rd)
        let rs2 = UInt32(d.rs2)
        let word: UInt32
        let original: UInt64
        switch d.op {
        case .lb, .lh, .lw, .ld, .lbu, .lhu, .lwu, .flw, .fld:
            let (funct3, opcode) = loadEncoding(d.op)
            word = funct3 << 12 | rd << 7 | opcode
            original = base &+ UInt64(bitPattern: d.imm)
        case .sb, .sh, .sw, .sd, .fsw, .fsd:
            let (funct3, opcode) = storeEncoding(d.op)
            word = rs2 << 20 | funct3 << 12 | opcode
            original = base &+ UInt64(bitPattern: d.imm)
        case .hlvB, .hlvBU, .hlvH, .hlvHU, .hlvxHU, .hlvW, .hlvWU, .hlvxWU, .hlvD:
            let (funct7, variant) = hypervisorLoadEncoding(d.op)
            word = funct7 << 25 | variant << 20 | 4 << 12 | rd << 7 | 0x73
            original = base
        case .hsvB, .hsvH, .hsvW, .hsvD:
            let funct7: UInt32 = d.op == .hsvB ? 0x31 : d.op == .hsvH ? 0x33 : d.op == .hsvW ? 0x35 : 0x37
            word = funct7 << 25 | rs2 << 20 | 4 << 12 | 0x73
            original = base
        default:
            return 0
        }
        let offset = UInt32(truncatingIfNeeded: faultingAddress &- original) & 31
        let transformed = word | offset << 15
        return d.length == 2 ? transformed & ~2 : transformed
    }

    private static func loadEncoding(_ op: Opcode) -> (funct3: UInt32, opcode: UInt32) {
        switch op {
        case .lb: return (0, 0x03)
        case .lh: return (1, 0x03)
        case .lw: return (2, 0x03)
        case .ld: return (3, 0x03)
        case .lbu: return (4, 0x03)
        case .lhu: return (5, 0x03)
        case .lwu: return (6, 0x03)
        case .flw: return (2, 0x07)
        default: return (3, 0x07) // fld
        }
    }

    private static func storeEncoding(_ op: Opcode) -> (funct3: UInt32, opcode: UInt32) {
        switch op {
        case .sb: return (0, 0x23)
        case .sh: return (1, 0x23)
        case .sw: return (2, 0x23)
        case .sd: return (3, 0x23)
        case .fsw: return (2, 0x27)
        default: return (3, 0x27) // fsd
        }
    }

    private static func hypervisorLoadEncoding(_ op: Opcode) -> (funct7: UInt32, variant: UInt32) {
        switch op {
        case .hlvB: return (0x30, 0)
        case .hlvBU: return (0x30, 1)
        case .hlvH: return (0x32, 0)
        case .hlvHU: return (0x32, 1)
        case .hlvxHU: return (0x32, 3)
        case .hlvW: return (0x34, 0)
        case .hlvWU: return (0x34, 1)
        case .hlvxWU: return (0x34, 3)
        default: return (0x36, 0) // hlvD
        }
    }
}
