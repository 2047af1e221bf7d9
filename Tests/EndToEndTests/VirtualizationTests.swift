import Foundation
import XCTest

/// The same guest under each `--virt` mode: it must boot to the same shell and the workloads of
/// guests/bench/vmm-workload.c must print the same results, while the VMM's statistics show the
/// mechanism at work (exits, emulated CSRs, shadow fills, page-table write traps).
final class VirtualizationTests: EndToEndTestCase {
    func testTrapAndEmulateShell() throws {
        let guest = try bootToShell(["--virt", "trap"])
        try checkShell(guest, harts: 1)
        try powerOff(guest)
    }

    func testTrapAndEmulateShellWithTwoHarts() throws {
        let guest = try bootToShell(["--virt", "trap", "--cpus", "2"])
        try checkShell(guest, harts: 2)
        try checkBothHartsWork(guest)
        try powerOff(guest)
    }

    /// Binary translation always runs on the JIT (it is the JIT that rewrites the kernel), so its
    /// tests name the engine even when the suite runs under the interpreter.
    static let binaryTranslation = ["bt", "--exec", "jit"]
    /// The `--virt` arguments of every mode: bare, trap, bt, hw with nested and with shadow paging.
    static let everyMode = [["bare"], ["trap"], binaryTranslation, ["hw"], ["hw", "--mmu", "shadow"]]

    func testBinaryTranslationShellWithTwoHarts() throws {
        let guest = try bootToShell(["--virt"] + Self.binaryTranslation + ["--cpus", "2"])
        try checkShell(guest, harts: 2)
        try checkBothHartsWork(guest)
        try powerOff(guest)
    }

    func testHardwareAssistShell() throws {
        let guest = try bootToShell(["--virt", "hw"])
        try checkShell(guest, harts: 1)
        try powerOff(guest)
    }

    func testHardwareAssistShellWithTwoHarts() throws {
        let guest = try bootToShell(["--virt", "hw", "--mmu", "nested", "--cpus", "2"])
        try checkShell(guest, harts: 2)
        try checkBothHartsWork(guest)
        try powerOff(guest)
    }

    func testHardwareAssistWithShadowPagingShell() throws {
        let guest = try bootToShell(["--virt", "hw", "--mmu", "shadow", "--cpus", "2"])
        try checkShell(guest, harts: 2)
        try powerOff(guest)
    }

    /// fork/exec, page faults, system calls and compute give identical results on bare hardware,
    /// under trap-and-emulate with shadow paging and under hardware assist with shadow and with
    /// nested paging.
    func testWorkloadsGiveIdenticalResultsInEveryMode() throws {
        let bare = try runWorkloads(virt: "bare")
        let trap = try runWorkloads(virt: "trap")
        let bt = try runWorkloads(virt: "bt", extra: ["--exec", "jit"])
        let hw = try runWorkloads(virt: "hw")
        let hwShadow = try runWorkloads(virt: "hw", mmu: "shadow")
        XCTAssertEqual(bare.results, Self.expectedResults, "bare results")
        XCTAssertEqual(trap.results, bare.results, "--virt trap must print what bare prints")
        XCTAssertEqual(bt.results, bare.results, "--virt bt must print what bare prints")
        XCTAssertEqual(hw.results, bare.results, "--virt hw must print what bare prints")
        XCTAssertEqual(hwShadow.results, bare.results, "--virt hw --mmu shadow must print what bare prints")

        // Hardware assist with shadow paging: CSR accesses and system calls stay in the guest,
        // but its page faults, root switches and fences come to the VMM.
        let shadowVMM = try XCTUnwrap(hwShadow.statistics["vmm"] as? [String: Any])
        XCTAssertEqual(shadowVMM["technique"] as? String, "hw+shadow")
        let shadowExits = try XCTUnwrap(shadowVMM["exits"] as? [String: Int])
        XCTAssertNil(shadowExits["guest syscall"], "system calls never exit under hardware assist")
        XCTAssertGreaterThan(shadowExits["shadow fault"] ?? 0, 20_480)
        XCTAssertGreaterThan(shadowExits["sfence.vma"] ?? 0, 0)
        XCTAssertGreaterThan(shadowExits["guest page fault"] ?? 0, 0)
        XCTAssertEqual(shadowExits["csr access"] ?? 0, (shadowVMM["emulatedCSRs"] as? [String: Int])?["satp"] ?? -1,
                       "the only CSR that exits is satp (hstatus.VTVM)")

        // Under hardware assist the guest's system calls, page faults and CSR accesses never
        // exit: only hypercalls, device accesses and host interrupts do.
        let hwVMM = try XCTUnwrap(hw.statistics["vmm"] as? [String: Any])
        XCTAssertEqual(hwVMM["technique"] as? String, "hw+nested")
        let hwExits = try XCTUnwrap(hwVMM["exits"] as? [String: Int])
        XCTAssertEqual(Set(hwExits.keys).subtracting(["hypercall", "mmio", "interrupt"]), [],
                       "hw exits: \(hwExits)")
        XCTAssertGreaterThan(hwExits["hypercall"] ?? 0, 0)
        XCTAssertGreaterThan(hwExits["mmio"] ?? 0, 0)
        XCTAssertLessThan(hwExits.values.reduce(0, +), 100_000, "hw exits: \(hwExits)")

        // The hart's translation counters: single-stage walks on bare hardware, two-stage walks
        // under nested paging, each of which reads more PTEs than any single-stage walk can.
        let bareWalks = try translation(bare.statistics)
        XCTAssertGreaterThan(bareWalks["walks"] ?? 0, 0)
        XCTAssertEqual(bareWalks["twoStageWalks"] ?? -1, 0)
        let nested = try translation(hw.statistics)
        XCTAssertEqual(nested["walks"] ?? -1, 0, "with V=1 every walk is two-stage")
        let twoStage = try XCTUnwrap(nested["twoStageWalks"]), references = try XCTUnwrap(nested["twoStageReferences"])
        XCTAssertGreaterThan(twoStage, 0)
        XCTAssertGreaterThan(Double(references) / Double(twoStage), 4, "PTE reads per two-stage walk")

        XCTAssertNil(bare.statistics["vmm"], "no VMM statistics on bare hardware")
        let vmm = try XCTUnwrap(trap.statistics["vmm"] as? [String: Any], "--virt trap reports the VMM's counters")
        let exits = try XCTUnwrap(vmm["exits"] as? [String: Int])
        // 200 fork/exec rounds and 200,000 getppid calls: each system call from a guest process
        // is one reflected exit, and building and tearing down address spaces writes page tables.
        XCTAssertGreaterThan(exits["guest syscall"] ?? 0, 200_000)
        XCTAssertGreaterThan(exits["page-table write"] ?? 0, 10_000)
        XCTAssertGreaterThan(exits["csr access"] ?? 0, 100_000)
        XCTAssertGreaterThan(exits["shadow fault"] ?? 0, 20_480, "every page the fault workload touches is filled")
        XCTAssertGreaterThan(exits["sret"] ?? 0, 200_000)
        XCTAssertGreaterThan(exits["mmio"] ?? 0, 0, "the UART is emulated through exits")
        // Linux reuses freed page-directory pages, so a new process often finds its root's
        // shadow cached (kept coherent by the write tracing): builds are fewer than processes.
        XCTAssertGreaterThan(vmm["shadowBuilds"] as? Int ?? 0, 10)
        XCTAssertGreaterThan(vmm["shadowCacheHits"] as? Int ?? 0, 0)
        let csrs = try XCTUnwrap(vmm["emulatedCSRs"] as? [String: Int])
        XCTAssertGreaterThan(csrs["sstatus"] ?? 0, 0)
        XCTAssertGreaterThan(csrs["satp"] ?? 0, 200, "a root switch per process at least")

        // Binary translation: the same work reaches the VMM, but the guest kernel's sensitive
        // instructions and its faulting loads and stores arrive as callouts from translated
        // code; what still traps is the guest's user code (system calls, its page faults).
        let btVMM = try XCTUnwrap(bt.statistics["vmm"] as? [String: Any])
        XCTAssertEqual(btVMM["technique"] as? String, "bt+shadow")
        let btExits = try XCTUnwrap(btVMM["exits"] as? [String: Int])
        let callouts = try XCTUnwrap(btVMM["callouts"] as? [String: Int], "bt counts callouts")
        XCTAssertGreaterThan(callouts["csr access"] ?? 0, 100_000)
        XCTAssertGreaterThan(callouts["sret"] ?? 0, 200_000)
        XCTAssertGreaterThan(callouts["page-table write"] ?? 0, 10_000, "page-table writes by translated kernel stores")
        XCTAssertGreaterThan(callouts["hypercall"] ?? 0, 0)
        XCTAssertGreaterThan(btExits["guest syscall"] ?? 0, 200_000, "user code is not rewritten: its ecalls trap")
        // Only a sensitive instruction the JIT cannot translate (one straddling a page end)
        // still traps.
        XCTAssertLessThan(btExits["csr access"] ?? 0, (callouts["csr access"] ?? 0) / 100, "bt exits: \(btExits)")
        XCTAssertLessThan(btExits["sret"] ?? 0, (callouts["sret"] ?? 0) / 100, "bt exits: \(btExits)")
        let jit = try XCTUnwrap(bt.statistics["jit"] as? [String: Any])
        XCTAssertGreaterThan(jit["sensitiveCallouts"] as? Int ?? 0, 300_000)
        XCTAssertGreaterThan(jit["memoryFaultCallouts"] as? Int ?? 0, 10_000)
    }

    private func translation(_ statistics: [String: Any]) throws -> [String: Int] {
        let harts = try XCTUnwrap(statistics["harts"] as? [[String: Any]])
        return try XCTUnwrap(harts.first?["translation"] as? [String: Int])
    }

    /// Under every VMM the guest's virtio-blk DMA and MMIO work: it boots from the ext4 root
    /// disk, computes there and writes a file the host then finds in the image.
    func testExt4RootDiskUnderEveryVMM() throws {
        let rootfs = E2EPaths.images.appendingPathComponent("rootfs.ext4").resolvingSymlinksInPath()
        guard FileManager.default.isReadableFile(atPath: rootfs.path) else {
            throw E2EError("\(rootfs.path) is missing; run guests/build.sh rootfs")
        }
        for virt in [["trap"], Self.binaryTranslation, ["hw"], ["hw", "--mmu", "shadow"]] {
            let disk = FileManager.default.temporaryDirectory.appendingPathComponent("trapeze-virt-root-\(getpid()).ext4")
            try? FileManager.default.removeItem(at: disk)
            try FileManager.default.copyItem(at: rootfs, to: disk)
            defer { try? FileManager.default.removeItem(at: disk) }
            let what = "--virt \(virt.joined(separator: " "))"
            let guest = try launch(["run", "--virt"] + virt + ["--kernel", E2EPaths.kernel.path, "--disk", disk.path,
                                   "--cmdline", "console=ttyS0 root=/dev/vda rw panic=-1"])
            try guest.waitForShell()
            try guest.shell("grep ' / ' /proc/mounts", prints: "/dev/root / ext4 rw,relatime 0 0")
            try guest.shell("seq 1 20000 | md5sum", prints: "e071f707df7bbeee2a6a1eb48011ddd0  -")
            try guest.shell("echo root-marker-\(getpid()) > /rootmark; sync")
            try powerOff(guest)
            let image = try Data(contentsOf: disk)
            XCTAssertNotNil(image.range(of: Data("root-marker-\(getpid())".utf8)), "\(what): the file reached the image")
        }
    }

    static let expectedResults = [
        "fork: n=200 status-sum=594",
        "fault: n=20 pages=20480 checksum=030da51c51ff8000",
        "syscall: n=200000 consistent=200000",
        "compute: n=50 checksum=00000000963bc4e1",
    ]

    private func runWorkloads(virt: String, mmu: String? = nil, extra: [String] = [], file: StaticString = #filePath,
                              line: UInt = #line) throws -> (results: [String], statistics: [String: Any]) {
        let json = FileManager.default.temporaryDirectory
            .appendingPathComponent("trapeze-virt-\(virt)-\(mmu ?? "")-\(getpid()).json")
        defer { try? FileManager.default.removeItem(at: json) }
        let guest = try launch(["run", "--virt", virt] + (mmu.map { ["--mmu", $0] } ?? []) + extra + ["--stats-json", json.path,
                                "--cmdline", Self.defaultCommandLine + " trapeze.run=vmm-workload"])
        try guest.expect("trapeze-init: ready", file: file, line: line)
        let output = try guest.expect("trapeze-run: exit=", timeout: 300, file: file, line: line)
        let status = try guest.expect("\n", file: file, line: line)
        XCTAssertEqual(status.trimmingCharacters(in: .whitespacesAndNewlines), "0", "vmm-workload's exit status under --virt \(virt)",
                       file: file, line: line)
        XCTAssertEqual(try guest.waitForExit(file: file, line: line), 0, "trapeze's exit status", file: file, line: line)
        let results = output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { ["fork:", "fault:", "syscall:", "compute:"].contains(where: $0.hasPrefix) }
        let statistics = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any] ?? [:]
        return (results, statistics)
    }
}

/// Isolation: a guest reaches only its own memory and devices. guests/baremetal/isolation-probe.c
/// runs as the kernel with 64 MiB of RAM and probes guest-physical addresses past its RAM,
/// where, under --virt trap, the VMM keeps its shadow page tables in machine memory: every
/// load, store and fetch must fault with the address in stval and return no data.
final class IsolationTests: EndToEndTestCase {
    func testGuestCannotReachMemoryPastItsRAM() throws {
        for virt in VirtualizationTests.everyMode {
            let probe = try BareMetalPrograms.elf("isolation-probe")
            let session = try launch(["run", "--virt"] + virt + ["--memory", "64M", "--kernel", probe.path])
            let status = try session.waitForExit(timeout: 30)
            XCTAssertEqual(status, 0, "--virt \(virt): the probe's verdict (1: some probe did not fault):\n\(session.output)")
            XCTAssertTrue(session.output.contains("isolation: ok"), "--virt \(virt):\n\(session.output)")
            let probes = session.output.split(separator: "\n").filter { $0.hasSuffix(" ok") && !$0.hasPrefix("isolation") }
            XCTAssertEqual(probes.count, 18,
                           "--virt \(virt): 6 addresses x load, store, fetch:\n\(session.output)")
        }
    }

    /// Two VMs under the VMM at the same time, each with its own workload: both finish with the
    /// right results (each trapeze process has its own machine memory; nothing is shared).
    func testTwoVMsAtOnce() throws {
        let arguments = ["run", "--virt", "trap", "--cmdline", Self.defaultCommandLine + " trapeze.run=vmm-workload -- fault 10"]
        let first = try launch(arguments)
        let second = try launch(arguments)
        for guest in [first, second] {
            let output = try guest.expect("trapeze-run: exit=0", timeout: 120)
            XCTAssertTrue(output.contains("fault: n=10 pages=10240 checksum="), output)
            XCTAssertEqual(try guest.waitForExit(), 0)
        }
    }
}

/// SBI v0.1 calls pass pointers into the caller's memory; under every VMM the SBI must read
/// them through the guest's translation. guests/baremetal/legacy-ipi.c sends itself a legacy
/// IPI (hart mask by pointer) and clears it with the legacy clear_ipi.
final class LegacySBITests: EndToEndTestCase {
    func testLegacyIPIInEveryMode() throws {
        for virt in VirtualizationTests.everyMode {
            let program = try BareMetalPrograms.elf("legacy-ipi")
            let session = try launch(["run", "--virt"] + virt + ["--memory", "64M", "--kernel", program.path])
            let status = try session.waitForExit(timeout: 30)
            XCTAssertEqual(status, 0, "--virt \(virt.joined(separator: " ")):\n\(session.output)")
            XCTAssertTrue(session.output.contains("legacy-ipi: ok"), "--virt \(virt.joined(separator: " ")):\n\(session.output)")
        }
    }
}
