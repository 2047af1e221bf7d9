/// Where a virtio-net device's frames go and come from on the host: a TAP interface in a VM,
/// a socketpair in tests. Whole Ethernet frames (destination MAC first, no FCS), one per call,
/// without any virtio-net header; calls never block.
///
/// The device reads a frame only when the guest has posted a buffer for it, so frames wait in
/// the backend (the kernel's TAP queue, which drops beyond its length) and never in the VMM.
public protocol NetBackend: AnyObject {
    /// A descriptor that polls readable when a frame waits, for the run loop to sleep on.
    var readinessDescriptor: Int32 { get }
    /// Takes the next frame into `buffer` and returns its length, which is more than
    /// `buffer.count` when the frame did not fit (its end is lost). Nil when no frame waits.
    func receive(into buffer: UnsafeMutableRawBufferPointer) -> Int?
    /// Sends one frame; false when the host did not take it (the frame is then dropped, as a
    /// cable with nobody listening would drop it).
    func send(_ frame: UnsafeRawBufferPointer) -> Bool
}
