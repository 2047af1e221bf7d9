import GuestMemory
import RISCV

/// One guest page-table page the walker went through: where it is, its level (0 = leaf
/// tables), and the lowest virtual address its entries cover.
struct GuestTableUse: Equatable {
    var table: UInt64
    var level: Int
    var vaBase: UInt64
}

/// The (at most four) table pages of one walk, stored inline: the walker runs on every shadow
/// fault and allocates nothing.
struct GuestTableUses: Sequence {
    private var storage: (GuestTableUse, GuestTableUse, GuestTableUse, GuestTableUse)
    private(set) var count = 0

    init() {
        let empty = GuestTableUse(table: 0, level: 0, vaBase: 0)
        storage = (empty, empty, empty, empty)
    }

    mutating func append(_ use: GuestTableUse) {
        switch count {
        case 0: storage.0 = use
        case 1: storage.1 = use
        case 2: storage.2 = use
        default: storage.3 = use
        }
        count += 1
    }

    subscript(i: Int) -> GuestTableUse {
        switch i {
        case 0: return storage.0
        case 1: return storage.1
        case 2: return storage.2
        default: return storage.3
        }
    }

    func makeIterator() -> AnyIterator<GuestTableUse> {
        var i = 0
        return AnyIterator { [self] in
            guard i < count else { return nil }
            defer { i += 1 }
            return self[i]
        }
    }
}

/// A guest virtual address the guest's own tables allow for the access, and everything the
/// walk learned: the guest-physical page, what the guest lets this mode do with it, and the
/// table pages that decided it (the VMM write-protects them).
struct GuestTranslation {
    var physical: UInt64
    var readable: Bool
    var writable: Bool
    var executable: Bool
    /// The guest PTE's D bit after the walk (set by the walk for stores, as hardware would).
    var dirty: Bool
    /// The guest leaf's R, W, X and U bits as written (R|W|X for a bare guest).
    var leafFlags: UInt64 = PageTableEntry.r | PageTableEntry.w | PageTableEntry.x
    var tables: GuestTableUses
    var physicalPage: UInt64 { physical & ~0xfff }
}

enum GuestWalkResult {
    case translated(GuestTranslation)
    case pageFault
    case accessFault
}

/// The guest's view of address translation: its satp and its page tables in guest-physical
/// memory, walked exactly as the privileged spec's algorithm (4.3.2) does, including setting
/// A and D. The VMM walks on every shadow fault; the hardware never walks guest tables.
struct GuestPageWalker {
    let memory: GuestMemory
    /// Memory references made, for statistics.
    private(set) var references: UInt64 = 0
    private(set) var walks: UInt64 = 0

    init(memory: GuestMemory) { self.memory = memory }

    static func levels(satp: UInt64) -> Int? {
        switch satp >> 60 {
        case 0: return 0
        case 8: return 3
        case 9: return 4
        default: return nil
        }
    }

    mutating func translate(_ va: UInt64, _ access: AccessType, satp: UInt64, mode: Privilege,
                            sum: Bool, mxr: Bool) -> GuestWalkResult {
        walks &+= 1
        guard let levels = Self.levels(satp: satp), levels > 0 else {
            // Bare: guest-virtual is guest-physical, every access allowed.
            return .translated(GuestTranslation(physical: va, readable: true, writable: true, executable: true,
                                                dirty: true, tables: GuestTableUses()))
        }
        let vaBits = 12 + 9 * levels
        let top = Int64(bitPattern: va) >> (vaBits - 1)
        guard top == 0 || top == -1 else { return .pageFault }

        var tables = GuestTableUses()
        var table = (satp & PageTableEntry.ppnMask) << 12
        var level = levels - 1
        while true {
            let span = 12 + 9 * UInt64(level)
            let index = (va >> span) & 0x1ff
            let entryAddress = table &+ index &* 8
            let vaBase = level == levels - 1 ? 0 : va & ~((1 << (span + 9)) - 1)
            tables.append(GuestTableUse(table: table, level: level, vaBase: vaBase))
            references &+= 1
            guard var pte: UInt64 = memory.load(entryAddress) else { return .accessFault }
            if pte & PageTableEntry.v == 0 || (pte & PageTableEntry.r == 0 && pte & PageTableEntry.w != 0)
                || pte & PageTableEntry.reserved != 0 {
                return .pageFault
            }
            let ppn = (pte >> 10) & PageTableEntry.ppnMask
            if pte & (PageTableEntry.r | PageTableEntry.x) == 0 {
                guard level > 0, pte & (PageTableEntry.a | PageTableEntry.d | PageTableEntry.u) == 0 else { return .pageFault }
                table = ppn << 12
                level -= 1
                continue
            }
            let user = pte & PageTableEntry.u != 0
            // U-mode reaches only U pages; S-mode never executes them and reads or writes them
            // only with SUM (privileged spec 4.3.1).
            let privilegeOK = mode == .user ? user : !user
            let dataOK = mode == .user ? user : (!user || sum)
            let readable = dataOK && (pte & PageTableEntry.r != 0 || (mxr && pte & PageTableEntry.x != 0))
            let writable = dataOK && pte & PageTableEntry.w != 0
            let executable = privilegeOK && pte & PageTableEntry.x != 0
            let allowed: Bool
            switch access {
            case .fetch: allowed = executable
            case .load: allowed = readable
            case .store: allowed = writable
            }
            guard allowed else { return .pageFault }
            let pageMask: UInt64 = (1 << (9 * UInt64(level))) - 1
            if ppn & pageMask != 0 { return .pageFault }
            let needed = PageTableEntry.a | (access == .store ? PageTableEntry.d : 0)
            if pte & needed != needed {
                pte |= needed
                references &+= 1
                guard memory.store(entryAddress, pte) else { return .accessFault }
            }
            let pagePPN = ppn | ((va >> 12) & pageMask)
            return .translated(GuestTranslation(physical: (pagePPN << 12) | (va & 0xfff), readable: readable,
                                                writable: writable, executable: executable,
                                                dirty: pte & PageTableEntry.d != 0,
                                                leafFlags: pte & (PageTableEntry.r | PageTableEntry.w | PageTableEntry.x | PageTableEntry.u),
                                                tables: tables))
        }
    }

    /// The table at `level` that the guest root `satp` reaches for `vaBase`, or nil when the
    /// path no longer leads there: how the VMM tells a live table use from a stale one.
    mutating func table(satp: UInt64, level target: Int, vaBase: UInt64) -> UInt64? {
        guard let levels = Self.levels(satp: satp), levels > 0 else { return nil }
        var table = (satp & PageTableEntry.ppnMask) << 12
        var level = levels - 1
        while level > target {
            let index = (vaBase >> (12 + 9 * UInt64(level))) & 0x1ff
            references &+= 1
            guard let pte: UInt64 = memory.load(table &+ index &* 8),
                  pte & PageTableEntry.v != 0, pte & (PageTableEntry.r | PageTableEntry.x) == 0 else { return nil }
            table = ((pte >> 10) & PageTableEntry.ppnMask) << 12
            level -= 1
        }
        return table
    }
}
