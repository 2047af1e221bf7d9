@testable import Virtio

/// The host side of the fuzzer's virtio-net: frames arrive when the fuzzer says (random lengths,
/// some larger than any buffer or than the device allows), at most 16 wait, each after a zero
/// virtio-net header; sent frames are checked, without their header.
final class FuzzNetBackend: NetBackend {
    private var random: SplitMix64
    private var waiting: [[UInt8]] = []
    private(set) var lastSent: [UInt8]?
    /// The length of a sent frame over the device's limit, if one was ever sent.
    private(set) var oversizedFrameSent: Int?

    init(seed: UInt64) { random = SplitMix64(seed: seed ^ 0x6E65_7477_6F72_6B) }

    let readinessDescriptor: Int32 = -1

    func arrive(count: Int) {
        for _ in 0..<count {
            let lengths = [14, 60, 1514, 1515, 4000, VirtioNet.maxFrameLength + 1]
            let length = random.next() % 2 == 0 ? lengths[Int(random.next() % UInt64(lengths.count))]
                : Int(1 + random.next() % 2000)
            arrive([UInt8](repeating: UInt8(truncatingIfNeeded: random.next()), count: length))
        }
    }

    func arrive(_ frame: [UInt8]) {
        if waiting.count < 16 { waiting.append(frame) }
    }

    func clear() { waiting.removeAll() }

    func receive(into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        guard !waiting.isEmpty else { return nil }
        let frame = [UInt8](repeating: 0, count: VirtioNetHeader.length) + waiting.removeFirst()
        let n = min(frame.count, buffer.count)
        frame.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: n) }
        return frame.count
    }

    func send(_ frame: UnsafeRawBufferPointer) -> Bool {
        let frame = frame.dropFirst(VirtioNetHeader.length)
        if frame.count > VirtioNet.maxFrameLength { oversizedFrameSent = frame.count }
        lastSent = Array(frame)
        return random.next() % 8 != 0
    }

    func setReceiveOffloads(_ offloads: NetOffloads) -> Bool { true }
}
