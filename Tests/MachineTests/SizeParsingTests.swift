import XCTest
@testable import Machine

final class SizeParsingTests: XCTestCase {
    func testPlainBytesAndSuffixes() throws {
        let cases: [(String, UInt64)] = [
            ("1048576", 1 << 20), ("512M", 512 << 20), ("512m", 512 << 20), ("512MiB", 512 << 20),
            ("512mib", 512 << 20), ("512MB", 512 << 20), ("2G", 2 << 30), ("2gib", 2 << 30),
            ("64K", 64 << 10), ("64KiB", 64 << 10), ("1T", 1 << 40), ("4096b", 4096), (" 1G ", 1 << 30),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(try SizeParser.parse(text), expected, text)
        }
    }

    func testRejectsWhatIsNotASize() {
        for text in ["", "M", "abc", "12Q", "-1", "1.5G", "512 M", "0x100", "5MiBs", "99999999999999999999", "20000000T"] {
            XCTAssertThrowsError(try SizeParser.parse(text), text) { error in
                XCTAssertEqual(error as? ConfigError, .notASize(text))
                XCTAssertTrue("\(error)".contains("--memory"), "\(error)")
            }
        }
    }

    func testFormatting() {
        XCTAssertEqual(SizeParser.format(512 << 20), "512 MiB")
        XCTAssertEqual(SizeParser.format(3 << 29), "1.5 GiB")
        XCTAssertEqual(SizeParser.format(16 << 30), "16 GiB")
        XCTAssertEqual(SizeParser.format(4097), "4 KiB")
        XCTAssertEqual(SizeParser.format(1000), "1000 bytes")
    }

    func testMemoryLimits() {
        func memoryError(_ bytes: UInt64) -> ConfigError? {
            do { try VMConfig(memorySize: bytes).validate(); return nil } catch { return error }
        }
        XCTAssertEqual(memoryError(0), .memoryZero)
        XCTAssertEqual(memoryError(8 << 20), .memoryTooSmall(8 << 20))
        XCTAssertEqual(memoryError((16 << 20) - 1), .memoryTooSmall((16 << 20) - 1))
        XCTAssertNil(memoryError(16 << 20))
        XCTAssertNil(memoryError(512 << 20))
        XCTAssertNil(memoryError(16 << 30))
        XCTAssertEqual(memoryError((16 << 30) + 1), .memoryTooLarge((16 << 30) + 1))
        XCTAssertEqual(ConfigError.memoryTooSmall(8 << 20).description,
                       "--memory 8 MiB is below the 16 MiB minimum; pass e.g. --memory 512M")
    }

    func testHartCount() {
        for good in [1, 2, 8] { XCTAssertNoThrow(try VMConfig(hartCount: good).validate()) }
        for bad in [0, -1, 9, 64] {
            XCTAssertThrowsError(try VMConfig(hartCount: bad).validate()) { error in
                XCTAssertEqual(error as? ConfigError, .hartCount(bad))
                XCTAssertTrue("\(error)".hasPrefix("--cpus \(bad) "), "\(error)")
            }
        }
    }
}
