import Foundation
import XCTest

/// Linux on Trapeze's virtio-net (`--net tap=NAME`), against a real host network stack that
/// never leaves the machine: each test makes a network namespace, runs trapeze inside it with
/// `ip netns exec`, and deletes the namespace (and with it every TAP) in tearDown, pass or fail.
///
/// The host side of tap0 is 10.0.2.2/24, the guest 10.0.2.15/24 (QEMU's user-network numbers).
/// Host programs are Python (the host has no ping): a TCP server that sends a known payload and
/// hashes what it receives, and a raw-socket ICMP pinger. Needs root, iproute2 and python3.
///
/// Commands typed to the guest stay under about 50 characters (see VirtioGuestTests).
final class NetGuestTests: EndToEndTestCase {
    private let namespace = "trapeze-test-\(getpid())"
    private var ip = ""
    private var python = ""

    override func setUpWithError() throws {
        try super.setUpWithError()
        guard getuid() == 0 else { throw E2EError("the virtio-net tests make network namespaces: run them as root") }
        ip = try Self.executable(["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"], package: "iproute2")
        python = try Self.executable(["/usr/bin/python3"], package: "python3")
        _ = try? host([ip, "netns", "del", namespace])  // left over from a killed run
        try host([ip, "netns", "add", namespace])
        try host([ip, "-n", namespace, "link", "set", "lo", "up"])
    }

    override func tearDown() {
        super.tearDown()  // kills trapeze first: a namespace lives as long as a process in it
        _ = try? host([ip, "netns", "del", namespace])
    }

    // MARK: Tests

    /// The guest binds virtio_net, pings the host, answers the host's pings while idle without
    /// waiting for a timer tick, and moves a few hundred KB over TCP each way intact; `--stats-json`
    /// counted at least those bytes each way. The guest accepts the checksum and TSO offloads and
    /// sends some TCP segments larger than a frame for the host to cut.
    func testPingAndTCPThroughTheTap() throws {
        try host([ip, "-n", namespace, "tuntap", "add", "dev", "tap0", "mode", "tap"])
        try host([ip, "-n", namespace, "addr", "add", "10.0.2.2/24", "dev", "tap0"])
        try host([ip, "-n", namespace, "link", "set", "tap0", "up"])
        let server = try inNamespace([python, "-c", Self.tcpServer, "393216"])
        defer { server.kill() }
        let payloadDigest = try line(after: "sent ", from: server)

        let json = FileManager.default.temporaryDirectory.appendingPathComponent("trapeze-net-stats-\(getpid()).json")
        defer { try? FileManager.default.removeItem(at: json) }
        let guest = try launch(["run", "--net", "tap=tap0", "--stats-json", json.path], prefix: [ip, "netns", "exec", namespace])
        try guest.waitForShell()
        try guest.shell("cd /sys/bus/virtio/drivers/virtio_net")
        try guest.shell("echo virtio*", prints: "virtio1")
        // Bits 0, 1, 11, 12, 13 accepted: CSUM, GUEST_CSUM, HOST_TSO4, HOST_TSO6, HOST_ECN.
        try guest.shell("cut -c1,2,12-14 virtio1/features", prints: "11111")
        try guest.shell("cat virtio1/device; cd /root", prints: "0x0001")
        try guest.shell("cat /sys/class/net/eth0/address", prints: "52:54:00:12:34:56")
        try guest.shell("ip addr add 10.0.2.15/24 dev eth0")
        try guest.shell("ip link set eth0 up")
        try guest.shell("cat /sys/class/net/eth0/carrier", prints: "1")

        let ping = try guest.shell("ping -c 3 10.0.2.2", timeout: 30)
        XCTAssertTrue(ping.contains("3 packets transmitted, 3 packets received"), ping)

        // The guest idles at its prompt between echoes (every hart in WFI): each request must wake
        // the run loop through the TAP's descriptor rather than wait out its sleep of up to 100 ms.
        // Measured: about 1 ms on average that way, 13 to 33 ms with the TAP left out of the poll.
        let pinger = try inNamespace([python, "-c", Self.icmpPinger, "10.0.2.15", "10", "0.7"])
        defer { pinger.kill() }
        let rtt = try line(after: "rtt ", from: pinger).split(separator: " ").compactMap { Double($0) }
        XCTAssertEqual(try pinger.waitForExit(), 0, pinger.output)
        XCTAssertEqual(rtt.count, 2, "average and maximum: \(rtt)")
        XCTAssertLessThan(rtt.first ?? .infinity, 5, "average echo round trip in ms, guest idle; maximum \(rtt.last ?? 0)")

        try guest.shell("nc 10.0.2.2 5000 </dev/null | sha256sum", prints: "\(payloadDigest)  -", timeout: 120)
        let sent = try guest.shell("seq 1 60000 | sha256sum")
        try guest.shell("seq 1 60000 | nc 10.0.2.2 5000", timeout: 120)
        let received = try line(after: "received ", from: server)
        let seqBytes = (1...60000).reduce(0) { $0 + "\($1)\n".utf8.count }
        XCTAssertEqual(received, "\(seqBytes) \(sent.prefix(64))", "bytes and sha256 the host received")
        XCTAssertEqual(try server.waitForExit(), 0, server.output)
        try powerOff(guest)

        let statistics = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any])
        let records = try XCTUnwrap(statistics["virtio"] as? [[String: Any]])
        let eth0 = try XCTUnwrap(records.first { $0["name"] as? String == "virtio-net eth0" }?["counters"] as? [String: NSNumber],
                                 "\(records)").mapValues(\.uint64Value)
        // TCP payload plus headers: more bytes and frames than the payloads alone.
        XCTAssertGreaterThan(eth0["bytesReceived"] ?? 0, 393_216, "\(eth0)")
        XCTAssertGreaterThan(eth0["bytesTransmitted"] ?? 0, UInt64(seqBytes), "\(eth0)")
        XCTAssertGreaterThanOrEqual(eth0["framesReceived"] ?? 0, 393_216 / 65550, "\(eth0)")
        // The host's TCP segments reached the guest whole (GUEST_TSO, 64 KiB receive buffers).
        XCTAssertGreaterThan(eth0["segmentsReceived"] ?? 0, 0, "\(eth0)")
        // Some of the guest's frames were TSO segments for the host to cut; ACKs and pings were not.
        XCTAssertGreaterThan(eth0["segmentsTransmitted"] ?? 0, 0, "\(eth0)")
        XCTAssertLessThan(eth0["segmentsTransmitted"] ?? 0, eth0["framesTransmitted"] ?? 0, "\(eth0)")
        XCTAssertEqual(eth0["needsReset"], 0, "\(eth0)")
        XCTAssertGreaterThan(eth0["interrupts"] ?? 0, 0, "\(eth0)")
    }

    /// Without a TAP to attach to, trapeze (as root) creates one per --net and it goes away with
    /// trapeze; devices are eth0, eth1 in --net order, with the default and the given address.
    func testCreatesTapsAndSetsAddresses() throws {
        let guest = try launch(["run", "--net", "tap=tnew0", "--net", "tap=tnew1,mac=02:00:00:00:00:01"],
                               prefix: [ip, "netns", "exec", namespace])
        try guest.waitForShell()
        try host([ip, "-n", namespace, "link", "show", "tnew0"])
        try host([ip, "-n", namespace, "link", "show", "tnew1"])
        try guest.shell("cd /sys/class/net")
        try guest.shell("cat eth0/address eth1/address; cd /root", prints: "52:54:00:12:34:56\n02:00:00:00:00:01")
        try powerOff(guest)
        XCTAssertThrowsError(try host([ip, "-n", namespace, "link", "show", "tnew0"]), "tnew0 outlived trapeze")
    }

    /// A bad --net is one `trapeze:` line naming the flag and exit status 2, before any boot.
    func testBadNetArguments() throws {
        try host([ip, "-n", namespace, "tuntap", "add", "dev", "tun0", "mode", "tun"])
        let inNamespace = [ip, "netns", "exec", namespace]
        let cases: [([String], [String], String)] = [
            ([], ["--net", "tap0"], "--net \"tap0\" has an unknown or repeated option \"tap0\""),
            ([], ["--net", "tap=tap0,mac=01:00:00:00:00:01"], "not a unicast MAC address"),
            ([], ["--net", "tap=a-name-too-long-for-linux"], "is not an interface name"),
            ([], ["--net", "tap=a", "--net", "tap=a"], "--net tap=a given twice"),
            (inNamespace, ["--net", "tap=lo"], "--net tap=lo: an interface of that name exists but is not a single-queue TAP"),
            (inNamespace, ["--net", "tap=tun0"], "--net tap=tun0: an interface of that name exists but is not a single-queue TAP"),
            // Creating a TAP needs CAP_NET_ADMIN; any raw file serves as the kernel to get that far.
            (inNamespace + ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"],
             ["--kernel", "/etc/os-release", "--net", "tap=tap9"], "--net tap=tap9: not allowed to create or attach it"),
        ]
        for (prefix, arguments, message) in cases {
            let session = try launch(["run"] + arguments, needsGuestImages: false, prefix: prefix)
            try expectRefusal(session, mentioning: message)
        }
        XCTAssertThrowsError(try host([ip, "-n", namespace, "link", "show", "tap9"]), "nothing was created")

        // A TAP another trapeze holds open is refused, naming it.
        try host([ip, "-n", namespace, "tuntap", "add", "dev", "tap0", "mode", "tap"])
        let first = try launch(["run", "--net", "tap=tap0"], prefix: inNamespace)
        try first.expect("Linux version")  // printed after the machine (and its TAP) was set up
        let second = try launch(["run", "--net", "tap=tap0"], prefix: inNamespace)
        try expectRefusal(second, mentioning: "--net tap=tap0: another process has the interface open")
        first.kill()
    }

    private func expectRefusal(_ session: GuestSession, mentioning message: String,
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let status = try session.waitForExit(timeout: 20, file: file, line: line)
        let errors = session.errorOutput
        XCTAssertEqual(status, 2, "\(session.arguments): \(errors)", file: file, line: line)
        XCTAssertTrue(errors.hasPrefix("trapeze: ") && errors.contains(message), "\(session.arguments): \(errors)",
                      file: file, line: line)
        XCTAssertEqual(errors.split(separator: "\n").count, 1, "one line: \(errors)", file: file, line: line)
    }

    // MARK: Host side

    /// Runs a host command to completion; a non-zero status throws, with its output.
    @discardableResult
    private func host(_ command: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw E2EError("`\(command.joined(separator: " "))` exited with \(process.terminationStatus): \(output)")
        }
        return output
    }

    /// Starts a host program inside the namespace, its output read like a guest's console.
    private func inNamespace(_ command: [String]) throws -> GuestSession {
        try GuestSession(binary: URL(fileURLWithPath: ip), arguments: ["netns", "exec", namespace] + command)
    }

    /// The rest of the line that starts with `prefix` in a host program's output.
    private func line(after prefix: String, from session: GuestSession) throws -> String {
        try session.expect(prefix, timeout: 120)
        return try session.expect("\n", timeout: 120).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func executable(_ candidates: [String], package: String) throws -> String {
        guard let path = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw E2EError("\(candidates[0]) is missing; apt-get install \(package)")
        }
        return path
    }

    /// TCP on 10.0.2.2:5000, two connections: the first gets argv[1] pseudo-random bytes (their
    /// sha256 printed first, once listening), the second is read to its end and hashed.
    private static let tcpServer = """
        import hashlib, random, socket, sys
        data = random.Random(7).randbytes(int(sys.argv[1]))
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("10.0.2.2", 5000)); s.listen(1); s.settimeout(180)
        print("sent", hashlib.sha256(data).hexdigest(), flush=True)
        c = s.accept()[0]; c.sendall(data); c.close()
        c = s.accept()[0]; c.settimeout(180); h = hashlib.sha256(); n = 0
        while b := c.recv(65536):
            h.update(b); n += len(b)
        print("received", n, h.hexdigest(), flush=True)
        """

    /// argv[2] ICMP echo requests to argv[1], argv[3] seconds apart; prints "rtt AVERAGE MAXIMUM" in ms.
    /// A lost reply times out after 5 s and fails the program.
    private static let icmpPinger = """
        import socket, struct, sys, time
        def checksum(b):
            s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
            s = (s >> 16) + (s & 0xFFFF); s += s >> 16
            return ~s & 0xFFFF
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        sock.settimeout(5)
        rtts = []
        for seq in range(int(sys.argv[2])):
            packet = struct.pack("!BBHHH", 8, 0, 0, 0x7470, seq) + b"trapeze!" * 7
            packet = packet[:2] + struct.pack("!H", checksum(packet)) + packet[4:]
            start = time.monotonic()
            sock.sendto(packet, (sys.argv[1], 0))
            while True:
                reply = sock.recv(2048)
                icmp = reply[(reply[0] & 15) * 4:]
                if icmp[0] == 0 and struct.unpack("!HH", icmp[4:8]) == (0x7470, seq):
                    break
            rtts.append((time.monotonic() - start) * 1000)
            time.sleep(float(sys.argv[3]))
        print("rtt", sum(rtts) / len(rtts), max(rtts), flush=True)
        """
}
