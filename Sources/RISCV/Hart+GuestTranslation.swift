/// Two-stage address translation (privileged spec 8.5). With V=1 the VS-stage (vsatp, Sv39 or
/// Sv48) maps a guest virtual address to a guest-physical one, and the G-stage (hgatp, Sv39x4
/// or Sv48x4) maps that to a host physical address. The VS-stage page tables are themselves in
/// guest-physical memory: each of their PTEs is found through the G-stage first, as an implicit
/// load (or store, to set A/D), whose guest-page fault is reported for the original access with
/// the PTE's guest-physical address and a pseudoinstruction (8.6.3).
///
/// Only the slow path comes here; the soft TLB caches the combined translation in its V=1 sets.
extension Hart {
    /// Translates guest virtual `va` at VS or VU (`priv`) through both stages. `hlvx` asks for
    /// execute permission in place of read permission (HLVX, 8.3.1).
    func translateGuest(_ va: UInt64, _ access: AccessType, _ priv: Privilege, hlvx: Bool = false) throws(Exception) -> UInt64 {
        let gpa = try translateVSStage(va, access, priv, hlvx: hlvx)
        return try translateGStage(gpa, check: access, reported: access, hlvx: hlvx, va: va, tinst: 0)
    }

    /// The VS-stage: the Sv39/Sv48 walk of privileged spec 4.3.2 over vsatp, with vsstatus.SUM,
    /// and MXR from vsstatus or the HS-level mstatus.
    func translateVSStage(_ va: UInt64, _ access: AccessType, _ priv: Privilege, hlvx: Bool) throws(Exception) -> UInt64 {
        guard let mode = SatpMode(rawValue: hyp.vsatp >> 60), mode != .bare else { return va }
        let levels = mode.levels
        let top = Int64(bitPattern: va) >> (12 + 9 * levels - 1)
        guard top == 0 || top == -1 else { throw Exception(access.pageFault, tval: va) }
        let sum = hyp.vsstatus & Mstatus.sum != 0
        let mxr = (hyp.vsstatus | mstatus) & Mstatus.mxr != 0

        var table = (hyp.vsatp & PTE.ppnMask) << 12
        var level = levels - 1
        while true {
            let pteGPA = table &+ ((va >> (12 + 9 * UInt64(level))) & 0x1ff) &* 8
            let pteAddress = try translateGStage(pteGPA, check: .load, reported: access, hlvx: false, va: va,
                                                 tinst: TrapInstruction.pageTableRead)
            translationCounters.twoStageReferences &+= 1
            guard pmpAllows(pteAddress, size: 8, .load, .supervisor), var pte: UInt64 = memory.load(pteAddress) else {
                throw Exception(access.accessFault, tval: va)
            }
            if pte & PTE.v == 0 || (pte & PTE.r == 0 && pte & PTE.w != 0) || pte & PTE.reserved != 0 {
                throw Exception(access.pageFault, tval: va)
            }
            let ppn = (pte >> 10) & PTE.ppnMask
            if pte & (PTE.r | PTE.x) == 0 {
                guard level > 0, pte & (PTE.a | PTE.d | PTE.u) == 0 else { throw Exception(access.pageFault, tval: va) }
                table = ppn << 12
                level -= 1
                continue
            }
            var allowed = Self.leafGrants(pte, access, hlvx: hlvx, mxr: mxr)
            if pte & PTE.u != 0 {
                if priv == .supervisor && (access == .fetch || !sum) { allowed = false }
            } else if priv == .user {
                allowed = false
            }
            guard allowed else { throw Exception(access.pageFault, tval: va) }
            let pageMask: UInt64 = (1 << (9 * UInt64(level))) - 1
            if ppn & pageMask != 0 { throw Exception(access.pageFault, tval: va) }
            let needed = PTE.a | (access == .store ? PTE.d : 0)
            if pte & needed != needed {
                // Setting A/D is an implicit store: it needs G-stage write permission (8.5).
                let writable = try translateGStage(pteGPA, check: .store, reported: access, hlvx: false, va: va,
                                                   tinst: TrapInstruction.pageTableWrite)
                pte |= needed
                guard memory.store(writable, pte) else { throw Exception(access.accessFault, tval: va) }
                noteStore(physical: writable, size: 8)
            }
            return ((ppn | ((va >> 12) & pageMask)) << 12) | (va & 0xfff)
        }
    }

    /// The G-stage (privileged spec 8.5.1): the Sv39/Sv48 walk over hgatp with two more address
    /// bits, all taken by a 16 KiB root table. Every access is checked as a U-mode one, so leaves
    /// need U=1; only the HS-level MXR applies. `check` is the permission needed (an implicit
    /// page-table access needs load or store permission), `reported` the access type whose
    /// guest-page or access fault is raised, with tval = `va` and htval = `gpa` >> 2.
    func translateGStage(_ gpa: UInt64, check: AccessType, reported: AccessType, hlvx: Bool, va: UInt64,
                         tinst: UInt32) throws(Exception) -> UInt64 {
        let mode = guestTranslationMode
        if mode == .bare { return gpa }
        let fault = Exception(reported.guestPageFault, tval: va, gpa: gpa, tinst: tinst)
        // Bits above the 41 (50) address bits must be zero: a guest-physical address is not
        // sign-extended.
        guard gpa >> UInt64(mode.addressBits) == 0 else { throw fault }
        let mxr = mstatus & Mstatus.mxr != 0
        if let leaf = gStageTLB.lookup(gpa), Self.leafGrants(leaf, check, hlvx: hlvx, mxr: mxr) {
            translationCounters.gStageCacheHits &+= 1
            return (leaf & ~0xfff) | (gpa & 0xfff)
        }

        let levels = mode.levels
        var table = (hyp.hgatp & PTE.ppnMask) << 12
        var level = levels - 1
        while true {
            let indexMask: UInt64 = level == levels - 1 ? 0x7ff : 0x1ff
            let pteAddress = table &+ ((gpa >> (12 + 9 * UInt64(level))) & indexMask) &* 8
            translationCounters.twoStageReferences &+= 1
            guard pmpAllows(pteAddress, size: 8, .load, .supervisor), var pte: UInt64 = memory.load(pteAddress) else {
                throw Exception(reported.accessFault, tval: va)
            }
            // The G bit of G-stage PTEs is reserved and ignored.
            if pte & PTE.v == 0 || (pte & PTE.r == 0 && pte & PTE.w != 0) || pte & PTE.reserved != 0 { throw fault }
            let ppn = (pte >> 10) & PTE.ppnMask
            if pte & (PTE.r | PTE.x) == 0 {
                guard level > 0, pte & (PTE.a | PTE.d | PTE.u) == 0 else { throw fault }
                table = ppn << 12
                level -= 1
                continue
            }
            guard pte & PTE.u != 0, Self.leafGrants(pte, check, hlvx: hlvx, mxr: mxr) else {
                throw fault
            }
            let pageMask: UInt64 = (1 << (9 * UInt64(level))) - 1
            if ppn & pageMask != 0 { throw fault }
            let needed = PTE.a | (check == .store ? PTE.d : 0)
            if pte & needed != needed {
                pte |= needed
                guard memory.store(pteAddress, pte) else { throw Exception(reported.accessFault, tval: va) }
                noteStore(physical: pteAddress, size: 8)
            }
            let hostPage = (ppn | ((gpa >> 12) & pageMask)) << 12
            if pte & (PTE.a | PTE.d) == PTE.a | PTE.d { gStageTLB.fill(gpa, hostPage: hostPage, flags: pte) }
            return hostPage | (gpa & 0xfff)
        }
    }

    /// Whether a leaf PTE grants `access` by its R, W, X bits: MXR lets X stand for R, and HLVX
    /// needs X instead of R (privileged spec 3.1.6.3, 8.3.1).
    @inline(__always)
    static func leafGrants(_ pte: UInt64, _ access: AccessType, hlvx: Bool, mxr: Bool) -> Bool {
        switch access {
        case .fetch: return pte & PTE.x != 0
        case .load:
            if hlvx { return pte & PTE.x != 0 }
            return pte & PTE.r != 0 || (mxr && pte & PTE.x != 0)
        case .store: return pte & PTE.w != 0
        }
    }
}
