/// Physical memory protection (privileged spec 3.7): 16 entries, checked on the slow path only.
/// A soft-TLB entry is filled only when PMP allows the access for the whole 4 KiB page, so the
/// fast path never needs to look at PMP; every PMP CSR write flushes the TLB.
///
/// Like QEMU, a hart with no active entry allows every access: firmware built for QEMU's virt
/// board (and bare-metal tests) may drop to S- or U-mode without programming PMP.
extension Hart {
    enum PMPMatch { case off, tor, na4, napot }

    @inline(__always) func pmpConfig(_ i: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: (i < 8 ? pmpcfg.0 : pmpcfg.1) >> UInt64((i % 8) * 8))
    }

    /// The byte range entry `i` covers, or nil when it is off.
    func pmpRange(_ i: Int) -> (low: UInt64, high: UInt64)? {
        let cfg = pmpConfig(i)
        switch (cfg >> 3) & 3 {
        case 1: // TOR: [pmpaddr[i-1], pmpaddr[i])
            let low = i == 0 ? 0 : pmpaddr[i - 1] << 2
            return (low, pmpaddr[i] << 2)
        case 2: // NA4
            let base = pmpaddr[i] << 2
            return (base, base &+ 4)
        case 3: // NAPOT: trailing ones of pmpaddr encode the size
            let a = pmpaddr[i]
            let ones = UInt64((~a).trailingZeroBitCount)
            if ones >= 54 { return (0, .max) }
            let size = UInt64(1) << (ones + 3)
            let base = (a & ~((UInt64(1) << ones) - 1)) << 2
            return (base, base &+ size)
        default:
            return nil
        }
    }

    /// Whether PMP lets `priv` perform `access` on every byte of [pa, pa + size).
    func pmpAllows(_ pa: UInt64, size: UInt64, _ access: AccessType, _ priv: Privilege) -> Bool {
        guard pmpActive else { return true }
        let end = pa &+ size
        for i in 0..<16 {
            guard let (low, high) = pmpRange(i), low < high else { continue }
            if end <= low || pa >= high { continue }               // no overlap
            if pa < low || end > high { return false }              // partial match fails
            let cfg = pmpConfig(i)
            if priv == .machine && cfg & 0x80 == 0 { return true }  // unlocked entries bind S/U only
            switch access {
            case .load: return cfg & 1 != 0
            case .store: return cfg & 2 != 0
            case .fetch: return cfg & 4 != 0
            }
        }
        return priv == .machine
    }

    /// Checks PMP for an access at physical `pa`; returns whether the whole page may be cached.
    @inline(__always)
    func pmpCheck(_ pa: UInt64, size: Int, _ access: AccessType, _ priv: Privilege, va: UInt64) throws(Exception) -> Bool {
        guard pmpActive else { return true }
        if pmpAllows(pa & ~0xfff, size: 4096, access, priv) { return true }
        guard pmpAllows(pa, size: UInt64(size), access, priv) else { throw Exception(access.accessFault, tval: va) }
        return false
    }

    /// Recomputes whether any entry is active and drops cached translations (their permission
    /// was checked against the old configuration).
    func pmpChanged() {
        pmpActive = (0..<16).contains { (pmpConfig($0) >> 3) & 3 != 0 }
        flushTranslations()
    }
}
