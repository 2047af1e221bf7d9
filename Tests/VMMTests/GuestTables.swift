import GuestMemory
import RISCV
@testable import VMM

/// Guest page tables written into guest RAM for the walker and shadow tests: Sv39, tables
/// allocated upward from `region`.
final class GuestTables {
    static let ramBase: UInt64 = 0x8000_0000
    let memory: GuestMemory
    let root: UInt64
    private var next: UInt64

    init(memory: GuestMemory, region: UInt64) {
        self.memory = memory
        root = region
        next = region + 0x1000
    }

    var satp: UInt64 { 8 << 60 | root >> 12 }

    /// The PTE slot for `va` at `level`, creating pointer entries above it.
    func slot(_ va: UInt64, level: Int = 0) -> UInt64 {
        var table = root
        var l = 2
        while l > level {
            let address = table + ((va >> UInt64(12 + 9 * l)) & 0x1ff) * 8
            var pte: UInt64 = memory.load(address)!
            if pte & PageTableEntry.v == 0 {
                let page = next
                next += 0x1000
                pte = (page >> 12) << 10 | PageTableEntry.v
                memory.store(address, pte)
            }
            table = ((pte >> 10) & PageTableEntry.ppnMask) << 12
            l -= 1
        }
        return table + ((va >> UInt64(12 + 9 * level)) & 0x1ff) * 8
    }

    func map(_ va: UInt64, to pa: UInt64, _ flags: UInt64, level: Int = 0) {
        memory.store(slot(va, level: level), (pa >> 12) << 10 | flags)
    }

    func pte(_ va: UInt64, level: Int = 0) -> UInt64 { memory.load(slot(va, level: level))! }
}

enum Flags {
    static let v = PageTableEntry.v, r = PageTableEntry.r, w = PageTableEntry.w, x = PageTableEntry.x
    static let u = PageTableEntry.u, a = PageTableEntry.a, d = PageTableEntry.d
}
