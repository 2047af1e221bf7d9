/// Guest loads, stores and instruction fetch: a soft-TLB fast path inline, everything else
/// (page walks, page-crossing accesses, MMIO, faults) out of line.
extension Hart {
    @inline(__always)
    func hostPointer(_ va: UInt64, _ entry: TLBEntry) -> UnsafeMutableRawPointer {
        UnsafeMutableRawPointer(bitPattern: UInt(va &+ entry.addend)).unsafelyUnwrapped
    }

    @inline(__always)
    func load<T: FixedWidthInteger & UnsignedInteger>(_ va: UInt64, _: T.Type) throws(Exception) -> T {
        let vpn = va >> 12
        let e = loadSet[Int(truncatingIfNeeded: vpn) & (SoftTLB.entriesPerSet - 1)]
        if e.vpn == vpn && (va & 0xfff) <= UInt64(4096 - MemoryLayout<T>.size) {
            return hostPointer(va, e).loadUnaligned(as: T.self)
        }
        return T(truncatingIfNeeded: try loadSlow(va, size: MemoryLayout<T>.size))
    }

    @inline(__always)
    func store<T: FixedWidthInteger & UnsignedInteger>(_ va: UInt64, _ value: T) throws(Exception) {
        let vpn = va >> 12
        let e = storeSet[Int(truncatingIfNeeded: vpn) & (SoftTLB.entriesPerSet - 1)]
        if e.vpn == vpn && (va & 0xfff) <= UInt64(4096 - MemoryLayout<T>.size) {
            let p = hostPointer(va, e)
            p.storeBytes(of: value, as: T.self)
            let page = Int(truncatingIfNeeded: (UInt64(UInt(bitPattern: p)) &- ramHost) >> 12)
            if code.pageFlags[page] != 0 { storeHitFlaggedPage(page, offset: UInt64(UInt(bitPattern: p)) &- ramHost, size: MemoryLayout<T>.size) }
            return
        }
        try storeSlow(va, UInt64(truncatingIfNeeded: value), size: MemoryLayout<T>.size)
    }

    @inline(never)
    func loadSlow(_ va: UInt64, size: Int) throws(Exception) -> UInt64 {
        if (va & 0xfff) + UInt64(size) > 4096 {
            // Misaligned across a page boundary: done bytewise, each byte translated on its own.
            var value: UInt64 = 0
            for i in 0..<size { value |= try loadSlow(va &+ UInt64(i), size: 1) << (8 * UInt64(i)) }
            return value
        }
        let pa = try translate(va, .load)
        if try pmpCheck(pa, size: size, .load, dataPrivilege, va: va), memory.contains(pa, length: UInt64(size)) {
            tlb.fill(loadSet, vpn: va >> 12, pagePA: pa & ~0xfff)
        }
        return try loadPhysical(pa, size: size, va: va)
    }

    /// A load from physical `pa` (translated and PMP-checked): RAM or a device, else an access
    /// fault with tval = `va`. Shared by every load path (the soft-TLB miss, HLV).
    @inline(__always)
    func loadPhysical(_ pa: UInt64, size: Int, va: UInt64) throws(Exception) -> UInt64 {
        if let p = memory.pointer(pa, length: UInt64(size)) {
            switch size {
            case 1: return UInt64(p.load(as: UInt8.self))
            case 2: return UInt64(p.loadUnaligned(as: UInt16.self))
            case 4: return UInt64(p.loadUnaligned(as: UInt32.self))
            default: return p.loadUnaligned(as: UInt64.self)
            }
        }
        if let v = bus.read(pa, size: size) {
            noticeDeviceInterrupts()
            return v
        }
        throw Exception(.loadAccessFault, tval: va)
    }

    @inline(never)
    func storeSlow(_ va: UInt64, _ value: UInt64, size: Int) throws(Exception) {
        if (va & 0xfff) + UInt64(size) > 4096 {
            // Translate both pages before writing anything, so a fault leaves memory unchanged.
            _ = try translate(va, .store)
            _ = try translate((va | 0xfff) &+ 1, .store)
            for i in 0..<size { try storeSlow(va &+ UInt64(i), value >> (8 * UInt64(i)), size: 1) }
            return
        }
        let pa = try translate(va, .store)
        if try pmpCheck(pa, size: size, .store, dataPrivilege, va: va), memory.contains(pa, length: UInt64(size)) {
            tlb.fill(storeSet, vpn: va >> 12, pagePA: pa & ~0xfff)
        }
        try storePhysical(pa, value, size: size, va: va)
    }

    /// A store to physical `pa` (translated and PMP-checked): RAM (with the decoded-code and
    /// watch checks) or a device, else an access fault with tval = `va`.
    @inline(__always)
    func storePhysical(_ pa: UInt64, _ value: UInt64, size: Int, va: UInt64) throws(Exception) {
        if let p = memory.pointer(pa, length: UInt64(size)) {
            switch size {
            case 1: p.storeBytes(of: UInt8(truncatingIfNeeded: value), as: UInt8.self)
            case 2: p.storeBytes(of: UInt16(truncatingIfNeeded: value), as: UInt16.self)
            case 4: p.storeBytes(of: UInt32(truncatingIfNeeded: value), as: UInt32.self)
            default: p.storeBytes(of: value, as: UInt64.self)
            }
            noteStore(physical: pa, size: size)
            return
        }
        if bus.write(pa, size: size, value: value) {
            noticeDeviceInterrupts()
            return
        }
        throw Exception(.storeAccessFault, tval: va)
    }

    /// A device access may have raised or lowered an interrupt line: end the slice so the run
    /// loop re-checks interrupts before the next instruction.
    @inline(__always)
    func noticeDeviceInterrupts() {
        if lines.generation != seenLineGeneration {
            seenLineGeneration = lines.generation
            sliceBreak = true
        }
    }

    /// Checks a store to guest-physical `pa` against decoded code and watched pages.
    @inline(__always)
    func noteStore(physical pa: UInt64, size: Int) {
        guard memory.contains(pa, length: UInt64(size)) else { return }
        let offset = pa &- memory.base
        let page = Int(offset >> 12)
        if code.pageFlags[page] != 0 { storeHitFlaggedPage(page, offset: offset, size: size) }
    }

    @inline(never)
    func storeHitFlaggedPage(_ page: Int, offset: UInt64, size: Int) {
        let flags = code.pageFlags[page]
        if flags & DecodedCodeCache.codeFlag != 0 {
            code.invalidate(page: page)
            fetchVPN = .max
        }
        if flags & DecodedCodeCache.watchFlag != 0 {
            storeWatcher?(memory.base &+ offset, size)
        }
    }

    /// Host pointer for an atomic access to `va` (LR/SC/AMO): naturally aligned, in RAM,
    /// with store permission (AMOs read and write; LR asks for load permission only).
    @inline(__always)
    func atomicPointer(_ va: UInt64, size: Int, access: AccessType) throws(Exception) -> (UnsafeMutableRawPointer, UInt64) {
        guard va & UInt64(size - 1) == 0 else {
            throw Exception(access == .load ? .loadAddressMisaligned : .storeAddressMisaligned, tval: va)
        }
        let pa = try translate(va, access)
        _ = try pmpCheck(pa, size: size, access, dataPrivilege, va: va)
        guard let p = memory.pointer(pa, length: UInt64(size)) else {
            throw Exception(access == .load ? .loadAccessFault : .storeAccessFault, tval: va)
        }
        return (p, pa)
    }

    // MARK: Instruction fetch

    /// The fetch fast path over the hart's fetch shortcut, for `step()`; `run(budget:)` keeps
    /// the same logic over register copies of the shortcut.
    @inline(__always)
    func fetch(_ pc: UInt64) throws(Exception) -> DecodedInstruction {
        if pc >> 12 == fetchVPN {
            let d = fetchSlots[Int(truncatingIfNeeded: (pc & 0xfff) >> 1)]
            if d.op.rawValue > Opcode.crossesPage.rawValue { return d }
        }
        return try fetchSlow(pc)
    }

    /// The guest-physical RAM page that instructions at `pc` are fetched from, through the fetch
    /// soft TLB (filled on a miss). Throws the fetch's page or access fault.
    @inline(__always)
    func fetchPage(_ pc: UInt64) throws(Exception) -> UInt64 {
        let vpn = pc >> 12
        let e = fetchSet[Int(truncatingIfNeeded: vpn) & (SoftTLB.entriesPerSet - 1)]
        if e.vpn == vpn { return ((vpn << 12) &+ e.addend) &- tlb.ramAddend }
        let pa = try translate(pc, .fetch)
        guard memory.contains(pa, length: 2) else { throw Exception(.instructionAccessFault, tval: pc) }
        let pagePA = pa & ~0xfff
        if try pmpCheck(pa, size: 2, .fetch, privilege, va: pc) {
            tlb.fill(fetchSet, vpn: vpn, pagePA: pagePA)
        }
        return pagePA
    }

    @inline(never)
    func fetchSlow(_ pc: UInt64) throws(Exception) -> DecodedInstruction {
        let pagePA = try fetchPage(pc)
        let vpn = pc >> 12
        let page = Int((pagePA &- memory.base) >> 12)
        let slots = code.page(page)
        fetchVPN = vpn
        fetchSlots = slots
        let offset = pc & 0xfff
        let slot = Int(offset >> 1)
        let cached = slots[slot]
        if cached.op.rawValue > Opcode.crossesPage.rawValue { return cached }

        let host = memory.host + Int(pagePA &- memory.base &+ offset)
        let low = host.loadUnaligned(as: UInt16.self)
        if low & 3 != 3 {
            var d = Decoder.decodeCompressed(low)
            if d.op == .illegal { d.imm = Int64(low) }
            slots[slot] = d
            return d
        }
        if offset == 0xffe {
            // The upper half lives on the next virtual page, whose mapping may change on its own.
            let pa2 = try translate(pc &+ 2, .fetch)
            guard let high: UInt16 = memory.load(pa2) else { throw Exception(.instructionAccessFault, tval: pc &+ 2) }
            slots[slot] = DecodedInstruction(op: .crossesPage)
            let word = UInt32(low) | UInt32(high) << 16
            var d = Decoder.decode(word)
            if d.op == .illegal { d.imm = Int64(word) }
            return d
        }
        let word = host.loadUnaligned(as: UInt32.self)
        var d = Decoder.decode(word)
        if d.op == .illegal { d.imm = Int64(word) }
        slots[slot] = d
        return d
    }
}
