import GuestMemory
import RISCV

/// The VMM's guest-physical to machine map as the G-stage of two-stage translation sees it
/// (hgatp, privileged spec 8.5): Sv39x4 tables in the VMM's private memory that map exactly the
/// guest's RAM, with the largest pages that fit inside it. Device addresses are left unmapped,
/// so every guest MMIO access is a guest-page fault the VMM emulates, and nothing past the
/// guest's RAM (the VMM's own pages included) is reachable from the guest.
struct GStageTables {
    /// Sv39x4: 41-bit guest-physical addresses, a 16 KiB root indexed by bits 40:30.
    static let mode: UInt64 = 8
    static let rootBytes: UInt64 = 16 << 10

    let machine: GuestMemory
    /// Machine address of the 16 KiB root.
    let root: UInt64
    /// The value for hgatp (VMID 0).
    var hgatp: UInt64 { Self.mode << 60 | root >> 12 }
    /// Leaves written, by size, for statistics and tests: 4 KiB, 2 MiB, 1 GiB.
    private(set) var leaves: (small: Int, mega: Int, giga: Int) = (0, 0, 0)

    private var next: UInt64
    private let limit: UInt64

    /// Machine memory a G-stage for `guestRAM` bytes may need: the root, one table per GiB
    /// touched, two more for unaligned ends, and rounding for the root's alignment.
    static func regionBytes(forGuestRAM size: UInt64) -> UInt64 {
        rootBytes * 2 + ((size >> 30) + 4) * 4096
    }

    /// Builds the map of `[guestRAM.base, guestRAM.end)` onto the same machine addresses, in
    /// `region` (machine addresses, inside `machine`, outside the guest's RAM).
    init(machine: GuestMemory, guestRAM: GuestMemory, region: Range<UInt64>) {
        precondition(machine.contains(region.lowerBound, length: UInt64(region.count)))
        precondition(region.lowerBound >= guestRAM.end || region.upperBound <= guestRAM.base)
        precondition(guestRAM.end <= 1 << 41, "Sv39x4 covers 2 TiB of guest-physical space")
        self.machine = machine
        root = (region.lowerBound + Self.rootBytes - 1) & ~(Self.rootBytes - 1)
        next = root + Self.rootBytes
        limit = region.upperBound
        precondition(next <= limit)
        machine.pointer(root, length: Self.rootBytes)!.initializeMemory(as: UInt8.self, repeating: 0, count: Int(Self.rootBytes))
        var address = guestRAM.base
        while address < guestRAM.end {
            let remaining = guestRAM.end - address
            let level: Int
            if address & ((1 << 30) - 1) == 0 && remaining >= 1 << 30 { level = 2 }
            else if address & ((1 << 21) - 1) == 0 && remaining >= 1 << 21 { level = 1 }
            else { level = 0 }
            map(address, level: level)
            address += 1 << (12 + 9 * UInt64(level))
        }
    }

    /// G-stage leaves are user pages (all G-stage accesses are checked as U-mode, spec 8.5.1),
    /// readable, writable, executable, with A and D set so the walker never writes them.
    static let leafFlags: UInt64 = PageTableEntry.v | PageTableEntry.r | PageTableEntry.w | PageTableEntry.x
        | PageTableEntry.u | PageTableEntry.a | PageTableEntry.d

    private mutating func map(_ address: UInt64, level: Int) {
        var table = root
        var l = 2
        while l > level {
            let index = l == 2 ? (address >> 30) & 0x7ff : (address >> (12 + 9 * UInt64(l))) & 0x1ff
            let entry = table + index * 8
            let pte: UInt64 = machine.load(entry)!
            if pte & PageTableEntry.v == 0 {
                precondition(next + 4096 <= limit, "G-stage region sized by regionBytes")
                let page = next
                next += 4096
                machine.pointer(page, length: 4096)!.initializeMemory(as: UInt8.self, repeating: 0, count: 4096)
                machine.store(entry, (page >> 12) << 10 | PageTableEntry.v)
                table = page
            } else {
                table = ((pte >> 10) & PageTableEntry.ppnMask) << 12
            }
            l -= 1
        }
        let index = level == 2 ? (address >> 30) & 0x7ff : (address >> (12 + 9 * UInt64(level))) & 0x1ff
        machine.store(table + index * 8, (address >> 12) << 10 | Self.leafFlags)
        switch level {
        case 2: leaves.giga += 1
        case 1: leaves.mega += 1
        default: leaves.small += 1
        }
    }
}
