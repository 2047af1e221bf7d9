import CShims
import GuestMemory
@_spi(JIT) import RISCV

/// The JIT: runs harts by translating their code into x86-64 blocks (`BlockTranslator`) kept in
/// one code buffer shared by every hart of a machine (harts run in turn on one host thread).
///
/// Swift runs the slice loop as the interpreter does (interrupts, budget, WFI); translated code
/// runs block after block through chained jumps and the dispatcher, and comes back to Swift
/// only when a helper asks, the budget is spent, or the dispatcher misses. Swift then finds or
/// translates the block, enters it in the hart's jump cache and, if the miss came from a
/// same-page jump, patches that jump to go straight there next time.
public final class JITEngine: ExecutionEngine {
    public static let defaultCodeBytes = 64 << 20
    /// Translation needs at most this much free code space for one block; below it the whole
    /// cache is flushed first.
    static let blockReserve = 256 << 10

    let memory: GuestMemory
    let code: DecodedCodeCache
    let buffer: ExecutableMemory
    var stubs: RuntimeStubs
    let helpers = HelperAddresses.shared
    public internal(set) var statistics = JITStatistics()

    /// Translations come in two flavors: 0 for code run as it is, 1 for guest-kernel code under
    /// `--virt bt`, whose sensitive instructions call the VMM. Each has its own block tables
    /// and jump caches, so a block of one flavor is never entered in the other.
    static let flavors = 2

    /// Per flavor and RAM page: the entry address of the block starting at each halfword, or
    /// 0. Allocated for a page when its first block is translated.
    let blockPages: [UnsafeMutablePointer<UnsafeMutablePointer<UInt64>?>]
    let pageCount: Int
    /// Chain sites (rel32 field address) with the (page, flavor) of the block holding them, and
    /// the sites by page, to patch only jumps whose block is still alive.
    var chainSiteOwner: [UInt64: Int] = [:]
    var chainSitesByPage: [Int: [UInt64]] = [:]

    /// One context per hart (by hart id), and per hart one jump cache per flavor.
    var contexts: [Int: UnsafeMutablePointer<JITContext>] = [:]
    var jumpCaches: [UnsafeMutablePointer<UInt64>] = []

    public init(memory: GuestMemory, code: DecodedCodeCache, codeBytes: Int = JITEngine.defaultCodeBytes) throws {
        self.memory = memory
        self.code = code
        buffer = try ExecutableMemory(capacity: codeBytes)
        stubs = try RuntimeStubs.emit(into: buffer)
        pageCount = code.ramPages
        let pageCount = self.pageCount
        blockPages = (0..<Self.flavors).map { _ in
            let table = UnsafeMutablePointer<UnsafeMutablePointer<UInt64>?>.allocate(capacity: pageCount)
            table.initialize(repeating: nil, count: pageCount)
            return table
        }
        code.invalidationObserver = { [unowned self] page in self.invalidate(page: page) }
    }

    deinit {
        for table in blockPages {
            for i in 0..<pageCount { table[i]?.deallocate() }
            table.deallocate()
        }
        for c in contexts.values { c.deallocate() }
        for j in jumpCaches { j.deallocate() }
    }

    /// Makes `hart` run through this engine.
    public func attach(_ hart: Hart) {
        hart.engine = self
        _ = context(for: hart)
    }

    func context(for hart: Hart) -> UnsafeMutablePointer<JITContext> {
        if let c = contexts[hart.id] { return c }
        let caches = (0..<Self.flavors).map { _ in
            let cache = UnsafeMutablePointer<UInt64>.allocate(capacity: 2 * JumpCache.entries)
            cache.initialize(repeating: 0, count: 2 * JumpCache.entries)
            return cache
        }
        jumpCaches += caches
        let cache = caches[0]
        let sets = hart.tlbSets
        let c = UnsafeMutablePointer<JITContext>.allocate(capacity: 1)
        c.initialize(to: JITContext(
            jumpCache: UnsafeMutableRawPointer(cache),
            plainJumpCache: UnsafeMutableRawPointer(caches[0]),
            kernelJumpCache: UnsafeMutableRawPointer(caches[1]),
            registers: UnsafeMutableRawPointer(hart.registerFile),
            fetchSet: sets.fetch, loadSet: sets.load, storeSet: sets.store,
            floatRegisters: UnsafeMutableRawPointer(hart.floatRegisterFile),
            pageFlags: UnsafeMutableRawPointer(code.pageFlagsBase),
            ramHost: hart.ramHostBase,
            hart: Unmanaged.passUnretained(hart).toOpaque(),
            engine: Unmanaged.passUnretained(self).toOpaque()))
        contexts[hart.id] = c
        return c
    }

    // MARK: Running

    public func run(_ hart: Hart, budget: Int) -> Int {
        guard hart.beginSlice() else { return 0 }
        let context = self.context(for: hart)
        context.pointee.budget = Int64(budget)
        context.pointee.sliceBudget = Int64(budget)
        context.pointee.trapped = 0
        while context.pointee.budget > 0 {
            hart.mustLeaveTranslatedCode = false
            hart.checkInterrupts()
            while context.pointee.budget > 0 && !hart.mustLeaveTranslatedCode {
                let sets = hart.tlbSets
                context.pointee.fetchSet = sets.fetch
                context.pointee.loadSet = sets.load
                context.pointee.storeSet = sets.store
                context.pointee.floatReady = hart.floatingPointReadyForInlineUse ? 1 : 0
                let flavor = hart.binaryTranslation?.runsGuestKernel(hart) == true ? 1 : 0
                context.pointee.flavor = flavor
                context.pointee.jumpCache = flavor == 0 ? context.pointee.plainJumpCache : context.pointee.kernelJumpCache
                let found = stubs.enter(UnsafeMutableRawPointer(context), hart.pc)
                hart.pc = context.pointee.pc
                // Flags raised by inline floating point since the last helper call.
                if context.pointee.floatReady != 0 {
                    let flags = trapeze_host_fp_take_flags()
                    if flags != 0 { hart.accrueFloatFlags(flags) }
                }
                // With the budget spent, the next block's fetch (a walk that may set A bits) waits
                // for the next slice, as the interpreter's would.
                if found == 0 && context.pointee.budget > 0 { resolveMiss(hart, context) }
            }
            if hart.mustEndSlice || hart.runState != .running { break }
        }
        let executed = Int(Int64(budget) - context.pointee.budget)
        hart.endSlice(executed: executed, trapped: Int(context.pointee.trapped))
        return executed
    }

    /// The dispatcher found no block for the hart's pc: fetch-translate it (taking a fetch
    /// fault as a trapped step), find or translate the block, and enter it in the jump cache.
    func resolveMiss(_ hart: Hart, _ context: UnsafeMutablePointer<JITContext>) {
        let chainSite = context.pointee.chainSite
        context.pointee.chainSite = 0
        let pc = hart.pc
        statistics.lookups &+= 1
        let pagePA: UInt64
        do throws(Exception) {
            pagePA = try hart.fetchPagePhysical(pc)
        } catch {
            hart.takeException(error, at: pc)
            context.pointee.budget -= 1
            context.pointee.trapped += 1
            return
        }
        let page = Int((pagePA &- memory.base) >> 12)
        let slot = Int(pc & 0xfff) >> 1
        let flavor = context.pointee.flavor
        var entry = blockPages[flavor][page]?[slot] ?? 0
        if entry != 0 {
            statistics.lookupHits &+= 1
        } else {
            entry = translate(hart, pc: pc, page: page, flavor: flavor)
            if entry == 0 {
                interpretOne(hart, context)
                return
            }
        }
        let host = hart.ramHostBase &+ (pagePA &- memory.base) &+ (pc & 0xfff)
        let cache = UnsafeMutablePointer<UInt64>(OpaquePointer(context.pointee.jumpCache))
        let i = JumpCache.index(host: host)
        cache[2 * i] = host
        cache[2 * i + 1] = entry
        if chainSite != 0, chainSiteOwner[chainSite] == page * Self.flavors + flavor {
            link(site: chainSite, to: entry)
        }
        try? buffer.seal()
    }

    /// One instruction by the interpreter (a 32-bit instruction straddling the page end).
    func interpretOne(_ hart: Hart, _ context: UnsafeMutablePointer<JITContext>) {
        statistics.interpretedSteps &+= 1
        let c = context.pointee
        let retired = Int(c.sliceBudget - c.budget - c.trapped)
        context.pointee.budget -= 1
        if !hart.interpretStep(retiredBefore: retired) { context.pointee.trapped += 1 }
    }

    /// Points the jump whose rel32 field is at `site` straight at `entry`.
    func link(site: UInt64, to entry: UInt64) {
        let delta = Int32(truncatingIfNeeded: Int64(bitPattern: entry &- (site &+ 4)))
        let bytes = withUnsafeBytes(of: delta.littleEndian) { Array($0) }
        guard let field = UnsafeRawPointer(bitPattern: UInt(site)) else { return }
        try? buffer.patch(executable: field, with: bytes)
        chainSiteOwner[site] = nil
        statistics.chainedJumps &+= 1
    }

    // MARK: Translation

    /// Translates the block at `pc` (RAM page `page`) and records it. Returns its entry, or 0
    /// when the first instruction cannot be translated.
    func translate(_ hart: Hart, pc: UInt64, page: Int, flavor: Int) -> UInt64 {
        let started = trapeze_monotonic_ns()
        defer { statistics.translationNanoseconds &+= trapeze_monotonic_ns() &- started }
        if buffer.available < Self.blockReserve { flushAll() }
        let pageHost = memory.host + page << 12
        let lastHalfword = (pageHost + 4094).loadUnaligned(as: UInt16.self)
        let collected: [BlockTranslator.Instruction]?
        do throws(Exception) {
            collected = try BlockTranslator.collect(hart, at: pc, lastHalfword: lastHalfword, rewritingSensitive: flavor == 1)
        } catch {
            // Cannot happen for a page the fetch TLB just resolved; interpret instead.
            return 0
        }
        guard let instructions = collected else { return 0 }
        let slots = blockTable(page, flavor: flavor)
        let startSlot = Int(pc & 0xfff) >> 1
        let base = buffer.nextExecutableAddress()
        let targets = BlockTranslator.Targets(stubs: stubs, helpers: helpers) { offset in
            let s = startSlot + offset >> 1
            return s >= 0 && s < DecodedCodeCache.slotsPerPage && slots[s] != 0 ? slots[s] : nil
        }
        var translator = BlockTranslator(instructions: instructions, pageOffset: Int(pc & 0xfff), base: base, targets: targets,
                                         rewritingSensitive: flavor == 1)
        let output = translator.translate()
        guard let installed = try? buffer.install(output.code) else { return 0 }
        let entry = UInt64(UInt(bitPattern: installed))
        precondition(entry == base, "translated code must run where it was assembled")
        slots[startSlot] = entry
        for site in output.chainSites {
            let address = entry + UInt64(site.field)
            chainSiteOwner[address] = page * Self.flavors + flavor
            chainSitesByPage[page, default: []].append(address)
        }
        statistics.blocksTranslated &+= 1
        if output.keepsLoopInRegisters { statistics.loopBlocks &+= 1 }
        statistics.guestInstructionsTranslated &+= UInt64(output.instructionCount)
        statistics.hostCodeBytes &+= UInt64(output.code.count)
        return entry
    }

    func blockTable(_ page: Int, flavor: Int) -> UnsafeMutablePointer<UInt64> {
        if let t = blockPages[flavor][page] { return t }
        let t = UnsafeMutablePointer<UInt64>.allocate(capacity: DecodedCodeCache.slotsPerPage)
        t.initialize(repeating: 0, count: DecodedCodeCache.slotsPerPage)
        blockPages[flavor][page] = t
        return t
    }

    // MARK: Invalidation

    /// The code of RAM page `page` changed: forget its blocks, the jump-cache entries that lead
    /// into them, and their unpatched chain sites. Blocks elsewhere never jump into this page
    /// directly (chaining is same-page only), so nothing else points at them.
    func invalidate(page: Int) {
        var any = false
        for table in blockPages {
            guard let slots = table[page] else { continue }
            slots.update(repeating: 0, count: DecodedCodeCache.slotsPerPage)
            any = true
        }
        guard any else { return }
        let pageHost = UInt64(UInt(bitPattern: memory.host)) &+ UInt64(page << 12)
        for cache in jumpCaches {
            for slot in 0..<DecodedCodeCache.slotsPerPage {
                let host = pageHost &+ UInt64(slot << 1)
                let i = JumpCache.index(host: host)
                if cache[2 * i] == host { cache[2 * i] = 0 }
            }
        }
        if let sites = chainSitesByPage.removeValue(forKey: page) {
            for s in sites { chainSiteOwner[s] = nil }
        }
        statistics.pageInvalidations &+= 1
    }

    /// Drops every translation (the code buffer is full) and re-emits the runtime stubs.
    func flushAll() {
        for table in blockPages {
            for i in 0..<pageCount where table[i] != nil {
                table[i]!.update(repeating: 0, count: DecodedCodeCache.slotsPerPage)
            }
        }
        for cache in jumpCaches { cache.update(repeating: 0, count: 2 * JumpCache.entries) }
        chainSiteOwner = [:]
        chainSitesByPage = [:]
        do {
            try buffer.reset()
            stubs = try RuntimeStubs.emit(into: buffer)
        } catch {
            fatalError("cannot re-emit the JIT's runtime stubs after a flush: \(error)")
        }
        statistics.cacheFlushes &+= 1
    }
}
