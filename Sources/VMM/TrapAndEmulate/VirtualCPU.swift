import RISCV

/// One guest CPU under the VMM: the real hart it runs on and the supervisor state the guest
/// believes it has.
final class VirtualCPU {
    let hart: Hart
    var state = VirtualSupervisorState()
    /// The shadow the hart's real satp points at.
    var shadowKey = ShadowKey(guestSatp: 0, kind: .supervisor)

    init(hart: Hart) { self.hart = hart }

    /// The shadow that matches the guest's current privilege, root and SUM.
    var wantedShadowKey: ShadowKey {
        let kind: ShadowKind = state.mode == .user ? .user : (state.sum ? .supervisorWithSUM : .supervisor)
        return ShadowKey(guestSatp: state.satp, kind: kind)
    }
}
