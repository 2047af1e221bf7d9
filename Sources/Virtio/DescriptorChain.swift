import GuestMemory

/// One entry of a descriptor table (virtio 1.2 section 2.7.5): 16 little-endian bytes.
struct VirtqDescriptor {
    static let size: UInt64 = 16
    /// VIRTQ_DESC_F_NEXT: the chain continues at `next`.
    static let flagNext: UInt16 = 1
    /// VIRTQ_DESC_F_WRITE: the buffer is device-writable (otherwise device-readable).
    static let flagWrite: UInt16 = 2
    /// VIRTQ_DESC_F_INDIRECT: the buffer is a table of descriptors (2.7.5.3).
    static let flagIndirect: UInt16 = 4

    var address: UInt64
    var length: UInt32
    var flags: UInt16
    var next: UInt16

    /// Reads the descriptor at `address`; nil when it is not in guest RAM.
    @inline(__always)
    init?(memory: GuestMemory, at address: UInt64) {
        guard let p = memory.pointer(address, length: Self.size) else { return nil }
        self.address = UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))
        length = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        flags = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 12, as: UInt16.self))
        next = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 14, as: UInt16.self))
    }
}

/// A validated descriptor chain: the buffers of one request, device-readable ones first, then
/// device-writable ones (2.7.4, 2.7.5).
///
/// `walk` is where a hostile driver's tables are checked, so that devices can trust what they
/// get: every buffer lies inside guest RAM and is not empty; the chain has at most queue-size
/// buffers (so a `next` loop ends, 2.7.5.3.1: "A driver MUST NOT create a descriptor chain
/// longer than the Queue Size"); an indirect table is allowed only when negotiated, only once,
/// never nested and never together with NEXT, and its length is a non-zero multiple of 16 with
/// at most queue-size entries; no readable buffer follows a writable one (2.7.4.2); the total
/// is at most 4 GiB (2.7.5.2). Anything else is a `VirtioError`.
///
/// A device keeps one chain per queue and the queue refills it on every pop; its buffer array
/// keeps its capacity, so popping allocates nothing once the first requests have been seen.
public struct DescriptorChain {
    public struct Buffer: Equatable, Sendable {
        public var address: UInt64
        public var length: UInt32
        public var isWritable: Bool
    }

    /// Which part of the chain a device reads or writes.
    public enum Part: Sendable {
        case readable, writable
    }

    /// The head index, which identifies the chain in the used ring.
    public private(set) var head: UInt16 = 0
    /// The buffers in chain order: `readableCount` readable ones, then the writable ones.
    public private(set) var buffers: [Buffer] = []
    public private(set) var readableCount = 0
    /// Total bytes of the readable and of the writable buffers.
    public private(set) var readableLength: UInt64 = 0
    public private(set) var writableLength: UInt64 = 0
    private var memory: GuestMemory?

    public var writableCount: Int { buffers.count - readableCount }

    /// An empty chain with room for `capacity` buffers (the largest queue size it will serve).
    public init(capacity: Int = 0) {
        buffers.reserveCapacity(capacity)
    }

    /// Reads and checks the chain that starts at `head` in the descriptor table at `table`
    /// (`queueSize` entries, already checked to be in RAM by the queue).
    mutating func walk(head: UInt16, table: UInt64, queueSize: UInt16, indirectAllowed: Bool,
                       memory: GuestMemory) throws(VirtioError) {
        self.head = head
        self.memory = memory
        buffers.removeAll(keepingCapacity: true)
        readableCount = 0
        readableLength = 0
        writableLength = 0

        let limit = Int(queueSize)
        var table = table
        var tableSize = UInt32(queueSize)
        var index = head
        var inIndirect = false
        while true {
            guard UInt32(index) < tableSize else { throw .nextOutOfRange(index: index, tableSize: tableSize) }
            let entry = table &+ UInt64(index) &* VirtqDescriptor.size
            guard let d = VirtqDescriptor(memory: memory, at: entry) else {
                throw .bufferOutsideMemory(address: entry, length: UInt32(VirtqDescriptor.size))
            }
            if d.flags & VirtqDescriptor.flagIndirect != 0 {
                // 2.7.5.3.1/.2: the WRITE flag of the table's own descriptor is ignored.
                guard indirectAllowed else { throw .indirectNotNegotiated }
                guard !inIndirect else { throw .indirectNested }
                guard d.flags & VirtqDescriptor.flagNext == 0 else { throw .indirectWithNext }
                let entries = d.length / UInt32(VirtqDescriptor.size)
                guard d.length > 0, d.length % UInt32(VirtqDescriptor.size) == 0, entries <= UInt32(queueSize) else {
                    throw .indirectTableLength(d.length)
                }
                guard memory.contains(d.address, length: UInt64(d.length)) else {
                    throw .bufferOutsideMemory(address: d.address, length: d.length)
                }
                table = d.address
                tableSize = entries
                index = 0
                inIndirect = true
                continue
            }
            guard buffers.count < limit else { throw .chainTooLong(limit: limit) }
            guard d.length > 0 else { throw .emptyBuffer(address: d.address) }
            guard memory.contains(d.address, length: UInt64(d.length)) else {
                throw .bufferOutsideMemory(address: d.address, length: d.length)
            }
            let writable = d.flags & VirtqDescriptor.flagWrite != 0
            if writable {
                writableLength += UInt64(d.length)
            } else {
                guard writableCount == 0 else { throw .readableAfterWritable }
                readableCount += 1
                readableLength += UInt64(d.length)
            }
            // At most 32768 buffers of under 4 GiB each: the sums cannot overflow.
            guard readableLength + writableLength <= 1 << 32 else { throw .chainBytesOverflow }
            buffers.append(Buffer(address: d.address, length: d.length, isWritable: writable))
            guard d.flags & VirtqDescriptor.flagNext != 0 else { return }
            index = d.next
        }
    }

    // MARK: Access to the buffers

    /// Calls `body` with host pointers covering up to `count` bytes from `offset` bytes into the
    /// readable or writable part, in chain order, until it returns false. Returns the bytes
    /// covered, which is less than `count` when the part is shorter.
    ///
    /// The pointers are valid only inside `body`. A device must not write through pointers into
    /// the readable part (2.7.5.1). Writes here are not reported to the code cache: pushing the
    /// chain to the used ring does that (`Virtqueue.push(_:written:)`), on the harts' thread.
    /// This may run on a `DeviceWorker`'s thread: it reads only the chain and guest memory.
    @discardableResult
    public func withSegments(_ part: Part, offset: UInt64, count: UInt64,
                             _ body: (UnsafeMutableRawPointer, Int) -> Bool) -> UInt64 {
        guard let memory, count > 0 else { return 0 }
        let range = part == .readable ? 0..<readableCount : readableCount..<buffers.count
        var skip = offset
        var done: UInt64 = 0
        for i in range {
            let buffer = buffers[i]
            let length = UInt64(buffer.length)
            if skip >= length {
                skip -= length
                continue
            }
            let n = min(length - skip, count - done)
            // Walked buffers lie in RAM, and RAM never shrinks: this cannot fail.
            guard let p = memory.pointer(buffer.address &+ skip, length: n) else { return done }
            skip = 0
            guard body(p, Int(n)) else { return done }
            done += n
            if done == count { break }
        }
        return done
    }

    /// Tells guest memory's observer (the decoded-code cache) that the device wrote the
    /// writable buffers, so code there is read again. The whole writable part is reported: a
    /// failed read may have filled part of a buffer it did not count.
    func noteDeviceWrites() {
        guard let memory else { return }
        for buffer in buffers[readableCount...] {
            memory.noteDeviceWrite(buffer.address, length: UInt64(buffer.length))
        }
    }

    /// Little-endian integer of `size` bytes (1...8) at `offset` in the readable part, or nil
    /// when the readable part is shorter.
    public func readableInteger(at offset: UInt64, size: Int) -> UInt64? {
        precondition((1...8).contains(size))
        var value: UInt64 = 0
        var shift: UInt64 = 0
        let got = withSegments(.readable, offset: offset, count: UInt64(size)) { p, n in
            for i in 0..<n {
                value |= UInt64(p.load(fromByteOffset: i, as: UInt8.self)) << shift
                shift += 8
            }
            return true
        }
        return got == UInt64(size) ? value : nil
    }

    /// Copies `source` into the writable part at `offset`; returns the bytes written.
    @discardableResult
    public func copyToWritable(_ source: UnsafeRawBufferPointer, at offset: UInt64) -> Int {
        guard let base = source.baseAddress else { return 0 }
        var done = 0
        withSegments(.writable, offset: offset, count: UInt64(source.count)) { p, n in
            p.copyMemory(from: base + done, byteCount: n)
            done += n
            return true
        }
        return done
    }

    /// Stores one byte in the writable part; false when the part is too short.
    @discardableResult
    public func storeWritableByte(_ byte: UInt8, at offset: UInt64) -> Bool {
        withSegments(.writable, offset: offset, count: 1) { p, _ in
            p.storeBytes(of: byte, as: UInt8.self)
            return true
        } == 1
    }
}
