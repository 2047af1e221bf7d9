import XCTest
import GuestMemory
import RISCV
@testable import VMM

/// The G-stage map the VMM builds for hardware-assisted mode: walked here the way the spec's
/// Sv39x4 walk goes (privileged spec 8.5), independently of the hart.
final class GStageTablesTests: XCTestCase {
    func make(guestRAM size: UInt64) -> (GuestMemory, GuestMemory, GStageTables) {
        let region = GStageTables.regionBytes(forGuestRAM: size)
        let machine = try! GuestMemory(base: 0x8000_0000, size: size + region)
        let guest = GuestMemory(prefixOf: machine, size: size)
        let tables = GStageTables(machine: machine, guestRAM: guest, region: guest.end..<machine.end)
        return (machine, guest, tables)
    }

    /// The Sv39x4 walk: the machine address for `gpa`, or nil for a G-stage fault.
    func walk(_ machine: GuestMemory, hgatp: UInt64, _ gpa: UInt64) -> UInt64? {
        guard gpa >> 41 == 0 else { return nil }
        var table = (hgatp & PageTableEntry.ppnMask) << 12
        for level in stride(from: 2, through: 0, by: -1) {
            let index = level == 2 ? (gpa >> 30) & 0x7ff : (gpa >> (12 + 9 * UInt64(level))) & 0x1ff
            let pte: UInt64 = machine.load(table + index * 8)!
            guard pte & PageTableEntry.v != 0 else { return nil }
            let ppn = (pte >> 10) & PageTableEntry.ppnMask
            if pte & (PageTableEntry.r | PageTableEntry.x) != 0 {
                XCTAssertNotEqual(pte & PageTableEntry.u, 0, "G-stage leaves must be U pages")
                let mask: UInt64 = (1 << (12 + 9 * UInt64(level))) - 1
                XCTAssertEqual((ppn << 12) & mask, 0, "superpage aligned")
                return (ppn << 12) | (gpa & mask)
            }
            table = ppn << 12
        }
        return nil
    }

    func testMapsExactlyTheGuestRAM() {
        let (machine, guest, tables) = make(guestRAM: 64 << 20)
        XCTAssertEqual(tables.hgatp >> 60, 8, "Sv39x4")
        XCTAssertEqual(tables.root % GStageTables.rootBytes, 0, "the 16 KiB root is 16 KiB aligned")
        for gpa in [guest.base, guest.base + 0x1234, guest.end - 8, guest.base + (37 << 20) + 0x567] {
            XCTAssertEqual(walk(machine, hgatp: tables.hgatp, gpa), gpa, "identity over guest RAM")
        }
        for gpa: UInt64 in [guest.end, guest.end + 0x1000, machine.end - 8, 0x1000_0000, 0x0c00_0000, 0, 1 << 40] {
            XCTAssertNil(walk(machine, hgatp: tables.hgatp, gpa), "0x\(String(gpa, radix: 16)) must fault")
        }
        XCTAssertEqual(tables.leaves.mega, 32, "64 MiB in 2 MiB pages")
        XCTAssertEqual(tables.leaves.small, 0)
    }

    func testUsesGigapagesAndUnalignedTails() {
        // 1 GiB + 2 MiB + 8 KiB: one gigapage, one megapage, two small pages.
        let size: UInt64 = (1 << 30) + (2 << 20) + 0x2000
        let (machine, guest, tables) = make(guestRAM: size)
        XCTAssertEqual(tables.leaves.giga, 1, "RAM at 0x8000_0000 starts 1 GiB aligned")
        XCTAssertEqual(tables.leaves.mega, 1)
        XCTAssertEqual(tables.leaves.small, 2)
        XCTAssertEqual(walk(machine, hgatp: tables.hgatp, guest.base + (1 << 30) + 0x1_2345), guest.base + (1 << 30) + 0x1_2345)
        XCTAssertEqual(walk(machine, hgatp: tables.hgatp, guest.end - 8), guest.end - 8)
        XCTAssertNil(walk(machine, hgatp: tables.hgatp, guest.end))
    }

    func testRootIndexUsesBits40To30() {
        // A guest-physical address above 512 GiB needs the two extra root index bits.
        let (machine, _, tables) = make(guestRAM: 16 << 20)
        XCTAssertNil(walk(machine, hgatp: tables.hgatp, (1 << 39) | 0x8000_0000), "bit 39 selects another root entry")
    }
}
