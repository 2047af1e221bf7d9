/// Guest registers held in host registers while a block runs, so that a value computed by one
/// instruction feeds the next without a store and reload through the register file (a
/// store-to-load forwarding delay on every dependent instruction).
///
/// The translator tracks, at each point of the block, which guest register each cache register
/// holds and whether it is newer than the register file (dirty). Dirty values are written back
/// before anything that reads the register file: helper calls, and every way out of the block.
/// The cache registers are caller-saved, so a helper call also empties the cache; a slow path
/// (cold code) writes back the state it branched from, calls its helper and reloads that state.
struct RegisterCache {
    /// Host registers the cache may use: none is pinned, and none is a temporary of the
    /// emitters (rax, rcx, rdx). r11 is also the scratch of `call(absolute:)`, but every call
    /// is preceded by a write-back and followed by a reload or an empty cache.
    static let hosts: [GPR] = [.r8, .r9, .r10, .r11, .rsi, .rdi]

    private(set) var guest: [UInt8?] = Array(repeating: nil, count: hosts.count)
    private(set) var dirty: [Bool] = Array(repeating: false, count: hosts.count)
    private var lastUse: [Int] = Array(repeating: 0, count: hosts.count)
    private var clock = 0

    func slot(of r: UInt8) -> Int? { guest.firstIndex(of: r) }

    var isClean: Bool { !dirty.contains(true) }

    /// The slot to (re)use: a free one, else the least recently used.
    func victim() -> Int {
        if let free = guest.firstIndex(of: nil) { return free }
        return lastUse.indices.min { lastUse[$0] < lastUse[$1] }!
    }

    mutating func touch(_ slot: Int) {
        clock += 1
        lastUse[slot] = clock
    }

    mutating func assign(_ slot: Int, to r: UInt8, dirty isDirty: Bool) {
        guest[slot] = r
        dirty[slot] = isDirty
        touch(slot)
    }

    mutating func markDirty(_ slot: Int) { dirty[slot] = true }
    mutating func markClean(_ slot: Int) { dirty[slot] = false }
    mutating func forget(_ slot: Int) {
        guest[slot] = nil
        dirty[slot] = false
    }
    mutating func forgetAll() {
        for i in guest.indices { forget(i) }
    }
}
