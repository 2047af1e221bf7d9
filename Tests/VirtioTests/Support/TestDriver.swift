import Devices
import GuestMemory
import Virtio
import XCTest

/// Records the level of each interrupt line, as the PLIC would see it.
final class RecordingInterruptSink: InterruptSink {
    var levels: [Int: Bool] = [:]
    var raised = 0
    func setLevel(irq: Int, high: Bool) {
        if high && levels[irq] != true { raised += 1 }
        levels[irq] = high
    }
    func isHigh(_ irq: Int) -> Bool { levels[irq] ?? false }
}

/// The virtio-mmio register offsets, spelled out again here (not taken from the transport) so
/// that a wrong offset in the transport fails the tests.
enum Reg {
    static let magic: UInt64 = 0x000, version: UInt64 = 0x004, deviceID: UInt64 = 0x008, vendorID: UInt64 = 0x00c
    static let deviceFeatures: UInt64 = 0x010, deviceFeaturesSel: UInt64 = 0x014
    static let driverFeatures: UInt64 = 0x020, driverFeaturesSel: UInt64 = 0x024
    static let queueSel: UInt64 = 0x030, queueNumMax: UInt64 = 0x034, queueNum: UInt64 = 0x038
    static let queueReady: UInt64 = 0x044, queueNotify: UInt64 = 0x050
    static let interruptStatus: UInt64 = 0x060, interruptACK: UInt64 = 0x064, status: UInt64 = 0x070
    static let queueDescLow: UInt64 = 0x080, queueDescHigh: UInt64 = 0x084
    static let queueDriverLow: UInt64 = 0x090, queueDriverHigh: UInt64 = 0x094
    static let queueDeviceLow: UInt64 = 0x0a0, queueDeviceHigh: UInt64 = 0x0a4
    static let shmSel: UInt64 = 0x0ac, shmLenLow: UInt64 = 0x0b0, shmBaseHigh: UInt64 = 0x0bc
    static let configGeneration: UInt64 = 0x0fc, config: UInt64 = 0x100
}

/// Device status bits (virtio 1.2 section 2.1), spelled out for the same reason.
enum StatusBit {
    static let acknowledge: UInt32 = 1, driver: UInt32 = 2, driverOK: UInt32 = 4, featuresOK: UInt32 = 8
    static let needsReset: UInt32 = 64, failed: UInt32 = 128
}

/// One buffer of a chain the test driver builds.
struct TestBuffer {
    var address: UInt64
    var length: UInt32
    var writable: Bool
}

/// A guest driver in miniature: it owns a GuestMemory, lays out split virtqueues in it, talks
/// to a transport through its registers and builds descriptor chains the way Linux's
/// virtio_ring does (or, when a test asks, the way a hostile guest would).
final class TestDriver {
    static let ramBase: UInt64 = 0x8000_0000
    static let irq = 3

    let memory: GuestMemory
    let sink = RecordingInterruptSink()
    let transport: VirtioMMIOTransport
    /// Per queue: size and ring addresses, and the driver's own available index.
    var queues: [(size: UInt16, desc: UInt64, avail: UInt64, used: UInt64)] = []
    var availableIndex: [UInt16] = []
    var usedSeen: [UInt16] = []
    /// Next free descriptor slot per queue (descriptors are handed out round-robin).
    var nextDescriptor: [UInt16] = []
    /// Bump allocator for buffers, above the rings.
    private var heap: UInt64

    init(device: VirtioDevice, ramSize: UInt64 = 1 << 20) {
        memory = try! GuestMemory(base: Self.ramBase, size: ramSize)
        transport = VirtioMMIOTransport(device: device, memory: memory, interrupts: sink, irq: Self.irq)
        heap = Self.ramBase + 0x4_0000
    }

    // MARK: Registers

    func read(_ offset: UInt64, size: Int = 4) -> UInt64 { transport.read(offset: offset, size: size) }
    func write(_ offset: UInt64, _ value: UInt64, size: Int = 4) { transport.write(offset: offset, size: size, value: value) }
    var status: UInt32 { UInt32(read(Reg.status)) }

    /// The driver side of device initialisation (3.1.1). `accept` nil: accept everything offered.
    /// Returns whether FEATURES_OK stuck.
    @discardableResult
    func initialize(accept: UInt64? = nil, queueSizes: [UInt16]? = nil, driverOK: Bool = true) -> Bool {
        write(Reg.status, 0)
        write(Reg.status, UInt64(StatusBit.acknowledge))
        write(Reg.status, UInt64(StatusBit.acknowledge | StatusBit.driver))
        let offered = offeredFeatures()
        let accepted = accept ?? offered
        write(Reg.driverFeaturesSel, 0)
        write(Reg.driverFeatures, accepted & 0xFFFF_FFFF)
        write(Reg.driverFeaturesSel, 1)
        write(Reg.driverFeatures, accepted >> 32)
        write(Reg.status, UInt64(StatusBit.acknowledge | StatusBit.driver | StatusBit.featuresOK))
        guard status & StatusBit.featuresOK != 0 else { return false }
        queues = []
        availableIndex = []
        usedSeen = []
        nextDescriptor = []
        var base = Self.ramBase
        var q = 0
        while true {
            write(Reg.queueSel, UInt64(q))
            let max = UInt16(read(Reg.queueNumMax))
            if max == 0 { break }
            let size = queueSizes.map { q < $0.count ? $0[q] : max } ?? max
            let n = UInt64(size)
            let desc = base, avail = desc + 16 * n, used = (avail + 6 + 2 * n + 3) & ~3
            base = (used + 6 + 8 * n + 15) & ~15
            setUpQueue(q, size: size, desc: desc, avail: avail, used: used)
            q += 1
        }
        if driverOK {
            write(Reg.status, UInt64(StatusBit.acknowledge | StatusBit.driver | StatusBit.featuresOK | StatusBit.driverOK))
        }
        return true
    }

    func offeredFeatures() -> UInt64 {
        write(Reg.deviceFeaturesSel, 0)
        let low = read(Reg.deviceFeatures)
        write(Reg.deviceFeaturesSel, 1)
        return low | read(Reg.deviceFeatures) << 32
    }

    func setUpQueue(_ q: Int, size: UInt16, desc: UInt64, avail: UInt64, used: UInt64, ready: Bool = true) {
        write(Reg.queueSel, UInt64(q))
        write(Reg.queueNum, UInt64(size))
        write(Reg.queueDescLow, desc & 0xFFFF_FFFF)
        write(Reg.queueDescHigh, desc >> 32)
        write(Reg.queueDriverLow, avail & 0xFFFF_FFFF)
        write(Reg.queueDriverHigh, avail >> 32)
        write(Reg.queueDeviceLow, used & 0xFFFF_FFFF)
        write(Reg.queueDeviceHigh, used >> 32)
        // The driver zeroes the rings it allocates (those in RAM: tests also try others).
        for (address, length) in [(desc, 16 * UInt64(size)), (avail, 6 + 2 * UInt64(size)), (used, 6 + 8 * UInt64(size))] {
            memory.pointer(address, length: length)?.initializeMemory(as: UInt8.self, repeating: 0, count: Int(length))
        }
        if ready { write(Reg.queueReady, 1) }
        while queues.count <= q {
            queues.append((0, 0, 0, 0))
            availableIndex.append(0)
            usedSeen.append(0)
            nextDescriptor.append(0)
        }
        queues[q] = (size, desc, avail, used)
    }

    // MARK: Buffers

    /// Allocates `length` bytes of guest RAM (16-byte aligned), filled with `fill`.
    func allocate(_ length: Int, fill: UInt8 = 0) -> UInt64 {
        let address = heap
        heap = (heap + UInt64(length) + 15) & ~15
        precondition(heap <= memory.end, "test driver out of guest RAM")
        memory.pointer(address, length: UInt64(max(length, 1)))!
            .initializeMemory(as: UInt8.self, repeating: fill, count: length)
        return address
    }

    func allocate(bytes: [UInt8]) -> UInt64 {
        let address = allocate(bytes.count)
        try! memory.copyIn(bytes, at: address, what: "test buffer")
        return address
    }

    func bytes(at address: UInt64, _ length: Int) -> [UInt8] { memory.copyOut(address, length: length)! }

    /// Writes one descriptor into a table.
    func writeDescriptor(table: UInt64, index: Int, address: UInt64, length: UInt32, flags: UInt16, next: UInt16) {
        let entry = table + 16 * UInt64(index)
        memory.store(entry, address)
        memory.store(entry + 8, length)
        memory.store(entry + 12, flags)
        memory.store(entry + 14, next)
    }

    /// Puts `buffers` in the descriptor table of queue `q` as one chain (or, with `indirect`,
    /// as one descriptor pointing at an indirect table) and makes it available. Returns the head.
    @discardableResult
    func addChain(_ buffers: [TestBuffer], queue q: Int = 0, indirect: Bool = false, notify: Bool = true) -> UInt16 {
        let layout = queues[q]
        let head: UInt16
        if indirect {
            let table = allocate(16 * buffers.count)
            for (i, b) in buffers.enumerated() {
                let more = i + 1 < buffers.count
                writeDescriptor(table: table, index: i, address: b.address, length: b.length,
                                flags: (more ? 1 : 0) | (b.writable ? 2 : 0), next: UInt16(i + 1))
            }
            head = takeDescriptors(1, queue: q).first!
            writeDescriptor(table: layout.desc, index: Int(head), address: table, length: UInt32(16 * buffers.count),
                            flags: 4, next: 0)
        } else {
            let slots = takeDescriptors(buffers.count, queue: q)
            for (i, b) in buffers.enumerated() {
                let more = i + 1 < buffers.count
                writeDescriptor(table: layout.desc, index: Int(slots[i]), address: b.address, length: b.length,
                                flags: (more ? 1 : 0) | (b.writable ? 2 : 0), next: more ? slots[i + 1] : 0)
            }
            head = slots[0]
        }
        makeAvailable(head: head, queue: q, notify: notify)
        return head
    }

    func takeDescriptors(_ n: Int, queue q: Int) -> [UInt16] {
        let size = queues[q].size
        return (0..<n).map { _ in
            let d = nextDescriptor[q]
            nextDescriptor[q] = (d + 1) % size
            return d
        }
    }

    /// Puts `head` in the next available-ring slot, publishes the index and (optionally) notifies.
    func makeAvailable(head: UInt16, queue q: Int = 0, notify: Bool = true) {
        let layout = queues[q]
        let slot = UInt64(availableIndex[q] % layout.size)
        memory.store(layout.avail + 4 + 2 * slot, head)
        availableIndex[q] &+= 1
        memory.store(layout.avail + 2, availableIndex[q])
        if notify { write(Reg.queueNotify, UInt64(q)) }
    }

    func setAvailableIndex(_ value: UInt16, queue q: Int = 0) {
        availableIndex[q] = value
        memory.store(queues[q].avail + 2, value)
    }

    func setAvailableFlags(_ flags: UInt16, queue q: Int = 0) { memory.store(queues[q].avail, flags) }
    func setUsedEvent(_ value: UInt16, queue q: Int = 0) {
        memory.store(queues[q].avail + 4 + 2 * UInt64(queues[q].size), value)
    }
    func availEvent(queue q: Int = 0) -> UInt16 {
        memory.load(queues[q].used + 4 + 8 * UInt64(queues[q].size))!
    }

    func usedIndex(queue q: Int = 0) -> UInt16 { memory.load(queues[q].used + 2)! }

    /// With a device on a `DeviceWorker`: waits until the worker carried out every submitted
    /// request, then lets the device answer them, as the run loop does between hart slices.
    func settle() {
        guard let worker, let device = transport.device as? OffloadingDevice else { return }
        worker.waitUntilIdle(device)
        device.finishCompleted()
    }

    /// The worker the test attached to the device, if any.
    var worker: DeviceWorker?

    /// Used-ring entries the device added since the last call: (head, written length), after
    /// `settle()` unless `settling` is false.
    func takeUsed(queue q: Int = 0, settling: Bool = true) -> [(id: UInt32, length: UInt32)] {
        if settling { settle() }
        let layout = queues[q]
        var entries: [(UInt32, UInt32)] = []
        let end = usedIndex(queue: q)
        while usedSeen[q] != end {
            let element = layout.used + 4 + 8 * UInt64(usedSeen[q] % layout.size)
            entries.append((memory.load(element)!, memory.load(element + 4)!))
            usedSeen[q] &+= 1
        }
        return entries
    }

    func acknowledgeInterrupts() {
        write(Reg.interruptACK, read(Reg.interruptStatus))
    }
}

/// A device that records each chain it pops and returns it with every writable byte set to
/// 0xEE: enough to watch the queue machinery without a real device's rules.
final class RecordingDevice: VirtioDevice {
    let deviceType = VirtioDeviceType.console
    var deviceFeatures: VirtioFeatures = VirtioFeatures(bit: 0)
    var queueMaxSizes: [UInt16]
    var chains: [(head: UInt16, buffers: [DescriptorChain.Buffer])] = []
    var activations = 0
    var resets = 0
    var acceptedFeatures: VirtioFeatures?
    var refuse: VirtioFeatures = []
    private var chain = DescriptorChain()
    private weak var interrupt: VirtioInterrupt?

    init(queueMaxSizes: [UInt16] = [8]) { self.queueMaxSizes = queueMaxSizes }

    func readConfig(offset: Int, size: Int) -> UInt64 { UInt64(offset) }
    var statistics: [String: UInt64] { ["chains": UInt64(chains.count)] }
    func accepts(_ features: VirtioFeatures) -> Bool { features.isDisjoint(with: refuse) }

    func activate(features: VirtioFeatures, queues: [Virtqueue], interrupt: VirtioInterrupt) throws(VirtioError) {
        activations += 1
        acceptedFeatures = features
        self.interrupt = interrupt
    }

    func reset() { resets += 1 }

    func queueNotified(_ queue: Virtqueue) throws(VirtioError) {
        defer { if queue.needsNotification() { interrupt?.usedBuffers(queue: queue.index) } }
        while try queue.pop(into: &chain) {
            chains.append((chain.head, chain.buffers))
            chain.withSegments(.writable, offset: 0, count: chain.writableLength) { p, n in
                p.initializeMemory(as: UInt8.self, repeating: 0xEE, count: n)
                return true
            }
            queue.push(chain, written: UInt32(chain.writableLength))
        }
    }
}
