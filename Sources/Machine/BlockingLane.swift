import Foundation  // Thread, DispatchSemaphore
import Synchronization
import Virtio

/// A thread of its own for one device whose host work can wait long on storage (a disk's fsync,
/// fallocate, reads from the host's disk): the I/O thread's helper, so that one slow sync holds
/// up neither the network nor another disk, and two disks sync at once. It sleeps on a semaphore
/// until the device submits work, carries out everything submitted, in order, and reports
/// completions through `completed`, as the I/O thread does its own.
final class BlockingLane: DeviceWorker, @unchecked Sendable {
    private let device: OffloadingDevice
    private let completed: @Sendable () -> Void
    private let signal = DispatchSemaphore(value: 0)
    private let exited = DispatchSemaphore(value: 0)
    private let stopping = Atomic<Bool>(false)
    private var thread: Thread?

    init(device: OffloadingDevice, name: String, completed: @escaping @Sendable () -> Void) {
        self.device = device
        self.completed = completed
        let thread = Thread { [unowned self] in loop() }
        thread.name = name
        self.thread = thread
        device.attach(worker: self)
    }

    func start() { thread?.start() }

    /// Carries out what was submitted, then ends the thread and waits for it.
    func stop() {
        guard thread != nil else { return }
        stopping.store(true, ordering: .sequentiallyConsistent)
        signal.signal()
        exited.wait()
        thread = nil
    }

    // MARK: DeviceWorker

    func wake() { signal.signal() }

    private func loop() {
        while true {
            signal.wait()
            while device.performSubmitted() { completed() }
            if stopping.load(ordering: .sequentiallyConsistent) { break }
        }
        exited.signal()
    }
}
