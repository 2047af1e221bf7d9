import Devices
import Foundation
import GuestMemory
@testable import Virtio

/// The fuzzer's guest: 80 KiB of RAM, the first 32 KiB for queues and indirect tables (8 KiB per
/// attacked queue: virtio-blk's, virtio-rng's, virtio-net's receive and transmit queues), the rest
/// for data buffers.
final class HostileGuest {
    static let checkInterval = 1000
    static let ramBase: UInt64 = 0x8000_0000
    static let ramSize: UInt64 = 80 << 10
    static let controlSize: UInt64 = 32 << 10
    static let dataBase = ramBase + controlSize
    static let diskSectors = 64

    /// What a target's queue carries, which decides what plausible requests look like.
    enum Kind {
        case block, entropy, netReceive, netTransmit
    }

    /// One queue under attack (a device's only queue, or one of virtio-net's two) and where its
    /// driver keeps its rings.
    struct Target {
        let transport: VirtioMMIOTransport
        let kind: Kind
        /// The queue's index in its device.
        let queue: Int
        let control: UInt64
        var desc: UInt64 { control }
        var avail: UInt64 { control + 4096 }
        var used: UInt64 { control + 4672 }
        var indirect: UInt64 { control + 6784 }
        static let indirectBytes: UInt64 = 8192 - 6784
        var size: UInt16 = 0
        var availableIndex: UInt16 = 0
    }

    let memory: GuestMemory
    let sink = RecordingInterruptSink()
    var targets: [Target]
    let diskPath: String
    let disk: BlockFile
    let net: VirtioNet
    let block: VirtioBlock
    let netBackend: FuzzNetBackend
    var random: SplitMix64
    private(set) var failure: String?
    private(set) var chainsCompleted = 0
    private(set) var resetsNeeded = 0
    private var snapshot: [UInt8]
    /// Where this step's block headers are (empty when attacking another device).
    private var blockHeaders: [UInt64] = []
    /// The last tables written for a target let buffers point anywhere (into the tables too).
    private var tablesPointAnywhere: [Bool]
    private var allowed: [(UInt64, UInt64)] = []
    /// The disk and the network device do their I/O on this worker, which runs when a step says:
    /// requests stay in flight across steps, register writes and resets, as on the I/O thread.
    let worker = ManualWorker()
    private let offloading: [OffloadingDevice]

    init(seed: UInt64) throws {
        random = SplitMix64(seed: seed)
        memory = try GuestMemory(base: Self.ramBase, size: Self.ramSize)
        // tmpfs when there is one: flush requests then cost no disk I/O.
        let directory = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm/" : NSTemporaryDirectory()
        diskPath = directory + "trapeze-fuzz-\(getpid())-\(UUID().uuidString).img"
        var bytes = [UInt8](repeating: 0, count: Self.diskSectors * 512)
        for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i / 512 &* 31 &+ i) }
        try Data(bytes).write(to: URL(fileURLWithPath: diskPath))
        disk = try BlockFile(path: diskPath, readOnly: false)
        netBackend = FuzzNetBackend(seed: seed)
        net = VirtioNet(backend: netBackend, mac: MACAddress.defaultAddress(index: 0))
        let memory = self.memory, sink = self.sink
        block = VirtioBlock(file: disk, serial: "fuzz")
        let devices: [VirtioDevice] = [block, VirtioEntropy(), net]
        offloading = devices.compactMap { $0 as? OffloadingDevice }
        for device in offloading { device.attach(worker: worker) }
        let transports = devices.enumerated().map { i, device in
            VirtioMMIOTransport(device: device, memory: memory, interrupts: sink, irq: 1 + i)
        }
        let queues: [(transport: Int, kind: Kind, queue: Int)] = [
            (0, .block, 0), (1, .entropy, 0), (2, .netReceive, 0), (2, .netTransmit, 1),
        ]
        targets = queues.enumerated().map { i, q in
            Target(transport: transports[q.transport], kind: q.kind, queue: q.queue, control: Self.ramBase + UInt64(i) * 8192)
        }
        tablesPointAnywhere = Array(repeating: false, count: targets.count)
        snapshot = [UInt8](repeating: 0, count: Int(Self.ramSize))
        fillDataPattern()
        for t in targets.indices where targets[t].queue == 0 { initialize(t, sensible: true) }
    }

    func close() { try? FileManager.default.removeItem(atPath: diskPath) }

    // MARK: One step

    func step() {
        let t = Int(random.next() % UInt64(targets.count))
        let roll = random.next() % 100
        let transport = targets[t].transport
        if transport.status.contains(.needsReset) || !transport.status.contains(.driverOK) {
            if roll < 60 { initialize(t, sensible: random.next() % 4 != 0); return }
        }
        switch roll {
        case 0..<3: initialize(t, sensible: random.next() % 2 == 0)
        case 3..<15:
            // A random QueueNotify can make the device walk whatever tables are in place; they
            // bound its writes only when no buffer in them points into the control area.
            if siblingTablesPointAnywhere(t) {
                randomRegisterAccess(t)
            } else {
                checked(allowing: deviceWritableRanges(t)) { randomRegisterAccess(t) }
            }
        case 15..<25 where targets[t].transport.device === net:
            // Frames arrive from the host, and the run loop polls between hart slices.
            netBackend.arrive(count: Int(random.next() % 4))
            // The I/O thread usually delivers them before the guest looks again.
            let deliverNow = random.next() % 4 != 0
            checked(t, runningWorker: deliverNow) {
                net.pollReceive()
                if deliverNow { runWorker() }
            }
        case 25..<32:
            // The I/O thread carries out what was submitted and the run loop answers the drivers.
            checked(t, runningWorker: true) { runWorker() }
        default: attackQueue(t)
        }
        if let frame = netBackend.oversizedFrameSent {
            failure = "virtio-net sent a frame of \(frame) bytes, over \(VirtioNet.maxFrameLength)"
        }
    }

    /// A driver's initialisation of target `t`'s device: sensible (queue sizes the device takes,
    /// each queue's rings in its target's control area) or not (random sizes and addresses), with
    /// a random feature subset.
    private func initialize(_ t: Int, sensible: Bool, size requestedSize: UInt16? = nil) {
        let transport = targets[t].transport
        write(t, 0x070, 0)
        write(t, 0x070, 1)
        write(t, 0x070, 3)
        write(t, 0x014, 0)
        let offered = transport.read(offset: 0x010, size: 4)
        write(t, 0x024, 0)
        write(t, 0x020, sensible ? offered & random.next() : random.next() & 0xFFFF_FFFF)
        write(t, 0x024, 1)
        write(t, 0x020, sensible ? 1 : random.next() & 0xFFFF_FFFF)
        write(t, 0x070, 11)
        for sibling in targets.indices where targets[sibling].transport === transport {
            setUpQueue(sibling, sensible: sensible, size: requestedSize)
        }
        write(t, 0x070, 15)
    }

    private func setUpQueue(_ t: Int, sensible: Bool, size requestedSize: UInt16?) {
        let sizes: [UInt16] = [1, 2, 4, 8, 8, 16, 16, 32, 64]
        var size = sizes[Int(random.next() % UInt64(sizes.count))]
        if !sensible && random.next() % 2 == 0 { size = UInt16(truncatingIfNeeded: random.next()) }
        if let requestedSize { size = requestedSize }
        let target = targets[t]
        // A size above the device's maximum would not fit the control area; the device refuses it anyway.
        let n = UInt64(min(size, 256))
        for (address, length) in [(target.desc, 16 * n), (target.avail, 6 + 2 * n), (target.used, 6 + 8 * n)] {
            memory.pointer(address, length: length)!.initializeMemory(as: UInt8.self, repeating: 0, count: Int(length))
        }
        write(t, 0x030, UInt64(target.queue))
        write(t, 0x038, UInt64(size))
        let addresses = sensible ? [target.desc, target.avail, target.used]
            : [target.desc, target.avail, target.used].map { random.next() % 4 == 0 ? random.next() : $0 }
        for (i, address) in addresses.enumerated() {
            write(t, 0x080 + 0x10 * UInt64(i), address & 0xFFFF_FFFF)
            write(t, 0x084 + 0x10 * UInt64(i), address >> 32)
        }
        write(t, 0x044, 1)
        targets[t].size = size
        targets[t].availableIndex = 0
    }

    /// Whether the last tables written for any queue of target `t`'s device let buffers point
    /// anywhere: then a notification or a poll may write anywhere too.
    private func siblingTablesPointAnywhere(_ t: Int) -> Bool {
        targets.indices.contains { targets[$0].transport === targets[t].transport && tablesPointAnywhere[$0] }
    }

    private func write(_ t: Int, _ offset: UInt64, _ value: UInt64, size: Int = 4) {
        targets[t].transport.write(offset: offset, size: size, value: value)
    }

    /// Any register, config space or unknown offset, any width, any value.
    private func randomRegisterAccess(_ t: Int) {
        let known: [UInt64] = [0x000, 0x004, 0x008, 0x00c, 0x010, 0x014, 0x020, 0x024, 0x030, 0x034, 0x038, 0x044,
                               0x050, 0x060, 0x064, 0x070, 0x080, 0x084, 0x090, 0x094, 0x0a0, 0x0a4, 0x0ac, 0x0b0,
                               0x0c0, 0x0fc, 0x100, 0x108, 0x124, 0x138]
        let offset = random.next() % 3 == 0 ? random.next() % 0x1000 : known[Int(random.next() % UInt64(known.count))]
        let sizes = [1, 2, 4, 4, 4, 8]
        let size = sizes[Int(random.next() % UInt64(sizes.count))]
        let value = random.next() % 2 == 0 ? random.next() % 20 : random.next()
        if random.next() % 3 == 0 {
            _ = targets[t].transport.read(offset: offset, size: size)
        } else {
            targets[t].transport.write(offset: offset, size: size, value: value)
        }
    }

    // MARK: Queue attacks

    /// Fills the descriptor table and some indirect tables with random or almost-valid
    /// descriptors, makes random heads available with a random index, and notifies.
    private func attackQueue(_ t: Int) {
        let target = targets[t]
        let size = UInt64(max(min(target.size, 256), 1))
        // Mode A keeps buffers out of the control area, so the tables cannot change under the
        // device and the write check below is exact; mode B lets them point anywhere.
        let anywhere = random.next() % 10 == 0
        tablesPointAnywhere[t] = anywhere
        blockHeaders = target.kind == .block ? writeBlockHeaders() : []
        for i in 0..<size {
            writeRandomDescriptor(at: target.desc + 16 * i, tableSize: size, anywhere: anywhere, target: target)
        }
        for i in 0..<(Target.indirectBytes / 16) {
            writeRandomDescriptor(at: target.indirect + 16 * i, tableSize: 8, anywhere: anywhere, target: target,
                                  allowIndirect: random.next() % 8 == 0)
        }
        // Half the time, requests shaped like a real driver's (slightly damaged now and then)
        // over the random ones, so the devices' request code runs and not only the checks.
        let heads = !anywhere && random.next() % 2 == 0 ? writePlausibleChains(target, size: size) : []
        let count = random.next() % (size + 3)
        var index = target.availableIndex
        for _ in 0..<count {
            var head = random.next() % 16 == 0 ? UInt16(truncatingIfNeeded: random.next()) : UInt16(random.next() % size)
            if !heads.isEmpty && random.next() % 4 != 0 { head = heads[Int(random.next() % UInt64(heads.count))] }
            memory.store(target.avail + 4 + 2 * (UInt64(index) % size), head)
            index &+= 1
        }
        if random.next() % 32 == 0 { index = UInt16(truncatingIfNeeded: random.next()) }
        memory.store(target.avail + 2, index)
        targets[t].availableIndex = index
        if random.next() % 8 == 0 { memory.store(target.avail + 4 + 2 * size, UInt16(truncatingIfNeeded: random.next())) }
        if random.next() % 8 == 0 { memory.store(target.avail, UInt16(truncatingIfNeeded: random.next() % 3)) }

        let wasBroken = target.transport.status.contains(.needsReset)
        let usedBefore = memory.load(target.used + 2, as: UInt16.self) ?? 0
        let queueIndex = random.next() % 16 == 0 ? random.next() % 4 : UInt64(target.queue)
        // Frames waiting let a notified receive queue take buffers.
        if target.kind == .netReceive { netBackend.arrive(count: Int(random.next() % 4)) }
        // Three times in four the I/O thread is quick and answers before the guest looks again.
        let answerNow = random.next() % 4 != 0
        checked(t, runningWorker: answerNow) {
            target.transport.write(offset: 0x050, size: 4, value: queueIndex)
            if answerNow { runWorker() }
        }
        chainsCompleted += Int((memory.load(target.used + 2, as: UInt16.self) ?? 0) &- usedBefore)
        if !wasBroken && target.transport.status.contains(.needsReset) { resetsNeeded += 1 }
        if random.next() % 64 == 0 { fillDataPattern() }
    }

    private func writeRandomDescriptor(at entry: UInt64, tableSize: UInt64, anywhere: Bool, target: Target,
                                       allowIndirect: Bool = true) {
        var address: UInt64
        var length: UInt32
        let kind = random.next() % 100
        if allowIndirect && kind < 8 {
            // An indirect table inside the indirect area (in mode B, anywhere at all).
            let entries = 1 + random.next() % 8
            let offset = 16 * (random.next() % (Target.indirectBytes / 16 - entries + 1))
            address = target.indirect + offset
            length = UInt32(16 * entries)
            if random.next() % 4 == 0 {
                // A bad length (not a multiple of 16, zero), kept inside the area.
                length = UInt32(random.next() % (Target.indirectBytes - offset + 1))
            }
            if anywhere && random.next() % 4 == 0 {
                address = random.next() % 2 == 0 ? random.next() : Self.ramBase + random.next() % Self.ramSize
                length = UInt32(truncatingIfNeeded: random.next() % 512)
            }
            store(entry, address: address, length: length, flags: 4 | UInt16(random.next() % 4), next: 0)
            return
        }
        if !blockHeaders.isEmpty && kind < 35 {
            // A buffer that starts with a plausible virtio-blk header (and maybe data after it).
            address = blockHeaders[Int(random.next() % UInt64(blockHeaders.count))]
            let lengths: [UInt32] = [16, 16, 32, 48, 528, 1040, 12]
            length = lengths[Int(random.next() % UInt64(lengths.count))]
        } else if kind < 90 || !anywhere {
            let dataSize = Self.ramBase + Self.ramSize - Self.dataBase
            address = Self.dataBase + random.next() % dataSize
            let lengths: [UInt32] = [1, 16, 512, 513, 1024, 4096]
            length = random.next() % 2 == 0 ? lengths[Int(random.next() % UInt64(lengths.count))]
                : UInt32(1 + random.next() % 2048)
            // Sometimes straddling or past the end of RAM.
            if random.next() % 16 == 0 { length = UInt32(truncatingIfNeeded: random.next() % 0x2_0000) }
            if random.next() % 32 == 0 { address = Self.ramBase + Self.ramSize - UInt64(random.next() % 64) }
        } else if kind < 95 {
            address = Self.ramBase + random.next() % Self.controlSize
            length = UInt32(1 + random.next() % 512)
        } else {
            address = random.next()
            length = UInt32(truncatingIfNeeded: random.next())
        }
        if !anywhere && address >= Self.ramBase && address < Self.dataBase { address = Self.dataBase }
        var flags = UInt16(random.next() % 4)  // NEXT, WRITE
        if random.next() % 64 == 0 { flags |= UInt16(truncatingIfNeeded: random.next()) & ~4 }
        let next = random.next() % 8 == 0 ? UInt16(truncatingIfNeeded: random.next()) : UInt16(random.next() % tableSize)
        store(entry, address: address, length: length, flags: flags, next: next)
    }

    /// Chains laid out as Linux's drivers do: for the disk, a header, one to four data buffers
    /// (device-writable for reads, readable otherwise) and a status byte; for the entropy device,
    /// one to three writable buffers; for virtio-net, a header and a frame, readable to transmit,
    /// writable to receive (a 1526-byte buffer, now and then a smaller one). A quarter go through
    /// an indirect table. Returns the heads.
    private func writePlausibleChains(_ target: Target, size: UInt64) -> [UInt16] {
        let block = target.kind == .block
        var heads: [UInt16] = []
        var slot: UInt64 = 0
        var indirectUsed: UInt64 = 0
        let dataSize = Self.ramBase + Self.ramSize - Self.dataBase
        while slot < size {
            var buffers: [(UInt64, UInt32, Bool)] = []
            var dataCount = 1 + random.next() % (block ? 4 : 3)
            var dataWritable = target.kind != .netTransmit
            if target.kind == .netTransmit {
                // The 12-byte virtio-net header: three in four are valid (all zero: no offload
                // asked for), so frames get past the header check and reach the TAP; the rest
                // are whatever the data area holds, which the device must refuse.
                let header = Self.dataBase + random.next() % (dataSize - 12)
                if random.next() % 4 != 0 {
                    for i in 0..<UInt64(VirtioNetHeader.length) { memory.store(header + i, UInt8(0)) }
                }
                buffers.append((header, 12, false))
            } else if target.kind == .netReceive {
                dataCount = 0
                let length: UInt32 = random.next() % 8 == 0 ? UInt32(1 + random.next() % 200) : 1526
                buffers.append((Self.dataBase + random.next() % (dataSize - UInt64(length) + 1), length, true))
            }
            if block {
                let header = blockHeaders[Int(random.next() % UInt64(blockHeaders.count))]
                let type = memory.load(header, as: UInt32.self) ?? 0
                dataWritable = type == 0 || type == 8
                let segmentOnly = type == 11 || type == 13
                buffers.append((header, segmentOnly ? 32 : 16, false))
                if segmentOnly { buffers.append((Self.dataBase + random.next() % (dataSize - 16), 16, false)) }
            }
            for _ in 0..<dataCount {
                var length = UInt32(512 * (1 + random.next() % 4))
                if random.next() % 16 == 0 { length = UInt32(1 + random.next() % 2000) }
                let address = Self.dataBase + random.next() % (dataSize - UInt64(length) + 1)
                buffers.append((address, length, dataWritable))
            }
            if block { buffers.append((Self.dataBase + random.next() % dataSize, 1, true)) }
            if random.next() % 32 == 0 {
                let i = Int(random.next() % UInt64(buffers.count))
                buffers[i].2.toggle()
            }
            let n = UInt64(buffers.count)
            let viaIndirect = random.next() % 4 == 0 && indirectUsed + n <= Target.indirectBytes / 16
            if viaIndirect {
                let table = target.indirect + 16 * indirectUsed
                for (i, b) in buffers.enumerated() {
                    let last = UInt64(i) + 1 == n
                    store(table + 16 * UInt64(i), address: b.0, length: b.1,
                          flags: (last ? 0 : 1) | (b.2 ? 2 : 0), next: UInt16(i + 1))
                }
                store(target.desc + 16 * slot, address: table, length: UInt32(16 * n), flags: 4, next: 0)
                indirectUsed += n
                heads.append(UInt16(slot))
                slot += 1
            } else {
                guard slot + n <= size else { break }
                for (i, b) in buffers.enumerated() {
                    let last = UInt64(i) + 1 == n
                    var next = UInt16(slot) + UInt16(i) + 1
                    if random.next() % 64 == 0 { next = UInt16(random.next() % size) }
                    store(target.desc + 16 * (slot + UInt64(i)), address: b.0, length: b.1,
                          flags: (last ? 0 : 1) | (b.2 ? 2 : 0), next: next)
                }
                heads.append(UInt16(slot))
                slot += n
            }
        }
        return heads
    }

    private func store(_ entry: UInt64, address: UInt64, length: UInt32, flags: UInt16, next: UInt16) {
        memory.store(entry, address)
        memory.store(entry + 8, length)
        memory.store(entry + 12, flags)
        memory.store(entry + 14, next)
    }

    /// Plausible virtio-blk headers in the data area, which a third of the descriptors point at,
    /// so that requests get past the header and reach the disk code. Returns where they are.
    private func writeBlockHeaders() -> [UInt64] {
        let types: [UInt32] = [0, 0, 1, 1, 4, 8, 11, 13, 2, 0xFFFF_FFFF]
        return (0..<8).map { _ in
            let at = Self.dataBase + random.next() % (Self.ramBase + Self.ramSize - Self.dataBase - 32)
            memory.store(at, types[Int(random.next() % UInt64(types.count))])
            memory.store(at + 8, random.next() % 4 == 0 ? random.next() : random.next() % UInt64(Self.diskSectors + 2))
            // A discard/write-zeroes segment right after, in case the request is one.
            memory.store(at + 16, random.next() % UInt64(Self.diskSectors + 2))
            memory.store(at + 24, UInt32(random.next() % 8))
            memory.store(at + 28, UInt32(random.next() % 4))
            return at
        }
    }

    /// Where the device of target `t` may write: for each ready queue, its used ring and every
    /// buffer that a descriptor in its table, or in an indirect table one of those points to,
    /// marks device-writable (a superset of the chains it will actually walk).
    private func deviceWritableRanges(_ t: Int) -> [(UInt64, UInt64)] {
        var ranges: [(UInt64, UInt64)] = []
        for queue in targets[t].transport.queues where queue.isReady {
            let size = UInt64(queue.size)
            ranges.append((queue.usedRing, 6 + 8 * size))
            ranges += writableRanges(table: queue.descriptorTable, size: size)
        }
        return ranges
    }

    private func writableRanges(table: UInt64, size: UInt64) -> [(UInt64, UInt64)] {
        var ranges: [(UInt64, UInt64)] = []
        func scan(_ table: UInt64, entries: UInt64, nested: Bool) {
            for i in 0..<entries {
                let entry = table + 16 * i
                guard let address = memory.load(entry, as: UInt64.self),
                      let length = memory.load(entry + 8, as: UInt32.self),
                      let flags = memory.load(entry + 12, as: UInt16.self) else { continue }
                if flags & 4 != 0 {
                    if !nested { scan(address, entries: min(UInt64(length) / 16, 32768), nested: true) }
                } else if flags & 2 != 0 {
                    ranges.append((address, UInt64(length)))
                }
            }
        }
        scan(table, entries: size, nested: false)
        return ranges
    }

    /// Carries out every submitted request and answers it, until none is left (answering takes
    /// chains that waited for a free slot), as the I/O thread and the run loop do.
    private func runWorker() {
        repeat {
            for device in offloading { _ = device.performSubmitted() }
            for device in offloading { device.finishCompleted() }
        } while offloading.contains(where: { $0.requestsInFlight > 0 })
    }

    /// Runs `body`, which acts on target `t` and, with `runningWorker`, lets the worker carry
    /// out requests, whose answers let every device take more chains from its current tables;
    /// checks guest RAM changed only where those may write, when the tables bound that.
    private func checked(_ t: Int, runningWorker: Bool, _ body: () -> Void) {
        let involved = runningWorker ? Array(targets.indices) : [t]
        if involved.contains(where: { siblingTablesPointAnywhere($0) }) {
            body()
        } else {
            checked(allowing: involved.flatMap { deviceWritableRanges($0) }, body)
        }
    }

    /// Where outstanding requests may still write: their chains' device-writable buffers (exact:
    /// the chains were walked when they were taken), and the used rings they go back to.
    private func outstandingRanges() -> [(UInt64, UInt64)] {
        var ranges: [(UInt64, UInt64)] = []
        func add(_ chain: DescriptorChain) {
            for buffer in chain.buffers where buffer.isWritable { ranges.append((buffer.address, UInt64(buffer.length))) }
        }
        for request in block.slots.outstandingRequests { add(request.chain) }
        for request in net.receiveSlots.outstandingRequests { add(request.chain) }
        for target in targets where target.transport.device is OffloadingDevice {
            for queue in target.transport.queues where queue.isReady {
                ranges.append((queue.usedRing, 6 + 8 * UInt64(queue.size)))
            }
        }
        return ranges
    }

    /// Runs `body` and checks that guest RAM changed only inside `ranges`, or where requests
    /// taken earlier may write.
    private func checked(allowing ranges: [(UInt64, UInt64)], _ body: () -> Void) {
        let ranges = ranges + outstandingRanges()
        let ram = UnsafeRawBufferPointer(start: memory.host, count: Int(Self.ramSize))
        snapshot.withUnsafeMutableBytes { $0.copyMemory(from: ram) }
        body()
        // Allowed ranges clipped to RAM, sorted and merged; every gap between them must be unchanged.
        var clipped: [(Int, Int)] = ranges.compactMap { address, length in
            let start = max(address, Self.ramBase), end = min(address &+ length < address ? .max : address + length,
                                                              Self.ramBase + Self.ramSize)
            return start < end ? (Int(start - Self.ramBase), Int(end - Self.ramBase)) : nil
        }
        clipped.sort { $0.0 < $1.0 }
        var position = 0
        snapshot.withUnsafeBytes { before in
            for (start, end) in clipped + [(Int(Self.ramSize), Int(Self.ramSize))] {
                if start > position, memcmp(before.baseAddress! + position, ram.baseAddress! + position, start - position) != 0 {
                    let changed = (position..<start).first { before[$0] != ram[$0] }!
                    failure = "guest RAM changed at 0x\(String(Self.ramBase + UInt64(changed), radix: 16)), outside every device-writable buffer"
                    return
                }
                position = max(position, end)
            }
        }
        var info = stat()
        if failure == nil, stat(diskPath, &info) == 0, info.st_size != Self.diskSectors * 512 {
            failure = "the disk image is \(info.st_size) bytes, not \(Self.diskSectors * 512)"
        }
    }

    private func fillDataPattern() {
        let data = memory.pointer(Self.dataBase, length: Self.ramBase + Self.ramSize - Self.dataBase)!
        data.initializeMemory(as: UInt8.self, repeating: 0xA5, count: Int(Self.ramBase + Self.ramSize - Self.dataBase))
    }

    // MARK: Liveness

    /// Resets every device like a well-behaved driver and checks each queue answers: the disk
    /// reads the image's bytes and writes its status, the entropy device fills a buffer,
    /// virtio-net delivers a frame from the host and sends one to it.
    func checkDevicesStillAnswer() {
        netBackend.clear()
        for t in targets.indices where targets[t].queue == 0 {
            initialize(t, sensible: true, size: 8)
            let status = targets[t].transport.status
            guard status.contains(.driverOK), !status.contains(.needsReset) else {
                failure = "device \(t) did not come back after a reset: status \(status.rawValue)"
                return
            }
        }
        for t in targets.indices {
            let target = targets[t]
            let header = Self.dataBase, data = Self.dataBase + 64, status = Self.dataBase + 1024
            let sector = random.next() % UInt64(Self.diskSectors)
            let frame = (0..<60).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            var chain: [(UInt64, UInt32, UInt16)]
            switch target.kind {
            case .block:
                memory.store(header, UInt32(0))
                memory.store(header + 4, UInt32(0))
                memory.store(header + 8, sector)
                memory.store(status, UInt8(0xFF))
                chain = [(header, 16, 1), (data, 512, 3), (status, 1, 2)]
            case .entropy:
                chain = [(data, 512, 2)]
            case .netReceive:
                netBackend.arrive(frame)
                chain = [(data, 1526, 2)]
            case .netTransmit:
                try! memory.copyIn([UInt8](repeating: 0, count: 12) + frame, at: data, what: "frame")
                chain = [(data, 72, 0)]
            }
            for (i, (address, length, flags)) in chain.enumerated() {
                store(target.desc + 16 * UInt64(i), address: address, length: length, flags: flags, next: UInt16(i + 1))
            }
            memory.store(target.avail + 4, UInt16(0))
            memory.store(target.avail + 2, UInt16(1))
            target.transport.write(offset: 0x050, size: 4, value: UInt64(target.queue))
            runWorker()
            let usedLength = memory.load(target.used + 8, as: UInt32.self)
            guard memory.load(target.used + 2, as: UInt16.self) == 1 else {
                failure = "device \(t) did not complete a well-formed request"
                return
            }
            switch target.kind {
            case .block:
                let image = FileHandle(forReadingAtPath: diskPath)
                try? image?.seek(toOffset: sector * 512)
                let expected = (try? image?.read(upToCount: 512)).flatMap { $0.map { [UInt8]($0) } }
                try? image?.close()
                guard expected?.count == 512,
                      memory.copyOut(data, length: 512) == expected, memory.load(status, as: UInt8.self) == 0,
                      usedLength == 513 else {
                    failure = "virtio-blk read of sector \(sector) came back wrong"
                    return
                }
            case .entropy:
                guard usedLength == 512 else {
                    failure = "virtio-rng gave \(usedLength ?? 0) bytes for a 512-byte buffer"
                    return
                }
            case .netReceive:
                guard usedLength == 72, memory.copyOut(data + 12, length: 60) == frame else {
                    failure = "virtio-net received \(usedLength ?? 0) bytes, not the 60-byte frame and its header"
                    return
                }
            case .netTransmit:
                guard netBackend.lastSent == frame else {
                    failure = "virtio-net did not send the 60-byte frame"
                    return
                }
            }
            targets[t].availableIndex = 1
        }
    }
}
