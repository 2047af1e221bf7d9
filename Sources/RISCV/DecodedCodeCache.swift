import GuestMemory

/// Pre-decoded instructions for every RAM page that has been executed, shared by all harts.
///
/// A page holds one `DecodedInstruction` per 2-byte slot (compressed instructions may start at
/// any halfword). Slots decode lazily on first execution. A store to a page with decoded code
/// (found through `pageFlags`, checked on every store) clears the page, so self-modifying code
/// and reloaded programs re-decode; fence.i needs no further work.
public final class DecodedCodeCache: @unchecked Sendable {
    public static let slotsPerPage = 2048
    static let codeFlag: UInt8 = 1
    static let watchFlag: UInt8 = 2

    let memory: GuestMemory
    let pageCount: Int
    /// Per RAM page: decoded slots, allocated on first execution and reused after invalidation.
    let pages: UnsafeMutablePointer<UnsafeMutablePointer<DecodedInstruction>?>
    /// Per RAM page: `codeFlag` when its slots may be non-empty, `watchFlag` when stores there
    /// must be reported (HTIF tohost). Stores check this byte; zero means nothing to do.
    let pageFlags: UnsafeMutablePointer<UInt8>
    /// Counts invalidations, so statistics and tests can see self-modifying code being handled.
    public private(set) var invalidations: UInt64 = 0
    /// Told the RAM page index whenever a page's decoded code is dropped, so code derived from
    /// it (the JIT's translated blocks) is dropped too. Called on the store path, rarely.
    public var invalidationObserver: ((Int) -> Void)?

    public init(memory: GuestMemory) {
        self.memory = memory
        pageCount = Int(memory.size >> 12)
        pages = .allocate(capacity: pageCount)
        pages.initialize(repeating: nil, count: pageCount)
        pageFlags = .allocate(capacity: pageCount)
        pageFlags.initialize(repeating: 0, count: pageCount)
    }

    deinit {
        for i in 0..<pageCount { pages[i]?.deallocate() }
        pages.deallocate()
        pageFlags.deallocate()
    }

    /// The decoded slots for RAM page `index`, allocating zeroed (undecoded) slots the first time.
    @inline(__always)
    func page(_ index: Int) -> UnsafeMutablePointer<DecodedInstruction> {
        if let p = pages[index] {
            pageFlags[index] |= Self.codeFlag
            return p
        }
        let p = UnsafeMutablePointer<DecodedInstruction>.allocate(capacity: Self.slotsPerPage)
        UnsafeMutableRawPointer(p).initializeMemory(as: UInt8.self, repeating: 0,
                                                    count: Self.slotsPerPage * MemoryLayout<DecodedInstruction>.stride)
        pages[index] = p
        pageFlags[index] |= Self.codeFlag
        return p
    }

    /// Drops the decoded code of RAM page `index` (its memory was written).
    func invalidate(page index: Int) {
        guard pageFlags[index] & Self.codeFlag != 0, let p = pages[index] else { return }
        UnsafeMutableRawPointer(p).initializeMemory(as: UInt8.self, repeating: 0,
                                                    count: Self.slotsPerPage * MemoryLayout<DecodedInstruction>.stride)
        pageFlags[index] &= ~Self.codeFlag
        invalidations &+= 1
        invalidationObserver?(index)
    }

    /// Drops all decoded code (fence.i from a loader, reboot).
    public func invalidateAll() {
        for i in 0..<pageCount where pageFlags[i] & Self.codeFlag != 0 { invalidate(page: i) }
    }

    /// Per RAM page: nonzero when stores there need the slow path (decoded code or a watch).
    /// Translated code checks this byte inline, as `Hart.store` does.
    @_spi(JIT) public var pageFlagsBase: UnsafeMutablePointer<UInt8> { pageFlags }
    /// RAM size in pages.
    @_spi(JIT) public var ramPages: Int { pageCount }

    /// Drops the decoded code of every page that `[address, address + length)` touches: a
    /// device wrote there (DMA), which no hart's store path saw.
    public func invalidate(physical address: UInt64, length: UInt64) {
        guard length > 0, memory.contains(address, length: length) else { return }
        let first = Int((address - memory.base) >> 12)
        let last = Int((address - memory.base + length - 1) >> 12)
        for page in first...last where pageFlags[page] & Self.codeFlag != 0 { invalidate(page: page) }
    }

    /// Asks that stores to the RAM page containing `address` be reported to the hart's watcher.
    public func watch(address: UInt64) {
        guard memory.contains(address) else { return }
        pageFlags[Int((address - memory.base) >> 12)] |= Self.watchFlag
    }
}
