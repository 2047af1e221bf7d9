/// Ways a driver can break the virtio protocol so that the device cannot go on. Each one sets
/// DEVICE_NEEDS_RESET (virtio 1.2 section 2.1.2) and the device stops using its queues until the
/// driver resets it; the guest is hostile, so none of these is a bug of ours.
///
/// Errors a device can report inside a request (a block read past the end, an unknown command)
/// are not here: they go back to the driver as a status in the request (5.2.6).
public enum VirtioError: Error, Equatable, Sendable, CustomStringConvertible {
    // The queue's configuration (4.2.2: QueueNum, QueueDesc, QueueDriver, QueueDevice).
    case queueSizeInvalid(queue: Int, size: UInt16, max: UInt16)
    case ringOutsideMemory(queue: Int, area: String, address: UInt64)
    case ringMisaligned(queue: Int, area: String, address: UInt64)

    // The available ring (2.7.6).
    case availableIndexJumped(queue: Int, from: UInt16, to: UInt16)
    case headOutOfRange(queue: Int, head: UInt16)

    // A descriptor chain (2.7.5).
    case nextOutOfRange(index: UInt16, tableSize: UInt32)
    case bufferOutsideMemory(address: UInt64, length: UInt32)
    case emptyBuffer(address: UInt64)
    case chainTooLong(limit: Int)
    case chainBytesOverflow
    case readableAfterWritable
    case indirectNotNegotiated
    case indirectNested
    case indirectWithNext
    case indirectTableLength(UInt32)

    /// A request the device cannot even answer (e.g. a block request with no status byte).
    case malformedRequest(String)

    public var description: String {
        switch self {
        case .queueSizeInvalid(let queue, let size, let max):
            return "queue \(queue): size \(size) is not a power of two in 1...\(max)"
        case .ringOutsideMemory(let queue, let area, let address):
            return "queue \(queue): \(area) at 0x\(String(address, radix: 16)) is not in guest RAM"
        case .ringMisaligned(let queue, let area, let address):
            return "queue \(queue): \(area) at 0x\(String(address, radix: 16)) is misaligned"
        case .availableIndexJumped(let queue, let from, let to):
            return "queue \(queue): available index moved from \(from) to \(to), more than the queue holds"
        case .headOutOfRange(let queue, let head):
            return "queue \(queue): chain head \(head) is outside the descriptor table"
        case .nextOutOfRange(let index, let tableSize):
            return "descriptor \(index) is outside a table of \(tableSize)"
        case .bufferOutsideMemory(let address, let length):
            return "buffer of \(length) bytes at 0x\(String(address, radix: 16)) is not in guest RAM"
        case .emptyBuffer(let address):
            return "zero-length buffer at 0x\(String(address, radix: 16))"
        case .chainTooLong(let limit):
            return "descriptor chain longer than \(limit) (a loop?)"
        case .chainBytesOverflow:
            return "descriptor chain longer than 4 GiB"
        case .readableAfterWritable:
            return "device-readable buffer after a device-writable one"
        case .indirectNotNegotiated:
            return "indirect descriptor without VIRTIO_F_INDIRECT_DESC"
        case .indirectNested:
            return "indirect descriptor inside an indirect table"
        case .indirectWithNext:
            return "indirect descriptor with VIRTQ_DESC_F_NEXT"
        case .indirectTableLength(let length):
            return "indirect table of \(length) bytes"
        case .malformedRequest(let what):
            return what
        }
    }
}
