/// struct virtio_net_hdr (virtio 1.2 section 5.1.6), little-endian: what a frame needs done to
/// it (a checksum to finish, a TCP segment to cut into MSS-sized frames) or had done (a checksum
/// found valid). Ten bytes, then num_buffers with VIRTIO_F_VERSION_1; the backend always has all
/// twelve, the guest's copy only what it negotiated.
struct VirtioNetHeader: Equatable {
    static let length = 12

    /// VIRTIO_NET_HDR_F_*: NEEDS_CSUM both ways, DATA_VALID (and RSC_INFO, never offered) toward
    /// the guest only.
    struct Flags: OptionSet, Equatable {
        let rawValue: UInt8
        static let needsChecksum = Flags(rawValue: 1)
        static let dataValid = Flags(rawValue: 2)
    }

    /// VIRTIO_NET_HDR_GSO_*, without the ECN bit.
    enum SegmentationType: UInt8 {
        case none = 0, tcp4 = 1, udp = 3, tcp6 = 4, udpL4 = 5
    }
    /// VIRTIO_NET_HDR_GSO_ECN, ORed into gso_type: the segment carries CWR, to set on the first frame only.
    static let ecnBit: UInt8 = 0x80

    var flags: Flags = []
    var gsoType: UInt8 = 0
    var headerLength: UInt16 = 0
    var segmentSize: UInt16 = 0
    var checksumStart: UInt16 = 0
    var checksumOffset: UInt16 = 0

    init() {}

    /// The first ten bytes of `bytes` (num_buffers is never read: the device sets it).
    init(_ bytes: UnsafeRawBufferPointer) {
        func le16(_ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
        flags = Flags(rawValue: bytes[0])
        gsoType = bytes[1]
        headerLength = le16(2)
        segmentSize = le16(4)
        checksumStart = le16(6)
        checksumOffset = le16(8)
    }

    /// Writes all twelve bytes into the start of `bytes`.
    func write(to bytes: UnsafeMutableRawBufferPointer, buffers: UInt16) {
        func le16(_ at: Int, _ value: UInt16) {
            bytes[at] = UInt8(truncatingIfNeeded: value)
            bytes[at + 1] = UInt8(truncatingIfNeeded: value >> 8)
        }
        bytes[0] = flags.rawValue
        bytes[1] = gsoType
        le16(2, headerLength)
        le16(4, segmentSize)
        le16(6, checksumStart)
        le16(8, checksumOffset)
        le16(10, buffers)
    }

    /// Checks a header the driver sent with a `frameLength`-byte frame against what it negotiated
    /// (5.1.6.2.1): the host kernel acts on it, so nothing it names may lie outside the frame.
    func checkTransmit(frameLength: Int, features: VirtioFeatures) throws(VirtioError) {
        func bad(_ why: String) -> VirtioError { .malformedRequest("virtio-net transmit header: \(why)") }
        guard flags.subtracting(.needsChecksum).isEmpty else {
            throw bad("flags 0x\(String(flags.rawValue, radix: 16)), of which the driver may set only NEEDS_CSUM")
        }
        if flags.contains(.needsChecksum) {
            guard features.contains(.netChecksum) else { throw bad("NEEDS_CSUM without VIRTIO_NET_F_CSUM") }
            guard Int(checksumStart) + Int(checksumOffset) + 2 <= frameLength else {
                throw bad("checksum at \(checksumStart) + \(checksumOffset) past the \(frameLength)-byte frame")
            }
        }
        let ecn = gsoType & Self.ecnBit != 0
        let type = SegmentationType(rawValue: gsoType & ~Self.ecnBit)
        let negotiated: Bool
        switch type {
        case .none?: negotiated = !ecn
        case .tcp4?: negotiated = features.contains(.netHostTSO4) && (!ecn || features.contains(.netHostECN))
        case .tcp6?: negotiated = features.contains(.netHostTSO6) && (!ecn || features.contains(.netHostECN))
        case .udp?, .udpL4?, nil: negotiated = false
        }
        guard negotiated else { throw bad("gso_type 0x\(String(gsoType, radix: 16)) not negotiated") }
        guard type != SegmentationType.none else { return }
        // 5.1.6.2.1: a segment to cut needs its checksum finished per frame, and an MSS.
        guard flags.contains(.needsChecksum) else { throw bad("gso_type without NEEDS_CSUM") }
        guard segmentSize > 0 else { throw bad("gso_type with gso_size 0") }
        guard Int(headerLength) <= frameLength else {
            throw bad("hdr_len \(headerLength) past the \(frameLength)-byte frame")
        }
    }
}
