import XCTest
@testable import RISCV
import Devices

/// A device that answers every read with a fixed pattern and records writes.
final class RecordingDevice: MMIODevice {
    let name = "recorder"
    var writes: [(offset: UInt64, size: Int, value: UInt64)] = []
    var reads: [(offset: UInt64, size: Int)] = []
    func read(offset: UInt64, size: Int) -> UInt64 {
        reads.append((offset, size))
        let pattern: UInt64 = 0x8899_aabb_ccdd_eeff
        return size == 8 ? pattern : pattern & ((1 << (8 * UInt64(size))) - 1)
    }
    func write(offset: UInt64, size: Int, value: UInt64) { writes.append((offset, size, value)) }
}

/// RV64IM and Zba/Zbb edge cases, executed on a hart (x6 and x7 are sources, x5 the result).
final class IntegerInstructionTests: XCTestCase {
    let base = TestMachine.ramBase
    var m: TestMachine!

    override func setUp() { m = TestMachine() }

    private func rr(_ op: Asm.R, _ a: UInt64, _ b: UInt64) -> UInt64 {
        m.result(Asm.r(op, 5, 6, 7), [6: a, 7: b])
    }

    private func check(_ op: Asm.R, _ name: String, _ a: UInt64, _ b: UInt64, _ want: UInt64,
                       file: StaticString = #filePath, line: UInt = #line) {
        let got = rr(op, a, b)
        XCTAssertEqual(got, want, "\(name)(\(hex(a)), \(hex(b))) = \(hex(got)), want \(hex(want))", file: file, line: line)
    }

    private func checkImm(_ word: UInt32, _ name: String, _ a: UInt64, _ want: UInt64,
                          file: StaticString = #filePath, line: UInt = #line) {
        let got = m.result(word, [6: a])
        XCTAssertEqual(got, want, "\(name)(\(hex(a))) = \(hex(got)), want \(hex(want))", file: file, line: line)
    }

    private let minI64 = UInt64(bitPattern: Int64.min)
    private let allOnes = UInt64.max

    /// The test encoder against GNU as (riscv64-linux-gnu-as -march=rv64gc_zba_zbb), so the
    /// other tests run the instructions they name.
    func testEncoderMatchesGNUAssembler() {
        let cases: [(UInt32, UInt32, String)] = [
            (Asm.r(Asm.add, 5, 6, 7), 0x007302b3, "add"), (Asm.r(Asm.sub, 5, 6, 7), 0x407302b3, "sub"),
            (Asm.addi(5, 6, -1), 0xfff30293, "addi"), (Asm.lui(5, 0x8000_0000), 0x800002b7, "lui"),
            (Asm.auipc(5, -4096), 0xfffff297, "auipc"), (Asm.jal(1, -8), 0xff9ff0ef, "jal"),
            (Asm.jal(0, 0xff8), 0x7f90006f, "j"), (Asm.jalr(5, 5, 3), 0x003282e7, "jalr"),
            (Asm.b(Asm.beq, 1, 2, -16), 0xfe2088e3, "beq"),
            (Asm.load(Asm.lb, 5, 6, -1), 0xfff30283, "lb"), (Asm.load(Asm.lwu, 5, 6, 2047), 0x7ff36283, "lwu"),
            (Asm.sd(7, 6, -2048), 0x80733023, "sd"), (Asm.sb(7, 6, 5), 0x007302a3, "sb"),
            (Asm.shift(Asm.slli, 5, 6, 63), 0x03f31293, "slli"), (Asm.shift(Asm.srai, 5, 6, 33), 0x42135293, "srai"),
            (Asm.shift(Asm.sraiw, 5, 6, 31), 0x41f3529b, "sraiw"), (Asm.shift(Asm.slliw, 5, 6, 7), 0x0073129b, "slliw"),
            (Asm.r(Asm.mulhsu, 5, 6, 7), 0x027322b3, "mulhsu"), (Asm.r(Asm.remuw, 5, 6, 7), 0x027372bb, "remuw"),
            (Asm.amo(.lr, word: true, 5, 6, 0), 0x100322af, "lr.w"),
            (Asm.amo(.sc, word: false, 5, 6, 7, aq: true, rl: true), 0x1e7332af, "sc.d.aqrl"),
            (Asm.amo(.maxu, word: true, 5, 6, 7), 0xe07322af, "amomaxu.w"),
            (Asm.amo(.swap, word: false, 5, 6, 7, aq: true), 0x0c7332af, "amoswap.d.aq"),
            (Asm.csrrw(5, CSR.mstatus, 6), 0x300312f3, "csrrw"), (Asm.csrrci(0, CSR.sstatus, 31), 0x100ff073, "csrrci"),
            (Asm.sfenceVMA(6, 7), 0x12730073, "sfence.vma"),
            (Asm.flw(1, 6, 8), 0x00832087, "flw"), (Asm.fsd(2, 6, -8), 0xfe233c27, "fsd"),
            (Asm.faddS(1, 2, 3), 0x003170d3, "fadd.s"), (Asm.fcvtWUS(5, 1, rm: 1), 0xc01092d3, "fcvt.wu.s"),
            (Asm.fmaddS(1, 2, 3, 4, rm: 0), 0x203100c3, "fmadd.s"), (Asm.fmvXW(5, 1), 0xe00082d3, "fmv.x.w"),
            (Asm.fcvtSD(1, 2), 0x401170d3, "fcvt.s.d"),
            (Asm.r(Asm.sh3adduw, 5, 6, 7), 0x207362bb, "sh3add.uw"), (Asm.r(Asm.adduw, 5, 6, 7), 0x087302bb, "add.uw"),
            (Asm.shift(Asm.slliuw, 5, 6, 40), 0x0a83129b, "slli.uw"), (Asm.r(Asm.andn, 5, 6, 7), 0x407372b3, "andn"),
            (Asm.r(Asm.max, 5, 6, 7), 0x0a7362b3, "max"), (Asm.r(Asm.minu, 5, 6, 7), 0x0a7352b3, "minu"),
            (Asm.r(Asm.rol, 5, 6, 7), 0x607312b3, "rol"), (Asm.r(Asm.rorw, 5, 6, 7), 0x607352bb, "rorw"),
            (Asm.shift(Asm.rori, 5, 6, 40), 0x62835293, "rori"), (Asm.shift(Asm.roriw, 5, 6, 20), 0x6143529b, "roriw"),
            (Asm.clz(5, 6), 0x60031293, "clz"), (Asm.cpopw(5, 6), 0x6023129b, "cpopw"),
            (Asm.sextb(5, 6), 0x60431293, "sext.b"), (Asm.zexth(5, 6), 0x080342bb, "zext.h"),
            (Asm.orcb(5, 6), 0x28735293, "orc.b"), (Asm.rev8(5, 6), 0x6b835293, "rev8"),
            (Asm.r(Asm.sh1add, 5, 6, 7), 0x207322b3, "sh1add"),
        ]
        for (got, want, name) in cases {
            XCTAssertEqual(got, want, "\(name): \(String(got, radix: 16)) want \(String(want, radix: 16))")
        }
    }

    // MARK: M extension

    func testDivisionByZero() {
        let a: UInt64 = 0x1234_5678_9abc_def0
        let neg = UInt64(bitPattern: -7)
        check(Asm.div, "div", a, 0, allOnes)
        check(Asm.div, "div", neg, 0, allOnes)
        check(Asm.divu, "divu", a, 0, allOnes)
        check(Asm.rem, "rem", neg, 0, neg)
        check(Asm.remu, "remu", a, 0, a)
        // W forms look only at the low 32 bits of the divisor: 1 << 32 is a zero divisor.
        check(Asm.divw, "divw", a, 1 << 32, allOnes)
        check(Asm.divuw, "divuw", a, 1 << 32, allOnes)
        check(Asm.remw, "remw", 0x0000_0001_8000_0001, 0, 0xffff_ffff_8000_0001)
        check(Asm.remuw, "remuw", 0x0000_0001_8000_0001, 0xffff_0000_0000_0000, 0xffff_ffff_8000_0001)
        check(Asm.remw, "remw", 0xdead_beef_0000_0005, 0, 5)
    }

    func testDivisionOverflow() {
        let minusOne = allOnes
        check(Asm.div, "div", minI64, minusOne, minI64)
        check(Asm.rem, "rem", minI64, minusOne, 0)
        check(Asm.divu, "divu", minI64, minusOne, 0)
        check(Asm.remu, "remu", minI64, minusOne, minI64)
        // -2^31 / -1 in 32 bits, with garbage above bit 31 in both operands.
        check(Asm.divw, "divw", 0x1234_5678_8000_0000, 0x0000_0001_ffff_ffff, 0xffff_ffff_8000_0000)
        check(Asm.remw, "remw", 0x1234_5678_8000_0000, 0x0000_0001_ffff_ffff, 0)
        check(Asm.divuw, "divuw", 0x8000_0000, 0xffff_ffff, 0)
        check(Asm.remuw, "remuw", 0x8000_0000, 0xffff_ffff, 0xffff_ffff_8000_0000)
    }

    func testDivisionRoundsTowardZero() {
        let m7 = UInt64(bitPattern: -7), m2 = UInt64(bitPattern: -2)
        check(Asm.div, "div", m7, 2, UInt64(bitPattern: -3))
        check(Asm.rem, "rem", m7, 2, UInt64(bitPattern: -1))
        check(Asm.div, "div", 7, m2, UInt64(bitPattern: -3))
        check(Asm.rem, "rem", 7, m2, 1)
        check(Asm.divu, "divu", m7, 2, 0x7fff_ffff_ffff_fffc)
        check(Asm.divw, "divw", 0xffff_ffff_ffff_fff9, 2, UInt64(bitPattern: -3))
        check(Asm.remw, "remw", 0x0000_0000_ffff_fff9, 2, UInt64(bitPattern: -1))
        check(Asm.divuw, "divuw", 0xffff_fff9, 2, 0x7fff_fffc)
        // A 32-bit unsigned quotient with bit 31 set is still sign-extended.
        check(Asm.divuw, "divuw", 0xffff_fffe, 1, 0xffff_ffff_ffff_fffe)
        check(Asm.remuw, "remuw", 0xffff_ffff, 0x10, 0xf)
        check(Asm.remuw, "remuw", 0xffff_fff0, 0xffff_fff1, 0xffff_ffff_ffff_fff0)
    }

    /// mulh/mulhsu/mulhu against an independent 128-bit reference (sign-magnitude products).
    func testMultiplyHigh() {
        func negate(_ v: (high: UInt64, low: UInt64)) -> (high: UInt64, low: UInt64) {
            let low = ~v.low &+ 1
            return (~v.high &+ (low == 0 ? 1 : 0), low)
        }
        func magnitude(_ v: UInt64) -> UInt64 { Int64(bitPattern: v) < 0 ? 0 &- v : v }
        func refMulh(_ a: UInt64, _ b: UInt64) -> UInt64 {
            let p = magnitude(a).multipliedFullWidth(by: magnitude(b))
            let negative = (Int64(bitPattern: a) < 0) != (Int64(bitPattern: b) < 0)
            return negative ? negate((p.high, p.low)).high : p.high
        }
        func refMulhsu(_ a: UInt64, _ b: UInt64) -> UInt64 {
            let p = magnitude(a).multipliedFullWidth(by: b)
            return Int64(bitPattern: a) < 0 ? negate((p.high, p.low)).high : p.high
        }
        var rng = SplitMix64(seed: 0x5eed)
        let edges: [UInt64] = [0, 1, 2, allOnes, minI64, UInt64(Int64.max), 0x8000_0000, 0xffff_ffff,
                               0x1_0000_0000, UInt64(bitPattern: -2)]
        var operands = edges
        for _ in 0..<40 { operands.append(rng.next()) }
        // Sanity of the reference itself against Swift's signed full-width product.
        for a in operands.prefix(12) {
            for b in operands.prefix(12) {
                let swiftHigh = Int64(bitPattern: a).multipliedFullWidth(by: Int64(bitPattern: b)).high
                XCTAssertEqual(refMulh(a, b), UInt64(bitPattern: swiftHigh))
            }
        }
        var tested = 0
        for a in operands {
            for b in operands.shuffled(using: &rng).prefix(12) {
                check(Asm.mulh, "mulh", a, b, refMulh(a, b))
                check(Asm.mulhsu, "mulhsu", a, b, refMulhsu(a, b))
                check(Asm.mulhu, "mulhu", a, b, a.multipliedFullWidth(by: b).high)
                check(Asm.mul, "mul", a, b, a &* b)
                tested += 1
            }
        }
        XCTAssertEqual(tested, 50 * 12)
        // Hand-checked corners.
        check(Asm.mulhsu, "mulhsu", allOnes, allOnes, allOnes)   // -1 * (2^64-1) = -(2^64-1): high -1
        check(Asm.mulhsu, "mulhsu", minI64, 2, allOnes)          // -2^63 * 2 = -2^64
        check(Asm.mulh, "mulh", minI64, minI64, 0x4000_0000_0000_0000)
        check(Asm.mulhu, "mulhu", allOnes, allOnes, allOnes - 1)
    }

    // MARK: W operations sign-extend bit 31 of their 32-bit result

    func testWordOpsSignExtend() {
        check(Asm.addw, "addw", 0x7fff_ffff, 1, 0xffff_ffff_8000_0000)
        check(Asm.addw, "addw", 0xdead_beef_0000_0001, 0x1234_0000_0000_0002, 3)
        check(Asm.subw, "subw", 0, 1, allOnes)
        check(Asm.subw, "subw", 0xffff_ffff_8000_0000, 1, 0x7fff_ffff)
        check(Asm.sllw, "sllw", 1, 31, 0xffff_ffff_8000_0000)
        check(Asm.srlw, "srlw", 0x0000_0000_8000_0000, 0, 0xffff_ffff_8000_0000)
        check(Asm.srlw, "srlw", 0xffff_ffff_8000_0000, 1, 0x4000_0000)
        check(Asm.srlw, "srlw", allOnes, 4, 0x0fff_ffff)
        check(Asm.sraw, "sraw", 0x8000_0000, 4, 0xffff_ffff_f800_0000)
        check(Asm.sraw, "sraw", 0x0000_0001_7fff_ffff, 4, 0x07ff_ffff)
        check(Asm.mulw, "mulw", 0x10000, 0x8000, 0xffff_ffff_8000_0000)
        check(Asm.mulw, "mulw", 0xffff_ffff, 0xffff_ffff, 1)
        check(Asm.mulw, "mulw", 0x1_0000_0003, 0x5_0000_0007, 21)
        check(Asm.divw, "divw", 0x8000_0000, 1, 0xffff_ffff_8000_0000)
        check(Asm.remw, "remw", 0x8000_0001, 2, allOnes)
        check(Asm.rolw, "rolw", 0xffff_0000_4000_0000, 1, 0xffff_ffff_8000_0000)
        check(Asm.rorw, "rorw", 1, 1, 0xffff_ffff_8000_0000)
        check(Asm.adduw, "add.uw", allOnes, 1, 0x1_0000_0000)

        checkImm(Asm.i(Asm.addiw, 5, 6, 1), "addiw", 0x7fff_ffff, 0xffff_ffff_8000_0000)
        checkImm(Asm.i(Asm.addiw, 5, 6, 0), "sext.w", 0x1_8000_0000, 0xffff_ffff_8000_0000)
        checkImm(Asm.i(Asm.addiw, 5, 6, -1), "addiw", 0xffff_ffff_0000_0000, allOnes)
        checkImm(Asm.shift(Asm.slliw, 5, 6, 31), "slliw", 1, 0xffff_ffff_8000_0000)
        checkImm(Asm.shift(Asm.slliw, 5, 6, 4), "slliw", 0xffff_ffff_0fff_ffff, 0xffff_ffff_ffff_fff0)
        checkImm(Asm.shift(Asm.srliw, 5, 6, 0), "srliw", 0x8000_0000, 0xffff_ffff_8000_0000)
        checkImm(Asm.shift(Asm.srliw, 5, 6, 4), "srliw", 0xffff_ffff_0000_0010, 1)
        checkImm(Asm.shift(Asm.srliw, 5, 6, 1), "srliw", allOnes, 0x7fff_ffff)
        checkImm(Asm.shift(Asm.sraiw, 5, 6, 31), "sraiw", 0x8000_0000, allOnes)
        checkImm(Asm.shift(Asm.sraiw, 5, 6, 4), "sraiw", 0xf_7000_0000, 0x0700_0000)
        checkImm(Asm.shift(Asm.roriw, 5, 6, 1), "roriw", 1, 0xffff_ffff_8000_0000)
        checkImm(Asm.shift(Asm.slliuw, 5, 6, 40), "slli.uw", 0xffff_ffff_8000_0001, 0x0000_0100_0000_0000)
        checkImm(Asm.clzw(5, 6), "clzw", 0xffff_ffff_0000_0001, 31)
        checkImm(Asm.clzw(5, 6), "clzw", 0xffff_ffff_0000_0000, 32)
        checkImm(Asm.ctzw(5, 6), "ctzw", 0xffff_ffff_0000_0000, 32)
        checkImm(Asm.cpopw(5, 6), "cpopw", 0xffff_ffff_0000_0003, 2)
    }

    func testShiftAmountsUseLowBitsOnly() {
        check(Asm.sll, "sll", 1, 65, 2)
        check(Asm.sll, "sll", 1, 64, 1)
        check(Asm.srl, "srl", minI64, 0x7f, 1)
        check(Asm.sra, "sra", minI64, 64 + 63, allOnes)
        check(Asm.sra, "sra", minI64, 0xffff_ffff_ffff_ff04, 0xf800_0000_0000_0000)
        check(Asm.sllw, "sllw", 1, 33, 2)
        check(Asm.sllw, "sllw", 1, 32, 1)
        check(Asm.srlw, "srlw", 0x8000_0000, 0x3f, 1)
        check(Asm.sraw, "sraw", 0x8000_0000, 32 + 31, allOnes)
        check(Asm.rol, "rol", 0x8000_0000_0000_0001, 65, 3)
        check(Asm.rol, "rol", 0x1234, 64, 0x1234)
        check(Asm.rorw, "rorw", 1, 33, 0xffff_ffff_8000_0000)
        checkImm(Asm.shift(Asm.slli, 5, 6, 63), "slli", 1, minI64)
        checkImm(Asm.shift(Asm.srli, 5, 6, 63), "srli", allOnes, 1)
        checkImm(Asm.shift(Asm.srai, 5, 6, 33), "srai", minI64, 0xffff_ffff_c000_0000)
    }

    func testSetLessThan() {
        let m1 = allOnes
        check(Asm.slt, "slt", m1, 0, 1)
        check(Asm.slt, "slt", 0, m1, 0)
        check(Asm.sltu, "sltu", m1, 0, 0)
        check(Asm.sltu, "sltu", 0, m1, 1)
        check(Asm.slt, "slt", minI64, UInt64(Int64.max), 1)
        checkImm(Asm.i(Asm.slti, 5, 6, -1), "slti -1", UInt64(bitPattern: -2), 1)
        checkImm(Asm.i(Asm.slti, 5, 6, -1), "slti -1", 0, 0)
        checkImm(Asm.i(Asm.slti, 5, 6, -2048), "slti -2048", UInt64(bitPattern: -2049), 1)
        // sltiu sign-extends its immediate, then compares unsigned: -1 is the largest value.
        checkImm(Asm.i(Asm.sltiu, 5, 6, -1), "sltiu -1", 5, 1)
        checkImm(Asm.i(Asm.sltiu, 5, 6, -1), "sltiu -1", m1, 0)
        checkImm(Asm.i(Asm.sltiu, 5, 6, -2048), "sltiu -2048", 0xffff_ffff_ffff_f7ff, 1)
        checkImm(Asm.i(Asm.sltiu, 5, 6, -2048), "sltiu -2048", 0xffff_ffff_ffff_f800, 0)
        checkImm(Asm.i(Asm.sltiu, 5, 6, 1), "seqz", 0, 1)
        checkImm(Asm.i(Asm.sltiu, 5, 6, 1), "seqz", 0x1_0000_0000, 0)
        checkImm(Asm.i(Asm.xori, 5, 6, -1), "not", 0x00ff, 0xffff_ffff_ffff_ff00)
        checkImm(Asm.i(Asm.andi, 5, 6, -16), "andi", allOnes, 0xffff_ffff_ffff_fff0)
        checkImm(Asm.i(Asm.ori, 5, 6, -2048), "ori", 0, 0xffff_ffff_ffff_f800)
    }

    func testLuiAuipcSignExtend() {
        XCTAssertEqual(m.result(Asm.lui(5, 0x8000_0000)), 0xffff_ffff_8000_0000)
        XCTAssertEqual(m.result(Asm.lui(5, 0x7fff_f000)), 0x7fff_f000)
        XCTAssertEqual(m.result(Asm.lui(5, 0xffff_f000)), 0xffff_ffff_ffff_f000)
        // auipc at 0x8000_0000: + sext(0x8000_0000) wraps to 0.
        XCTAssertEqual(m.result(Asm.auipc(5, 0x8000_0000)), 0)
        XCTAssertEqual(m.result(Asm.auipc(5, 0x1000)), base + 0x1000)
        XCTAssertEqual(m.result(Asm.auipc(5, -4096)), base - 0x1000)
        XCTAssertEqual(m.hart.pc, base + 4)
    }

    func testJalAndJalr() {
        let at = base + 0x100
        m.load([Asm.jal(1, -8)], at: at)
        m.step()
        XCTAssertEqual(m.hart.pc, at - 8)
        XCTAssertEqual(m.hart.register(1), at + 4)

        m.load([Asm.jal(0, 0xff8)], at: at)
        m.step()
        XCTAssertEqual(m.hart.pc, at + 0xff8)
        XCTAssertEqual(m.hart.register(0), 0)

        // jalr with rd == rs1: the target uses the old value; bit 0 of the sum is cleared.
        m.load([Asm.jalr(5, 5, 3)], at: at)
        m.hart.setRegister(5, base + 0x200)
        m.step()
        XCTAssertEqual(m.hart.pc, base + 0x202)
        XCTAssertEqual(m.hart.register(5), at + 4)

        m.load([Asm.jalr(0, 6, -1)], at: at)
        m.hart.setRegister(6, base + 0x300)
        m.step()
        XCTAssertEqual(m.hart.pc, base + 0x2fe)

        m.load([Asm.jalr(1, 1, 0)], at: at)
        m.hart.setRegister(1, base + 0x401)
        m.step()
        XCTAssertEqual(m.hart.pc, base + 0x400)
        XCTAssertEqual(m.hart.register(1), at + 4)
    }

    func testBranchesBothWays() {
        let at = base + 0x100
        let m1 = allOnes
        // (funct3, a, b, taken)
        let cases: [(UInt32, String, UInt64, UInt64, Bool)] = [
            (Asm.beq, "beq", 5, 5, true), (Asm.beq, "beq", 5, 6, false),
            (Asm.bne, "bne", 5, 6, true), (Asm.bne, "bne", 5, 5, false),
            (Asm.blt, "blt", m1, 1, true), (Asm.blt, "blt", 1, m1, false), (Asm.blt, "blt", 3, 3, false),
            (Asm.bge, "bge", 1, m1, true), (Asm.bge, "bge", 3, 3, true), (Asm.bge, "bge", m1, 1, false),
            (Asm.bltu, "bltu", 1, m1, true), (Asm.bltu, "bltu", m1, 1, false), (Asm.bltu, "bltu", 3, 3, false),
            (Asm.bgeu, "bgeu", m1, 1, true), (Asm.bgeu, "bgeu", 3, 3, true), (Asm.bgeu, "bgeu", 1, m1, false),
            (Asm.blt, "blt", minI64, 0, true), (Asm.bltu, "bltu", minI64, 0, false),
        ]
        for offset: Int64 in [0x40, -0x40, 4094, -4096] {
            for (f3, name, a, b, taken) in cases {
                m.load([Asm.b(f3, 6, 7, offset)], at: at)
                m.hart.setRegister(6, a)
                m.hart.setRegister(7, b)
                m.step()
                let want = taken ? UInt64(bitPattern: Int64(bitPattern: at) + offset) : at + 4
                XCTAssertEqual(m.hart.pc, want, "\(name) \(hex(a)), \(hex(b)) offset \(offset)")
            }
        }
    }

    func testLoadsSignAndZeroExtend() {
        let d = base + 0x1000
        m.write64(d, 0xfedc_ba98_8765_4321)
        let cases: [(Asm.I, String, Int64, UInt64)] = [
            (Asm.lb, "lb", 7, 0xffff_ffff_ffff_fffe), (Asm.lbu, "lbu", 7, 0xfe), (Asm.lb, "lb", 0, 0x21),
            (Asm.lh, "lh", 6, 0xffff_ffff_ffff_fedc), (Asm.lhu, "lhu", 6, 0xfedc), (Asm.lh, "lh", 0, 0x4321),
            (Asm.lw, "lw", 4, 0xffff_ffff_fedc_ba98), (Asm.lwu, "lwu", 4, 0xfedc_ba98),
            (Asm.lw, "lw", 0, 0xffff_ffff_8765_4321), (Asm.lwu, "lwu", 0, 0x8765_4321),
            (Asm.ld, "ld", 0, 0xfedc_ba98_8765_4321),
        ]
        for (op, name, offset, want) in cases {
            XCTAssertEqual(m.result(Asm.load(op, 5, 6, offset), [6: d]), want, name)
            // The same load with a negative displacement.
            XCTAssertEqual(m.result(Asm.load(op, 5, 6, offset - 16), [6: d + 16]), want, name + " negative offset")
        }
    }

    func testStoresWriteOnlyTheirWidth() {
        let d = base + 0x1000
        let value: UInt64 = 0x1122_3344_5566_7788
        for (word, width) in [(Asm.sb(7, 6, 1), 1), (Asm.sh(7, 6, 1), 2), (Asm.sw(7, 6, 1), 4), (Asm.sd(7, 6, 1), 8)] {
            m.write64(d, 0xaaaa_aaaa_aaaa_aaaa)
            m.write64(d + 8, 0xaaaa_aaaa_aaaa_aaaa)
            m.exec([word], [6: d, 7: value])
            for i in 0..<16 {
                let want: UInt8 = (1...width).contains(i) ? UInt8(truncatingIfNeeded: value >> (8 * UInt64(i - 1))) : 0xaa
                XCTAssertEqual(m.read8(d + UInt64(i)), want, "width \(width) byte \(i)")
            }
        }
    }

    func testMisalignedLoadsAndStores() {
        let d = base + 0x1000
        for i in 0..<32 { m.memory.store(d + UInt64(i), UInt8(0x10 + i)) }
        XCTAssertEqual(m.result(Asm.ld(5, 6, 3), [6: d]), 0x1a19_1817_1615_1413)
        XCTAssertEqual(m.result(Asm.lw(5, 6, 1), [6: d]), 0x1413_1211)
        XCTAssertEqual(m.result(Asm.load(Asm.lh, 5, 6, 7), [6: d]), 0x1817)
        XCTAssertEqual(m.hart.privilege, .machine, "no trap")
        m.exec([Asm.sd(7, 6, 5)], [6: d, 7: 0x8877_6655_4433_2211])
        XCTAssertEqual(m.read64(d), 0x3322_1114_1312_1110)
        XCTAssertEqual(m.read64(d + 8), 0x1f1e_1d88_7766_5544)
    }

    func testMisalignedAccessesAcrossAPageBoundary() {
        let page = base + 0x3000
        for i in 0..<16 { m.memory.store(page - 8 + UInt64(i), UInt8(0x30 + i)) }
        // ld at page - 3 reads three bytes below the boundary and five above it.
        XCTAssertEqual(m.result(Asm.ld(5, 6, -3), [6: page]), 0x3c3b_3a39_3837_3635)
        XCTAssertEqual(m.result(Asm.lw(5, 6, -1), [6: page]), 0x3a39_3837)
        XCTAssertEqual(m.result(Asm.load(Asm.lh, 5, 6, -1), [6: page]), 0x3837)
        XCTAssertEqual(m.result(Asm.load(Asm.lhu, 5, 6, -1), [6: page]), 0x3837)
        XCTAssertEqual(m.result(Asm.load(Asm.lw, 5, 6, -2), [6: page + 0]), 0x3938_3736)
        m.write32(page - 2, 0x80ff_0000 | 0xffff)
        XCTAssertEqual(m.result(Asm.lw(5, 6, -2), [6: page]), 0xffff_ffff_80ff_ffff, "sign extension")

        m.exec([Asm.sd(7, 6, -5)], [6: page, 7: 0x8877_6655_4433_2211])
        XCTAssertEqual(m.read64(page - 8), 0x5544_3322_1132_3130, "bytes below the boundary")
        for (i, b) in [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88].enumerated() {
            XCTAssertEqual(m.read8(page - 5 + UInt64(i)), UInt8(b), "byte \(i)")
        }
        XCTAssertEqual(m.read8(page + 3), 0x3b, "byte after the store untouched")
        XCTAssertEqual(m.hart.privilege, .machine, "no trap")
    }

    func testAccessesOutsideRAMAndDevicesFault() {
        m.exec([Asm.ld(5, 6, 0)], [6: 0x1000, 5: 7])
        m.assertTrap(.loadAccessFault, epc: base, tval: 0x1000)
        XCTAssertEqual(m.hart.register(5), 7)
        m.exec([Asm.sw(5, 6, 8)], [6: 0x1000])
        m.assertTrap(.storeAccessFault, epc: base, tval: 0x1008)
        m.exec([Asm.jalr(0, 6, 0)], [6: 0x1000])
        m.step()
        m.assertTrap(.instructionAccessFault, epc: 0x1000, tval: 0x1000)
        // A load straddling the end of RAM faults on the first byte past it.
        let end = m.memory.end
        m.exec([Asm.ld(5, 6, -4)], [6: end])
        m.assertTrap(.loadAccessFault, epc: base, tval: end)
    }

    func testDeviceLoadsAndStores() {
        let device = RecordingDevice()
        m.bus.map(device, at: 0x1000_0000, length: 0x100)
        // lb sign-extends the device's byte; lwu zero-extends its word.
        m.exec([Asm.load(Asm.lb, 5, 6, 1), Asm.load(Asm.lwu, 7, 6, 4), Asm.sh(8, 6, 0x10)],
               [6: 0x1000_0000, 8: 0x1234_5678])
        XCTAssertEqual(m.hart.register(5), 0xffff_ffff_ffff_ffff)
        XCTAssertEqual(m.hart.register(7), 0xccdd_eeff)
        XCTAssertEqual(device.reads.map { $0.offset }, [1, 4])
        XCTAssertEqual(device.reads.map { $0.size }, [1, 4])
        XCTAssertEqual(device.writes.count, 1)
        XCTAssertEqual(device.writes.first?.offset, 0x10)
        XCTAssertEqual(device.writes.first?.size, 2)
        XCTAssertEqual(device.writes.first.map { $0.value & 0xffff }, 0x5678)
        XCTAssertEqual(m.hart.pc, base + 12)
    }

    func testWritesToX0AreDiscarded() {
        m.exec([Asm.r(Asm.add, 0, 6, 7), Asm.r(Asm.add, 5, 0, 0), Asm.lui(0, 0x1000), Asm.load(Asm.ld, 0, 6, 0),
                Asm.r(Asm.or, 8, 0, 6)], [6: base, 7: 1])
        XCTAssertEqual(m.hart.register(0), 0)
        XCTAssertEqual(m.hart.register(5), 0)
        XCTAssertEqual(m.hart.register(8), base)
        XCTAssertEqual(m.hart.pc, base + 20)
    }

    // MARK: Zba / Zbb

    func testZba() {
        check(Asm.sh1add, "sh1add", 3, 10, 16)
        check(Asm.sh2add, "sh2add", 3, 10, 22)
        check(Asm.sh3add, "sh3add", 3, 10, 34)
        check(Asm.sh3add, "sh3add", minI64 | 1, 0, 8)
        check(Asm.adduw, "add.uw", 0xffff_ffff_0000_0001, 2, 3)
        check(Asm.sh1adduw, "sh1add.uw", 0x1_8000_0000, 1, 0x1_0000_0001)
        check(Asm.sh2adduw, "sh2add.uw", allOnes, 0, 0x3_ffff_fffc)
        check(Asm.sh3adduw, "sh3add.uw", allOnes, 8, 0x8_0000_0000)
    }

    func testZbb() {
        check(Asm.andn, "andn", 0xff00, 0x0ff0, 0xf000)
        check(Asm.orn, "orn", 0, 0xffff_ffff_ffff_0000, 0xffff)
        check(Asm.xnor, "xnor", 0x1234, 0x1234, allOnes)
        check(Asm.max, "max", allOnes, 1, 1)
        check(Asm.maxu, "maxu", allOnes, 1, allOnes)
        check(Asm.min, "min", allOnes, 1, allOnes)
        check(Asm.minu, "minu", allOnes, 1, 1)
        check(Asm.min, "min", minI64, UInt64(Int64.max), minI64)
        check(Asm.rol, "rol", 0x8000_0000_0000_0001, 1, 3)
        check(Asm.ror, "ror", 1, 1, minI64)
        check(Asm.ror, "ror", 0x1234, 0, 0x1234)
        checkImm(Asm.shift(Asm.rori, 5, 6, 63), "rori", 1, 2)
        checkImm(Asm.shift(Asm.rori, 5, 6, 4), "rori", 0x1234, 0x4000_0000_0000_0123)
        checkImm(Asm.clz(5, 6), "clz", 0, 64)
        checkImm(Asm.clz(5, 6), "clz", 1, 63)
        checkImm(Asm.clz(5, 6), "clz", minI64, 0)
        checkImm(Asm.ctz(5, 6), "ctz", 0, 64)
        checkImm(Asm.ctz(5, 6), "ctz", 0x100, 8)
        checkImm(Asm.cpop(5, 6), "cpop", allOnes, 64)
        checkImm(Asm.cpop(5, 6), "cpop", 0x8000_0000_0000_0101, 3)
        checkImm(Asm.sextb(5, 6), "sext.b", 0x1_0000_0080, 0xffff_ffff_ffff_ff80)
        checkImm(Asm.sextb(5, 6), "sext.b", 0xff7f, 0x7f)
        checkImm(Asm.sexth(5, 6), "sext.h", 0x1234_8000, 0xffff_ffff_ffff_8000)
        checkImm(Asm.zexth(5, 6), "zext.h", 0xffff_ffff_ffff_8001, 0x8001)
        checkImm(Asm.orcb(5, 6), "orc.b", 0x0001_0000_ff00_1000, 0x00ff_0000_ff00_ff00)
        checkImm(Asm.rev8(5, 6), "rev8", 0x0102_0304_0506_0708, 0x0807_0605_0403_0201)
    }
}
