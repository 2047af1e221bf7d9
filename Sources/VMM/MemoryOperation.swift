import Devices
import RISCV

/// What a trapped load or store does, reduced to what a VMM needs to perform it for the guest.
struct MemoryOperation {
    var size: Int
    var isStore: Bool
    var signed: Bool
    /// The value a store writes (integer or FP register).
    var value: UInt64
    var rd: Int
    var isFloat: Bool

    /// The operation of `d` with the hart's current registers; nil if `d` is not a plain load
    /// or store (AMOs and LR/SC are handled where they can occur).
    init?(_ d: DecodedInstruction, on hart: Hart) {
        let v = hart.register(Int(d.rs2))
        let rd = Int(d.rd)
        switch d.op {
        case .lb: self.init(size: 1, isStore: false, signed: true, value: 0, rd: rd, isFloat: false)
        case .lh: self.init(size: 2, isStore: false, signed: true, value: 0, rd: rd, isFloat: false)
        case .lw: self.init(size: 4, isStore: false, signed: true, value: 0, rd: rd, isFloat: false)
        case .ld: self.init(size: 8, isStore: false, signed: false, value: 0, rd: rd, isFloat: false)
        case .lbu: self.init(size: 1, isStore: false, signed: false, value: 0, rd: rd, isFloat: false)
        case .lhu: self.init(size: 2, isStore: false, signed: false, value: 0, rd: rd, isFloat: false)
        case .lwu: self.init(size: 4, isStore: false, signed: false, value: 0, rd: rd, isFloat: false)
        case .sb: self.init(size: 1, isStore: true, signed: false, value: v, rd: 0, isFloat: false)
        case .sh: self.init(size: 2, isStore: true, signed: false, value: v, rd: 0, isFloat: false)
        case .sw: self.init(size: 4, isStore: true, signed: false, value: v, rd: 0, isFloat: false)
        case .sd: self.init(size: 8, isStore: true, signed: false, value: v, rd: 0, isFloat: false)
        case .fsw: self.init(size: 4, isStore: true, signed: false, value: hart.floatRegister(Int(d.rs2)), rd: 0, isFloat: true)
        case .fsd: self.init(size: 8, isStore: true, signed: false, value: hart.floatRegister(Int(d.rs2)), rd: 0, isFloat: true)
        default: return nil
        }
    }

    init(size: Int, isStore: Bool, signed: Bool, value: UInt64, rd: Int, isFloat: Bool) {
        self.size = size
        self.isStore = isStore
        self.signed = signed
        self.value = value
        self.rd = rd
        self.isFloat = isFloat
    }

    /// Performs an integer load or store of `d` at device address `pa` through `bus` and
    /// advances the hart past it. False (nothing done) for anything a device cannot take: an FP
    /// or atomic access, the wrong direction, an address no device answers. The caller then
    /// gives the guest the access fault the real board would.
    static func performDeviceAccess(_ d: DecodedInstruction, at pa: UInt64, isStore: Bool, on hart: Hart, bus: Bus) -> Bool {
        guard let op = MemoryOperation(d, on: hart), !op.isFloat, op.isStore == isStore else { return false }
        if op.isStore {
            guard bus.write(pa, size: op.size, value: op.value) else { return false }
        } else {
            guard var value = bus.read(pa, size: op.size) else { return false }
            if op.signed && op.size < 8 {
                let shift = UInt64(64 - 8 * op.size)
                value = UInt64(bitPattern: Int64(bitPattern: value << shift) >> Int64(shift))
            }
            hart.setRegister(op.rd, value)
        }
        hart.pc &+= UInt64(d.length)
        return true
    }
}
