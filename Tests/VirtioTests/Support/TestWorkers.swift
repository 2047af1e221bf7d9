import Foundation
import Synchronization
import Virtio

/// A `DeviceWorker` that carries out requests only when the test says (`run`), so a test can
/// look at a device between submitting a request and answering it. A reset waits for requests
/// in flight: this worker then carries them out on the spot, as the I/O thread would finish them.
final class ManualWorker: DeviceWorker, @unchecked Sendable {
    private(set) var wakes = 0
    /// Resets that found requests in flight.
    private(set) var idleWaits = 0
    func wake() { wakes += 1 }
    func waitUntilIdle(_ device: OffloadingDevice) {
        idleWaits += 1
        repeat { _ = device.performSubmitted() } while device.requestsInFlight > 0
    }
}

/// A `DeviceWorker` with a thread of its own, like Machine's I/O thread: requests are carried
/// out concurrently with the test, which calls `TestDriver.settle()` before it looks at answers.
final class ThreadWorker: DeviceWorker, @unchecked Sendable {
    private unowned let device: OffloadingDevice
    private let signal = DispatchSemaphore(value: 0)
    private let exited = DispatchSemaphore(value: 0)
    private let stopping = Atomic<Bool>(false)

    init(device: OffloadingDevice) {
        self.device = device
        device.attach(worker: self)
        let thread = Thread { [self] in
            while !stopping.load(ordering: .acquiring) {
                signal.wait()
                _ = self.device.performSubmitted()
            }
            exited.signal()
        }
        thread.start()
    }

    func wake() { signal.signal() }

    func waitUntilIdle(_ device: OffloadingDevice) {
        while device.requestsInFlight > 0 { usleep(10) }
    }

    func stop() {
        stopping.store(true, ordering: .releasing)
        signal.signal()
        exited.wait()
    }
}
