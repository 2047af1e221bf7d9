import Foundation
import XCTest

/// A deterministic randomized hostile guest (fixed seed): random descriptor tables, indirect
/// tables, ring indices, queue configurations and MMIO register accesses against virtio-blk and
/// virtio-rng behind their transports, in one small guest RAM.
///
/// After every step it checks that nothing crashed, that guest RAM changed only where the device
/// may write (the notified queue's used ring and buffers some descriptor marks device-writable),
/// that the disk image never grows, and, every `checkInterval` steps, that both devices still
/// answer a well-formed driver correctly after a reset.
///
/// 200,000 steps by default; TRAPEZE_FUZZ_ITERATIONS raises it (the benchmark tier runs
/// at least 1,000,000), TRAPEZE_FUZZ_SEED picks another seed.
final class HostileGuestTests: XCTestCase {
    func testRandomizedHostileGuest() throws {
        let environment = ProcessInfo.processInfo.environment
        let iterations = environment["TRAPEZE_FUZZ_ITERATIONS"].flatMap { Int($0) } ?? 200_000
        let seed = environment["TRAPEZE_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x7261_7065_7a65
        let fuzzer = try HostileGuest(seed: seed)
        defer { fuzzer.close() }
        for step in 0..<iterations {
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
    }
}
