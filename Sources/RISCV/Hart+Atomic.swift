/// The A extension. Harts share one host thread, so an AMO is a plain read-modify-write of
/// guest memory; LR/SC keep a reservation on the physical address, dropped when another hart
/// runs (the run loop calls `clearReservation`) or on any SC.
extension Hart {
    @inline(__always)
    func executeAtomic(_ d: DecodedInstruction) throws(Exception) {
        let x = self.x
        let va = x[Int(d.rs1)]
        let src = x[Int(d.rs2)]
        let rd = Int(d.rd)
        switch d.op {
        case .lrW, .lrD:
            let size = d.op == .lrW ? 4 : 8
            let (p, pa) = try atomicPointer(va, size: size, access: .load)
            x[rd] = size == 4 ? Self.sext32(UInt64(p.load(as: UInt32.self))) : p.load(as: UInt64.self)
            reservation = pa
            return
        case .scW, .scD:
            let size = d.op == .scW ? 4 : 8
            let (p, pa) = try atomicPointer(va, size: size, access: .store)
            if reservation == pa {
                if size == 4 { p.storeBytes(of: UInt32(truncatingIfNeeded: src), as: UInt32.self) }
                else { p.storeBytes(of: src, as: UInt64.self) }
                noteStore(physical: pa, size: size)
                x[rd] = 0
            } else {
                x[rd] = 1
            }
            reservation = nil
            return
        default:
            break
        }
        let word = d.op.rawValue <= Opcode.amomaxuW.rawValue
        let (p, pa) = try atomicPointer(va, size: word ? 4 : 8, access: .store)
        if word {
            let old = p.load(as: UInt32.self)
            let new = UInt32(truncatingIfNeeded: Self.atomicResult(d.op, old: UInt64(old), operand: src))
            p.storeBytes(of: new, as: UInt32.self)
            noteStore(physical: pa, size: 4)
            x[rd] = Self.sext32(UInt64(old))
        } else {
            let old = p.load(as: UInt64.self)
            p.storeBytes(of: Self.atomicResult(d.op, old: old, operand: src), as: UInt64.self)
            noteStore(physical: pa, size: 8)
            x[rd] = old
        }
    }

    /// The value an AMO writes back, from the old memory value and rs2. Word operations use
    /// the low 32 bits of both; the VMM reuses this when it emulates an AMO on a page it
    /// write-protects.
    @inline(__always)
    public static func atomicResult(_ op: Opcode, old: UInt64, operand: UInt64) -> UInt64 {
        let a32 = UInt32(truncatingIfNeeded: old), b32 = UInt32(truncatingIfNeeded: operand)
        switch op {
        case .amoswapW, .amoswapD: return operand
        case .amoaddW, .amoaddD: return old &+ operand
        case .amoxorW, .amoxorD: return old ^ operand
        case .amoandW, .amoandD: return old & operand
        case .amoorW, .amoorD: return old | operand
        case .amominW: return Int32(bitPattern: a32) < Int32(bitPattern: b32) ? old : operand
        case .amomaxW: return Int32(bitPattern: a32) > Int32(bitPattern: b32) ? old : operand
        case .amominuW: return a32 < b32 ? old : operand
        case .amomaxuW: return a32 > b32 ? old : operand
        case .amominD: return Int64(bitPattern: old) < Int64(bitPattern: operand) ? old : operand
        case .amomaxD: return Int64(bitPattern: old) > Int64(bitPattern: operand) ? old : operand
        case .amominuD: return Swift.min(old, operand)
        default: return Swift.max(old, operand)
        }
    }
}
