/// RISC-V privilege levels, encoded as in mstatus.MPP (privileged spec 1.2).
public enum Privilege: UInt8, Sendable, Comparable {
    case user = 0
    case supervisor = 1
    case machine = 3

    public static func < (a: Privilege, b: Privilege) -> Bool { a.rawValue < b.rawValue }

    /// Index into per-privilege tables (soft TLB sets): U=0, S=1, M=2.
    @inline(__always) var tableIndex: Int { rawValue == 3 ? 2 : Int(rawValue) }
}
