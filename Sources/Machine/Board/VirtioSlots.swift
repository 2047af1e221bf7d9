import Devices
import GuestMemory
import Virtio

/// What the virt board's eight virtio-mmio slots hold: the `--disk`s, then virtio-rng, then
/// virtio-console with `--console virtio`, then the `--net`s, then empty slots (device ID 0) that
/// drivers probe and skip.
///
/// Devices fill the slots from the top, as QEMU fills them with its `-device virtio-*-device`
/// list: the device tree lists the slots highest address first (VirtDeviceTree), Linux probes
/// virtio-mmio devices in tree order, so the first disk is the first block device probed and
/// becomes vda, the second vdb. The device in slot n raises PLIC source 1 + n.
enum VirtioSlots {
    /// Opens the disks and builds the devices in slot order from the top; a virtio-console
    /// writes guest output to `consoleOutput`.
    static func devices(for config: VMConfig, consoleOutput: ByteSink? = nil) throws(ConfigError) -> [VirtioDevice] {
        var devices: [VirtioDevice] = []
        for disk in config.disks {
            devices.append(VirtioBlock(file: try open(disk), serial: serial(for: disk.path)))
        }
        // Always present, like QEMU's -device virtio-rng-device: guests seed their entropy pool from it.
        devices.append(VirtioEntropy())
        // Below the rng, so that adding it moves no disk and no rng (device names stay put).
        if config.console == .virtio, let consoleOutput {
            devices.append(VirtioConsole(output: consoleOutput))
        }
        // Last, so that adding one moves no other device; the first is probed first (eth0).
        for (network, mac) in zip(config.networks, config.networkAddresses) {
            devices.append(VirtioNet(backend: try open(network), mac: mac))
        }
        precondition(devices.count <= VirtMemoryMap.virtioCount, "VMConfig.validate bounds the disks and networks")
        return devices
    }

    /// What the guest calls each device in slot order (for `--stats`): disks vda, vdb, ... and
    /// network devices eth0, eth1, ... in that order, as Linux names them under this layout.
    static func names(_ devices: [VirtioDevice]) -> [String] {
        var disks = 0, networks = 0
        return devices.map { device in
            switch device.deviceType {
            case .block:
                defer { disks += 1 }
                return "virtio-blk vd" + String(UnicodeScalar(UInt8(ascii: "a") + UInt8(disks)))
            case .network:
                defer { networks += 1 }
                return "virtio-net eth\(networks)"
            case .entropy: return "virtio-rng"
            case .console: return "virtio-console"
            case .balloon: return "virtio-balloon"
            case .socket: return "virtio-vsock"
            }
        }
    }

    /// Maps `devices` (slot order from the top) and empty slots on the bus; returns the transports.
    static func map(_ devices: [VirtioDevice], on bus: Bus, memory: GuestMemory,
                    interrupts: InterruptSink) -> [VirtioMMIOTransport] {
        var transports: [VirtioMMIOTransport] = []
        for slot in (0..<VirtMemoryMap.virtioCount).reversed() {
            let base = VirtMemoryMap.virtio + UInt64(slot) * VirtMemoryMap.virtioSize
            let position = VirtMemoryMap.virtioCount - 1 - slot
            guard position < devices.count else {
                bus.map(VirtioMMIOEmptySlot(), at: base, length: VirtMemoryMap.virtioSize)
                continue
            }
            let transport = VirtioMMIOTransport(device: devices[position], memory: memory, interrupts: interrupts,
                                                irq: VirtMemoryMap.virtioFirstIRQ + slot)
            bus.map(transport, at: base, length: VirtMemoryMap.virtioSize)
            transports.append(transport)
        }
        return transports
    }

    private static func open(_ disk: DiskConfig) throws(ConfigError) -> BlockFile {
        do {
            return try BlockFile(path: disk.path, readOnly: disk.readOnly)
        } catch {
            switch error {
            case .missing(let path): throw .diskMissing(path: path)
            case .cannotOpen(let path, let reason): throw .diskUnusable(path: path, reason: reason, readOnly: disk.readOnly)
            case .notADisk(let path): throw .notADisk(path: path)
            case .inUse(let path): throw .diskInUse(path: path)
            }
        }
    }

    private static func open(_ network: NetConfig) throws(ConfigError) -> TapBackend {
        do {
            return try TapBackend(name: network.tap)
        } catch {
            switch error {
            case .noTunDriver(let reason): throw .noTunDriver(reason: reason)
            case .notPermitted(let name, let reason): throw .tapNotPermitted(name: name, reason: reason)
            case .inUse(let name): throw .tapInUse(name: name)
            case .notATap(let name): throw .notATap(name: name)
            case .cannotOpen(let name, let reason): throw .tapUnusable(name: name, reason: reason)
            }
        }
    }

    /// The disk's ID string (VIRTIO_BLK_T_GET_ID, /sys/block/vdX/serial in Linux): the file's
    /// name, which the device cuts to 20 bytes.
    private static func serial(for path: String) -> String {
        String(path.split(separator: "/").last ?? "")
    }
}
