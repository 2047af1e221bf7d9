import CShims

/// Errors a user (or the translator's cache policy) can act on.
public enum ExecutableMemoryError: Error, Equatable, CustomStringConvertible {
    /// The host refused the mapping (`errno` from mmap/memfd_create).
    case cannotMap(bytes: Int, errno: Int32)
    /// A protection change failed (`errno` from mprotect).
    case cannotProtect(errno: Int32)
    /// The requested capacity is zero, negative or beyond what rel32 branches can span.
    case invalidCapacity(bytes: Int)
    /// The code buffer is full; the owner should `reset()` (flush the translation cache) and retry.
    case exhausted(requested: Int, available: Int)

    public var description: String {
        switch self {
        case .cannotMap(let bytes, let e):
            return "cannot map \(bytes >> 10) KiB of executable memory for the JIT (errno \(e)); use --exec interp"
        case .cannotProtect(let e):
            return "cannot change JIT code protection (errno \(e)); use --exec interp"
        case .invalidCapacity(let bytes):
            return "JIT code cache of \(bytes) bytes is invalid: it must be between one page and \(ExecutableMemory.maximumCapacity >> 20) MiB"
        case .exhausted(let requested, let available):
            return "JIT code cache full: \(requested) bytes requested, \(available) left; flush the cache and retranslate"
        }
    }
}

/// How the write and execute views are obtained.
public enum ExecutableMapping: Sendable, Equatable {
    /// Two views of one memfd: RW for emitting, RX for running, the same physical pages.
    /// Nothing is ever remapped, so emitting while other code runs is free.
    case dualView
    /// One private mapping flipped RW <-> RX with mprotect, in batches: each flip pair costs
    /// 5-8 µs here, so the owner writes many blocks, then `seal()`s once.
    case toggled
}

/// Which mapping to ask for; `.automatic` is the dual view with the mprotect fallback.
public enum ExecutableMappingPreference: Sendable {
    case automatic, dualView, toggled
}

/// A bump-allocated buffer of host machine code in which no mapping is ever writable and
/// executable at once (W^X).
///
/// Code is written through `writable` addresses and run at `executable` addresses; with
/// `.dualView` they differ by a constant, with `.toggled` they are equal and the owner must
/// `seal()` before running anything written since the last seal.
///
/// x86-64 needs no instruction-cache maintenance: stores are snooped by the instruction
/// fetch path even through another virtual alias of the same physical page (Intel SDM vol. 3,
/// 11.6). Code modified while *another* thread may be executing it (cross-modifying code, e.g.
/// unchaining a block on another hart) needs that thread to serialize before it runs the new
/// bytes; `seal()` still calls the C shim's flush so that an arm64 port only has to get it right there.
public final class ExecutableMemory {
    /// Every offset inside the buffer must stay reachable by a rel32 jmp/call/RIP-relative
    /// operand from every other offset, so block chaining can patch direct jumps.
    public static let maximumCapacity = 1 << 30

    public let capacity: Int
    public let mapping: ExecutableMapping
    /// Bytes handed out so far (including alignment padding).
    public private(set) var used = 0
    public var available: Int { capacity - used }

    private let rwBase: UnsafeMutableRawPointer
    private let rxBase: UnsafeRawPointer
    /// Only meaningful for `.toggled`: whether the single mapping is currently RX.
    private var sealed = false
    /// Lowest offset written since the last seal (nil: nothing to seal).
    private var dirtyFrom: Int?

    /// Fill byte for unused and reset space: `int3`, so a stale jump into flushed code traps
    /// at once instead of running whatever bytes follow.
    static let fillByte: UInt8 = 0xCC

    public init(capacity requested: Int, mapping preference: ExecutableMappingPreference = .automatic) throws {
        let page = Int(trapeze_page_size())
        guard requested > 0, requested <= Self.maximumCapacity else {
            throw ExecutableMemoryError.invalidCapacity(bytes: requested)
        }
        let length = (requested + page - 1) & ~(page - 1)
        var rw: UnsafeMutableRawPointer?
        var rx: UnsafeMutableRawPointer?
        var chosen = ExecutableMapping.dualView
        var error: Int32 = 0
        if preference != .toggled {
            error = trapeze_jit_map_dual(length, &rw, &rx)
            if error != 0 && preference == .dualView {
                throw ExecutableMemoryError.cannotMap(bytes: length, errno: error)
            }
        }
        if preference == .toggled || error != 0 {
            chosen = .toggled
            error = trapeze_jit_map_single(length, &rw)
            guard error == 0 else { throw ExecutableMemoryError.cannotMap(bytes: length, errno: error) }
            rx = rw
        }
        guard let rw, let rx else { throw ExecutableMemoryError.cannotMap(bytes: length, errno: error) }
        self.capacity = length
        self.mapping = chosen
        self.rwBase = rw
        self.rxBase = UnsafeRawPointer(rx)
        rw.initializeMemory(as: UInt8.self, repeating: Self.fillByte, count: length)
        if chosen == .toggled { dirtyFrom = 0 }
    }

    deinit {
        _ = trapeze_unmap(rwBase, capacity)
        if mapping == .dualView { _ = trapeze_unmap(UnsafeMutableRawPointer(mutating: rxBase), capacity) }
    }

    /// A region handed out by `allocate`: write through `writable`, run at `executable`.
    public struct Allocation {
        public let writable: UnsafeMutableRawPointer
        public let executable: UnsafeRawPointer
        public let size: Int
    }

    /// Reserves `size` bytes aligned to `alignment` (a power of two). Throws `.exhausted`
    /// when the buffer is full; nothing is allocated then.
    public func allocate(size: Int, alignment: Int = 16) throws -> Allocation {
        precondition(size >= 0 && alignment > 0 && alignment & (alignment - 1) == 0,
                     "allocation size must be non-negative and alignment a power of two")
        let start = (used + alignment - 1) & ~(alignment - 1)
        guard start <= capacity, size <= capacity - start else {
            throw ExecutableMemoryError.exhausted(requested: size, available: max(0, capacity - start))
        }
        try beginWriting(at: start)
        used = start + size
        return Allocation(writable: rwBase + start, executable: rxBase + start, size: size)
    }

    /// Where code installed next with `alignment` will run: a translator that emits rel32
    /// jumps into earlier code assembles against this base, then installs at exactly it.
    public func nextExecutableAddress(alignment: Int = 16) -> UInt64 {
        UInt64(UInt(bitPattern: rxBase)) + UInt64((used + alignment - 1) & ~(alignment - 1))
    }

    /// Copies finished code into a fresh allocation and returns where it runs.
    /// In `.toggled` mode the code is runnable only after `seal()`.
    @discardableResult
    public func install(_ code: [UInt8], alignment: Int = 16) throws -> UnsafeRawPointer {
        let block = try allocate(size: code.count, alignment: alignment)
        code.withUnsafeBytes { if let from = $0.baseAddress { block.writable.copyMemory(from: from, byteCount: $0.count) } }
        return block.executable
    }

    /// Overwrites already-installed code (block chaining rewrites a jump's rel32) through
    /// the writable view. In `.toggled` mode this unseals; call `seal()` before running.
    public func patch(executable address: UnsafeRawPointer, with bytes: [UInt8]) throws {
        let offset = address - rxBase
        precondition(offset >= 0 && offset + bytes.count <= used, "patch outside installed code")
        try beginWriting(at: offset)
        bytes.withUnsafeBytes { if let from = $0.baseAddress { (rwBase + offset).copyMemory(from: from, byteCount: $0.count) } }
    }

    /// Makes everything written since the last seal runnable: one mprotect for the whole
    /// batch in `.toggled` mode, nothing but the (x86 no-op) icache flush with `.dualView`.
    public func seal() throws {
        guard let from = dirtyFrom else { return }
        if mapping == .toggled && !sealed {
            // The whole buffer flips at once: code may jump anywhere in it, and one call
            // costs the same as a partial one.
            let error = trapeze_jit_protect(rwBase, capacity, 1)
            guard error == 0 else { throw ExecutableMemoryError.cannotProtect(errno: error) }
            sealed = true
        }
        trapeze_jit_flush_icache(UnsafeMutableRawPointer(mutating: rxBase + from), max(0, used - from))
        dirtyFrom = nil
    }

    /// Drops all code (the translation cache flush): every earlier executable address becomes
    /// invalid and traps (`int3`) if something still jumps there.
    public func reset() throws {
        try beginWriting(at: 0)
        rwBase.initializeMemory(as: UInt8.self, repeating: Self.fillByte, count: used)
        used = 0
    }

    /// True when `address` lies in the executable view of this buffer.
    public func contains(executable address: UnsafeRawPointer) -> Bool {
        address >= rxBase && address < rxBase + capacity
    }

    /// The executable alias of a writable address (identity in `.toggled` mode).
    public func executableAddress(of writable: UnsafeRawPointer) -> UnsafeRawPointer {
        let offset = writable - UnsafeRawPointer(rwBase)
        precondition(offset >= 0 && offset < capacity, "address is not in this code buffer")
        return rxBase + offset
    }

    /// The writable alias of an executable address (identity in `.toggled` mode).
    public func writableAddress(of executable: UnsafeRawPointer) -> UnsafeMutableRawPointer {
        let offset = executable - rxBase
        precondition(offset >= 0 && offset < capacity, "address is not in this code buffer")
        return rwBase + offset
    }

    /// Base addresses of the two views, for diagnostics and tests (equal when `.toggled`).
    public var writableBase: UnsafeRawPointer { UnsafeRawPointer(rwBase) }
    public var executableBase: UnsafeRawPointer { rxBase }

    /// In `.toggled` mode, flips the mapping back to RW (once per batch) before a write.
    private func beginWriting(at offset: Int) throws {
        if mapping == .toggled && sealed {
            let error = trapeze_jit_protect(rwBase, capacity, 0)
            guard error == 0 else { throw ExecutableMemoryError.cannotProtect(errno: error) }
            sealed = false
        }
        dirtyFrom = min(dirtyFrom ?? offset, offset)
    }
}
