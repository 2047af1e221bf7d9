import CShims
import Foundation
import JIT
import RISCV
import VMM

/// What a run cost, for `--stats` (a table) and `--stats-json` (for tools). Each counter is
/// exact: it is counted where the event happens, not sampled.
public struct MachineStatistics: Sendable, Codable {
    public struct HartCounters: Sendable, Codable {
        public var hart: Int
        /// Instructions retired (and interrupts taken between them are not counted).
        public var instructions: UInt64
        /// Soft-TLB flushes (satp writes, sfence.vma, SUM/MXR changes, remote fences).
        public var tlbFlushes: UInt64
        /// Soft-TLB misses and page walks (single- and two-stage) with their memory references.
        public var translation: TranslationCounters
    }

    /// One virtio device's counters (docs/running.md lists them): its transport's and its own.
    public struct VirtioCounters: Sendable, Codable {
        /// The device as the guest names it, e.g. "virtio-blk vda", "virtio-net eth0", "virtio-rng".
        public var name: String
        public var counters: [String: UInt64]
    }

    public var seconds: Double
    public var harts: [HartCounters]
    /// Decoded-code pages dropped because the guest wrote to them (self-modifying code, reloads).
    public var codeInvalidations: UInt64
    /// Built-in SBI calls by extension name (empty when real firmware runs).
    public var sbiCalls: [String: UInt64]
    /// The VMM's counters with `--virt trap` (nil on bare hardware).
    public var vmm: VMMStatistics?
    /// The virtio devices in slot order (disks, rng, console, networks).
    public var virtio: [VirtioCounters]
    /// How guest code executed: "jit" or "interp".
    public var execution: String
    /// Where devices did their host I/O (`--io`), and what the I/O thread did.
    public var deviceIO: DeviceIOCounters

    public struct DeviceIOCounters: Sendable, Codable {
        /// "thread" or "inline".
        public var mode: String
        /// Batches of completed requests the I/O thread handed back to the harts' thread.
        public var completionBatches: UInt64
        /// Times the I/O thread woke from poll() (it spins a little before it sleeps, so a
        /// steady stream of requests costs no wakeups).
        public var wakeups: UInt64
    }
    /// The JIT's counters with `--exec jit` (nil when interpreting).
    public var jit: JITStatistics?

    public var instructions: UInt64 { harts.reduce(0) { $0 + $1.instructions } }
    /// Guest instructions per host second, in millions.
    public var mips: Double { seconds > 0 ? Double(instructions) / seconds / 1e6 : 0 }

    /// A readable table, one counter per line.
    public func table() -> String {
        var rows: [(String, String)] = [
            ("wall time", String(format: "%.3f s", seconds)),
            ("instructions", "\(instructions)"),
            ("guest MIPS", String(format: "%.1f", mips)),
            ("code page invalidations", "\(codeInvalidations)"),
            ("execution", execution),
            ("device I/O", deviceIO.mode == DeviceIOMode.thread.rawValue
                ? "I/O thread (\(deviceIO.completionBatches) completion batches, \(deviceIO.wakeups) wakeups)"
                : "inline on the harts' thread"),
        ]
        if let jit { rows += Self.rows(jit) }
        for h in harts {
            rows.append(("hart \(h.hart) instructions", "\(h.instructions)"))
            rows.append(("hart \(h.hart) TLB flushes", "\(h.tlbFlushes)"))
            let t = h.translation
            rows.append(("hart \(h.hart) TLB misses", "\(t.misses)"))
            if t.walks > 0 {
                rows.append(("hart \(h.hart) page walks", "\(t.walks) (\(Self.perWalk(t.walkReferences, t.walks)) PTE reads each)"))
            }
            if t.twoStageWalks > 0 {
                rows.append(("hart \(h.hart) two-stage walks", "\(t.twoStageWalks) (\(Self.perWalk(t.twoStageReferences, t.twoStageWalks)) PTE reads each)"))
            }
        }
        for (name, count) in sbiCalls.sorted(by: { $0.key < $1.key }) {
            rows.append(("SBI \(name) calls", "\(count)"))
        }
        if let vmm { rows += Self.rows(vmm, wallSeconds: seconds) }
        for device in virtio {
            rows.append((device.name, ""))
            for (name, count) in device.counters.sorted(by: { $0.key < $1.key }) { rows.append(("  \(name)", "\(count)")) }
        }
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { $0.1.isEmpty ? $0.0 : $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1 }
            .joined(separator: "\n")
    }
}

extension MachineStatistics {
    /// The JIT's rows (docs/jit.md explains each).
    static func rows(_ j: JITStatistics) -> [(String, String)] {
        let perBlock = j.blocksTranslated > 0 ? Double(j.guestInstructionsTranslated) / Double(j.blocksTranslated) : 0
        let hitRate = j.lookups > 0 ? Double(j.lookupHits) * 100 / Double(j.lookups) : 0
        return [
            ("JIT blocks translated", String(format: "%llu (%.1f instructions each)", j.blocksTranslated, perBlock)),
            ("JIT host code", String(format: "%.1f KiB (%.1f bytes per instruction)", Double(j.hostCodeBytes) / 1024,
                                     j.guestInstructionsTranslated > 0 ? Double(j.hostCodeBytes) / Double(j.guestInstructionsTranslated) : 0)),
            ("JIT loop blocks", "\(j.loopBlocks) (registers kept across iterations)"),
            ("JIT translation time", String(format: "%.3f s", Double(j.translationNanoseconds) / 1e9)),
            ("JIT lookups in Swift", String(format: "%llu (%.1f%% found a translated block)", j.lookups, hitRate)),
            ("JIT chained jumps", "\(j.chainedJumps)"),
            ("JIT page invalidations", "\(j.pageInvalidations)"),
            ("JIT cache flushes", "\(j.cacheFlushes)"),
            ("JIT interpreter callouts", "\(j.interpreterCallouts)"),
            ("JIT memory callouts", "\(j.memoryCallouts)"),
            ("JIT interpreted steps", "\(j.interpretedSteps)"),
        ] + (j.sensitiveCallouts + j.memoryFaultCallouts > 0 ? [
            ("JIT VMM callouts: sensitive instructions", "\(j.sensitiveCallouts)"),
            ("JIT VMM callouts: kernel memory faults", "\(j.memoryFaultCallouts)"),
        ] : [])
    }

    static func perWalk(_ references: UInt64, _ walks: UInt64) -> String {
        String(format: "%.2f", walks > 0 ? Double(references) / Double(walks) : 0)
    }

    /// The VMM's rows: exits by reason with their share of all exits, emulated CSRs, time in
    /// the VMM with its share of the run, then the shadow-paging counters when shadows are used.
    static func rows(_ v: VMMStatistics, wallSeconds: Double) -> [(String, String)] {
        let total = v.totalExits
        var rows: [(String, String)] = [("VMM", v.technique), ("VMM exits", "\(total)")]
        for (reason, n) in v.exits.sorted(by: { $0.value > $1.value }) {
            rows.append(("  exits: \(reason)", String(format: "%llu (%.1f%%)", n, Double(n) * 100 / Double(max(total, 1)))))
        }
        if !v.callouts.isEmpty {
            // Binary translation: the same reasons, reached by a call from translated code.
            let calls = v.totalCallouts
            rows.append(("VMM callouts", "\(calls)"))
            for (reason, n) in v.callouts.sorted(by: { $0.value > $1.value }) {
                rows.append(("  callouts: \(reason)", String(format: "%llu (%.1f%%)", n, Double(n) * 100 / Double(max(calls, 1)))))
            }
        }
        for (csr, n) in v.emulatedCSRs.sorted(by: { $0.value > $1.value }) { rows.append(("  emulated CSR \(csr)", "\(n)")) }
        rows.append(("time in VMM", String(format: "%.3f s (%.1f%% of the run)", v.secondsInVMM,
                                              wallSeconds > 0 ? v.secondsInVMM * 100 / wallSeconds : 0)))
        guard v.technique.hasSuffix("shadow") else { return rows }
        rows += [
            ("shadow roots built", "\(v.shadowBuilds)"),
            ("shadow cache hits", "\(v.shadowCacheHits)"),
            ("shadow entries filled", "\(v.shadowFills)"),
            ("shadow entries invalidated", "\(v.shadowInvalidations)"),
            ("shadow resets", "\(v.shadowResets)"),
            ("leaf tables unsynced", "\(v.unsyncedTables)"),
            ("entries changed at resync", "\(v.resyncedEntries)"),
            ("tables unshadowed (write flooding)", "\(v.unshadowedTables)"),
            ("guest page tables protected", "\(v.protectedPageTables)"),
            ("guest walks by the VMM", "\(v.guestWalks)"),
            ("guest walk memory references", "\(v.guestWalkReferences)"),
        ]
        return rows
    }
}

extension Machine {
    public func statistics() -> MachineStatistics {
        let seconds = Double(trapeze_monotonic_ns() &- startedAt) / 1e9
        var sbiCalls: [String: UInt64] = [:]
        if let sbi {
            for (eid, count) in sbi.callCounts {
                let name = SBIExtension(rawValue: eid).map { "\($0)" } ?? "0x\(String(eid, radix: 16))"
                sbiCalls[name, default: 0] += count
            }
        }
        return MachineStatistics(
            seconds: seconds,
            harts: harts.map { .init(hart: $0.id, instructions: $0.instret, tlbFlushes: $0.tlbFlushCount, translation: $0.translationCounters) },
            codeInvalidations: code.invalidations,
            sbiCalls: sbiCalls,
            vmm: vmm?.statistics(),
            virtio: zip(VirtioSlots.names(virtio.map(\.device)), virtio).map { .init(name: $0, counters: $1.statistics) },
            execution: config.execution.rawValue,
            deviceIO: .init(mode: config.deviceIO.rawValue, completionBatches: ioThread.batches,
                            wakeups: ioThread.wakeups),
            jit: jit?.statistics)
    }
}
