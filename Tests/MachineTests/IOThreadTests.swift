import Foundation
@testable import Machine
import Synchronization
import Virtio
import XCTest

/// The I/O thread and its lanes, with devices that stand in for a disk and a network device:
/// work runs off the calling thread, completions are reported, a slow disk holds up nobody, and
/// stopping finishes what was submitted.
final class IOThreadTests: XCTestCase {
    /// A disk whose sync waits (on `gate`) holds up neither a network device nor another disk.
    func testASlowDiskHoldsUpNoOtherDevice() throws {
        let gate = DispatchSemaphore(value: 0)
        let slowDisk = FakeDevice(kind: .blocking, gate: gate)
        let disk = FakeDevice(kind: .blocking)
        let network = FakeDevice(kind: .polled)
        let io = try IOThread(devices: [slowDisk, disk, network], console: nil)
        io.start()
        slowDisk.submit()
        network.submit()
        disk.submit()
        XCTAssertTrue(wait { network.completed == 1 && disk.completed == 1 }, "the others finished")
        XCTAssertEqual(slowDisk.completed, 0, "while the slow one still waits")
        XCTAssertTrue(io.hasRequestsInFlight)
        XCTAssertTrue(io.takeCompletions(), "the harts' thread is told")
        XCTAssertFalse(io.takeCompletions(), "once")
        gate.signal()
        XCTAssertTrue(wait { slowDisk.completed == 1 })
        XCTAssertTrue(wait { io.hasCompletions })
        io.stop()
        XCTAssertFalse(io.hasRequestsInFlight)
    }

    /// Stopping carries out everything submitted first: no write the guest issued is lost.
    func testStopFinishesSubmittedWork() throws {
        let disk = FakeDevice(kind: .blocking), network = FakeDevice(kind: .polled)
        let io = try IOThread(devices: [disk, network], console: nil)
        io.start()
        for _ in 0..<50 {
            disk.submit()
            network.submit()
        }
        io.stop()
        XCTAssertEqual(disk.completed, 50)
        XCTAssertEqual(network.completed, 50)
    }

    private func wait(_ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(10)
        while !condition() {
            if Date() > deadline { return false }
            usleep(1000)
        }
        return true
    }
}

/// An offloading device that counts requests: `submit()` hands one over, the worker completes
/// them one by one, each after `gate` (if any) lets it through.
private final class FakeDevice: OffloadingDevice, @unchecked Sendable {
    let deviceType = VirtioDeviceType.block
    let deviceFeatures: VirtioFeatures = []
    let queueMaxSizes: [UInt16] = [8]
    let workKind: DeviceWorkKind
    private let gate: DispatchSemaphore?
    private let submittedCount = Atomic<Int>(0)
    private let completedCount = Atomic<Int>(0)
    private var worker: DeviceWorker?

    init(kind: DeviceWorkKind, gate: DispatchSemaphore? = nil) {
        workKind = kind
        self.gate = gate
    }

    var completed: Int { completedCount.load(ordering: .acquiring) }

    func submit() {
        submittedCount.add(1, ordering: .releasing)
        worker?.wake()
    }

    func attach(worker: DeviceWorker) { self.worker = worker }

    func performSubmitted() -> Bool {
        var done = false
        while completedCount.load(ordering: .acquiring) < submittedCount.load(ordering: .acquiring) {
            gate?.wait()
            completedCount.add(1, ordering: .releasing)
            done = true
        }
        return done
    }

    func finishCompleted() {}
    var requestsInFlight: Int { submittedCount.load(ordering: .acquiring) - completed }
    var requestsOutstanding: Int { requestsInFlight }
    func readConfig(offset: Int, size: Int) -> UInt64 { 0 }
    func activate(features: VirtioFeatures, queues: [Virtqueue], interrupt: VirtioInterrupt) throws(VirtioError) {}
    func reset() {}
    func queueNotified(_ queue: Virtqueue) throws(VirtioError) {}
    var statistics: [String: UInt64] { [:] }
}
