/// Sv39 and Sv48 address translation (privileged spec 4.3-4.5), with A/D bits set by the
/// hardware walker, as the spec allows.
public enum PTE {
    public static let v: UInt64 = 1 << 0
    public static let r: UInt64 = 1 << 1
    public static let w: UInt64 = 1 << 2
    public static let x: UInt64 = 1 << 3
    public static let u: UInt64 = 1 << 4
    public static let g: UInt64 = 1 << 5
    public static let a: UInt64 = 1 << 6
    public static let d: UInt64 = 1 << 7
    /// Bits 63:54: reserved (Svpbmt/Svnapot are not implemented), must be zero.
    public static let reserved: UInt64 = 0x3ff << 54
    public static let ppnMask: UInt64 = (1 << 44) - 1
}

/// The PTE bits by their full name, for the VMM's walkers and table builders.
public typealias PageTableEntry = PTE

public enum SatpMode: UInt64, Sendable {
    case bare = 0
    case sv39 = 8
    case sv48 = 9

    var levels: Int { self == .sv39 ? 3 : 4 }
}

extension Hart {
    var satpMode: SatpMode { SatpMode(rawValue: satp >> 60) ?? .bare }

    /// Recomputes the effective privilege and virtualization mode of loads and stores and the
    /// TLB sets in use; called whenever the privilege, V or mstatus.MPRV/MPP/MPV change. With
    /// MPRV in M-mode, loads and stores act as though in mode MPP with V = MPV (privileged spec
    /// 8.4.1; MPV is ignored when MPP = M).
    @inline(__always)
    func updateDataPrivilege() {
        if privilege == .machine && mstatus & Mstatus.mprv != 0 {
            dataPrivilege = Privilege(rawValue: UInt8((mstatus >> Mstatus.mppShift) & 3)) ?? .user
            dataVirtualized = dataPrivilege != .machine && mstatus & Mstatus.mpv != 0
        } else {
            dataPrivilege = privilege
            dataVirtualized = virtualized
        }
        fetchSet = tlb.set(privilege, virtualized: virtualized, .fetch)
        loadSet = tlb.set(dataPrivilege, virtualized: dataVirtualized, .load)
        storeSet = tlb.set(dataPrivilege, virtualized: dataVirtualized, .store)
        invalidateFetchShortcut()
    }

    /// Drops every cached translation and the fetch page (satp write, sfence.vma, reset).
    public func flushTranslations() {
        tlb.flushAll()
        gStageTLB.flush()
        invalidateFetchShortcut()
    }

    /// Drops the cached two-stage (V=1) translations only: what vsatp, hgatp, vsstatus.SUM/MXR,
    /// SFENCE.VMA with V=1 and HFENCE.VVMA/GVMA change (privileged spec 8.5.3, 8.3.2).
    func flushGuestTranslations() {
        tlb.flushGuest()
        gStageTLB.flush()
        if virtualized { invalidateFetchShortcut() }
    }

    /// Forgets the current fetch page. The interpreter loop keeps a copy in locals, so it is
    /// also told to leave its inner loop and reload (translation or privilege changed).
    @inline(__always)
    func invalidateFetchShortcut() {
        fetchVPN = .max
        sliceBreak = true
    }

    /// Translates `va` for `access` at the effective privilege; throws the page or access fault
    /// the spec prescribes, with tval = va. With V=1 (effective, for data), two-stage translation
    /// (Hart+GuestTranslation).
    func translate(_ va: UInt64, _ access: AccessType) throws(Exception) -> UInt64 {
        let priv = access == .fetch ? privilege : dataPrivilege
        translationCounters.misses &+= 1
        if access == .fetch ? virtualized : dataVirtualized {
            translationCounters.twoStageWalks &+= 1
            return try translateGuest(va, access, priv)
        }
        let mode = satpMode
        if priv == .machine || mode == .bare { return va }
        translationCounters.walks &+= 1
        return try walk(va, access, priv, mode)
    }

    /// The page-table walk of privileged spec 4.3.2, generalised to 4 levels for Sv48.
    func walk(_ va: UInt64, _ access: AccessType, _ priv: Privilege, _ mode: SatpMode) throws(Exception) -> UInt64 {
        let levels = mode.levels
        let vaBits = 12 + 9 * levels
        // The unused upper bits must all equal the top bit of the virtual address.
        let top = Int64(bitPattern: va) >> (vaBits - 1)
        guard top == 0 || top == -1 else { throw Exception(access.pageFault, tval: va) }

        var table = (satp & PTE.ppnMask) << 12
        var level = levels - 1
        while true {
            let vpn = (va >> (12 + 9 * UInt64(level))) & 0x1ff
            let pteAddress = table &+ vpn &* 8
            // The walker's own accesses are checked by PMP as S-mode loads (privileged spec 3.7.1).
            translationCounters.walkReferences &+= 1
            guard pmpAllows(pteAddress, size: 8, .load, .supervisor), var pte: UInt64 = memory.load(pteAddress) else {
                throw Exception(access.accessFault, tval: va)
            }
            if pte & PTE.v == 0 || (pte & PTE.r == 0 && pte & PTE.w != 0) || pte & PTE.reserved != 0 {
                throw Exception(access.pageFault, tval: va)
            }
            let ppn = (pte >> 10) & PTE.ppnMask
            if pte & (PTE.r | PTE.x) == 0 {
                // Pointer to the next level. A, D and U must be zero on non-leaf PTEs.
                guard level > 0, pte & (PTE.a | PTE.d | PTE.u) == 0 else {
                    throw Exception(access.pageFault, tval: va)
                }
                table = ppn << 12
                level -= 1
                continue
            }
            // Leaf: permissions first, then superpage alignment, then A/D.
            guard leafAllows(pte, access, priv) else { throw Exception(access.pageFault, tval: va) }
            let pageMask: UInt64 = (1 << (9 * UInt64(level))) - 1
            if ppn & pageMask != 0 { throw Exception(access.pageFault, tval: va) }
            let needed = PTE.a | (access == .store ? PTE.d : 0)
            if pte & needed != needed {
                pte |= needed
                guard memory.store(pteAddress, pte) else { throw Exception(access.accessFault, tval: va) }
                noteStore(physical: pteAddress, size: 8)
            }
            let pagePPN = ppn | ((va >> 12) & pageMask)
            return (pagePPN << 12) | (va & 0xfff)
        }
    }

    @inline(__always)
    func leafAllows(_ pte: UInt64, _ access: AccessType, _ priv: Privilege) -> Bool {
        switch access {
        case .fetch: if pte & PTE.x == 0 { return false }
        case .load:
            let readable = pte & PTE.r != 0 || (mstatus & Mstatus.mxr != 0 && pte & PTE.x != 0)
            if !readable { return false }
        case .store: if pte & PTE.w == 0 { return false }
        }
        if pte & PTE.u != 0 {
            // S-mode may touch user pages only with SUM, and never execute them.
            if priv == .supervisor && (access == .fetch || mstatus & Mstatus.sum == 0) { return false }
        } else if priv == .user {
            return false
        }
        return true
    }
}
