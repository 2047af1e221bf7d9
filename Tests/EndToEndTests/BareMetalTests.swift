import Foundation
import XCTest

/// M-mode programs from guests/baremetal/, run as `trapeze run --firmware NAME.elf`: the HTIF
/// `tohost` protocol of the ISA test suites, the CLINT timer interrupt, the sifive test device,
/// access faults on unmapped addresses and mip.SEIP semantics. Built once per test run with the
/// riscv64 cross compiler by guests/baremetal/build.sh.
final class BareMetalTests: EndToEndTestCase {
    func testHTIFPassExitsZero() throws {
        let result = try run("pass")
        XCTAssertEqual(result.status, 0)
    }

    func testHTIFFailureCodeBecomesExitStatus() throws {
        let result = try run("fail7")
        XCTAssertEqual(result.status, 7)
    }

    func testHTIFConsole() throws {
        let result = try run("hello")
        XCTAssertEqual(result.status, 0)
        XCTAssertEqual(result.output, "hello from htif\n")
    }

    /// Each command written as two 32-bit stores, low word first; acting on the low word alone
    /// would turn "[" into an exit with code 45.
    func testHTIFSplitStores() throws {
        let result = try run("split-store")
        XCTAssertEqual(result.output, "[ok]")
        XCTAssertEqual(result.status, 3)
    }

    /// CLINT mtimecmp 1 ms ahead, WFI, machine timer interrupt (mcause 0x8000_0000_0000_0007),
    /// then the sifive test device: 0x5555 powers off (status 0), 0x3333 | 5 << 16 fails with 5.
    /// Program exit codes: 2 no interrupt, 3 wrong mcause, 4 finisher ignored.
    func testTimerInterruptThenFinisherPass() throws {
        let result = try run("timer-pass")
        XCTAssertEqual(result.output, "timer interrupt taken\n")
        XCTAssertEqual(result.status, 0)
    }

    func testTimerInterruptThenFinisherFail() throws {
        let result = try run("timer-fail5")
        XCTAssertEqual(result.output, "timer interrupt taken\n")
        XCTAssertEqual(result.status, 5)
    }

    /// Load, store and fetch at 0x4000_0000 (nothing there on Trapeze's virt board) raise access
    /// faults 5, 7 and 1 with mtval = the address, and the program continues after each.
    func testUnmappedAddressRaisesAccessFaults() throws {
        let result = try run("access-fault")
        XCTAssertEqual(result.output, """
            load: mcause=0x0000000000000005 mtval=0x0000000040000000
            store: mcause=0x0000000000000007 mtval=0x0000000040000000
            fetch: mcause=0x0000000000000001 mtval=0x0000000040000000

            """)
        XCTAssertEqual(result.status, 0, "exit 10/11/12: the load/store/fetch probe saw the wrong trap")
    }

    /// csrs/csrc on mip while the PLIC's S-mode line is high must not latch SEIP into the
    /// software-writable bit (privileged spec 3.1.9). Passes on QEMU 7.2. Exit 22 is that latch,
    /// which under OpenSBI (it sets mip.STIP with csrs) leaves Linux in an endless external
    /// interrupt storm with nothing to claim.
    func testMipReadModifyWriteDoesNotLatchSEIP() throws {
        let result = try run("seip-latch")
        XCTAssertEqual(result.status, 0, "exit 20: SEIP never rose; 21: did not drop; 22: latched by csrs mip")
    }

    // MARK: Running programs

    private func run(_ program: String, file: StaticString = #filePath,
                     line: UInt = #line) throws -> (status: Int32, output: String) {
        let elf = try BareMetalPrograms.elf(program)
        // With --firmware and no --kernel trapeze also loads the cached Linux as the next stage;
        // these programs never jump to it.
        let session = try launch(["run", "--firmware", elf.path])
        let status = try session.waitForExit(timeout: 30, file: file, line: line)
        XCTAssertEqual(session.errorOutput, "", "stderr of \(program)", file: file, line: line)
        return (status, session.output)
    }
}
