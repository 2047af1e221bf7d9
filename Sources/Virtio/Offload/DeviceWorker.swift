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
    /// Returns once `device` has no submitted request the worker has not completed. A device
    /// reset waits here so that no write into guest memory outlives it, as hardware finishes or
    /// aborts its DMA before it reports a reset done (2.4).
    func waitUntilIdle(_ device: OffloadingDevice)
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
    /// Requests submitted and not yet completed by the worker (any thread).
    var requestsInFlight: Int { get }
}
