import GuestMemory

/// The machine pages that hold shadow page tables: the top of machine memory, past the guest's
/// RAM, so no guest address and no device DMA can reach them. A free list of 4 KiB pages.
struct ShadowPagePool {
    let memory: GuestMemory
    let base: UInt64
    let pageCount: Int
    private var free: [UInt32]

    init(memory: GuestMemory, base: UInt64, pageCount: Int) {
        precondition(memory.contains(base, length: UInt64(pageCount) << 12), "the pool lies in machine memory")
        self.memory = memory
        self.base = base
        self.pageCount = pageCount
        free = (0..<UInt32(pageCount)).reversed().map { $0 }
    }

    var freePages: Int { free.count }

    /// A zeroed page, or nil when the pool is exhausted.
    mutating func allocate() -> UInt64? {
        guard let index = free.popLast() else { return nil }
        let address = base &+ UInt64(index) << 12
        memory.pointer(address, length: 4096)!.initializeMemory(as: UInt8.self, repeating: 0, count: 4096)
        return address
    }

    mutating func release(_ address: UInt64) {
        free.append(UInt32((address &- base) >> 12))
    }

    /// Every page free again (a whole-cache reset).
    mutating func releaseAll() {
        free = (0..<UInt32(pageCount)).reversed().map { $0 }
    }
}
