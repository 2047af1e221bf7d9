/// The interrupt-pending bits that devices drive into one hart: machine and supervisor
/// software, timer and external interrupts, at their `mip` bit positions (privileged spec 3.1.9).
///
/// Harts are multiplexed on one host thread (see Machine/RunLoop), so these are plain stores;
/// the hart ORs them into `mip` when it checks for interrupts.
public final class InterruptLines: @unchecked Sendable {
    public static let supervisorSoftware: UInt64 = 1 << 1
    public static let machineSoftware: UInt64 = 1 << 3
    public static let supervisorTimer: UInt64 = 1 << 5
    public static let machineTimer: UInt64 = 1 << 7
    public static let supervisorExternal: UInt64 = 1 << 9
    public static let machineExternal: UInt64 = 1 << 11

    /// Current levels, as mip bits.
    public private(set) var bits: UInt64 = 0
    /// Bumped on every change, so a hart in its run loop can tell cheaply that it must re-check.
    public private(set) var generation: UInt64 = 0

    public init() {}

    @inline(__always)
    public func set(_ mask: UInt64, _ high: Bool) {
        let new = high ? (bits | mask) : (bits & ~mask)
        if new != bits {
            bits = new
            generation &+= 1
        }
    }
}
