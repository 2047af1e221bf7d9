/// The platform-level interrupt controller at 0x0C00_0000 on QEMU's virt board ("riscv,plic0",
/// RISC-V PLIC specification 1.0.0), with two contexts per hart: context 2h takes hart h's
/// M-mode external interrupt (mip.MEIP), context 2h+1 its S-mode one (mip.SEIP).
///
///     +0x00_0000 + 4 * source        priority (0 = never interrupts; 1..7)
///     +0x00_1000 + 4 * word          pending bits, read-only
///     +0x00_2000 + 0x80 * context    enable bits, one word per 32 sources
///     +0x20_0000 + 0x1000 * context  threshold; claim/complete at +4
///
/// Gateways are level-triggered, as in QEMU's hw/intc/sifive_plic.c: a source is pending while its
/// line is high (a line that drops before the claim withdraws the request), a claim clears the
/// pending bit and holds the source "in service" (masked for every context) until its completion,
/// and a completion re-arms the gateway: a line still high becomes pending again at once.
/// Only 32-bit aligned accesses are decoded (spec section 2); others read 0 and are ignored.
public final class PLIC: MMIODevice, InterruptSink {
    public let name = "plic"

    static let priorityBase: UInt64 = 0x00_0000
    static let pendingBase: UInt64 = 0x00_1000
    static let enableBase: UInt64 = 0x00_2000
    static let enableStride: UInt64 = 0x80
    static let contextBase: UInt64 = 0x20_0000
    static let contextStride: UInt64 = 0x1000
    /// QEMU's virt board implements 7 priority levels (VIRT_PLIC_NUM_PRIORITIES); priority and
    /// threshold registers are WARL, keeping the low three bits.
    static let priorityMask: UInt32 = 7

    /// Highest source ID; sources are 1...sourceCount (source 0 means "no interrupt").
    public let sourceCount: Int
    private let lines: [InterruptLines]
    private let contextCount: Int
    /// 32-bit words of one source bitmap (pending, enable, ...), covering IDs 0...sourceCount.
    private let words: Int

    private var priority: [UInt32]
    private var threshold: [UInt32]
    private var enable: [UInt32]      // contextCount * words
    private var pending: [UInt32]     // words
    private var inService: [UInt32]   // claimed, not yet completed
    private var level: [UInt32]       // current line levels, for re-arming on completion

    public init(lines: [InterruptLines], sourceCount: Int = 95) {
        precondition(sourceCount > 0 && sourceCount < 1024, "the PLIC has at most 1023 sources")
        self.sourceCount = sourceCount
        self.lines = lines
        self.contextCount = 2 * lines.count
        self.words = (sourceCount + 1 + 31) / 32
        priority = Array(repeating: 0, count: sourceCount + 1)
        threshold = Array(repeating: 0, count: contextCount)
        enable = Array(repeating: 0, count: contextCount * words)
        pending = Array(repeating: 0, count: words)
        inService = Array(repeating: 0, count: words)
        level = Array(repeating: 0, count: words)
    }

    /// Back to power-on state. Line levels are wires driven by devices, so they survive, and a
    /// line that is high is a fresh request to the reset gateways.
    public func reset() {
        for i in priority.indices { priority[i] = 0 }
        for i in threshold.indices { threshold[i] = 0 }
        for i in enable.indices { enable[i] = 0 }
        for i in 0..<words { pending[i] = level[i]; inService[i] = 0 }
        update()
    }

    // MARK: Interrupt lines from devices

    public func setLevel(irq: Int, high: Bool) {
        guard irq >= 1 && irq <= sourceCount else { return }
        let (w, bit) = (irq >> 5, UInt32(1) << UInt32(irq & 31))
        // Devices may repeat a level; only a change can alter what the contexts see.
        guard (level[w] & bit != 0) != high else { return }
        if high {
            level[w] |= bit
            pending[w] |= bit
        } else {
            level[w] &= ~bit
            pending[w] &= ~bit
        }
        update()
    }

    // MARK: MMIO

    public func read(offset: UInt64, size: Int) -> UInt64 {
        guard size == 4, offset & 3 == 0 else { return 0 }
        switch offset {
        case Self.priorityBase..<Self.pendingBase:
            let source = Int(offset / 4)
            return source >= 1 && source <= sourceCount ? UInt64(priority[source]) : 0
        case Self.pendingBase..<Self.enableBase:
            let w = Int((offset - Self.pendingBase) / 4)
            return w < words ? UInt64(pending[w]) : 0
        case Self.enableBase..<Self.contextBase:
            guard let (context, w) = enableWord(offset) else { return 0 }
            return UInt64(enable[context * words + w])
        default:
            guard let (context, register) = contextRegister(offset) else { return 0 }
            switch register {
            case 0: return UInt64(threshold[context])
            case 4: return UInt64(claim(context: context))
            default: return 0
            }
        }
    }

    public func write(offset: UInt64, size: Int, value: UInt64) {
        guard size == 4, offset & 3 == 0 else { return }
        let value = UInt32(truncatingIfNeeded: value)
        switch offset {
        case Self.priorityBase..<Self.pendingBase:
            let source = Int(offset / 4)
            guard source >= 1 && source <= sourceCount else { return }
            priority[source] = value & Self.priorityMask
        case Self.pendingBase..<Self.enableBase:
            return  // pending bits are read-only (spec section 5)
        case Self.enableBase..<Self.contextBase:
            guard let (context, w) = enableWord(offset) else { return }
            enable[context * words + w] = value & validSources(word: w)
        default:
            guard let (context, register) = contextRegister(offset) else { return }
            switch register {
            case 0: threshold[context] = value & Self.priorityMask
            case 4: complete(source: Int(value))
            default: return
            }
        }
        update()
    }

    // MARK: Claim and complete (spec sections 8 and 9)

    /// The pending, enabled, not-in-service source of highest priority above the context's
    /// threshold; ties go to the lowest ID. 0 when there is none.
    @inline(__always)
    private func best(context: Int) -> Int {
        var bestSource = 0
        var bestPriority = threshold[context]
        let base = context * words
        for w in 0..<words {
            var candidates = pending[w] & ~inService[w] & enable[base + w]
            while candidates != 0 {
                let bit = candidates.trailingZeroBitCount
                candidates &= candidates - 1
                let source = w << 5 | bit
                // Strictly greater: priority 0 never beats a threshold of 0, and an equal
                // priority with a higher ID never displaces a lower ID found first.
                if priority[source] > bestPriority {
                    bestPriority = priority[source]
                    bestSource = source
                }
            }
        }
        return bestSource
    }

    private func claim(context: Int) -> Int {
        let source = best(context: context)
        if source != 0 {
            let (w, bit) = (source >> 5, UInt32(1) << UInt32(source & 31))
            pending[w] &= ~bit
            inService[w] |= bit
        }
        update()
        return source
    }

    /// Like QEMU, any context may complete any source, enabled for it or not; an ID that is not
    /// in service is ignored.
    private func complete(source: Int) {
        guard source >= 1 && source <= sourceCount else { return }
        let (w, bit) = (source >> 5, UInt32(1) << UInt32(source & 31))
        guard inService[w] & bit != 0 else { return }
        inService[w] &= ~bit
        // The gateway forwards a new request if the device still holds its line high.
        if level[w] & bit != 0 { pending[w] |= bit }
    }

    /// Drives mip.MEIP / mip.SEIP of every hart from its two contexts.
    private func update() {
        for context in 0..<contextCount {
            let mask = context & 1 == 0 ? InterruptLines.machineExternal : InterruptLines.supervisorExternal
            lines[context >> 1].set(mask, best(context: context) != 0)
        }
    }

    // MARK: Decoding

    /// Bits of enable word `w` that name real sources: source 0 does not exist (spec section 3).
    @inline(__always)
    private func validSources(word w: Int) -> UInt32 {
        let first = w << 5
        var mask: UInt32 = .max
        if first == 0 { mask &= ~1 }
        let past = sourceCount + 1 - first  // sources this word covers
        if past < 32 { mask &= (UInt32(1) << UInt32(past)) - 1 }
        return mask
    }

    @inline(__always)
    private func enableWord(_ offset: UInt64) -> (context: Int, word: Int)? {
        let context = (offset - Self.enableBase) / Self.enableStride
        let w = Int((offset - Self.enableBase) % Self.enableStride / 4)
        guard context < UInt64(contextCount), w < words else { return nil }
        return (Int(context), w)
    }

    @inline(__always)
    private func contextRegister(_ offset: UInt64) -> (context: Int, register: UInt64)? {
        guard offset >= Self.contextBase else { return nil }
        let context = (offset - Self.contextBase) / Self.contextStride
        guard context < UInt64(contextCount) else { return nil }
        return (Int(context), (offset - Self.contextBase) % Self.contextStride)
    }
}
