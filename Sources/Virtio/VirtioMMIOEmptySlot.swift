import Devices

/// A virtio-mmio slot with no device behind it (virtio 1.2 spec 4.2.2: a device ID of 0 means
/// "no device"). QEMU's virt board answers its eight slots this way, and drivers probe all the
/// slots the device tree names, so empty slots must answer rather than fault.
public final class VirtioMMIOEmptySlot: MMIODevice {
    public let name = "virtio-mmio (empty)"
    static let magic: UInt64 = 0x7472_6976       // "virt"
    static let version: UInt64 = 2               // modern (non-legacy) transport
    static let vendorQEMU: UInt64 = 0x554D_4551  // "QEMU": some guests check it

    public init() {}

    public func read(offset: UInt64, size: Int) -> UInt64 {
        guard size == 4 else { return 0 }
        switch offset {
        case 0x000: return Self.magic
        case 0x004: return Self.version
        case 0x008: return 0            // DeviceID: none
        case 0x00c: return Self.vendorQEMU
        default: return 0
        }
    }

    public func write(offset: UInt64, size: Int, value: UInt64) {}
}
