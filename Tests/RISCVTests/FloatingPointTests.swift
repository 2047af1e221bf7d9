import XCTest
import CShims
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Tests for the RISC-V F/D arithmetic in Sources/CShims/rvfp.c: hand-written edge cases, then
// a differential run against reference vectors produced by guests/fpref/gen.c under
// qemu-riscv64 (Tests/RISCVTests/fpref/fpref.txt).

private let RNE: Int32 = 0, RTZ: Int32 = 1, RDN: Int32 = 2, RUP: Int32 = 3, RMM: Int32 = 4
private let allModes: [Int32] = [RNE, RTZ, RDN, RUP, RMM]
private let NX: UInt32 = 1, UF: UInt32 = 2, OF: UInt32 = 4, DZ: UInt32 = 8, NV: UInt32 = 16

private let cnan32: UInt32 = 0x7fc0_0000
private let cnan64: UInt64 = 0x7ff8_0000_0000_0000
private let qnanPayload32: UInt32 = 0xffc0_0001   // negative quiet NaN with a payload
private let snan32: UInt32 = 0x7f80_0001
private let snan64: UInt64 = 0x7ff0_0000_0000_0001
private let qnanPayload64: UInt64 = 0xfff8_0000_0000_0001
private let inf32: UInt32 = 0x7f80_0000, ninf32: UInt32 = 0xff80_0000
private let inf64: UInt64 = 0x7ff0_0000_0000_0000, ninf64: UInt64 = 0xfff0_0000_0000_0000
private let max32: UInt32 = 0x7f7f_ffff
private let one32: UInt32 = 0x3f80_0000, one64: UInt64 = 0x3ff0_0000_0000_0000
private let pz32: UInt32 = 0, nz32: UInt32 = 0x8000_0000
private let pz64: UInt64 = 0, nz64: UInt64 = 0x8000_0000_0000_0000

nonisolated(unsafe) private var hostOperand = 0x1.8p-53
@inline(never) private func hostAdd(_ a: Double, _ b: Double) -> Double { a + b }

private func f32(_ x: Float) -> UInt32 { x.bitPattern }
private func f64(_ x: Double) -> UInt64 { x.bitPattern }

/// Runs `op` with fresh flags and returns (result, flags).
private func fp<T>(_ op: (inout UInt32) -> T) -> (T, UInt32) {
    var fl: UInt32 = 0
    let r = op(&fl)
    return (r, fl)
}

final class FloatingPointTests: XCTestCase {

    private func check<T: BinaryInteger>(
        _ got: (T, UInt32), _ want: T, _ wantFlags: UInt32, _ what: String,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertTrue(got.0 == want, "\(what): result \(String(got.0, radix: 16)), want \(String(want, radix: 16))",
                      file: file, line: line)
        XCTAssertEqual(got.1, wantFlags, "\(what): flags", file: file, line: line)
    }

    // MARK: - NaN handling

    func testCanonicalNaNResults() {
        check(fp { rvf32_add(inf32, ninf32, RNE, &$0) }, cnan32, NV, "inf + -inf")
        check(fp { rvf32_add(qnanPayload32, one32, RNE, &$0) }, cnan32, 0, "qNaN payload + 1")
        check(fp { rvf32_mul(snan32, one32, RTZ, &$0) }, cnan32, NV, "sNaN * 1")
        check(fp { rvf32_div(pz32, nz32, RNE, &$0) }, cnan32, NV, "0 / -0")
        check(fp { rvf32_sqrt(f32(-1), RNE, &$0) }, cnan32, NV, "sqrt(-1)")
        check(fp { rvf32_sqrt(nz32, RNE, &$0) }, nz32, 0, "sqrt(-0)")
        check(fp { rvf32_mul(pz32, inf32, RUP, &$0) }, cnan32, NV, "0 * inf")
        check(fp { rvf64_add(qnanPayload64, one64, RNE, &$0) }, cnan64, 0, "qNaN payload + 1 (d)")
        check(fp { rvf64_sub(inf64, inf64, RMM, &$0) }, cnan64, NV, "inf - inf (d, RMM)")
        check(fp { rvf64_sqrt(snan64, RNE, &$0) }, cnan64, NV, "sqrt(sNaN) (d)")
        check(fp { rvf64_div(f64(1), pz64, RNE, &$0) }, inf64, DZ, "1 / 0 (d)")
        check(fp { rvf64_div(f64(-1), pz64, RMM, &$0) }, ninf64, DZ, "-1 / 0 (d, RMM)")
        // fma: inf*0 is invalid even when the addend is a quiet NaN.
        check(fp { rvf32_madd(inf32, pz32, cnan32, RNE, &$0) }, cnan32, NV, "fmadd inf*0+qNaN")
        check(fp { rvf64_madd(pz64, ninf64, qnanPayload64, RNE, &$0) }, cnan64, NV, "fmadd 0*-inf+qNaN (d)")
        check(fp { rvf32_madd(one32, one32, qnanPayload32, RNE, &$0) }, cnan32, 0, "fmadd 1*1+qNaN")
        check(fp { rvf64_nmsub(one64, one64, snan64, RNE, &$0) }, cnan64, NV, "fnmsub with sNaN addend")
        check(fp { rvf32_msub(inf32, one32, inf32, RNE, &$0) }, cnan32, NV, "fmsub inf*1-inf")
        // Conversions between formats.
        check(fp { rvf32_to_f64(qnanPayload32, &$0) }, cnan64, 0, "fcvt.d.s qNaN")
        check(fp { rvf32_to_f64(snan32, &$0) }, cnan64, NV, "fcvt.d.s sNaN")
        check(fp { rvf64_to_f32(qnanPayload64, RNE, &$0) }, cnan32, 0, "fcvt.s.d qNaN")
        check(fp { rvf64_to_f32(snan64, RMM, &$0) }, cnan32, NV, "fcvt.s.d sNaN")
    }

    func testMinMax() {
        check(fp { rvf32_min(nz32, pz32, &$0) }, nz32, 0, "min(-0,+0)")
        check(fp { rvf32_min(pz32, nz32, &$0) }, nz32, 0, "min(+0,-0)")
        check(fp { rvf32_max(nz32, pz32, &$0) }, pz32, 0, "max(-0,+0)")
        check(fp { rvf32_max(pz32, nz32, &$0) }, pz32, 0, "max(+0,-0)")
        check(fp { rvf64_min(nz64, pz64, &$0) }, nz64, 0, "min(-0,+0) d")
        check(fp { rvf64_max(pz64, nz64, &$0) }, pz64, 0, "max(+0,-0) d")
        check(fp { rvf32_min(qnanPayload32, one32, &$0) }, one32, 0, "min(qNaN,1)")
        check(fp { rvf32_max(one32, qnanPayload32, &$0) }, one32, 0, "max(1,qNaN)")
        check(fp { rvf32_min(snan32, one32, &$0) }, one32, NV, "min(sNaN,1)")
        check(fp { rvf64_max(f64(-2), snan64, &$0) }, f64(-2), NV, "max(-2,sNaN) d")
        check(fp { rvf32_min(qnanPayload32, qnanPayload32, &$0) }, cnan32, 0, "min(qNaN,qNaN)")
        check(fp { rvf64_max(snan64, qnanPayload64, &$0) }, cnan64, NV, "max(sNaN,qNaN) d")
        check(fp { rvf32_min(f32(-3), f32(2), &$0) }, f32(-3), 0, "min(-3,2)")
        check(fp { rvf32_max(f32(-3), f32(-2), &$0) }, f32(-2), 0, "max(-3,-2)")
        check(fp { rvf64_min(ninf64, f64(-1e300), &$0) }, ninf64, 0, "min(-inf,-1e300) d")
    }

    func testCompares() {
        check(fp { rvf32_eq(nz32, pz32, &$0) }, 1, 0, "feq -0 +0")
        check(fp { rvf32_lt(nz32, pz32, &$0) }, 0, 0, "flt -0 +0")
        check(fp { rvf32_le(nz32, pz32, &$0) }, 1, 0, "fle -0 +0")
        check(fp { rvf32_eq(cnan32, cnan32, &$0) }, 0, 0, "feq qNaN qNaN (quiet)")
        check(fp { rvf32_eq(snan32, one32, &$0) }, 0, NV, "feq sNaN")
        check(fp { rvf32_lt(cnan32, one32, &$0) }, 0, NV, "flt qNaN (signaling)")
        check(fp { rvf32_le(one32, cnan32, &$0) }, 0, NV, "fle qNaN (signaling)")
        check(fp { rvf64_eq(qnanPayload64, one64, &$0) }, 0, 0, "feq.d qNaN")
        check(fp { rvf64_lt(f64(-2), f64(-1), &$0) }, 1, 0, "flt.d -2 -1")
        check(fp { rvf64_le(f64(-1), f64(-2), &$0) }, 0, 0, "fle.d -1 -2")
        check(fp { rvf64_lt(ninf64, inf64, &$0) }, 1, 0, "flt.d -inf inf")
    }

    func testClassify() {
        let cases32: [(UInt32, UInt32)] = [
            (ninf32, 1 << 0), (f32(-1.5), 1 << 1), (0x8000_0001, 1 << 2), (nz32, 1 << 3), (pz32, 1 << 4),
            (0x007f_ffff, 1 << 5), (one32, 1 << 6), (inf32, 1 << 7), (snan32, 1 << 8), (0xffa0_0000, 1 << 8),
            (cnan32, 1 << 9), (qnanPayload32, 1 << 9),
        ]
        for (v, m) in cases32 { XCTAssertEqual(rvf32_classify(v), m, String(format: "fclass.s %08x", v)) }
        let cases64: [(UInt64, UInt32)] = [
            (ninf64, 1 << 0), (f64(-1e300), 1 << 1), (0x800f_ffff_ffff_ffff, 1 << 2), (nz64, 1 << 3),
            (pz64, 1 << 4), (1, 1 << 5), (one64, 1 << 6), (inf64, 1 << 7), (snan64, 1 << 8),
            (cnan64, 1 << 9), (qnanPayload64, 1 << 9),
        ]
        for (v, m) in cases64 { XCTAssertEqual(rvf64_classify(v), m, String(format: "fclass.d %016llx", v)) }
    }

    // MARK: - Rounding modes

    func testRoundingModesOnTiesAndNonTies() {
        // 1 + 2^-24 is exactly halfway between 1 and 1+ulp (even: 1).
        let half32 = f32(0x1p-24)
        let want1: [UInt32] = [0x3f80_0000, 0x3f80_0000, 0x3f80_0000, 0x3f80_0001, 0x3f80_0001]
        for (i, rm) in allModes.enumerated() {
            check(fp { rvf32_add(one32, half32, rm, &$0) }, want1[i], NX, "1 + 2^-24 rm\(rm)")
        }
        // -1 - 2^-24
        let want2: [UInt32] = [0xbf80_0000, 0xbf80_0000, 0xbf80_0001, 0xbf80_0000, 0xbf80_0001]
        for (i, rm) in allModes.enumerated() {
            check(fp { rvf32_sub(f32(-1), half32, rm, &$0) }, want2[i], NX, "-1 - 2^-24 rm\(rm)")
        }
        // (1+ulp) + half ulp: the tie now rounds up to the even neighbour.
        let want3: [UInt32] = [0x3f80_0002, 0x3f80_0001, 0x3f80_0001, 0x3f80_0002, 0x3f80_0002]
        for (i, rm) in allModes.enumerated() {
            check(fp { rvf32_add(0x3f80_0001, half32, rm, &$0) }, want3[i], NX, "(1+ulp) + ulp/2 rm\(rm)")
        }
        // Not a tie: 1 + 0.75 ulp.
        let want4: [UInt32] = [0x3f80_0001, 0x3f80_0000, 0x3f80_0000, 0x3f80_0001, 0x3f80_0001]
        for (i, rm) in allModes.enumerated() {
            check(fp { rvf32_add(one32, f32(0x1.8p-24), rm, &$0) }, want4[i], NX, "1 + 0.75ulp rm\(rm)")
        }
        // Double: (1 + 3ulp) * 1.5 = 1.5 + 4.5 ulp, a tie.
        let want5: [UInt64] = [0x3ff8_0000_0000_0004, 0x3ff8_0000_0000_0004, 0x3ff8_0000_0000_0004,
                               0x3ff8_0000_0000_0005, 0x3ff8_0000_0000_0005]
        for (i, rm) in allModes.enumerated() {
            check(fp { rvf64_mul(0x3ff0_0000_0000_0003, f64(1.5), rm, &$0) }, want5[i], NX, "mul tie rm\(rm)")
        }
        // Negative double tie via fused multiply-add: -(1*1) - 2^-53.
        let want6: [UInt64] = [0xbff0_0000_0000_0000, 0xbff0_0000_0000_0000, 0xbff0_0000_0000_0001,
                               0xbff0_0000_0000_0000, 0xbff0_0000_0000_0001]
        for (i, rm) in allModes.enumerated() {
            check(fp { rvf64_nmadd(one64, one64, f64(0x1p-53), rm, &$0) }, want6[i], NX, "fnmadd -(1)-2^-53 rm\(rm)")
        }
        // Exact results raise nothing in any mode.
        for rm in allModes {
            check(fp { rvf64_div(f64(3), f64(4), rm, &$0) }, f64(0.75), 0, "3/4 rm\(rm)")
            check(fp { rvf32_sqrt(f32(2.25), rm, &$0) }, f32(1.5), 0, "sqrt 2.25 rm\(rm)")
        }
        // sqrt(2): never a tie, RMM == RNE.
        check(fp { rvf64_sqrt(f64(2), RMM, &$0) }, f64(2.0.squareRoot()), NX, "sqrt 2 RMM")
        // (the nearest double, 0x3ff6a09e667f3bcd, is above the exact root)
        check(fp { rvf64_sqrt(f64(2), RTZ, &$0) }, 0x3ff6_a09e_667f_3bcc, NX, "sqrt 2 RTZ")
        check(fp { rvf64_sqrt(f64(2), RDN, &$0) }, 0x3ff6_a09e_667f_3bcc, NX, "sqrt 2 RDN")
        check(fp { rvf64_sqrt(f64(2), RUP, &$0) }, 0x3ff6_a09e_667f_3bcd, NX, "sqrt 2 RUP")
        // 1/3
        check(fp { rvf32_div(one32, f32(3), RNE, &$0) }, 0x3eaa_aaab, NX, "1/3 RNE")
        check(fp { rvf32_div(one32, f32(3), RTZ, &$0) }, 0x3eaa_aaaa, NX, "1/3 RTZ")
        check(fp { rvf32_div(one32, f32(3), RMM, &$0) }, 0x3eaa_aaab, NX, "1/3 RMM")
    }

    func testExactZeroSigns() {
        check(fp { rvf32_add(one32, f32(-1), RNE, &$0) }, pz32, 0, "1 + -1 RNE")
        check(fp { rvf32_add(one32, f32(-1), RDN, &$0) }, nz32, 0, "1 + -1 RDN")
        check(fp { rvf64_sub(one64, one64, RMM, &$0) }, pz64, 0, "1 - 1 RMM")
        check(fp { rvf64_sub(one64, one64, RDN, &$0) }, nz64, 0, "1 - 1 RDN")
        check(fp { rvf64_add(nz64, nz64, RNE, &$0) }, nz64, 0, "-0 + -0")
        // fnmadd: -(1*1) - (-1) = +0 in RNE, -0 in RDN.
        check(fp { rvf32_nmadd(one32, one32, f32(-1), RNE, &$0) }, pz32, 0, "fnmadd -(1*1)+1 RNE")
        check(fp { rvf32_nmadd(one32, one32, f32(-1), RDN, &$0) }, nz32, 0, "fnmadd -(1*1)+1 RDN")
        check(fp { rvf64_madd(nz64, one64, pz64, RMM, &$0) }, pz64, 0, "-0*1 + 0 RMM")
        check(fp { rvf64_msub(nz64, one64, pz64, RNE, &$0) }, nz64, 0, "-0*1 - 0")
    }

    // MARK: - Overflow, underflow

    func testOverflow() {
        let wantP: [UInt32] = [inf32, max32, max32, inf32, inf32]
        let wantN: [UInt32] = [ninf32, 0xff7f_ffff, ninf32, 0xff7f_ffff, ninf32]
        for (i, rm) in allModes.enumerated() {
            check(fp { rvf32_mul(max32, f32(2), rm, &$0) }, wantP[i], OF | NX, "max*2 rm\(rm)")
            check(fp { rvf32_mul(max32, f32(-2), rm, &$0) }, wantN[i], OF | NX, "max*-2 rm\(rm)")
        }
        check(fp { rvf64_add(0x7fef_ffff_ffff_ffff, 0x7fef_ffff_ffff_ffff, RMM, &$0) }, inf64, OF | NX, "dmax+dmax RMM")
        check(fp { rvf64_to_f32(f64(1e300), RNE, &$0) }, inf32, OF | NX, "fcvt.s.d 1e300")
        check(fp { rvf64_to_f32(f64(-1e300), RTZ, &$0) }, 0xff7f_ffff, OF | NX, "fcvt.s.d -1e300 RTZ")
        // Adding a tiny amount to max in RNE: inexact, no overflow.
        check(fp { rvf32_add(max32, one32, RNE, &$0) }, max32, NX, "max + 1")
    }

    func testUnderflow() {
        // Exact subnormal result: no flags.
        check(fp { rvf32_mul(0x0080_0000, f32(0.5), RNE, &$0) }, 0x0040_0000, 0, "minnormal/2 exact")
        // Inexact subnormal result: UF|NX. 2^-127*(1+2^-23) ties to even 0x00400000.
        check(fp { rvf32_mul(0x0080_0001, f32(0.5), RNE, &$0) }, 0x0040_0000, UF | NX, "tiny inexact")
        check(fp { rvf32_mul(0x0080_0001, f32(0.5), RMM, &$0) }, 0x0040_0001, UF | NX, "tiny inexact RMM")
        // min subnormal / 2: tie between 0 and min subnormal.
        let want: [UInt32] = [0, 0, 0, 1, 1]
        for (i, rm) in allModes.enumerated() {
            check(fp { rvf32_div(1, f32(2), rm, &$0) }, want[i], UF | NX, "minsub/2 rm\(rm)")
        }
        check(fp { rvf64_div(0x8000_0000_0000_0001, f64(2), RDN, &$0) }, 0x8000_0000_0000_0001, UF | NX, "-minsub/2 RDN d")
        check(fp { rvf64_mul(1, f64(0x1p-60), RNE, &$0) }, pz64, UF | NX, "minsub*2^-60 d")
        // Tininess is detected after rounding: just below 2^-126 but rounding to it is not tiny.
        check(fp { rvf64_to_f32(0x380f_ffff_ffff_ffff, RNE, &$0) }, 0x0080_0000, NX, "fcvt.s.d just below minnormal RNE")
        check(fp { rvf64_to_f32(0x380f_ffff_ffff_ffff, RMM, &$0) }, 0x0080_0000, NX, "... RMM")
        check(fp { rvf64_to_f32(0x380f_ffff_ffff_ffff, RTZ, &$0) }, 0x007f_ffff, UF | NX, "... RTZ")
        // Same thing in double with a fused multiply-add: (1 - 2^-53) * 2^-1022 + tiny.
        check(fp { rvf64_madd(0x3fef_ffff_ffff_ffff, 0x0010_0000_0000_0000, 1, RNE, &$0) },
              0x0010_0000_0000_0000, NX, "fmadd rounding up to minnormal is not tiny")
        check(fp { rvf64_madd(0x3fef_ffff_ffff_ffff, 0x0010_0000_0000_0000, 0, RNE, &$0) },
              0x0010_0000_0000_0000, UF | NX, "fmadd tie below minnormal is tiny")
    }

    func testFlagsAccumulate() {
        var fl: UInt32 = NX | DZ
        _ = rvf32_add(one32, one32, RNE, &fl)
        XCTAssertEqual(fl, NX | DZ, "exact op must not clear flags")
        _ = rvf32_add(inf32, ninf32, RNE, &fl)
        XCTAssertEqual(fl, NX | DZ | NV)
    }

    func testHostRoundingModeIsRestored() {
        var fl: UInt32 = 0
        let initialMode = fegetround()  // to nearest in a fresh process
        for rm in allModes {
            _ = rvf64_add(one64, f64(0x1p-60), rm, &fl)
            _ = rvf32_madd(one32, f32(3), f32(0x1p-30), rm, &fl)
            _ = rvf64_to_f32(f64(0.1), rm, &fl)
            XCTAssertEqual(fegetround(), initialMode, "host rounding mode after rm\(rm)")
            // 1 + 0.75 ulp rounds up only to nearest (fegetround may not look at SSE's MXCSR).
            XCTAssertEqual(hostAdd(1.0, hostOperand).bitPattern, 0x3ff0_0000_0000_0001, "host SSE rounding after rm\(rm)")
        }
    }

    // MARK: - Conversions

    func testFloatToIntSaturation() {
        // fcvt.w.s
        check(fp { rvf32_to_i32(0x4f00_0000, RNE, &$0) }, Int64(Int32.max), NV, "w.s 2^31")
        check(fp { rvf32_to_i32(0x4eff_ffff, RNE, &$0) }, 2_147_483_520, 0, "w.s 2^31-128")
        check(fp { rvf32_to_i32(0xcf00_0000, RNE, &$0) }, Int64(Int32.min), 0, "w.s -2^31")
        check(fp { rvf32_to_i32(0xcf00_0001, RNE, &$0) }, Int64(Int32.min), NV, "w.s below -2^31")
        check(fp { rvf32_to_i32(cnan32, RNE, &$0) }, Int64(Int32.max), NV, "w.s NaN")
        check(fp { rvf32_to_i32(qnanPayload32, RNE, &$0) }, Int64(Int32.max), NV, "w.s -NaN")
        check(fp { rvf32_to_i32(inf32, RNE, &$0) }, Int64(Int32.max), NV, "w.s inf")
        check(fp { rvf32_to_i32(ninf32, RNE, &$0) }, Int64(Int32.min), NV, "w.s -inf")
        // fcvt.wu.s: negative values round first; -0.x rounding to 0 is only inexact.
        check(fp { rvf32_to_u32(f32(-0.5), RTZ, &$0) }, 0, NX, "wu.s -0.5 RTZ")
        check(fp { rvf32_to_u32(f32(-0.5), RNE, &$0) }, 0, NX, "wu.s -0.5 RNE")
        check(fp { rvf32_to_u32(f32(-0.5), RMM, &$0) }, 0, NV, "wu.s -0.5 RMM (-> -1)")
        check(fp { rvf32_to_u32(f32(-0.5), RDN, &$0) }, 0, NV, "wu.s -0.5 RDN (-> -1)")
        check(fp { rvf32_to_u32(f32(-0.5), RUP, &$0) }, 0, NX, "wu.s -0.5 RUP")
        check(fp { rvf32_to_u32(f32(-1.0), RTZ, &$0) }, 0, NV, "wu.s -1.0")
        check(fp { rvf32_to_u32(nz32, RNE, &$0) }, 0, 0, "wu.s -0")
        check(fp { rvf32_to_u32(0x4f7f_ffff, RNE, &$0) }, Int64(Int32(bitPattern: 0xffff_ff00)), 0, "wu.s 2^32-256 (sign-extended)")
        check(fp { rvf32_to_u32(0x4f80_0000, RNE, &$0) }, -1, NV, "wu.s 2^32")
        check(fp { rvf32_to_u32(cnan32, RNE, &$0) }, -1, NV, "wu.s NaN")
        check(fp { rvf32_to_u32(ninf32, RNE, &$0) }, 0, NV, "wu.s -inf")
        check(fp { rvf64_to_u32(f64(-0.9), RTZ, &$0) }, 0, NX, "wu.d -0.9 RTZ")
        check(fp { rvf64_to_u32(f64(-1.0), RNE, &$0) }, 0, NV, "wu.d -1.0")
        check(fp { rvf64_to_u32(f64(4294967295.4), RNE, &$0) }, -1, NX, "wu.d 2^32-0.6")
        check(fp { rvf64_to_u32(f64(4294967295.5), RNE, &$0) }, -1, NV, "wu.d 2^32-0.5 rounds out of range")
        check(fp { rvf64_to_u32(f64(2147483648), RNE, &$0) }, Int64(Int32.min), 0, "wu.d 2^31 sign-extended")
        // fcvt.w.d around the bounds.
        check(fp { rvf64_to_i32(f64(2147483647.5), RTZ, &$0) }, Int64(Int32.max), NX, "w.d 2^31-0.5 RTZ")
        check(fp { rvf64_to_i32(f64(2147483647.5), RNE, &$0) }, Int64(Int32.max), NV, "w.d 2^31-0.5 RNE")
        check(fp { rvf64_to_i32(f64(-2147483648.5), RNE, &$0) }, Int64(Int32.min), NX, "w.d -2^31-0.5 RNE")
        check(fp { rvf64_to_i32(f64(-2147483648.5), RMM, &$0) }, Int64(Int32.min), NV, "w.d -2^31-0.5 RMM")
        check(fp { rvf64_to_i32(f64(-2147483648.5), RUP, &$0) }, Int64(Int32.min), NX, "w.d -2^31-0.5 RUP")
        // 64-bit.
        check(fp { rvf32_to_i64(0x5f00_0000, RNE, &$0) }, Int64.max, NV, "l.s 2^63")
        check(fp { rvf32_to_i64(0xdf00_0000, RNE, &$0) }, Int64.min, 0, "l.s -2^63")
        check(fp { rvf64_to_i64(f64(-9223372036854777856.0), RNE, &$0) }, Int64.min, NV, "l.d below -2^63")
        check(fp { rvf64_to_i64(cnan64, RNE, &$0) }, Int64.max, NV, "l.d NaN")
        check(fp { rvf32_to_u64(0x5f7f_ffff, RNE, &$0) }, 0xffff_ff00_0000_0000, 0, "lu.s 2^64-2^40")
        check(fp { rvf32_to_u64(0x5f80_0000, RNE, &$0) }, UInt64.max, NV, "lu.s 2^64")
        check(fp { rvf64_to_u64(cnan64, RNE, &$0) }, UInt64.max, NV, "lu.d NaN")
        check(fp { rvf64_to_u64(ninf64, RNE, &$0) }, 0, NV, "lu.d -inf")
        check(fp { rvf64_to_u64(f64(-0.3), RUP, &$0) }, 0, NX, "lu.d -0.3 RUP")
        check(fp { rvf64_to_u64(f64(9223372036854775808.0), RNE, &$0) }, 1 << 63, 0, "lu.d 2^63")
        // Rounding of halves.
        let w25: [Int64] = [2, 2, 2, 3, 3], wm25: [Int64] = [-2, -2, -3, -2, -3]
        for (i, rm) in allModes.enumerated() {
            check(fp { rvf32_to_i32(f32(2.5), rm, &$0) }, w25[i], NX, "w.s 2.5 rm\(rm)")
            check(fp { rvf64_to_i64(f64(-2.5), rm, &$0) }, wm25[i], NX, "l.d -2.5 rm\(rm)")
        }
        check(fp { rvf64_to_i32(f64(3.5), RNE, &$0) }, 4, NX, "w.d 3.5 RNE")
        check(fp { rvf64_to_i32(f64(0.5), RNE, &$0) }, 0, NX, "w.d 0.5 RNE")
        check(fp { rvf64_to_i32(f64(0.5), RMM, &$0) }, 1, NX, "w.d 0.5 RMM")
        check(fp { rvf64_to_i32(f64(-0.5), RMM, &$0) }, -1, NX, "w.d -0.5 RMM")
        check(fp { rvf64_to_i32(f64(1e-300), RUP, &$0) }, 1, NX, "w.d tiny RUP")
    }

    func testIntToFloat() {
        // 2^24 + 1 is a tie in binary32.
        let w: [UInt32] = [0x4b80_0000, 0x4b80_0000, 0x4b80_0000, 0x4b80_0001, 0x4b80_0001]
        for (i, rm) in allModes.enumerated() {
            check(fp { rvf32_from_i32(16_777_217, rm, &$0) }, w[i], NX, "s.w 2^24+1 rm\(rm)")
        }
        check(fp { rvf32_from_i32(-16_777_217, RDN, &$0) }, 0xcb80_0001, NX, "s.w -(2^24+1) RDN")
        check(fp { rvf32_from_u64(UInt64.max, RNE, &$0) }, 0x5f80_0000, NX, "s.lu max RNE")
        check(fp { rvf32_from_u64(UInt64.max, RTZ, &$0) }, 0x5f7f_ffff, NX, "s.lu max RTZ")
        check(fp { rvf32_from_i64(Int64.min, RNE, &$0) }, 0xdf00_0000, 0, "s.l min")
        check(fp { rvf32_from_u32(UInt32.max, RMM, &$0) }, 0x4f80_0000, NX, "s.wu max RMM")
        check(fp { rvf32_from_i32(0, RDN, &$0) }, pz32, 0, "s.w 0 RDN is +0")
        check(fp { rvf64_from_i32(Int32.min, RNE, &$0) }, f64(-2147483648.0), 0, "d.w min")
        check(fp { rvf64_from_u32(UInt32.max, RNE, &$0) }, f64(4294967295.0), 0, "d.wu max")
        check(fp { rvf64_from_i64((1 << 53) + 1, RNE, &$0) }, f64(0x1p53), NX, "d.l 2^53+1 RNE")
        check(fp { rvf64_from_i64((1 << 53) + 1, RMM, &$0) }, f64(0x1p53) + 1, NX, "d.l 2^53+1 RMM")
        check(fp { rvf64_from_u64(UInt64.max, RUP, &$0) }, f64(0x1p64), NX, "d.lu max RUP")
        check(fp { rvf64_from_u64(UInt64.max, RDN, &$0) }, f64(0x1p64) - 1, NX, "d.lu max RDN")
        check(fp { rvf64_from_i64(Int64.min, RTZ, &$0) }, f64(-0x1p63), 0, "d.l min")
    }

    func testFloatFormatConversions() {
        check(fp { rvf32_to_f64(1, &$0) }, f64(0x1p-149), 0, "fcvt.d.s min subnormal")
        check(fp { rvf32_to_f64(nz32, &$0) }, nz64, 0, "fcvt.d.s -0")
        check(fp { rvf32_to_f64(ninf32, &$0) }, ninf64, 0, "fcvt.d.s -inf")
        check(fp { rvf64_to_f32(f64(0.1), RNE, &$0) }, f32(0.1), NX, "fcvt.s.d 0.1")
        check(fp { rvf64_to_f32(f64(0.1), RTZ, &$0) }, f32(0.1) - 1, NX, "fcvt.s.d 0.1 RTZ")
        // 1 + 2^-24 is a tie for binary32.
        check(fp { rvf64_to_f32(f64(1 + 0x1p-24), RNE, &$0) }, one32, NX, "fcvt.s.d tie RNE")
        check(fp { rvf64_to_f32(f64(1 + 0x1p-24), RMM, &$0) }, one32 + 1, NX, "fcvt.s.d tie RMM")
        check(fp { rvf64_to_f32(f64(-(1 + 0x1p-24)), RMM, &$0) }, 0xbf80_0001, NX, "fcvt.s.d -tie RMM")
        check(fp { rvf64_to_f32(f64(0x1p-150), RNE, &$0) }, pz32, UF | NX, "fcvt.s.d 2^-150 RNE")
        check(fp { rvf64_to_f32(f64(0x1p-150), RMM, &$0) }, 1, UF | NX, "fcvt.s.d 2^-150 RMM")
        check(fp { rvf64_to_f32(1, RUP, &$0) }, 1, UF | NX, "fcvt.s.d min double subnormal RUP")
    }

    // MARK: - Differential test against QEMU-generated reference vectors

    /// Each entry: number of operands and the function under test (operands as raw bits; the
    /// result as raw bits, integer results as the 64-bit register value).
    private typealias Op = (nops: Int, fn: ([UInt64], Int32, inout UInt32) -> UInt64)

    private static func makeOps() -> [String: Op] {
        func w(_ x: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: x) }
        func i(_ x: Int32) -> UInt64 { UInt64(bitPattern: Int64(x)) }
        func i(_ x: Int64) -> UInt64 { UInt64(bitPattern: x) }
        return [
            "fadd.s": (2, { o, rm, f in UInt64(rvf32_add(w(o[0]), w(o[1]), rm, &f)) }),
            "fsub.s": (2, { o, rm, f in UInt64(rvf32_sub(w(o[0]), w(o[1]), rm, &f)) }),
            "fmul.s": (2, { o, rm, f in UInt64(rvf32_mul(w(o[0]), w(o[1]), rm, &f)) }),
            "fdiv.s": (2, { o, rm, f in UInt64(rvf32_div(w(o[0]), w(o[1]), rm, &f)) }),
            "fsqrt.s": (1, { o, rm, f in UInt64(rvf32_sqrt(w(o[0]), rm, &f)) }),
            "fmadd.s": (3, { o, rm, f in UInt64(rvf32_madd(w(o[0]), w(o[1]), w(o[2]), rm, &f)) }),
            "fmsub.s": (3, { o, rm, f in UInt64(rvf32_msub(w(o[0]), w(o[1]), w(o[2]), rm, &f)) }),
            "fnmsub.s": (3, { o, rm, f in UInt64(rvf32_nmsub(w(o[0]), w(o[1]), w(o[2]), rm, &f)) }),
            "fnmadd.s": (3, { o, rm, f in UInt64(rvf32_nmadd(w(o[0]), w(o[1]), w(o[2]), rm, &f)) }),
            "fmin.s": (2, { o, _, f in UInt64(rvf32_min(w(o[0]), w(o[1]), &f)) }),
            "fmax.s": (2, { o, _, f in UInt64(rvf32_max(w(o[0]), w(o[1]), &f)) }),
            "feq.s": (2, { o, _, f in i(rvf32_eq(w(o[0]), w(o[1]), &f)) }),
            "flt.s": (2, { o, _, f in i(rvf32_lt(w(o[0]), w(o[1]), &f)) }),
            "fle.s": (2, { o, _, f in i(rvf32_le(w(o[0]), w(o[1]), &f)) }),
            "fclass.s": (1, { o, _, _ in UInt64(rvf32_classify(w(o[0]))) }),
            "fcvt.w.s": (1, { o, rm, f in i(rvf32_to_i32(w(o[0]), rm, &f)) }),
            "fcvt.wu.s": (1, { o, rm, f in i(rvf32_to_u32(w(o[0]), rm, &f)) }),
            "fcvt.l.s": (1, { o, rm, f in i(rvf32_to_i64(w(o[0]), rm, &f)) }),
            "fcvt.lu.s": (1, { o, rm, f in rvf32_to_u64(w(o[0]), rm, &f) }),
            "fcvt.s.w": (1, { o, rm, f in UInt64(rvf32_from_i32(Int32(bitPattern: w(o[0])), rm, &f)) }),
            "fcvt.s.wu": (1, { o, rm, f in UInt64(rvf32_from_u32(w(o[0]), rm, &f)) }),
            "fcvt.s.l": (1, { o, rm, f in UInt64(rvf32_from_i64(Int64(bitPattern: o[0]), rm, &f)) }),
            "fcvt.s.lu": (1, { o, rm, f in UInt64(rvf32_from_u64(o[0], rm, &f)) }),
            "fadd.d": (2, { o, rm, f in rvf64_add(o[0], o[1], rm, &f) }),
            "fsub.d": (2, { o, rm, f in rvf64_sub(o[0], o[1], rm, &f) }),
            "fmul.d": (2, { o, rm, f in rvf64_mul(o[0], o[1], rm, &f) }),
            "fdiv.d": (2, { o, rm, f in rvf64_div(o[0], o[1], rm, &f) }),
            "fsqrt.d": (1, { o, rm, f in rvf64_sqrt(o[0], rm, &f) }),
            "fmadd.d": (3, { o, rm, f in rvf64_madd(o[0], o[1], o[2], rm, &f) }),
            "fmsub.d": (3, { o, rm, f in rvf64_msub(o[0], o[1], o[2], rm, &f) }),
            "fnmsub.d": (3, { o, rm, f in rvf64_nmsub(o[0], o[1], o[2], rm, &f) }),
            "fnmadd.d": (3, { o, rm, f in rvf64_nmadd(o[0], o[1], o[2], rm, &f) }),
            "fmin.d": (2, { o, _, f in rvf64_min(o[0], o[1], &f) }),
            "fmax.d": (2, { o, _, f in rvf64_max(o[0], o[1], &f) }),
            "feq.d": (2, { o, _, f in i(rvf64_eq(o[0], o[1], &f)) }),
            "flt.d": (2, { o, _, f in i(rvf64_lt(o[0], o[1], &f)) }),
            "fle.d": (2, { o, _, f in i(rvf64_le(o[0], o[1], &f)) }),
            "fclass.d": (1, { o, _, _ in UInt64(rvf64_classify(o[0])) }),
            "fcvt.w.d": (1, { o, rm, f in i(rvf64_to_i32(o[0], rm, &f)) }),
            "fcvt.wu.d": (1, { o, rm, f in i(rvf64_to_u32(o[0], rm, &f)) }),
            "fcvt.l.d": (1, { o, rm, f in i(rvf64_to_i64(o[0], rm, &f)) }),
            "fcvt.lu.d": (1, { o, rm, f in rvf64_to_u64(o[0], rm, &f) }),
            "fcvt.d.w": (1, { o, rm, f in rvf64_from_i32(Int32(bitPattern: w(o[0])), rm, &f) }),
            "fcvt.d.wu": (1, { o, rm, f in rvf64_from_u32(w(o[0]), rm, &f) }),
            "fcvt.d.l": (1, { o, rm, f in rvf64_from_i64(Int64(bitPattern: o[0]), rm, &f) }),
            "fcvt.d.lu": (1, { o, rm, f in rvf64_from_u64(o[0], rm, &f) }),
            "fcvt.d.s": (1, { o, _, f in rvf32_to_f64(w(o[0]), &f) }),
            "fcvt.s.d": (1, { o, rm, f in UInt64(rvf64_to_f32(o[0], rm, &f)) }),
        ]
    }

    /// The committed vector file, or the one named by TRAPEZE_FPREF (e.g. a larger stress set
    /// made with guests/fpref/regen.sh).
    private static var vectorFile: URL {
        if let p = ProcessInfo.processInfo.environment["TRAPEZE_FPREF"], !p.isEmpty {
            return URL(fileURLWithPath: p)
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("fpref").appendingPathComponent("fpref.txt")
    }

    func testAgainstReferenceVectors() throws {
        let url = Self.vectorFile
        let ops = Self.makeOps()
        let text = try String(contentsOf: url, encoding: .utf8)
        var current: (name: String, op: Op)? = nil
        var seen = Set<String>()
        var vectors = 0, mismatches = 0, lineNo = 0
        var report: [String] = []

        for lineSub in text.split(separator: "\n", omittingEmptySubsequences: true) {
            lineNo += 1
            if lineSub.hasPrefix("#") { continue }
            if lineSub.hasPrefix("@") {
                let name = String(lineSub.dropFirst())
                guard let op = ops[name] else {
                    XCTFail("\(url.lastPathComponent):\(lineNo): unknown instruction \(name)")
                    return
                }
                current = (name, op)
                seen.insert(name)
                continue
            }
            guard let (name, op) = current else {
                XCTFail("\(url.lastPathComponent):\(lineNo): vector before any @instruction line")
                return
            }
            let toks = lineSub.split(separator: " ")
            guard toks.count > op.nops else {
                XCTFail("\(url.lastPathComponent):\(lineNo): malformed line")
                return
            }
            var operands: [UInt64] = []
            for t in toks[0..<op.nops] {
                guard let v = UInt64(t, radix: 16) else { XCTFail("bad hex at line \(lineNo)"); return }
                operands.append(v)
            }
            // Expected (result, flags) per slot; "=" repeats the previous slot.
            var slots: [(UInt64, UInt32)] = []
            var k = op.nops
            while k < toks.count {
                if toks[k] == "=" {
                    guard let last = slots.last else { XCTFail("leading '=' at line \(lineNo)"); return }
                    slots.append(last)
                    k += 1
                } else {
                    guard k + 1 < toks.count, let r = UInt64(toks[k], radix: 16),
                          let f = UInt32(toks[k + 1], radix: 16) else {
                        XCTFail("\(url.lastPathComponent):\(lineNo): malformed result"); return
                    }
                    slots.append((r, f))
                    k += 2
                }
            }
            guard slots.count == 1 || slots.count == 5 else {
                XCTFail("\(url.lastPathComponent):\(lineNo): \(slots.count) result slots"); return
            }
            for (idx, rm) in allModes.enumerated() {
                // Without a rounding mode (one slot), every rm must give that one answer.
                let (want, wantFlags) = slots.count == 5 ? slots[idx] : slots[0]
                var fl: UInt32 = 0
                let got = op.fn(operands, rm, &fl)
                vectors += 1
                if got != want || fl != wantFlags {
                    mismatches += 1
                    if report.count < 25 {
                        let ops = operands.map { String($0, radix: 16) }.joined(separator: " ")
                        report.append("\(name) \(ops) rm\(rm): got \(String(got, radix: 16)) flags \(fl), "
                                      + "want \(String(want, radix: 16)) flags \(wantFlags)")
                    }
                }
            }
        }
        if mismatches > 0 {
            XCTFail("\(mismatches) of \(vectors) reference vectors differ:\n" + report.joined(separator: "\n"))
        }
        let missing = Set(ops.keys).subtracting(seen)
        XCTAssertTrue(missing.isEmpty, "instructions without reference vectors: \(missing.sorted())")
        XCTAssertGreaterThan(vectors, 100_000, "too few reference vectors in \(url.path)")
        print("FloatingPointTests: \(vectors) reference vectors from \(url.lastPathComponent), \(mismatches) mismatches")
    }
}
