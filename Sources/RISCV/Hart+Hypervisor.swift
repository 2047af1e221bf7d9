/// What a VMM written in Swift needs to run a guest with the hypervisor extension (privileged
/// spec 8): program the H and VS CSRs, enter the guest in VS-mode or VU-mode with two-stage
/// translation, and read the exit information when a trap it did not delegate to VS-mode
/// reaches it. That happens either through `trapHandler`, which is called with the hart still in
/// the guest (V=1, the guest's privilege and pc) after htval, htinst and hstatus.GVA have been
/// written as HS trap entry writes them, or without a handler as a real trap into HS-mode
/// (V=0, stvec, with hstatus.SPV/SPVP and sepc).
extension Hart {
    /// The hypervisor and VS CSRs by name. Writes go through the CSR write path, so WARL
    /// fields keep legal values and cached translations are flushed as a CSR instruction would.
    public var hypervisor: HypervisorCSRs {
        get { hyp }
        set {
            let old = hyp
            for (csr, field) in HypervisorCSRs.numbered where newValue[keyPath: field] != old[keyPath: field] {
                writeHypervisorCSR(csr, newValue[keyPath: field])
            }
        }
    }

    /// hvip: the VS-level interrupts the hypervisor asserts, VSSIP (bit 2), VSTIP (6) and
    /// VSEIP (10) (privileged spec 8.2.3).
    public var hvip: UInt64 {
        get { readHypervisorCSR(CSR.hvip) }
        set { writeHypervisorCSR(CSR.hvip, newValue) }
    }

    /// hie: the enables of the VS-level interrupts (aliases of mie's bits 2, 6, 10).
    public var hie: UInt64 {
        get { readHypervisorCSR(CSR.hie) }
        set { writeHypervisorCSR(CSR.hie, newValue) }
    }

    /// hip: the pending VS-level interrupts.
    public var hip: UInt64 { readHypervisorCSR(CSR.hip) }

    /// Enters the guest at `pc` in VS-mode (or VU-mode), V=1, as an SRET with hstatus.SPV=1
    /// would, but leaving hstatus, sstatus and sepc alone.
    public func enterGuest(pc: UInt64, privilege: Privilege = .supervisor) {
        precondition(privilege != .machine, "a guest runs in VS-mode or VU-mode")
        virtualized = true
        self.privilege = privilege
        self.pc = pc
        updateDataPrivilege()
    }

    /// Leaves the guest without a trap: V=0 at `privilege` (HS-mode by default), for a VMM that
    /// took an exit through `trapHandler` and wants the hart to run host code next.
    public func leaveGuest(privilege: Privilege = .supervisor) {
        virtualized = false
        self.privilege = privilege
        updateDataPrivilege()
    }
}
