import Synchronization

/// The requests of one device that are out of the driver's hands, in a fixed pool of slots, and
/// their hand-off between the harts' thread and a `DeviceWorker`.
///
/// The harts' thread `acquire`s a free slot, fills it (a checked chain and what the request asks
/// for) and `submit`s it; the worker takes it from `nextSubmitted()`, carries it out and
/// `complete`s it; the harts' thread gets it back from `takeCompleted`, answers the driver and
/// `release`s it. A slot's contents belong to whoever holds its number, and numbers move
/// through the mutex, which orders the worker's writes (to the slot and to guest memory) before
/// the harts' thread reads them. The lock is taken once per request on each side, never around
/// I/O, and the FIFOs are allocated once: submitting allocates nothing.
final class RequestSlots<Request: AnyObject>: @unchecked Sendable {
    /// The slots, indexed by number. The array never changes; the requests are reused.
    let requests: [Request]
    /// Free slot numbers; the harts' thread only.
    private var free: [Int]

    private struct Shared: ~Copyable {
        var submitted: SlotFIFO
        var completed: SlotFIFO
        /// Submitted and not yet completed.
        var inFlight = 0
    }
    private let shared: Mutex<Shared>

    init(count: Int, make: () -> Request) {
        requests = (0..<count).map { _ in make() }
        free = Array((0..<count).reversed())
        shared = Mutex(Shared(submitted: SlotFIFO(capacity: count), completed: SlotFIFO(capacity: count)))
    }

    // MARK: The harts' thread

    /// A free slot, or nil when every slot holds a request (the chain then waits in the ring).
    func acquire() -> Int? { free.popLast() }

    /// Gives back a slot that was acquired but not submitted, or one whose request was answered.
    func release(_ slot: Int) { free.append(slot) }

    /// Slots not free: requests being carried out or waiting to be answered.
    var outstanding: Int { requests.count - free.count }

    /// The requests in slots that are not free (for tests that check where a device may write).
    var outstandingRequests: [Request] {
        var isFree = [Bool](repeating: false, count: requests.count)
        for slot in free { isFree[slot] = true }
        return requests.indices.filter { !isFree[$0] }.map { requests[$0] }
    }

    func submit(_ slot: Int) {
        shared.withLock {
            $0.submitted.push(slot)
            $0.inFlight += 1
        }
    }

    /// Moves the numbers of completed slots into `slots` (emptied first), oldest first.
    func takeCompleted(into slots: inout [Int]) {
        slots.removeAll(keepingCapacity: true)
        shared.withLock { state in
            while let slot = state.completed.pop() { slots.append(slot) }
        }
    }

    /// After a reset, once nothing is in flight: every slot is free and completions are dropped.
    func reclaimAll() {
        shared.withLock { state in
            precondition(state.inFlight == 0, "reclaimAll with requests in flight: wait for the worker first")
            while state.completed.pop() != nil {}
        }
        free = Array((0..<requests.count).reversed())
    }

    // MARK: Any thread

    var inFlight: Int { shared.withLock { $0.inFlight } }

    // MARK: The worker

    func nextSubmitted() -> Int? { shared.withLock { $0.submitted.pop() } }

    func complete(_ slot: Int) {
        shared.withLock {
            $0.completed.push(slot)
            $0.inFlight -= 1
        }
    }
}

/// A first-in first-out queue of slot numbers with a fixed capacity (each slot is in at most one
/// queue at a time, so the pool size is enough).
struct SlotFIFO {
    private var storage: [Int]
    private var head = 0
    private var count = 0

    init(capacity: Int) { storage = [Int](repeating: 0, count: capacity) }

    mutating func push(_ slot: Int) {
        precondition(count < storage.count, "a slot is in two queues")
        storage[(head + count) % storage.count] = slot
        count += 1
    }

    var isEmpty: Bool { count == 0 }

    /// The oldest slot, left in the queue.
    var first: Int? { count > 0 ? storage[head] : nil }

    mutating func pop() -> Int? {
        guard count > 0 else { return nil }
        defer {
            head = (head + 1) % storage.count
            count -= 1
        }
        return storage[head]
    }
}

/// A request that keeps the chain it was taken with.
protocol ChainRequest: AnyObject {
    var chain: DescriptorChain { get set }
}

extension RequestSlots where Request: ChainRequest {
    /// Takes the next available chain of `queue` into a free slot and lets `check` look at it
    /// (and fill in the request); the slot's number, or nil when the ring is empty or every slot
    /// is taken (the chain then waits in the ring). A chain that breaks the rules throws, and
    /// its slot is free again.
    func takeNext(from queue: Virtqueue, check: (Request) throws(VirtioError) -> Void) throws(VirtioError) -> Int? {
        guard let slot = acquire() else { return nil }
        let request = requests[slot]
        do {
            guard try queue.pop(into: &request.chain) else {
                release(slot)
                return nil
            }
            try check(request)
        } catch {
            release(slot)
            throw error
        }
        return slot
    }
}
