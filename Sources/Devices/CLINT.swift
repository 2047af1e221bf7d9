import CShims

/// Where `mtime` comes from: a count of timebase ticks (10 MHz on the virt board).
///
/// The machine uses `HostMonotonicClock`; tests and deterministic runs inject their own.
public protocol MachineClock {
    var ticks: UInt64 { get }
}

/// Timebase ticks derived from the host's monotonic clock, counted from construction.
public struct HostMonotonicClock: MachineClock {
    private let start: UInt64
    private let frequency: UInt64

    /// `frequency` in ticks per second: VirtMemoryMap.timebaseFrequency (10 MHz) on the virt board.
    public init(frequency: UInt64 = 10_000_000) {
        precondition(frequency > 0 && frequency <= 1_000_000_000)
        self.start = trapeze_monotonic_ns()
        self.frequency = frequency
    }

    public var ticks: UInt64 {
        let ns = trapeze_monotonic_ns() &- start
        // Split into whole seconds and the remainder so `ns * frequency` cannot overflow.
        let seconds = ns / 1_000_000_000
        let rest = ns % 1_000_000_000
        return seconds &* frequency &+ rest &* frequency / 1_000_000_000
    }
}

/// The core-local interruptor at 0x0200_0000 on QEMU's virt board (SiFive CLINT; the same layout
/// as an ACLINT MSWI device followed by an MTIMER device, ACLINT spec sections 2 and 3):
///
///     +0x0000 + 4 * hart   msip      bit 0 drives mip.MSIP of that hart
///     +0x4000 + 8 * hart   mtimecmp  mip.MTIP is high while mtime >= mtimecmp
///     +0xBFF8              mtime     shared by all harts
///
/// mtime follows the injected clock plus an offset (so the guest may write it). MTIP is
/// recomputed when mtimecmp or mtime is written and whenever the run loop calls `update()`
/// at a slice boundary: the timer is only as precise as the slices, as on a real scheduler tick.
public final class CLINT: MMIODevice {
    public let name = "clint"

    static let msipBase: UInt64 = 0x0000
    static let mtimecmpBase: UInt64 = 0x4000
    static let mtimeOffset: UInt64 = 0xBFF8

    private let lines: [InterruptLines]
    private let clock: any MachineClock
    /// Added to the clock so that writes to mtime take effect without touching the host clock.
    private var offset: UInt64 = 0
    private var mtimecmp: [UInt64]
    private var msip: [Bool]

    public init(lines: [InterruptLines], clock: any MachineClock) {
        self.lines = lines
        self.clock = clock
        self.mtimecmp = Array(repeating: UInt64.max, count: lines.count)
        self.msip = Array(repeating: false, count: lines.count)
    }

    public var hartCount: Int { lines.count }

    /// The machine timer, read by each hart's `time` CSR (and `rdtime`).
    public var mtime: UInt64 {
        get { clock.ticks &+ offset }
        set {
            offset = newValue &- clock.ticks
            update()
        }
    }

    /// Back to power-on state: no software interrupts, mtimecmp all-ones (never fires).
    /// mtime keeps counting, as QEMU's does across a reset.
    public func reset() {
        for h in 0..<lines.count {
            mtimecmp[h] = .max
            msip[h] = false
            lines[h].set(InterruptLines.machineSoftware, false)
        }
        update()
    }

    /// Recomputes mip.MTIP of every hart from the current time.
    public func update() {
        let now = mtime
        for h in 0..<lines.count {
            lines[h].set(InterruptLines.machineTimer, now >= mtimecmp[h])
        }
    }

    /// The earliest mtimecmp that is still in the future, in mtime ticks; nil when no timer is
    /// armed. The run loop sleeps for `(deadline - mtime)` ticks when every hart waits in WFI.
    public func nextDeadline() -> UInt64? {
        let now = mtime
        // All-ones is the reset value and means "no interrupt", so it never counts as a deadline.
        var earliest = UInt64.max
        for compare in mtimecmp where compare > now && compare < earliest {
            earliest = compare
        }
        return earliest == .max ? nil : earliest
    }

    // MARK: MMIO

    public func read(offset: UInt64, size: Int) -> UInt64 {
        switch offset {
        case Self.msipBase..<Self.mtimecmpBase:
            // msip is a 32-bit register; only bit 0 is implemented (ACLINT 2.1: upper bits read 0).
            guard size == 4, offset & 3 == 0, let h = hart(offset / 4) else { return 0 }
            return msip[h] ? 1 : 0
        case Self.mtimecmpBase..<Self.mtimeOffset:
            let index = (offset - Self.mtimecmpBase) / 8
            guard let h = hart(index) else { return 0 }
            return Self.slice(mtimecmp[h], at: offset & 7, size: size) ?? 0
        case Self.mtimeOffset..<(Self.mtimeOffset + 8):
            return Self.slice(mtime, at: offset - Self.mtimeOffset, size: size) ?? 0
        default:
            return 0
        }
    }

    public func write(offset: UInt64, size: Int, value: UInt64) {
        switch offset {
        case Self.msipBase..<Self.mtimecmpBase:
            guard size == 4, offset & 3 == 0, let h = hart(offset / 4) else { return }
            msip[h] = value & 1 != 0
            lines[h].set(InterruptLines.machineSoftware, msip[h])
        case Self.mtimecmpBase..<Self.mtimeOffset:
            let index = (offset - Self.mtimecmpBase) / 8
            guard let h = hart(index),
                  let merged = Self.merge(mtimecmp[h], at: offset & 7, size: size, value: value) else { return }
            mtimecmp[h] = merged
            // Writing mtimecmp takes effect at once: raising it above mtime is how software
            // acknowledges the timer interrupt (privileged spec 3.2.1).
            lines[h].set(InterruptLines.machineTimer, mtime >= merged)
        case Self.mtimeOffset..<(Self.mtimeOffset + 8):
            guard let merged = Self.merge(mtime, at: offset - Self.mtimeOffset, size: size, value: value) else { return }
            mtime = merged
        default:
            return
        }
    }

    @inline(__always)
    private func hart(_ index: UInt64) -> Int? {
        index < UInt64(lines.count) ? Int(index) : nil
    }

    /// The 64-bit register seen through a naturally aligned 4- or 8-byte access at byte `at`
    /// (0 or 4). Other sizes and alignments are not decoded (nil), as on QEMU's ACLINT.
    @inline(__always)
    static func slice(_ register: UInt64, at: UInt64, size: Int) -> UInt64? {
        switch (size, at) {
        case (8, 0): return register
        case (4, 0): return register & 0xFFFF_FFFF
        case (4, 4): return register >> 32
        default: return nil
        }
    }

    /// The register after a 4- or 8-byte write at byte `at`: RV32 software writes mtimecmp as
    /// two 32-bit halves (privileged spec 3.2.1 shows the sequence), so each half stands alone.
    @inline(__always)
    static func merge(_ register: UInt64, at: UInt64, size: Int, value: UInt64) -> UInt64? {
        switch (size, at) {
        case (8, 0): return value
        case (4, 0): return (register & 0xFFFF_FFFF_0000_0000) | (value & 0xFFFF_FFFF)
        case (4, 4): return (register & 0xFFFF_FFFF) | (value << 32)
        default: return nil
        }
    }
}
