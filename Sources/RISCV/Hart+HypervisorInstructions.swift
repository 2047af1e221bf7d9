import Devices

/// The hypervisor instructions (privileged spec 8.3): HFENCE.VVMA and HFENCE.GVMA, and the
/// virtual-machine loads and stores HLV, HLVX and HSV, which access memory as though V=1 at the
/// privilege in hstatus.SPVP. They are valid in M-mode and HS-mode, and the loads and stores in
/// U-mode when hstatus.HU=1; from VS or VU they raise a virtual-instruction exception (8.6.1).
extension Hart {
    func executeHypervisorInstruction(_ d: DecodedInstruction) throws(Exception) {
        if virtualized { throw Exception(.virtualInstruction) }
        switch d.op {
        case .hfenceVVMA, .hfenceGVMA:
            if privilege == .user { throw Exception(.illegalInstruction) }
            // mstatus.TVM traps HFENCE.GVMA in HS-mode, never HFENCE.VVMA (8.4.1).
            if d.op == .hfenceGVMA && privilege == .supervisor && mstatus & Mstatus.tvm != 0 {
                throw Exception(.illegalInstruction)
            }
            // The soft TLB keeps only combined guest-virtual-to-host translations, so both fences
            // drop all of them, whatever their address, ASID or VMID operands say.
            flushGuestTranslations()
        default:
            if privilege == .user && hyp.hstatus & Hstatus.hu == 0 { throw Exception(.illegalInstruction) }
            do throws(Exception) {
                try executeVirtualMachineAccess(d)
            } catch {
                // tval is a guest virtual address although V=0 (hstatus.GVA, 8.2.1).
                var e = error
                e.guestVirtualAccess = e.cause.tvalIsAddress
                throw e
            }
        }
    }

    private func executeVirtualMachineAccess(_ d: DecodedInstruction) throws(Exception) {
        let va = x[Int(d.rs1)]
        let rd = Int(d.rd)
        // The explicit access is made as though in VS-mode (SPVP=1) or VU-mode (SPVP=0); MPRV
        // does not apply (8.4.1).
        let priv: Privilege = hyp.hstatus & Hstatus.spvp != 0 ? .supervisor : .user
        switch d.op {
        case .hlvB: x[rd] = UInt64(bitPattern: Int64(Int8(truncatingIfNeeded: try guestLoad(va, size: 1, priv))))
        case .hlvBU: x[rd] = try guestLoad(va, size: 1, priv)
        case .hlvH: x[rd] = UInt64(bitPattern: Int64(Int16(truncatingIfNeeded: try guestLoad(va, size: 2, priv))))
        case .hlvHU: x[rd] = try guestLoad(va, size: 2, priv)
        case .hlvxHU: x[rd] = try guestLoad(va, size: 2, priv, hlvx: true)
        case .hlvW: x[rd] = Self.sext32(try guestLoad(va, size: 4, priv))
        case .hlvWU: x[rd] = try guestLoad(va, size: 4, priv)
        case .hlvxWU: x[rd] = try guestLoad(va, size: 4, priv, hlvx: true)
        case .hlvD: x[rd] = try guestLoad(va, size: 8, priv)
        case .hsvB: try guestStore(va, x[Int(d.rs2)], size: 1, priv)
        case .hsvH: try guestStore(va, x[Int(d.rs2)], size: 2, priv)
        case .hsvW: try guestStore(va, x[Int(d.rs2)], size: 4, priv)
        default: try guestStore(va, x[Int(d.rs2)], size: 8, priv)
        }
    }

    /// A load through two-stage translation, bypassing the soft TLB (whose V=1 sets belong to
    /// the guest's own accesses). HLVX needs execute permission at both stages instead of read,
    /// and PMP must grant read and execute (8.3.1).
    func guestLoad(_ va: UInt64, size: Int, _ priv: Privilege, hlvx: Bool = false) throws(Exception) -> UInt64 {
        if (va & 0xfff) + UInt64(size) > 4096 {
            var value: UInt64 = 0
            for i in 0..<size {
                value |= try guestLoad(va &+ UInt64(i), size: 1, priv, hlvx: hlvx) << (8 * UInt64(i))
            }
            return value
        }
        let pa = try translateGuest(va, .load, priv, hlvx: hlvx)
        guard pmpAllows(pa, size: UInt64(size), .load, priv),
              !hlvx || pmpAllows(pa, size: UInt64(size), .fetch, priv) else {
            throw Exception(.loadAccessFault, tval: va)
        }
        return try loadPhysical(pa, size: size, va: va)
    }

    /// A store through two-stage translation, bypassing the soft TLB.
    func guestStore(_ va: UInt64, _ value: UInt64, size: Int, _ priv: Privilege) throws(Exception) {
        if (va & 0xfff) + UInt64(size) > 4096 {
            // Both pages first, so a fault leaves memory unchanged.
            _ = try translateGuest(va, .store, priv)
            _ = try translateGuest((va | 0xfff) &+ 1, .store, priv)
            for i in 0..<size { try guestStore(va &+ UInt64(i), value >> (8 * UInt64(i)), size: 1, priv) }
            return
        }
        let pa = try translateGuest(va, .store, priv)
        guard pmpAllows(pa, size: UInt64(size), .store, priv) else { throw Exception(.storeAccessFault, tval: va) }
        try storePhysical(pa, value, size: size, va: va)
    }
}
