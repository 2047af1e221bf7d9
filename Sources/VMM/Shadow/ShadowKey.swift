import RISCV

/// Which guest privilege a shadow serves. The shadow for guest kernel mode leaves out user
/// pages, and a second one with SUM set adds them without execute, so the real hart (always in
/// U-mode under the VMM) enforces the guest's U/S page protection (RVirt's design).
enum ShadowKind: UInt8, Hashable {
    case user
    case supervisor
    case supervisorWithSUM
    /// One shadow for both guest privileges, its leaves carrying the guest's own U, R, W, X:
    /// for a guest that really runs in VS-mode and VU-mode (hardware assist without nested
    /// paging), where the hart itself enforces U/S, SUM and MXR.
    case mirrored
}

/// A shadow root's identity: the guest root it mirrors, its translation mode, and the guest
/// privilege it serves. A bare guest (satp mode 0) has one identity shadow of its RAM.
struct ShadowKey: Hashable {
    var guestSatp: UInt64
    var kind: ShadowKind

    init(guestSatp satp: UInt64, kind: ShadowKind) {
        // ASIDs do not select a shadow: the shadow is kept coherent with the tables themselves.
        let mode = satp >> 60
        if mode == 0 {
            guestSatp = 0
            self.kind = kind == .mirrored ? .mirrored : .supervisor
        } else {
            guestSatp = (mode << 60) | (satp & PageTableEntry.ppnMask)
            self.kind = kind
        }
    }

    /// Levels of the guest's tables (0 for bare).
    var guestLevels: Int { GuestPageWalker.levels(satp: guestSatp) ?? 0 }
    /// The shadow uses the guest's own format; a bare guest is shadowed with Sv39.
    var shadowLevels: Int { max(guestLevels, 3) }
    var shadowMode: UInt64 { shadowLevels == 4 ? 9 : 8 }
}
