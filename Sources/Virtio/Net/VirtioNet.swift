import Synchronization

/// Feature bits of the network device (virtio 1.2 section 5.1.3).
extension VirtioFeatures {
    /// VIRTIO_NET_F_CSUM: the driver may send frames with a partial checksum (NEEDS_CSUM).
    public static let netChecksum = VirtioFeatures(bit: 0)
    /// VIRTIO_NET_F_GUEST_CSUM: the driver takes frames with a partial checksum, or one found valid.
    public static let netGuestChecksum = VirtioFeatures(bit: 1)
    /// VIRTIO_NET_F_GUEST_TSO4, _TSO6, _ECN: the driver takes TCP segments of up to 64 KiB whole
    /// (Linux then posts 64 KiB receive buffers, "big packets", without MRG_RXBUF).
    public static let netGuestTSO4 = VirtioFeatures(bit: 7)
    public static let netGuestTSO6 = VirtioFeatures(bit: 8)
    public static let netGuestECN = VirtioFeatures(bit: 9)
    /// VIRTIO_NET_F_MAC: the device has an address, `mac` in the configuration space.
    public static let netMAC = VirtioFeatures(bit: 5)
    /// VIRTIO_NET_F_HOST_TSO4, _TSO6, _ECN: the driver may send TCP segments of up to 64 KiB for
    /// the device to cut (gso_type TCPV4, TCPV6, with the ECN bit).
    public static let netHostTSO4 = VirtioFeatures(bit: 11)
    public static let netHostTSO6 = VirtioFeatures(bit: 12)
    public static let netHostECN = VirtioFeatures(bit: 13)
    /// VIRTIO_NET_F_STATUS: `status` in the configuration space is valid (the link is up).
    public static let netStatus = VirtioFeatures(bit: 16)

    /// The transmit offloads: any of them lets the driver's headers through to the host.
    static let netTransmitOffloads: VirtioFeatures = [.netChecksum, .netHostTSO4, .netHostTSO6, .netHostECN]
    /// The receive segmentation offloads.
    static let netGuestTSO: VirtioFeatures = [.netGuestTSO4, .netGuestTSO6, .netGuestECN]
}

/// The network device, virtio-net (device ID 1, virtio 1.2 section 5.1), over a `NetBackend`
/// (a host TAP interface). One queue pair and no control queue:
///
///     receiveq (0)   device-writable buffers: a virtio_net_hdr, then a frame from the host
///     transmitq (1)  device-readable buffers: a virtio_net_hdr, then a frame for the host
///
/// Offloads, as QEMU's virtio-net on a vnet-header TAP: toward the host, partial checksums (CSUM)
/// and TCP segments of up to 64 KiB (HOST_TSO4, HOST_TSO6, HOST_ECN); the driver's header is
/// checked (`VirtioNetHeader.checkTransmit`) and handed to the backend, whose kernel finishes
/// the checksum and cuts the segment. Toward the guest, partial or verified checksums
/// (GUEST_CSUM, TUN_F_CSUM on the backend) and TCP segments of up to 64 KiB (GUEST_TSO4,
/// GUEST_TSO6, GUEST_ECN, TUN_F_TSO* on the backend), which fit the 64 KiB buffers a driver posts
/// for them without MRG_RXBUF (5.1.6.3.1); a segment larger than its buffer is dropped like any
/// frame. A driver that accepts none of the transmit offloads has its
/// headers replaced by zero ones, and without GUEST_CSUM the backend is told no offloads and the
/// guest gets zero headers, so frames are finished Ethernet frames both ways as without offloads.
/// Every receive header has num_buffers = 1 (5.1.6.4: one buffer per frame without MRG_RXBUF).
///
/// Frames for the guest are read from the backend only into a receive buffer the driver posted
/// (`VirtioNet+Receive.swift`): on the attached `DeviceWorker` (Machine's I/O thread, which polls
/// the backend), or without one between hart slices (`pollReceive`) and when the driver posts
/// buffers. Otherwise they wait in the backend, so the VMM holds at most one frame, in `frame`.
/// A frame larger than the buffer it would go into is dropped and the buffer returned empty
/// (Linux counts a length error and posts it again). Transmit chains are taken when the driver
/// notifies and the frames sent on the worker, in order, so the harts run on while the host's
/// network stack takes them (`VirtioNet+Transmit.swift`).
///
/// A transmit chain with a device-writable buffer, no room for the header, a frame over
/// `maxFrameLength` or a header that fails its check, and a receive chain with a device-readable
/// buffer or no room for the header, set DEVICE_NEEDS_RESET (for the whole device: receiving stops too).
public final class VirtioNet: OffloadingDevice {
    public static let queueSize: UInt16 = 256
    static let receiveQueue = 0
    static let transmitQueue = 1
    /// The longest frame either way: 5.1.6.3.1 has drivers that take large packets post 65562-byte
    /// buffers, a 12-byte header and 65550 bytes of frame (64 KiB of IP, Ethernet and VLAN headers).
    /// A TSO segment from Linux fits: its GSO limit (65536 bytes) counts the whole frame.
    public static let maxFrameLength = 65550
    /// Frames taken from the backend per poll at most, so one poll's work stays bounded.
    static let maxFramesPerPoll = 64
    /// struct virtio_net_hdr (5.1.6): flags, gso_type, hdr_len, gso_size, csum_start, csum_offset,
    /// and num_buffers, which a driver that did not accept VIRTIO_F_VERSION_1 leaves out.
    static let headerLength = VirtioNetHeader.length
    static let legacyHeaderLength = 10
    /// VIRTIO_NET_S_LINK_UP in the configuration space's `status`.
    static let statusLinkUp: UInt64 = 1

    /// What crossed the device, for tests and diagnostics.
    public struct Counters: Equatable, Sendable {
        /// Frames (and their bytes, Ethernet header on, virtio-net header off) the guest sent
        /// that the backend took.
        public var transmitted = 0
        public var transmittedBytes = 0
        /// Frames the backend did not take (its queue was full, the interface down, or the host
        /// refused the header).
        public var transmitDropped = 0
        /// Of `transmitted`, the TCP segments the guest left for the host to cut (TSO).
        public var transmittedSegments = 0
        /// Frames (and their bytes) put in the guest's receive buffers.
        public var received = 0
        public var receivedBytes = 0
        /// Of `received`, the TCP segments of up to 64 KiB the guest took whole (GUEST_TSO).
        public var receivedSegments = 0
        /// Frames taken from the backend that no guest buffer could hold, or with offloads the
        /// guest did not accept.
        public var receiveDropped = 0
    }

    public let deviceType = VirtioDeviceType.network
    public let deviceFeatures: VirtioFeatures = [.netChecksum, .netGuestChecksum, .netGuestTSO4, .netGuestTSO6,
                                                 .netGuestECN, .netMAC, .netHostTSO4, .netHostTSO6, .netHostECN, .netStatus]
    public let queueMaxSizes = [VirtioNet.queueSize, VirtioNet.queueSize]
    public let mac: MACAddress
    public let backend: NetBackend
    public internal(set) var counters = Counters()
    private let config: VirtioConfigSpace
    /// One header and frame on its way from the backend, as the backend hands them over: the
    /// 12-byte header, then a frame one byte longer than the longest so that a longer frame from
    /// the backend shows as too long instead of quietly cut.
    ///
    /// The receive side (the worker, or the harts' thread without one) owns it and
    /// `heldReceives`; the transmit side owns `transmitFrame`.
    let frame: UnsafeMutableRawBufferPointer
    /// The same for the frame on its way to the backend.
    let transmitFrame: UnsafeMutableRawBufferPointer
    /// The guest's header: 12 bytes, or 10 for a driver without VIRTIO_F_VERSION_1.
    var headerLength = VirtioNet.headerLength
    var features: VirtioFeatures = []
    var receiveq: Virtqueue?
    var transmitq: Virtqueue?
    /// One slot per chain the driver can have out at once, per queue.
    let transmitSlots = RequestSlots(count: Int(VirtioNet.queueSize)) { TransmitRequest() }
    let receiveSlots = RequestSlots(count: Int(VirtioNet.queueSize)) { ReceiveRequest() }
    /// Receive buffers handed over and waiting for a frame, oldest first: frames fill them in
    /// the order the driver posted them.
    var heldReceives = SlotFIFO(capacity: Int(VirtioNet.queueSize))
    /// Set on the harts' thread when the device resets or breaks: the receive side gives up the
    /// buffers it holds instead of filling them, and reads no frame.
    let stopReceiving = Atomic<Bool>(false)
    /// Receive buffers handed over that the receive side has not yet tried to fill: it counts
    /// them off only after its pass over the frames waiting, so a test (or a reset) that sees 0
    /// knows every frame that waited when the buffers came has been delivered.
    let receivesUnexamined = Atomic<Int>(0)
    /// Slot numbers `finishCompleted` answers; kept to reuse their storage.
    var completedTransmits: [Int] = []
    var completedReceives: [Int] = []
    var worker: DeviceWorker?
    /// The driver broke a queue: the transport set NEEDS_RESET, nothing moves until a reset.
    var failed = false
    weak var interrupt: VirtioInterrupt?

    public init(backend: NetBackend, mac: MACAddress) {
        self.backend = backend
        self.mac = mac
        frame = .allocate(byteCount: Self.headerLength + Self.maxFrameLength + 1, alignment: 16)
        transmitFrame = .allocate(byteCount: Self.headerLength + Self.maxFrameLength, alignment: 16)
        // struct virtio_net_config (5.1.4): mac[6], le16 status, le16 max_virtqueue_pairs (only
        // with VIRTIO_NET_F_MQ), le16 mtu (only with VIRTIO_NET_F_MTU); neither is offered, so
        // those two stay 0. The driver cannot change the address here (that takes the control
        // queue), so writes are ignored.
        var config = VirtioConfigSpace(size: 12)
        for (i, byte) in mac.bytes.enumerated() { config.set(offset: i, size: 1, UInt64(byte)) }
        config.set(offset: 6, size: 2, Self.statusLinkUp)
        self.config = config
    }

    deinit {
        frame.deallocate()
        transmitFrame.deallocate()
    }

    // MARK: VirtioDevice

    public func readConfig(offset: Int, size: Int) -> UInt64 {
        config.read(offset: offset, size: size)
    }

    public var statistics: [String: UInt64] {
        ["framesTransmitted": UInt64(counters.transmitted), "bytesTransmitted": UInt64(counters.transmittedBytes),
         "transmitDropped": UInt64(counters.transmitDropped), "segmentsTransmitted": UInt64(counters.transmittedSegments),
         "segmentsReceived": UInt64(counters.receivedSegments),
         "framesReceived": UInt64(counters.received), "bytesReceived": UInt64(counters.receivedBytes),
         "receiveDropped": UInt64(counters.receiveDropped)]
    }

    /// 5.1.3.1: GUEST_TSO4 and GUEST_TSO6 need GUEST_CSUM, and GUEST_ECN needs one of them (a
    /// segment's checksum is left for the receiver, and ECN is a flag on segments); the host's
    /// TAP would refuse those receive offloads anyway. (A transmit header that asks for what was
    /// not negotiated is caught per frame instead, `VirtioNetHeader.checkTransmit`.)
    public func accepts(_ features: VirtioFeatures) -> Bool {
        func needs(_ feature: VirtioFeatures, _ any: VirtioFeatures) -> Bool {
            !features.contains(feature) || !features.isDisjoint(with: any)
        }
        return needs(.netGuestTSO4, .netGuestChecksum) && needs(.netGuestTSO6, .netGuestChecksum)
            && needs(.netGuestECN, [.netGuestTSO4, .netGuestTSO6])
    }

    public func activate(features: VirtioFeatures, queues: [Virtqueue], interrupt: VirtioInterrupt) throws(VirtioError) {
        headerLength = features.contains(.version1) ? Self.headerLength : Self.legacyHeaderLength
        self.features = features
        // Only what the guest takes whole may come from the host (TUNSETOFFLOAD names what the
        // reader accepts; writes take any header). A TAP refuses TUN_F_CSUM only on a kernel
        // older than 2.6.27; the backend then keeps none, as reset left it.
        var offloads: NetOffloads = features.contains(.netGuestChecksum) ? .checksum : []
        if features.contains(.netGuestTSO4) { offloads.insert(.tso4) }
        if features.contains(.netGuestTSO6) { offloads.insert(.tso6) }
        if features.contains(.netGuestECN) { offloads.insert(.tsoECN) }
        guard backend.setReceiveOffloads(offloads) else {
            throw .malformedRequest("virtio-net: the host refused receive offloads 0x\(String(offloads.rawValue, radix: 16))")
        }
        self.interrupt = interrupt
        receiveq = queues[Self.receiveQueue]
        transmitq = queues[Self.transmitQueue]
    }

    public func reset() {
        // Requests on the worker read or write guest memory: they end before the reset does.
        // Receive buffers waiting there for a frame are given up instead of filled.
        stopReceiving.store(true, ordering: .releasing)
        if let worker, transmitSlots.outstanding > 0 || receiveSlots.outstanding > 0 {
            worker.waitUntilIdle(self)
        }
        if worker == nil { _ = performReceive() }  // gives up the held buffers on this thread
        transmitSlots.reclaimAll()
        receiveSlots.reclaimAll()
        stopReceiving.store(false, ordering: .releasing)
        interrupt = nil
        receiveq = nil
        transmitq = nil
        failed = false
        headerLength = Self.headerLength
        // Setting none never fails on a TAP that took some.
        _ = backend.setReceiveOffloads([])
        features = []
    }

    public func queueNotified(_ queue: Virtqueue) throws(VirtioError) {
        do {
            if queue.index == Self.transmitQueue {
                try takeTransmitRequests(from: queue)
            } else {
                // New receive buffers: frames that waited for them go now.
                try takeReceiveBuffers()
            }
        } catch {
            failed = true
            stopReceiving.store(true, ordering: .releasing)
            throw error
        }
    }

    // MARK: OffloadingDevice

    public func attach(worker: DeviceWorker) {
        self.worker = worker
    }

    public func performSubmitted() -> Bool {
        var completed = false
        while let slot = transmitSlots.nextSubmitted() {
            send(transmitSlots.requests[slot])
            transmitSlots.complete(slot)
            completed = true
        }
        return performReceive() > 0 || completed
    }

    public func finishCompleted() {
        finishTransmits()
        finishReceives()
    }

    public var requestsInFlight: Int {
        transmitSlots.inFlight
            + (stopReceiving.load(ordering: .acquiring) ? receiveSlots.inFlight : receivesUnexamined.load(ordering: .acquiring))
    }

    public var requestsOutstanding: Int { transmitSlots.outstanding + receiveSlots.outstanding }

    public var workerReadinessDescriptor: Int32? {
        heldReceives.isEmpty ? nil : backend.readinessDescriptor
    }

    /// Asks the driver for an interrupt if the buffers just returned call for one.
    func notifyIfNeeded(_ queue: Virtqueue) {
        if queue.needsNotification() { interrupt?.usedBuffers(queue: queue.index) }
    }

    /// The driver broke a queue outside a notification (found between hart slices or when
    /// answering): nothing moves until it resets the device.
    func fail(_ error: VirtioError) {
        failed = true
        stopReceiving.store(true, ordering: .releasing)
        interrupt?.deviceFailed(error)
    }
}
