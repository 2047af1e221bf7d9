@testable import Machine
import Virtio
import XCTest

/// `--net tap=NAME[,mac=...]` parsing, validation against the board's slots, and TAP errors.
final class NetConfigTests: XCTestCase {
    func testParsing() throws {
        XCTAssertEqual(try NetConfig(parsing: "tap=tap0"), NetConfig(tap: "tap0"))
        let mac = MACAddress([0x02, 0, 0, 0, 0, 0x01])
        XCTAssertEqual(try NetConfig(parsing: "tap=tap1,mac=02:00:00:00:00:01"), NetConfig(tap: "tap1", mac: mac))
        XCTAssertEqual(try NetConfig(parsing: "mac=02:00:00:00:00:01,tap=vm-eth.0"), NetConfig(tap: "vm-eth.0", mac: mac))
        XCTAssertEqual(try NetConfig(parsing: "tap=abcdefghijklmno").tap, "abcdefghijklmno", "15 characters")
    }

    func testBadArgumentsNameTheFlag() {
        let cases: [(String, ConfigError)] = [
            ("tap0", .netOption("tap0", option: "tap0")),
            ("", .netWithoutTap("")),
            ("mac=02:00:00:00:00:01", .netWithoutTap("mac=02:00:00:00:00:01")),
            ("tap=a,tap=b", .netOption("tap=a,tap=b", option: "tap=b")),
            ("tap=a,", .netOption("tap=a,", option: "")),
            ("tap=a,vhost=on", .netOption("tap=a,vhost=on", option: "vhost=on")),
            ("tap=", .tapName("")),
            ("tap=abcdefghijklmnop", .tapName("abcdefghijklmnop")),
            ("tap=a/b", .tapName("a/b")),
            ("tap=tap%d", .tapName("tap%d")),
            ("tap=..", .tapName("..")),
            ("tap=a b", .tapName("a b")),
            ("tap=a,mac=52:54:00:12:34", .macAddress("52:54:00:12:34")),
            ("tap=a,mac=01:00:5e:00:00:01", .macAddress("01:00:5e:00:00:01")),
            ("tap=a,mac=00:00:00:00:00:00", .macAddress("00:00:00:00:00:00")),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try NetConfig(parsing: text), text) {
                XCTAssertEqual($0 as? ConfigError, expected, text)
                XCTAssertTrue("\($0)".hasPrefix("--net"), "\($0)")
                XCTAssertFalse("\($0)".contains("\n"), "one line: \($0)")
            }
        }
    }

    /// Network devices share the seven slots left by virtio-rng with the disks (six with a
    /// virtio-console); each gets its own TAP and address, distinct defaults included.
    func testValidation() {
        var config = VMConfig(disks: Array(repeating: DiskConfig(path: "x"), count: 5))
        config.networks = [NetConfig(tap: "a"), NetConfig(tap: "b")]
        XCTAssertNoThrow(try config.validate())
        XCTAssertEqual(config.networkAddresses.map { "\($0)" }, ["52:54:00:12:34:56", "52:54:00:12:34:57"])
        config.console = .virtio
        XCTAssertThrowsError(try config.validate()) { XCTAssertEqual($0 as? ConfigError, .tooManyNetworks(2, limit: 1)) }

        config = VMConfig()
        config.networks = [NetConfig(tap: "a"), NetConfig(tap: "a")]
        XCTAssertThrowsError(try config.validate()) { XCTAssertEqual($0 as? ConfigError, .tapRepeated("a")) }
        // The second device's default is :57; the first must not take it.
        config.networks = [NetConfig(tap: "a", mac: MACAddress.defaultAddress(index: 1)), NetConfig(tap: "b")]
        XCTAssertThrowsError(try config.validate()) { XCTAssertEqual($0 as? ConfigError, .macRepeated("52:54:00:12:34:57")) }
    }

    /// An interface that exists and is not a TAP (the loopback device is always there) is refused
    /// without creating anything; the error names the flag.
    func testExistingInterfaceThatIsNotATap() {
        var config = VMConfig()
        config.networks = [NetConfig(tap: "lo")]
        XCTAssertThrowsError(try VirtioSlots.devices(for: config)) {
            XCTAssertEqual($0 as? ConfigError, .notATap(name: "lo"))
            XCTAssertTrue("\($0)".hasPrefix("--net tap=lo: "), "\($0)")
        }
    }
}
