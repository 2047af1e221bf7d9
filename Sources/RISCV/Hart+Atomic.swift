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
            let b = UInt32(truncatingIfNeeded: src)
            let new: UInt32
            switch d.op {
            case .amoswapW: new = b
            case .amoaddW: new = old &+ b
            case .amoxorW: new = old ^ b
            case .amoandW: new = old & b
            case .amoorW: new = old | b
            case .amominW: new = Int32(bitPattern: old) < Int32(bitPattern: b) ? old : b
            case .amomaxW: new = Int32(bitPattern: old) > Int32(bitPattern: b) ? old : b
            case .amominuW: new = Swift.min(old, b)
            default: new = Swift.max(old, b)
            }
            p.storeBytes(of: new, as: UInt32.self)
            noteStore(physical: pa, size: 4)
            x[rd] = Self.sext32(UInt64(old))
        } else {
            let old = p.load(as: UInt64.self)
            let new: UInt64
            switch d.op {
            case .amoswapD: new = src
            case .amoaddD: new = old &+ src
            case .amoxorD: new = old ^ src
            case .amoandD: new = old & src
            case .amoorD: new = old | src
            case .amominD: new = Int64(bitPattern: old) < Int64(bitPattern: src) ? old : src
            case .amomaxD: new = Int64(bitPattern: old) > Int64(bitPattern: src) ? old : src
            case .amominuD: new = Swift.min(old, src)
            default: new = Swift.max(old, src)
            }
            p.storeBytes(of: new, as: UInt64.self)
            noteStore(physical: pa, size: 8)
            x[rd] = old
        }
    }
}
