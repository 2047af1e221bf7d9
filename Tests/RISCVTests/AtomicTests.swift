import XCTest
@testable import RISCV
import Devices

/// The A extension: LR/SC reservations and every AMO (x6 = address, x7 = source, x5 = result).
final class AtomicTests: XCTestCase {
    let base = TestMachine.ramBase
    let addr = TestMachine.ramBase + 0x2000
    var m: TestMachine!

    override func setUp() { m = TestMachine() }

    // MARK: LR/SC

    func testLoadReservedStoreConditionalSucceeds() {
        m.write64(addr, 0x1111_2222_3333_4444)
        m.exec([Asm.amo(.lr, word: false, 5, 6, 0), Asm.amo(.sc, word: false, 8, 6, 7)],
               [6: addr, 7: 0xaaaa_bbbb_cccc_dddd, 8: 99])
        XCTAssertEqual(m.hart.register(5), 0x1111_2222_3333_4444)
        XCTAssertEqual(m.hart.register(8), 0, "sc succeeded")
        XCTAssertEqual(m.read64(addr), 0xaaaa_bbbb_cccc_dddd)
    }

    func testWordLRSignExtendsAndSCWritesFourBytes() {
        m.write64(addr, 0x5555_5555_8000_0001)
        m.exec([Asm.amo(.lr, word: true, 5, 6, 0), Asm.amo(.sc, word: true, 8, 6, 7)],
               [6: addr, 7: 0xffff_ffff_1234_5678])
        XCTAssertEqual(m.hart.register(5), 0xffff_ffff_8000_0001)
        XCTAssertEqual(m.hart.register(8), 0)
        XCTAssertEqual(m.read64(addr), 0x5555_5555_1234_5678)
    }

    func testStoreConditionalWithoutReservationFails() {
        m.write64(addr, 7)
        m.exec([Asm.amo(.sc, word: false, 8, 6, 7)], [6: addr, 7: 42])
        XCTAssertNotEqual(m.hart.register(8), 0)
        XCTAssertEqual(m.hart.register(8), 1)
        XCTAssertEqual(m.read64(addr), 7)
    }

    func testStoreConditionalFailsAfterReservationCleared() {
        m.write64(addr, 7)
        m.load([Asm.amo(.lr, word: false, 5, 6, 0), Asm.amo(.sc, word: false, 8, 6, 7)])
        m.hart.setRegister(6, addr)
        m.hart.setRegister(7, 42)
        m.step()
        m.hart.clearReservation()  // what the run loop does when another hart runs
        m.step()
        XCTAssertEqual(m.hart.register(8), 1)
        XCTAssertEqual(m.read64(addr), 7)
    }

    func testStoreConditionalConsumesTheReservation() {
        m.write64(addr, 7)
        m.exec([Asm.amo(.lr, word: false, 5, 6, 0), Asm.amo(.sc, word: false, 8, 6, 7),
                Asm.amo(.sc, word: false, 9, 6, 10)], [6: addr, 7: 42, 10: 43])
        XCTAssertEqual(m.hart.register(8), 0)
        XCTAssertEqual(m.hart.register(9), 1, "second sc has no reservation")
        XCTAssertEqual(m.read64(addr), 42)
    }

    func testStoreConditionalToAnotherAddressFails() {
        m.write64(addr, 7)
        m.write64(addr + 8, 8)
        m.exec([Asm.amo(.lr, word: false, 5, 6, 0), Asm.amo(.sc, word: false, 8, 11, 7),
                Asm.amo(.sc, word: false, 9, 6, 7)], [6: addr, 11: addr + 8, 7: 42])
        XCTAssertEqual(m.hart.register(8), 1, "sc to a different address fails")
        XCTAssertEqual(m.read64(addr + 8), 8)
        XCTAssertEqual(m.hart.register(9), 1, "a failed sc also drops the reservation")
        XCTAssertEqual(m.read64(addr), 7)
    }

    func testMisalignedReservations() {
        m.exec([Asm.amo(.lr, word: true, 5, 6, 0)], [6: addr + 2])
        m.assertTrap(.loadAddressMisaligned, epc: base, tval: addr + 2)
        m.setPrivilege(.machine)
        m.exec([Asm.amo(.sc, word: false, 5, 6, 7)], [6: addr + 4])
        m.assertTrap(.storeAddressMisaligned, epc: base, tval: addr + 4)
    }

    // MARK: AMOs

    private struct AMOCase { let op: Asm.AMO; let name: String; let word: (UInt32, UInt32) -> UInt32; let double: (UInt64, UInt64) -> UInt64 }

    private let amoCases: [AMOCase] = [
        AMOCase(op: .swap, name: "swap", word: { _, b in b }, double: { _, b in b }),
        AMOCase(op: .add, name: "add", word: { $0 &+ $1 }, double: { $0 &+ $1 }),
        AMOCase(op: .xor, name: "xor", word: { $0 ^ $1 }, double: { $0 ^ $1 }),
        AMOCase(op: .and, name: "and", word: { $0 & $1 }, double: { $0 & $1 }),
        AMOCase(op: .or, name: "or", word: { $0 | $1 }, double: { $0 | $1 }),
        AMOCase(op: .min, name: "min", word: { Int32(bitPattern: $0) < Int32(bitPattern: $1) ? $0 : $1 },
                double: { Int64(bitPattern: $0) < Int64(bitPattern: $1) ? $0 : $1 }),
        AMOCase(op: .max, name: "max", word: { Int32(bitPattern: $0) > Int32(bitPattern: $1) ? $0 : $1 },
                double: { Int64(bitPattern: $0) > Int64(bitPattern: $1) ? $0 : $1 }),
        AMOCase(op: .minu, name: "minu", word: { Swift.min($0, $1) }, double: { Swift.min($0, $1) }),
        AMOCase(op: .maxu, name: "maxu", word: { Swift.max($0, $1) }, double: { Swift.max($0, $1) }),
    ]

    func testWordAMOs() {
        // Operand pairs that separate signed from unsigned order and show sign extension.
        let pairs: [(UInt32, UInt64)] = [(0x8000_0001, 0x7fff_fffe), (0x7fff_fffe, 0xdead_beef_8000_0001),
                                         (5, 0xffff_ffff_ffff_fffb), (0xffff_ffff, 1)]
        for c in amoCases {
            for (old, src) in pairs {
                m.write64(addr, 0x1234_5678_0000_0000 | UInt64(old))
                m.exec([Asm.amo(c.op, word: true, 5, 6, 7)], [6: addr, 7: src])
                let want = c.word(old, UInt32(truncatingIfNeeded: src))
                XCTAssertEqual(m.read32(addr), want, "amo\(c.name).w \(hex(UInt64(old))), \(hex(src)): memory")
                XCTAssertEqual(m.read32(addr + 4), 0x1234_5678, "amo\(c.name).w leaves the next word alone")
                XCTAssertEqual(m.hart.register(5), UInt64(bitPattern: Int64(Int32(bitPattern: old))),
                               "amo\(c.name).w returns the sign-extended old value")
                XCTAssertEqual(m.hart.pc, base + 4)
            }
        }
    }

    func testDoublewordAMOs() {
        let pairs: [(UInt64, UInt64)] = [(0x8000_0000_0000_0001, 0x7fff_ffff_ffff_fffe), (0x7fff_ffff_ffff_fffe, 0x8000_0000_0000_0001),
                                         (5, UInt64.max - 4), (UInt64.max, 1), (0x0000_0001_0000_0000, 0xffff_ffff)]
        for c in amoCases {
            for (old, src) in pairs {
                m.write64(addr, old)
                m.exec([Asm.amo(c.op, word: false, 5, 6, 7)], [6: addr, 7: src])
                XCTAssertEqual(m.read64(addr), c.double(old, src), "amo\(c.name).d \(hex(old)), \(hex(src))")
                XCTAssertEqual(m.hart.register(5), old, "amo\(c.name).d returns the old value")
            }
        }
    }

    func testAMORegisterAliasing() {
        // rd == rs1: the address is read before rd is written.
        m.write64(addr, 100)
        m.exec([Asm.amo(.add, word: false, 6, 6, 7)], [6: addr, 7: 5])
        XCTAssertEqual(m.hart.register(6), 100)
        XCTAssertEqual(m.read64(addr), 105)
        // rd == rs2: the stored value is the register's old contents.
        m.write64(addr, 100)
        m.exec([Asm.amo(.swap, word: false, 7, 6, 7)], [6: addr, 7: 5])
        XCTAssertEqual(m.hart.register(7), 100)
        XCTAssertEqual(m.read64(addr), 5)
        // rd == x0 still performs the update.
        m.write64(addr, 100)
        m.exec([Asm.amo(.or, word: false, 0, 6, 7)], [6: addr, 7: 1])
        XCTAssertEqual(m.read64(addr), 101)
        XCTAssertEqual(m.hart.register(0), 0)
    }

    func testMisalignedAMORaisesStoreMisaligned() {
        for (word, offset) in [(true, UInt64(2)), (true, 1), (false, 4), (false, 7)] {
            m.setPrivilege(.machine)
            m.write64(addr, 0x0102_0304_0506_0708)
            m.write64(addr + 8, 0x1112_1314_1516_1718)
            m.exec([Asm.amo(.add, word: word, 5, 6, 7)], [6: addr + offset, 7: 1, 5: 77])
            m.assertTrap(.storeAddressMisaligned, epc: base, tval: addr + offset)
            XCTAssertEqual(m.read64(addr), 0x0102_0304_0506_0708, "memory unchanged")
            XCTAssertEqual(m.read64(addr + 8), 0x1112_1314_1516_1718, "memory unchanged")
            XCTAssertEqual(m.hart.register(5), 77, "rd unchanged")
        }
    }

    func testAMOOutsideRAMIsAnAccessFault() {
        m.exec([Asm.amo(.add, word: false, 5, 6, 7)], [6: 0x1000])
        m.assertTrap(.storeAccessFault, epc: base, tval: 0x1000)
        m.setPrivilege(.machine)
        m.exec([Asm.amo(.lr, word: false, 5, 6, 0)], [6: 0x1000])
        m.assertTrap(.loadAccessFault, epc: base, tval: 0x1000)
    }
}
