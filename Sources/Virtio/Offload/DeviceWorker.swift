#if canImport(Glibc)
import Glibc
#endif

/// A thread that carries out the part of device requests that blocks the host (file I/O, writes
/// to a TAP) while the harts run on: Machine's I/O thread, or a test's.
///
/// The split keeps the guest's view single-threaded: chains are popped and checked, and the
/// driver is answered (status, used ring, interrupt), on the thread that runs the harts, between
/// their instructions. Only the host I/O, with its copies to and from the guest's buffers, runs on
/// the worker, so a device never touches a ring, the code cache or an interrupt line from there.
public protocol DeviceWorker: AnyObject, Sendable {
    /// A device submitted requests: the worker calls its `performSubmitted()` soon.
    func wake()
    /// Returns once `device.requestsInFlight` is 0, the worker carrying the requests out
    /// meanwhile. A device reset waits here (after telling its receive side to give up buffers
    /// that wait for the host) so that no access to guest memory outlives it, as hardware
    /// finishes or aborts its DMA before it reports a reset done (2.4).
    func waitUntilIdle(_ device: OffloadingDevice)
}

/// How long a device's host work can take, which decides where a machine runs it.
public enum DeviceWorkKind: Sendable {
    /// Short system calls (TAP reads and writes): one thread can run them between its polls.
    case polled
    /// Work that can wait long on host storage (fsync, reads from the disk): a thread of its
    /// own, so that a slow sync never holds up another device.
    case blocking
}

/// A virtio device whose requests can run on a `DeviceWorker`. Without a worker attached, it
/// serves each request inline when the driver notifies (unit tests, and any engine that wants it).
public protocol OffloadingDevice: VirtioDevice {
    /// Sends requests to `worker` from now on. Call before the guest runs.
    func attach(worker: DeviceWorker)
    /// Worker thread: carries out every submitted request; true when it completed any.
    func performSubmitted() -> Bool
    /// The harts' thread: answers the driver for every completed request (status, used ring,
    /// interrupt) and takes the chains that waited for a free request slot.
    func finishCompleted()
    /// Requests submitted that the worker will complete without waiting for the world outside
    /// (any thread): a receive buffer waiting for a frame is not one, unless the device is
    /// giving such buffers up (a reset).
    var requestsInFlight: Int { get }
    /// The harts' thread: requests taken from the driver and not answered yet, receive buffers
    /// waiting for a frame included.
    var requestsOutstanding: Int { get }
    /// Worker thread: a descriptor whose readability means `performSubmitted()` has work (a TAP
    /// with a frame for a receive buffer the device holds), for the worker to poll; nil when
    /// only a submission makes work.
    var workerReadinessDescriptor: Int32? { get }
    /// Where the device's work should run.
    var workKind: DeviceWorkKind { get }
}

extension DeviceWorker {
    /// For a worker on a thread of its own: polls, waking the worker, until the device is idle.
    /// A reset is rare and a request ends within its host I/O, so polling is simpler than a
    /// condition variable signalled on every completion.
    public func waitUntilIdle(_ device: OffloadingDevice) {
        while device.requestsInFlight > 0 {
            wake()
            usleep(20)
        }
    }
}

extension OffloadingDevice {
    public var workerReadinessDescriptor: Int32? { nil }
    public var workKind: DeviceWorkKind { .polled }
}
