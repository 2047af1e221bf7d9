import Devices
import GuestMemory

/// The virtio-mmio register block, version 2 (virtio 1.2 section 4.2.2, table "MMIO Device
/// Register Layout"). Control registers are 32 bits wide; the device configuration space
/// starts at 0x100.
enum VirtioMMIORegister: UInt64 {
    case magicValue = 0x000         // R  0x74726976 ("virt")
    case version = 0x004            // R  2: the modern transport
    case deviceID = 0x008           // R  VirtioDeviceType, 0 for none
    case vendorID = 0x00c           // R
    case deviceFeatures = 0x010     // R  32 feature bits, the half DeviceFeaturesSel picks
    case deviceFeaturesSel = 0x014  // W
    case driverFeatures = 0x020     // W  32 accepted bits, the half DriverFeaturesSel picks
    case driverFeaturesSel = 0x024  // W
    case queueSel = 0x030           // W  the queue the Queue* registers address
    case queueNumMax = 0x034        // R  0 when the queue does not exist
    case queueNum = 0x038           // W
    case queueReady = 0x044         // RW
    case queueNotify = 0x050        // W  a queue index: new buffers are available
    case interruptStatus = 0x060    // R  bit 0: used buffers, bit 1: configuration change
    case interruptACK = 0x064       // W
    case status = 0x070             // RW the device status (2.1); 0 resets
    case queueDescLow = 0x080       // W
    case queueDescHigh = 0x084      // W
    case queueDriverLow = 0x090     // W  the available ring
    case queueDriverHigh = 0x094    // W
    case queueDeviceLow = 0x0a0     // W  the used ring
    case queueDeviceHigh = 0x0a4    // W
    case shmSel = 0x0ac             // W  shared memory regions: none here
    case shmLenLow = 0x0b0          // R
    case shmLenHigh = 0x0b4         // R
    case shmBaseLow = 0x0b8         // R
    case shmBaseHigh = 0x0bc        // R
    case queueReset = 0x0c0         // RW only with VIRTIO_F_RING_RESET, which is not offered
    case configGeneration = 0x0fc   // R

    static let configSpace: UInt64 = 0x100
}

/// A virtio device behind one virtio-mmio slot of the board: the transport of virtio 1.2
/// section 4.2, version 2 (modern, no legacy interface).
///
/// It keeps the device status and the feature negotiation (2.1, 2.2), the queues'
/// configuration, and the interrupt: the slot's PLIC line is high while InterruptStatus is not
/// zero, as on QEMU. The guest is hostile: accesses of the wrong width or to unknown offsets
/// read 0 and are ignored, queue configuration written while the queue is ready is ignored, and
/// a broken queue or request sets DEVICE_NEEDS_RESET (with a configuration change interrupt
/// once DRIVER_OK is set) and silences the device until the driver resets it.
public final class VirtioMMIOTransport: MMIODevice, VirtioInterrupt {
    public static let magic: UInt32 = 0x7472_6976  // "virt"
    public static let version: UInt32 = 2
    /// QEMU's vendor ID ("QEMU"): some guests check it (GUESTS.md).
    public static let vendorQEMU: UInt32 = 0x554D_4551

    /// InterruptStatus bits (4.2.2).
    static let interruptUsedBuffers: UInt32 = 1
    static let interruptConfigurationChange: UInt32 = 2

    public let name: String
    public let device: VirtioDevice
    public let queues: [Virtqueue]
    private let interrupts: InterruptSink
    private let irq: Int
    private let offeredFeatures: VirtioFeatures

    public private(set) var status: VirtioDeviceStatus = []
    public private(set) var interruptStatus: UInt32 = 0
    /// Features the driver accepted when it set FEATURES_OK (or DRIVER_OK, if it skipped it).
    public private(set) var negotiatedFeatures: VirtioFeatures = []
    /// The last protocol violation that set DEVICE_NEEDS_RESET, for diagnostics and tests.
    public private(set) var lastError: VirtioError?

    /// What crossed the transport, for `--stats`.
    public struct Counters: Equatable, Sendable {
        /// QueueNotify writes handed to the device (a ready queue of an active device).
        public var queueNotifications: UInt64 = 0
        /// Used buffer and configuration change notifications: InterruptStatus bits set.
        public var interrupts: UInt64 = 0
        /// Times the device entered DEVICE_NEEDS_RESET (a driver broke the protocol).
        public var needsReset: UInt64 = 0
    }
    public private(set) var counters = Counters()

    /// The device's counters and the transport's, for `--stats`.
    public var statistics: [String: UInt64] {
        device.statistics.merging([
            "queueNotifications": counters.queueNotifications,
            "interrupts": counters.interrupts,
            "needsReset": counters.needsReset,
        ]) { device, _ in device }
    }

    private var deviceFeaturesSelect: UInt32 = 0
    private var driverFeaturesSelect: UInt32 = 0
    private var driverFeatures: VirtioFeatures = []
    private var queueSelect: UInt32 = 0
    private var configGeneration: UInt32 = 0
    /// The device was activated (DRIVER_OK) and not reset since.
    private var isActive = false

    public init(device: VirtioDevice, memory: GuestMemory, interrupts: InterruptSink, irq: Int) {
        self.device = device
        self.interrupts = interrupts
        self.irq = irq
        self.name = "virtio-mmio (\(device.deviceType))"
        offeredFeatures = device.deviceFeatures.intersection(.deviceTypeBits).union(.core)
        queues = device.queueMaxSizes.enumerated().map { Virtqueue(index: $0, maxSize: $1, memory: memory) }
    }

    // MARK: MMIODevice

    public func read(offset: UInt64, size: Int) -> UInt64 {
        if offset >= VirtioMMIORegister.configSpace {
            return device.readConfig(offset: Int(offset - VirtioMMIORegister.configSpace), size: size)
        }
        // 4.2.2.2: the driver uses only 32-bit aligned accesses for control registers.
        guard size == 4, let register = VirtioMMIORegister(rawValue: offset) else { return 0 }
        return UInt64(readRegister(register))
    }

    public func write(offset: UInt64, size: Int, value: UInt64) {
        if offset >= VirtioMMIORegister.configSpace {
            device.writeConfig(offset: Int(offset - VirtioMMIORegister.configSpace), size: size, value: value)
            return
        }
        guard size == 4, let register = VirtioMMIORegister(rawValue: offset) else { return }
        writeRegister(register, UInt32(truncatingIfNeeded: value))
    }

    private func readRegister(_ register: VirtioMMIORegister) -> UInt32 {
        switch register {
        case .magicValue: return Self.magic
        case .version: return Self.version
        case .deviceID: return device.deviceType.rawValue
        case .vendorID: return Self.vendorQEMU
        case .deviceFeatures: return offeredFeatures.word(deviceFeaturesSelect)
        case .queueNumMax: return selectedQueue.map { UInt32($0.maxSize) } ?? 0
        case .queueReady: return selectedQueue.map { $0.isReady ? 1 : 0 } ?? 0
        case .interruptStatus: return interruptStatus
        case .status: return status.rawValue
        case .configGeneration: return configGeneration
        // 4.2.2: a shared memory region that does not exist has length and base -1.
        case .shmLenLow, .shmLenHigh, .shmBaseLow, .shmBaseHigh: return 0xFFFF_FFFF
        // Write-only registers read back what was written, as QEMU's do, which helps debugging.
        case .queueNum: return selectedQueue.map { UInt32($0.size) } ?? 0
        case .queueDescLow: return selectedQueue.map { low($0.descriptorTable) } ?? 0
        case .queueDescHigh: return selectedQueue.map { high($0.descriptorTable) } ?? 0
        case .queueDriverLow: return selectedQueue.map { low($0.availableRing) } ?? 0
        case .queueDriverHigh: return selectedQueue.map { high($0.availableRing) } ?? 0
        case .queueDeviceLow: return selectedQueue.map { low($0.usedRing) } ?? 0
        case .queueDeviceHigh: return selectedQueue.map { high($0.usedRing) } ?? 0
        case .deviceFeaturesSel, .driverFeatures, .driverFeaturesSel, .queueSel, .queueNotify,
             .interruptACK, .shmSel, .queueReset:
            return 0
        }
    }

    private func writeRegister(_ register: VirtioMMIORegister, _ value: UInt32) {
        switch register {
        case .deviceFeaturesSel: deviceFeaturesSelect = value
        case .driverFeaturesSel: driverFeaturesSelect = value
        case .driverFeatures:
            // Features are fixed once FEATURES_OK is set (3.1.1).
            guard !status.contains(.featuresOK), !isActive else { return }
            driverFeatures = driverFeatures.replacingWord(driverFeaturesSelect, with: value)
        case .queueSel: queueSelect = value
        case .queueNum: configureSelectedQueue { $0.size = UInt16(truncatingIfNeeded: value) }
        case .queueDescLow: configureSelectedQueue { $0.descriptorTable = setLow($0.descriptorTable, value) }
        case .queueDescHigh: configureSelectedQueue { $0.descriptorTable = setHigh($0.descriptorTable, value) }
        case .queueDriverLow: configureSelectedQueue { $0.availableRing = setLow($0.availableRing, value) }
        case .queueDriverHigh: configureSelectedQueue { $0.availableRing = setHigh($0.availableRing, value) }
        case .queueDeviceLow: configureSelectedQueue { $0.usedRing = setLow($0.usedRing, value) }
        case .queueDeviceHigh: configureSelectedQueue { $0.usedRing = setHigh($0.usedRing, value) }
        case .queueReady: setSelectedQueueReady(value & 1 != 0)
        case .queueNotify: notify(queue: value)
        case .interruptACK:
            interruptStatus &= ~value
            updateInterruptLine()
        case .status: writeStatus(value)
        case .magicValue, .version, .deviceID, .vendorID, .deviceFeatures, .queueNumMax,
             .interruptStatus, .configGeneration, .shmSel, .shmLenLow, .shmLenHigh, .shmBaseLow,
             .shmBaseHigh, .queueReset:
            return
        }
    }

    // MARK: Queues

    private var selectedQueue: Virtqueue? {
        queueSelect < UInt32(queues.count) ? queues[Int(queueSelect)] : nil
    }

    /// 4.2.3.2: the driver configures a queue only while it is not ready; later writes are ignored.
    private func configureSelectedQueue(_ change: (Virtqueue) -> Void) {
        guard let queue = selectedQueue, !queue.isReady else { return }
        change(queue)
    }

    private func setSelectedQueueReady(_ ready: Bool) {
        guard let queue = selectedQueue else { return }
        guard ready else {
            queue.disable()
            return
        }
        guard !queue.isReady else { return }
        do {
            try queue.enable()
        } catch {
            fail(error)
        }
    }

    /// QueueNotify (4.2.3.3): without VIRTIO_F_NOTIFICATION_DATA the value is the queue index.
    private func notify(queue index: UInt32) {
        guard isActive, !status.contains(.needsReset), index < UInt32(queues.count) else { return }
        let queue = queues[Int(index)]
        guard queue.isReady else { return }
        counters.queueNotifications &+= 1
        do {
            try device.queueNotified(queue)
        } catch {
            fail(error)
        }
    }

    // MARK: Device status and features

    private func writeStatus(_ value: UInt32) {
        if value == 0 {
            reset()
            return
        }
        // The driver never clears bits except by writing 0 (2.1.1), so they only accumulate;
        // DEVICE_NEEDS_RESET belongs to the device.
        var new = VirtioDeviceStatus(rawValue: value & 0xFF).subtracting(.needsReset).union(status)
        if new.contains(.featuresOK) && !status.contains(.featuresOK) && !negotiate() {
            new.remove(.featuresOK)
        }
        status = new
        if new.contains(.driverOK) && !isActive && !new.contains(.needsReset) {
            activate()
        }
    }

    /// FEATURES_OK (2.2.1, 3.1.1 step 5): the driver may accept any subset of the offer. A subset
    /// without VIRTIO_F_VERSION_1 is accepted too, as QEMU does: some guests never accept it.
    private func negotiate() -> Bool {
        guard driverFeatures.isSubset(of: offeredFeatures), device.accepts(driverFeatures) else { return false }
        negotiatedFeatures = driverFeatures
        return true
    }

    private func activate() {
        if !status.contains(.featuresOK) {
            // A driver that skipped FEATURES_OK gets what it asked for, within the offer.
            negotiatedFeatures = driverFeatures.intersection(offeredFeatures)
        }
        for queue in queues { queue.configure(features: negotiatedFeatures) }
        isActive = true
        do {
            try device.activate(features: negotiatedFeatures, queues: queues, interrupt: self)
        } catch {
            fail(error)
        }
    }

    /// Device reset (2.4, 4.2.2.1): the device forgets everything the driver set up, clears
    /// InterruptStatus and every queue's ready bit.
    public func reset() {
        device.reset()
        for queue in queues { queue.reset() }
        status = []
        isActive = false
        driverFeatures = []
        negotiatedFeatures = []
        deviceFeaturesSelect = 0
        driverFeaturesSelect = 0
        queueSelect = 0
        interruptStatus = 0
        updateInterruptLine()
    }

    /// The driver broke the protocol: DEVICE_NEEDS_RESET, and the driver hears of it through a
    /// configuration change notification when it is running (2.1.2).
    private func fail(_ error: VirtioError) {
        lastError = error
        if !status.contains(.needsReset) { counters.needsReset &+= 1 }
        status.insert(.needsReset)
        if status.contains(.driverOK) { configurationChanged() }
    }

    // MARK: VirtioInterrupt

    public func usedBuffers(queue: Int) {
        counters.interrupts &+= 1
        interruptStatus |= Self.interruptUsedBuffers
        updateInterruptLine()
    }

    public func deviceFailed(_ error: VirtioError) {
        guard isActive, !status.contains(.needsReset) else { return }
        fail(error)
    }

    public func configurationChanged() {
        configGeneration &+= 1
        counters.interrupts &+= 1
        interruptStatus |= Self.interruptConfigurationChange
        updateInterruptLine()
    }

    private func updateInterruptLine() {
        interrupts.setLevel(irq: irq, high: interruptStatus != 0)
    }
}

private func low(_ value: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: value) }
private func high(_ value: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: value >> 32) }
private func setLow(_ value: UInt64, _ word: UInt32) -> UInt64 { (value & 0xFFFF_FFFF_0000_0000) | UInt64(word) }
private func setHigh(_ value: UInt64, _ word: UInt32) -> UInt64 { (value & 0x0000_0000_FFFF_FFFF) | UInt64(word) << 32 }
