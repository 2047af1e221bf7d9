import Devices

/// Feature bits of the console device (virtio 1.2 section 5.3.3).
extension VirtioFeatures {
    /// VIRTIO_CONSOLE_F_SIZE: `cols` and `rows` in the configuration space are valid.
    public static let consoleSize = VirtioFeatures(bit: 0)
}

/// The console device, virtio-console (device ID 3, virtio 1.2 section 5.3), with port 0 only:
/// no VIRTIO_CONSOLE_F_MULTIPORT, so there are no control queues and the driver never sends
/// port messages. Linux makes port 0 the hvc0 console (`console=hvc0`).
///
///     receiveq (0)   device-writable buffers the device fills with host input
///     transmitq (1)  device-readable buffers of guest output, written to `output`
///
/// Output is handled when the driver notifies the transmitq. Input is pushed by the machine,
/// which calls `receive(from:)` between hart slices as it feeds the UART; the device keeps one
/// receive buffer popped ahead, so that `canReceive` says whether input would go anywhere
/// and the machine leaves bytes in its own queue otherwise (nothing is dropped).
public final class VirtioConsole: VirtioDevice {
    public static let queueSize: UInt16 = 64
    static let receiveQueue = 0
    static let transmitQueue = 1
    /// Bytes of one transmit chain passed to `output` at most: bounds the work a single chain can
    /// cause (a chain may cover up to 4 GiB of guest RAM); the rest is dropped.
    static let maxBytesPerTransmit: UInt64 = 64 << 10

    public let deviceType = VirtioDeviceType.console
    public let deviceFeatures: VirtioFeatures = [.consoleSize]
    public let queueMaxSizes = [VirtioConsole.queueSize, VirtioConsole.queueSize]
    private let output: ByteSink
    private let config: VirtioConfigSpace
    private var transmitChain = DescriptorChain(capacity: Int(VirtioConsole.queueSize))
    private var receiveChain = DescriptorChain(capacity: Int(VirtioConsole.queueSize))
    /// `receiveChain` was popped and not yet pushed back; `receiveFilled` bytes of it are written.
    private var holdingReceiveChain = false
    private var receiveFilled: UInt64 = 0
    private var receiveq: Virtqueue?
    /// Set when a receive found the queue broken: the transport set NEEDS_RESET, so input stops
    /// until the driver resets the device.
    private var failed = false
    private weak var interrupt: VirtioInterrupt?
    /// Bytes of host input given to the guest, and of guest output passed to `output`, for `--stats`.
    public private(set) var bytesIn: UInt64 = 0
    public private(set) var bytesOut: UInt64 = 0

    /// `columns` x `rows` is the size the guest's hvc0 reports (struct virtio_console_config).
    public init(output: ByteSink, columns: UInt16 = 80, rows: UInt16 = 25) {
        self.output = output
        // struct virtio_console_config (5.3.4): le16 cols, le16 rows, le32 max_nr_ports,
        // le32 emerg_wr. max_nr_ports is valid only with MULTIPORT and emerg_wr with
        // EMERG_WRITE, neither offered, so both stay 0 and writes are ignored.
        var config = VirtioConfigSpace(size: 12)
        config.set(offset: 0, size: 2, UInt64(columns))
        config.set(offset: 2, size: 2, UInt64(rows))
        self.config = config
    }

    // MARK: VirtioDevice

    public func readConfig(offset: Int, size: Int) -> UInt64 {
        config.read(offset: offset, size: size)
    }

    public var statistics: [String: UInt64] { ["bytesIn": bytesIn, "bytesOut": bytesOut] }

    public func activate(features: VirtioFeatures, queues: [Virtqueue], interrupt: VirtioInterrupt) throws(VirtioError) {
        self.interrupt = interrupt
        receiveq = queues[Self.receiveQueue]
    }

    public func reset() {
        interrupt = nil
        receiveq = nil
        holdingReceiveChain = false
        receiveFilled = 0
        failed = false
    }

    public func queueNotified(_ queue: Virtqueue) throws(VirtioError) {
        // New receive buffers are taken when input arrives (receive(from:)); nothing to do now.
        guard queue.index == Self.transmitQueue else { return }
        defer {
            if queue.needsNotification() { interrupt?.usedBuffers(queue: queue.index) }
        }
        while try popTransmit(queue) {
            // 5.3.6.1: transmit buffers are device-readable; writable ones are ignored.
            transmitChain.withSegments(.readable, offset: 0,
                                       count: min(transmitChain.readableLength, Self.maxBytesPerTransmit)) { p, n in
                for i in 0..<n { output.write(byte: p.load(fromByteOffset: i, as: UInt8.self)) }
                bytesOut &+= UInt64(n)
                return true
            }
            queue.push(transmitChain, written: 0)
        }
    }

    /// Pops the next transmit chain; a broken transmitq stops input too, since the transport
    /// sets NEEDS_RESET for the whole device.
    private func popTransmit(_ queue: Virtqueue) throws(VirtioError) -> Bool {
        do {
            return try queue.pop(into: &transmitChain)
        } catch {
            failed = true
            holdingReceiveChain = false
            throw error
        }
    }

    // MARK: Input from the host

    /// Whether the driver has a receive buffer ready: input given now reaches the guest.
    /// Pops one ahead when needed, so call it between hart slices, not from another thread.
    public var canReceive: Bool {
        guard !failed, let queue = receiveq, queue.isReady else { return false }
        if holdingReceiveChain { return true }
        do {
            // 5.3.6.1: receive buffers are device-writable; one without writable bytes cannot
            // take input and goes back unused, as virtio-rng returns readable-only chains.
            while try queue.pop(into: &receiveChain) {
                if receiveChain.writableLength > 0 {
                    holdingReceiveChain = true
                    receiveFilled = 0
                    return true
                }
                queue.push(receiveChain, written: 0)
            }
            notifyIfNeeded(queue)
        } catch {
            fail(error)
        }
        return false
    }

    /// Copies bytes from `next` into receive buffers until it returns nil or no buffer is left,
    /// then hands the filled buffers to the driver. Bytes are taken only when a buffer can hold
    /// them. Returns the number of bytes delivered.
    @discardableResult
    public func receive(from next: () -> UInt8?) -> Int {
        var delivered = 0
        while canReceive, let queue = receiveq {
            guard let byte = next() else { break }
            receiveChain.storeWritableByte(byte, at: receiveFilled)
            receiveFilled += 1
            delivered += 1
            if receiveFilled == receiveChain.writableLength { pushReceiveChain(queue) }
        }
        // Input is passed on as soon as it arrives: a partly filled buffer goes back too.
        if holdingReceiveChain && receiveFilled > 0, let queue = receiveq { pushReceiveChain(queue) }
        if let queue = receiveq { notifyIfNeeded(queue) }
        bytesIn &+= UInt64(delivered)
        return delivered
    }

    private func pushReceiveChain(_ queue: Virtqueue) {
        queue.push(receiveChain, written: UInt32(receiveFilled))
        holdingReceiveChain = false
        receiveFilled = 0
    }

    private func notifyIfNeeded(_ queue: Virtqueue) {
        if queue.needsNotification() { interrupt?.usedBuffers(queue: queue.index) }
    }

    /// A broken receive queue outside a driver notification: the transport sets NEEDS_RESET as
    /// it does for errors thrown from `queueNotified`.
    private func fail(_ error: VirtioError) {
        failed = true
        holdingReceiveChain = false
        interrupt?.deviceFailed(error)
    }
}
