import GuestMemory

/// One split virtqueue (virtio 1.2 section 2.7) from the device's side.
///
///     descriptor table  16 * size bytes, align 16    driver writes, device reads (2.7.5)
///     available ring     6 + 2 * size, align 2        flags, idx, ring[size], used_event (2.7.6)
///     used ring          6 + 8 * size, align 4        flags, idx, ring[size] of (id, len), avail_event (2.7.8)
///
/// The transport fills in the size and the three addresses while the queue is not ready, then
/// `enable()` checks them once: every later ring access is inside RAM by construction. Ring
/// indices are free-running 16-bit counters that wrap; slots are `index % size`.
///
/// Devices `pop` chains, `push` them to the used ring when done, and ask `needsNotification()`
/// whether the driver wants an interrupt for what was pushed. Rings are only touched on the
/// thread that runs the harts (Machine/RunLoop), between their instructions, so ring accesses
/// need no memory fences: a device's I/O thread (`DeviceWorker`) touches only the buffers of the
/// chains it was handed, never a ring.
public final class Virtqueue {
    public let index: Int
    public let maxSize: UInt16
    public let memory: GuestMemory

    // Configuration the driver writes through the transport (4.2.2: QueueNum, QueueDesc,
    // QueueDriver, QueueDevice). Ignored by the transport while the queue is ready.
    public var size: UInt16
    public var descriptorTable: UInt64 = 0
    public var availableRing: UInt64 = 0
    public var usedRing: UInt64 = 0
    public private(set) var isReady = false

    /// Negotiated queue features, set when the device is activated.
    public private(set) var eventIndex = false
    public private(set) var indirectDescriptors = false

    /// The next available-ring entry the device will take.
    public private(set) var lastAvailableIndex: UInt16 = 0
    /// The device's copy of used.idx: the next used-ring entry it fills.
    public private(set) var usedIndex: UInt16 = 0
    /// used.idx when the driver was last notified (for VIRTIO_F_EVENT_IDX), if ever since reset.
    private var signalledUsedIndex: UInt16?
    /// Buffers were pushed since the last `needsNotification()`.
    private var pushedSinceNotification = false

    /// VIRTQ_AVAIL_F_NO_INTERRUPT (2.7.7): the driver needs no used buffer notifications.
    static let availableFlagNoInterrupt: UInt16 = 1

    public init(index: Int, maxSize: UInt16, memory: GuestMemory) {
        precondition(maxSize > 0 && maxSize <= 32768 && maxSize & (maxSize - 1) == 0,
                     "queue sizes are powers of two up to 32768 (2.7)")
        self.index = index
        self.maxSize = maxSize
        self.memory = memory
        self.size = maxSize
    }

    /// Back to the state after a device reset (2.4): not ready, default size, no addresses.
    public func reset() {
        isReady = false
        size = maxSize
        descriptorTable = 0
        availableRing = 0
        usedRing = 0
        disableRingState()
    }

    /// The driver wrote QueueReady = 1: checks the configuration it wrote (2.7: size a power of
    /// two no larger than the maximum, each area aligned and inside RAM) and starts the rings at
    /// index 0. A configuration that fails leaves the queue not ready.
    public func enable() throws(VirtioError) {
        guard size > 0, size <= maxSize, size & (size - 1) == 0 else {
            throw .queueSizeInvalid(queue: index, size: size, max: maxSize)
        }
        let n = UInt64(size)
        try check(descriptorTable, length: 16 * n, alignment: 16, area: "descriptor table")
        try check(availableRing, length: 6 + 2 * n, alignment: 2, area: "available ring")
        try check(usedRing, length: 6 + 8 * n, alignment: 4, area: "used ring")
        disableRingState()
        isReady = true
    }

    /// The driver wrote QueueReady = 0.
    public func disable() {
        isReady = false
    }

    /// Records the negotiated queue features (at DRIVER_OK).
    public func configure(features: VirtioFeatures) {
        eventIndex = features.contains(.ringEventIndex)
        indirectDescriptors = features.contains(.indirectDescriptors)
    }

    private func check(_ address: UInt64, length: UInt64, alignment: UInt64, area: String) throws(VirtioError) {
        guard address % alignment == 0 else { throw .ringMisaligned(queue: index, area: area, address: address) }
        guard memory.contains(address, length: length) else {
            throw .ringOutsideMemory(queue: index, area: area, address: address)
        }
    }

    private func disableRingState() {
        lastAvailableIndex = 0
        usedIndex = 0
        signalledUsedIndex = nil
        pushedSinceNotification = false
    }

    // MARK: Available ring

    /// Takes the next available chain into `chain`; false when the ring is empty (or the queue
    /// is not ready). Throws when the driver broke the ring or the chain.
    public func pop(into chain: inout DescriptorChain) throws(VirtioError) -> Bool {
        guard isReady else { return false }
        var available = availableIndex
        if available == lastAvailableIndex {
            guard eventIndex else { return false }
            // 2.7.10: ask to be notified when the driver makes entry `lastAvailableIndex`
            // available, then look again in case it did so meanwhile.
            store16(usedRing + 4 + 8 * UInt64(size), lastAvailableIndex)
            available = availableIndex
            if available == lastAvailableIndex { return false }
        }
        // 2.7.6.1: the driver never hands over more than the queue holds.
        guard available &- lastAvailableIndex <= size else {
            throw .availableIndexJumped(queue: index, from: lastAvailableIndex, to: available)
        }
        let slot = UInt64(lastAvailableIndex % size)
        let head = load16(availableRing + 4 + 2 * slot)
        guard head < size else { throw .headOutOfRange(queue: index, head: head) }
        lastAvailableIndex &+= 1
        try chain.walk(head: head, table: descriptorTable, queueSize: size,
                       indirectAllowed: indirectDescriptors, memory: memory)
        return true
    }

    /// Chains the driver made available that the device has not taken yet (at most `size` for a
    /// well-behaved driver).
    public var pendingCount: UInt16 { isReady ? availableIndex &- lastAvailableIndex : 0 }

    private var availableIndex: UInt16 { load16(availableRing + 2) }

    // MARK: Used ring

    /// Returns `chain` to the driver, `written` bytes of its writable part filled (2.7.8), after
    /// telling the code cache that its writable buffers changed (when the device wrote any), so
    /// a hart that runs code from them reads it again.
    public func push(_ chain: DescriptorChain, written: UInt32) {
        if written > 0 { chain.noteDeviceWrites() }
        push(head: chain.head, written: written)
    }

    /// Returns the chain with head `head` to the driver, `written` bytes of its writable part
    /// filled (2.7.8).
    public func push(head: UInt16, written: UInt32) {
        guard isReady else { return }
        let element = usedRing + 4 + 8 * UInt64(usedIndex % size)
        store32(element, UInt32(head))
        store32(element + 4, written)
        usedIndex &+= 1
        store16(usedRing + 2, usedIndex)
        pushedSinceNotification = true
    }

    /// Whether the driver wants a used buffer notification for the buffers pushed since the last
    /// call (2.7.7.2): with VIRTIO_F_EVENT_IDX, when used.idx passed `used_event`; otherwise
    /// unless the driver set VIRTQ_AVAIL_F_NO_INTERRUPT. Call after a batch of `push`es.
    public func needsNotification() -> Bool {
        guard isReady, pushedSinceNotification else { return false }
        pushedSinceNotification = false
        if !eventIndex {
            return load16(availableRing) & Self.availableFlagNoInterrupt == 0
        }
        let new = usedIndex
        defer { signalledUsedIndex = new }
        guard let old = signalledUsedIndex else { return true }
        let usedEvent = load16(availableRing + 4 + 2 * UInt64(size))
        return Self.needsEvent(usedEvent, new: new, old: old)
    }

    /// vring_need_event (2.7.10 and the spec's virtio_ring.h): true when `event` lies in the
    /// window of indices (old, new] just filled, computed in wrapping 16-bit arithmetic.
    static func needsEvent(_ event: UInt16, new: UInt16, old: UInt16) -> Bool {
        new &- event &- 1 < new &- old
    }

    // MARK: Ring memory, checked by enable()

    @inline(__always)
    private func load16(_ address: UInt64) -> UInt16 {
        memory.load(address, as: UInt16.self) ?? 0
    }

    @inline(__always)
    private func store16(_ address: UInt64, _ value: UInt16) {
        memory.store(address, value)
    }

    @inline(__always)
    private func store32(_ address: UInt64, _ value: UInt32) {
        memory.store(address, value)
    }
}
