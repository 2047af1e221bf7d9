/// Where a virtio-net device's frames go and come from on the host: a TAP interface in a VM,
/// a socketpair in tests. Whole Ethernet frames (destination MAC first, no FCS), one per call,
/// each after a 12-byte `VirtioNetHeader` (struct virtio_net_hdr_v1, num_buffers ignored), as a
/// TAP with IFF_VNET_HDR reads and writes them; calls never block.
///
/// The device reads a frame only when the guest has posted a buffer for it, so frames wait in
/// the backend (the kernel's TAP queue, which drops beyond its length) and never in the VMM.
public protocol NetBackend: AnyObject {
    /// A descriptor that polls readable when a frame waits, for the run loop to sleep on.
    var readinessDescriptor: Int32 { get }
    /// Takes the next header and frame into `buffer` and returns their length, which is more
    /// than `buffer.count` when they did not fit (the frame's end is lost). Nil when none waits.
    func receive(into buffer: UnsafeMutableRawBufferPointer) -> Int?
    /// Sends one header and frame; false when the host did not take it (the frame is then
    /// dropped, as a cable with nobody listening would drop it, or the host refused its header).
    func send(_ frame: UnsafeRawBufferPointer) -> Bool
    /// Which offloads frames from `receive` may use from now on (the guest accepted them);
    /// false when the host cannot be told, and then frames keep the offloads they had.
    func setReceiveOffloads(_ offloads: NetOffloads) -> Bool
}

/// Offloads in frames the host hands the device, as TUNSETOFFLOAD takes them (linux/if_tun.h).
/// Frames the device hands the host need none set: the header says what each one needs.
public struct NetOffloads: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// TUN_F_CSUM: frames may come with NEEDS_CSUM (a partial checksum for the guest to finish).
    public static let checksum = NetOffloads(rawValue: 0x01)
    /// TUN_F_TSO4, TUN_F_TSO6, TUN_F_TSO_ECN: TCP segments of up to 64 KiB for the guest to take whole.
    public static let tso4 = NetOffloads(rawValue: 0x02)
    public static let tso6 = NetOffloads(rawValue: 0x04)
    public static let tsoECN = NetOffloads(rawValue: 0x08)
}
