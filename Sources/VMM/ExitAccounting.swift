import CShims

/// Exit counts by reason, emulated CSRs by number, and time spent in the VMM: what every VMM
/// technique counts the same way, so their statistics line up column by column.
struct ExitAccounting {
    var exits = [UInt64](repeating: 0, count: ExitReason.allCases.count)
    /// The same reasons when binary translation called the VMM directly instead of trapping.
    var callouts = [UInt64](repeating: 0, count: ExitReason.allCases.count)
    /// True while a callout runs: what it does is counted as a callout, not an exit.
    var inCallout = false
    var csrs = [UInt64](repeating: 0, count: 4096)
    /// Time handling exits, in cycle-counter ticks (two clock_gettime calls per exit cost more
    /// than many exits themselves), and a reference point to convert ticks to seconds.
    var ticks: UInt64 = 0
    let createdAt = (ticks: trapeze_cycle_counter(), ns: trapeze_monotonic_ns())

    @inline(__always) mutating func count(_ reason: ExitReason) {
        if inCallout { callouts[reason.index] &+= 1 } else { exits[reason.index] &+= 1 }
    }
    @inline(__always) mutating func countCSR(_ csr: UInt16) { csrs[Int(csr & 0xfff)] &+= 1 }

    /// Fills the exit, CSR and time fields of `s`.
    func fill(_ s: inout VMMStatistics) {
        for (i, reason) in ExitReason.allCases.enumerated() {
            if exits[i] > 0 { s.exits[reason.rawValue] = exits[i] }
            if callouts[i] > 0 { s.callouts[reason.rawValue] = callouts[i] }
        }
        for (csr, n) in csrs.enumerated() where n > 0 {
            s.emulatedCSRs[CSRNames.name(UInt16(csr))] = n
        }
        let elapsedTicks = Double(trapeze_cycle_counter() &- createdAt.ticks)
        let seconds = Double(trapeze_monotonic_ns() &- createdAt.ns) / 1e9
        s.secondsInVMM = elapsedTicks > 0 ? Double(ticks) * seconds / elapsedTicks : 0
    }
}
