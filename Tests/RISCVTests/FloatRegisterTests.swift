import XCTest
@testable import RISCV

/// The F/D register file as the hart sees it: NaN-boxing (unprivileged spec 13.2), mstatus.FS
/// and the dynamic rounding mode. Arithmetic itself is covered by FloatingPointTests.
final class FloatRegisterTests: XCTestCase {
    let base = TestMachine.ramBase
    let data = TestMachine.ramBase + 0x2000
    var m: TestMachine!

    let box: UInt64 = 0xffff_ffff_0000_0000
    let one32: UInt64 = 0x3f80_0000, minusOne32: UInt64 = 0xbf80_0000
    let canonicalNaN32: UInt64 = 0x7fc0_0000
    let canonicalNaN64: UInt64 = 0x7ff8_0000_0000_0000

    override func setUp() {
        m = TestMachine()
        m.enableFPU()
    }

    private func f(_ i: Int) -> UInt64 { m.hart.floatRegister(i) }

    func testFlwBoxesAndFswStoresRawLowBits() {
        m.write32(data, 0x7f80_0001)  // a signalling NaN: loads never canonicalise
        m.exec([Asm.flw(1, 6, 0)], [6: data])
        XCTAssertEqual(f(1), box | 0x7f80_0001)

        m.hart.setFloatRegister(2, 0x1234_5678_9abc_def0)  // not a boxed single
        m.write64(data + 8, 0x5555_5555_5555_5555)
        m.exec([Asm.fsw(2, 6, 8)], [6: data])
        XCTAssertEqual(m.read64(data + 8), 0x5555_5555_9abc_def0, "fsw writes the low 32 bits, boxed or not")

        m.write64(data + 16, 0x0123_4567_89ab_cdef)
        m.exec([Asm.fld(3, 6, 16), Asm.fsd(3, 6, 24)], [6: data])
        XCTAssertEqual(f(3), 0x0123_4567_89ab_cdef)
        XCTAssertEqual(m.read64(data + 24), 0x0123_4567_89ab_cdef)
    }

    func testImproperlyBoxedOperandsReadAsCanonicalNaN() {
        for unboxed: UInt64 in [one32, 0xffff_fffe_3f80_0000, 0x7fff_ffff_3f80_0000, 0x3ff0_0000_0000_0000] {
            m.hart.setFloatRegister(2, unboxed)
            m.hart.setFloatRegister(3, box | one32)
            m.setCSR(CSR.fflags, 0)
            m.exec([Asm.faddS(1, 2, 3)])
            XCTAssertEqual(f(1), box | canonicalNaN32, "fadd.s with \(hex(unboxed))")
            XCTAssertEqual(m.csr(CSR.fflags), 0, "a canonical NaN is quiet: no NV")
            m.exec([Asm.faddS(1, 3, 2)])
            XCTAssertEqual(f(1), box | canonicalNaN32, "fadd.s with \(hex(unboxed)) as rs2")
        }
        m.hart.setFloatRegister(2, one32)
        m.exec([Asm.fcvtDS(4, 2), Asm.fclassS(5, 2), Asm.feqS(6, 2, 2)])
        XCTAssertEqual(f(4), canonicalNaN64, "fcvt.d.s of an unboxed value")
        XCTAssertEqual(m.hart.register(5), 1 << 9, "fclass.s: quiet NaN")
        XCTAssertEqual(m.hart.register(6), 0, "feq.s NaN, NaN")
    }

    func testProperlyBoxedOperandsWork() {
        m.hart.setFloatRegister(2, box | one32)
        m.hart.setFloatRegister(3, box | one32)
        m.exec([Asm.faddS(1, 2, 3)])
        XCTAssertEqual(f(1), box | 0x4000_0000, "1 + 1 = 2, boxed")
    }

    func testFmvXWSignExtendsRawBits() {
        m.hart.setFloatRegister(1, 0x0000_0000_8000_0001)  // unboxed: fmv.x.w still moves the raw bits
        m.hart.setFloatRegister(2, box | one32)
        m.hart.setFloatRegister(3, 0x1234_5678_ffc0_0000)
        m.exec([Asm.fmvXW(5, 1), Asm.fmvXW(6, 2), Asm.fmvXW(7, 3)])
        XCTAssertEqual(m.hart.register(5), 0xffff_ffff_8000_0001)
        XCTAssertEqual(m.hart.register(6), 0x3f80_0000)
        XCTAssertEqual(m.hart.register(7), 0xffff_ffff_ffc0_0000)
    }

    func testFmvWXBoxesAndDoubleMovesAreRaw() {
        m.exec([Asm.fmvWX(1, 5), Asm.fmvDX(2, 6), Asm.fmvXD(7, 2)],
               [5: 0xdead_beef_8000_0000, 6: 0x7ff0_0000_0000_0001])
        XCTAssertEqual(f(1), box | 0x8000_0000)
        XCTAssertEqual(f(2), 0x7ff0_0000_0000_0001, "fmv.d.x keeps a signalling NaN as is")
        XCTAssertEqual(m.hart.register(7), 0x7ff0_0000_0000_0001)
    }

    func testSignInjectionOnUnboxedInputs() {
        // rs1 unboxed: the canonical NaN's magnitude with rs2's sign.
        m.hart.setFloatRegister(2, one32)
        m.hart.setFloatRegister(3, box | minusOne32)
        m.exec([Asm.fsgnjS(1, 2, 3), Asm.fsgnjnS(4, 2, 3), Asm.fsgnjxS(5, 2, 3)])
        XCTAssertEqual(f(1), box | 0xffc0_0000, "fsgnj.s")
        XCTAssertEqual(f(4), box | 0x7fc0_0000, "fsgnjn.s")
        XCTAssertEqual(f(5), box | 0xffc0_0000, "fsgnjx.s")
        // rs2 unboxed with its low sign bit set: it reads as +NaN, so the sign is 0.
        m.hart.setFloatRegister(6, 0x0000_0000_8000_0000)
        m.hart.setFloatRegister(7, box | minusOne32)
        m.exec([Asm.fsgnjS(8, 7, 6), Asm.fsgnjnS(9, 7, 6), Asm.fsgnjxS(10, 7, 6)])
        XCTAssertEqual(f(8), box | one32, "fsgnj.s takes + from the canonical NaN")
        XCTAssertEqual(f(9), box | minusOne32, "fsgnjn.s")
        XCTAssertEqual(f(10), box | minusOne32, "fsgnjx.s: - xor + = -")
    }

    func testFusedMultiplyAddOperandsSurviveDecoding() {
        let two: UInt64 = box | 0x4000_0000, three: UInt64 = box | 0x4040_0000, four: UInt64 = box | 0x4080_0000
        m.hart.setFloatRegister(2, two)
        m.hart.setFloatRegister(3, three)
        m.hart.setFloatRegister(31, four)
        m.hart.setFloatRegister(0, box | one32)
        m.exec([Asm.fmaddS(1, 2, 3, 31, rm: 7), Asm.fmaddS(4, 2, 3, 0, rm: 0), Asm.fmaddS(5, 2, 3, 31, rm: 0)])
        XCTAssertEqual(f(1), box | 0x4120_0000, "2*3+4 = 10 (rs3 = f31, dynamic rm)")
        XCTAssertEqual(f(4), box | 0x40e0_0000, "2*3+1 = 7 (rs3 = f0, rne)")
        XCTAssertEqual(f(5), box | 0x4120_0000, "2*3+4 = 10 (rs3 = f31, rne)")
    }

    // MARK: mstatus.FS

    private func fs() -> UInt64 { (m.hart.mstatus & Mstatus.fs) >> 13 }
    private var sd: UInt64 { 1 << 63 }

    func testFloatingPointWritesSetDirtyAndSD() {
        let writers: [(UInt32, String)] = [
            (Asm.faddS(1, 2, 3), "fadd.s"), (Asm.fmvWX(1, 5), "fmv.w.x"), (Asm.flw(1, 6, 0), "flw"),
            (Asm.fld(1, 6, 0), "fld"), (Asm.fsgnjS(1, 2, 2), "fsgnj.s"), (Asm.fmvDX(1, 5), "fmv.d.x"),
            (Asm.faddD(1, 2, 3), "fadd.d"), (Asm.csrrwi(0, CSR.fflags, 1), "csrwi fflags"),
            (Asm.csrrwi(0, CSR.frm, 1), "csrwi frm"),
        ]
        for (word, name) in writers {
            for start: UInt64 in [1, 2] {  // Initial, Clean
                m.hart.mstatus = (m.hart.mstatus & ~Mstatus.fs) | (start << 13)
                XCTAssertEqual(m.csr(CSR.mstatus) & sd, 0, "\(name): SD clear before")
                m.exec([word], [6: data])
                XCTAssertEqual(m.hart.pc, base + 4, "\(name) retired")
                XCTAssertEqual(fs(), 3, "\(name) from FS=\(start): Dirty")
                XCTAssertEqual(m.csr(CSR.mstatus) & sd, sd, "\(name): mstatus.SD")
                XCTAssertEqual(m.csr(CSR.sstatus) & sd, sd, "\(name): sstatus.SD")
            }
        }
    }

    func testAccruedFlagsSetDirty() {
        m.hart.mstatus = (m.hart.mstatus & ~Mstatus.fs) | (2 << 13)  // Clean
        m.hart.setFloatRegister(2, box | 0x7fc0_0001)  // quiet NaN
        m.hart.setFloatRegister(3, box | 0x7f80_0001)  // signalling NaN
        m.exec([Asm.feqS(5, 2, 2)])
        XCTAssertEqual(m.hart.register(5), 0)
        XCTAssertEqual(m.csr(CSR.fflags), 0, "feq is quiet on a quiet NaN")
        m.exec([Asm.fp(0x50, 5, 2, 2, rm: 1)])  // flt.s signals on any NaN
        XCTAssertEqual(m.csr(CSR.fflags), 0x10, "NV")
        XCTAssertEqual(fs(), 3)
        m.setCSR(CSR.fflags, 0)
        m.exec([Asm.feqS(5, 3, 3)])
        XCTAssertEqual(m.csr(CSR.fflags), 0x10, "feq signals on a signalling NaN")
    }

    // MARK: Rounding modes

    func testInvalidDynamicRoundingModeIsIllegal() {
        m.hart.setFloatRegister(2, box | one32)
        m.hart.setFloatRegister(3, box | one32)
        for frm: UInt64 in [5, 6, 7] {
            m.setPrivilege(.machine)
            m.setCSR(CSR.frm, frm)
            XCTAssertEqual(m.csr(CSR.frm), frm, "frm holds any 3-bit value")
            m.exec([Asm.faddS(1, 2, 3, rm: 7)])
            m.assertTrap(.illegalInstruction, epc: base)
            m.setPrivilege(.machine)
            m.exec([Asm.fcvtWS(5, 2, rm: 7)])
            m.assertTrap(.illegalInstruction, epc: base)
            // A static rounding mode ignores frm.
            m.hart.mcause = 0xdead
            m.exec([Asm.faddS(1, 2, 3, rm: 0)])
            XCTAssertEqual(m.hart.mcause, 0xdead, "static rm with frm = \(frm)")
            XCTAssertEqual(f(1), box | 0x4000_0000)
            // Sign injection has no rounding mode.
            m.exec([Asm.fsgnjS(1, 2, 3)])
            XCTAssertEqual(m.hart.mcause, 0xdead, "fsgnj with frm = \(frm)")
        }
    }

    func testReservedStaticRoundingModesAreIllegal() {
        for rm: UInt32 in [5, 6] {
            m.setPrivilege(.machine)
            m.exec([Asm.faddS(1, 2, 3, rm: rm)])
            m.assertTrap(.illegalInstruction, epc: base)
            m.setPrivilege(.machine)
            m.exec([Asm.faddD(1, 2, 3, rm: rm)])
            m.assertTrap(.illegalInstruction, epc: base)
        }
    }

    func testDynamicRoundingModeIsUsed() {
        // 1 + 2^-24 is exactly halfway between 1 and the next single: RNE rounds down, RUP up.
        m.hart.setFloatRegister(2, box | one32)
        m.hart.setFloatRegister(3, box | 0x3380_0000)
        m.setCSR(CSR.frm, 3)  // RUP
        m.exec([Asm.faddS(1, 2, 3, rm: 7)])
        XCTAssertEqual(f(1), box | 0x3f80_0001)
        m.setCSR(CSR.frm, 0)
        m.exec([Asm.faddS(1, 2, 3, rm: 7)])
        XCTAssertEqual(f(1), box | one32)
        XCTAssertEqual(m.csr(CSR.fflags) & 1, 1, "inexact")
    }

    func testFcsrComposesFrmAndFflags() {
        m.exec([Asm.csrrw(0, CSR.fcsr, 5), Asm.csrrs(6, CSR.frm, 0), Asm.csrrs(7, CSR.fflags, 0)], [5: 0xfff])
        XCTAssertEqual(m.hart.register(6), 7)
        XCTAssertEqual(m.hart.register(7), 0x1f)
        XCTAssertEqual(m.csr(CSR.fcsr), 0xff, "fcsr bits above 7 are reserved zero")
        m.exec([Asm.csrrwi(0, CSR.frm, 2), Asm.csrrci(0, CSR.fflags, 1), Asm.csrrs(5, CSR.fcsr, 0)])
        XCTAssertEqual(m.hart.register(5), 2 << 5 | 0x1e)
    }
}
