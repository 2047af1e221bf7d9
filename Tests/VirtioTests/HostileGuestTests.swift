import Foundation
import XCTest

/// A deterministic randomized hostile guest (fixed seed): random descriptor tables, indirect
/// tables, ring indices, queue configurations and MMIO register accesses against virtio-blk,
/// virtio-rng and virtio-net (both its queues, with frames arriving from a fake host) behind
/// their transports, in one small guest RAM.
///
/// After every step it checks that nothing crashed, that guest RAM changed only where the device
/// may write (the device's used rings and buffers some descriptor marks device-writable), that
/// the disk image never grows, that no frame over the limit reaches the host, and, every
/// `checkInterval` steps, that every device still answers a well-formed driver correctly after a
/// reset.
///
/// 200,000 steps by default; TRAPEZE_FUZZ_ITERATIONS raises it (the benchmark tier,
/// Benchmarks/fuzz.sh, runs 1,000,000 in a release build), TRAPEZE_FUZZ_SEED picks another seed.
final class HostileGuestTests: XCTestCase {
    func testRandomizedHostileGuest() throws {
        let environment = ProcessInfo.processInfo.environment
        let iterations = environment["TRAPEZE_FUZZ_ITERATIONS"].flatMap { Int($0) } ?? 200_000
        let seed = environment["TRAPEZE_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x7261_7065_7a65
        // A long run (Benchmarks/fuzz.sh) reports progress every 10%.
        let progressEvery = environment["TRAPEZE_FUZZ_ITERATIONS"] == nil ? Int.max : max(1, iterations / 10)
        let started = Date()
        let fuzzer = try HostileGuest(seed: seed)
        defer { fuzzer.close() }
        for step in 0..<iterations {
            if step > 0 && step % progressEvery == 0 {
                print(String(format: "hostile guest: %d of %d steps, %.0f s", step, iterations, Date().timeIntervalSince(started)))
            }
            fuzzer.step()
            if let failure = fuzzer.failure {
                XCTFail("seed \(seed), step \(step): \(failure)")
                return
            }
            if step % HostileGuest.checkInterval == HostileGuest.checkInterval - 1 {
                fuzzer.checkDevicesStillAnswer()
                if let failure = fuzzer.failure {
                    XCTFail("seed \(seed), step \(step), liveness check: \(failure)")
                    return
                }
            }
        }
        fuzzer.checkDevicesStillAnswer()
        XCTAssertNil(fuzzer.failure)
        // The run must have reached the devices, not only bounced off the transport.
        XCTAssertGreaterThan(fuzzer.chainsCompleted, iterations / 20, "chains the devices completed")
        XCTAssertGreaterThan(fuzzer.resetsNeeded, iterations / 200, "chains that set NEEDS_RESET")
        // Requests were left in flight on the worker when drivers reset their devices.
        print("hostile guest: \(fuzzer.worker.wakes) submissions, \(fuzzer.worker.idleWaits) resets with requests in flight")
        XCTAssertGreaterThan(fuzzer.worker.idleWaits, iterations / 2000, "resets with requests in flight")
        // virtio-net moved frames both ways and dropped some too big for their buffers.
        let net = fuzzer.net.counters
        XCTAssertGreaterThan(net.received, iterations / 100, "frames virtio-net delivered")
        XCTAssertGreaterThan(net.transmitted, iterations / 100, "frames virtio-net sent")
        XCTAssertGreaterThan(net.receiveDropped, iterations / 200, "frames too big for the guest's buffer")
    }
}
