import CShims

/// The F and D extensions. Arithmetic is done by CShims' rvfp (IEEE results, every rounding
/// mode, accrued flags, RISC-V canonical NaNs); this file handles the register file, NaN-boxing
/// (unprivileged spec 13.2), rounding-mode selection and mstatus.FS.
extension Hart {
    static let boxMask: UInt64 = 0xffff_ffff_0000_0000

    /// A single-precision operand: properly NaN-boxed values pass, anything else reads as the canonical NaN.
    @inline(__always) func single(_ i: UInt8) -> UInt32 {
        let v = f[Int(i)]
        return v & Self.boxMask == Self.boxMask ? UInt32(truncatingIfNeeded: v) : 0x7fc0_0000
    }

    @inline(__always) func setSingle(_ i: UInt8, _ v: UInt32) {
        f[Int(i)] = Self.boxMask | UInt64(v)
        markFloatingPointDirty()
    }

    @inline(__always) func setDouble(_ i: UInt8, _ v: UInt64) {
        f[Int(i)] = v
        markFloatingPointDirty()
    }

    /// With V=1 both sstatus.FS and vsstatus.FS are in effect: either Off makes FP instructions
    /// illegal (never virtual-instruction), and a change sets both to Dirty (privileged spec 8.2.11).
    @inline(__always) var floatingPointEnabled: Bool {
        mstatus & Mstatus.fs != 0 && (!virtualized || hyp.vsstatus & Mstatus.fs != 0)
    }

    @inline(__always) func markFloatingPointDirty() {
        mstatus |= Mstatus.fsDirty
        if virtualized { hyp.vsstatus |= Mstatus.fsDirty }
    }

    /// The rounding mode to use: the instruction's, or frm when it says dynamic (7). Reserved
    /// modes raise illegal-instruction.
    @inline(__always) func roundingMode(_ rm: UInt8) throws(Exception) -> Int32 {
        let mode = rm == 7 ? frm : rm
        guard mode <= 4 else { throw Exception(.illegalInstruction) }
        return Int32(mode)
    }

    @inline(__always) func accrue(_ flags: UInt32) {
        if flags != 0 {
            fflags |= flags
            markFloatingPointDirty()
        }
    }

    func executeFloat(_ d: DecodedInstruction) throws(Exception) {
        guard floatingPointEnabled else { throw Exception(.illegalInstruction) }
        let x = self.x
        let rd = d.rd, rs1 = d.rs1, rs2 = d.rs2, rs3 = d.rs3
        var fl: UInt32 = 0
        switch d.op {
        case .flw: setSingle(rd, try load(x[Int(rs1)] &+ UInt64(bitPattern: d.imm), UInt32.self))
        case .fsw: try store(x[Int(rs1)] &+ UInt64(bitPattern: d.imm), UInt32(truncatingIfNeeded: f[Int(rs2)]))
        case .fld: setDouble(rd, try load(x[Int(rs1)] &+ UInt64(bitPattern: d.imm), UInt64.self))
        case .fsd: try store(x[Int(rs1)] &+ UInt64(bitPattern: d.imm), f[Int(rs2)])

        // Single precision arithmetic.
        case .faddS: let m = try roundingMode(d.rm); setSingle(rd, rvf32_add(single(rs1), single(rs2), m, &fl))
        case .fsubS: let m = try roundingMode(d.rm); setSingle(rd, rvf32_sub(single(rs1), single(rs2), m, &fl))
        case .fmulS: let m = try roundingMode(d.rm); setSingle(rd, rvf32_mul(single(rs1), single(rs2), m, &fl))
        case .fdivS: let m = try roundingMode(d.rm); setSingle(rd, rvf32_div(single(rs1), single(rs2), m, &fl))
        case .fsqrtS: let m = try roundingMode(d.rm); setSingle(rd, rvf32_sqrt(single(rs1), m, &fl))
        case .fmaddS: let m = try roundingMode(d.rm); setSingle(rd, rvf32_madd(single(rs1), single(rs2), single(rs3), m, &fl))
        case .fmsubS: let m = try roundingMode(d.rm); setSingle(rd, rvf32_msub(single(rs1), single(rs2), single(rs3), m, &fl))
        case .fnmsubS: let m = try roundingMode(d.rm); setSingle(rd, rvf32_nmsub(single(rs1), single(rs2), single(rs3), m, &fl))
        case .fnmaddS: let m = try roundingMode(d.rm); setSingle(rd, rvf32_nmadd(single(rs1), single(rs2), single(rs3), m, &fl))
        case .fsgnjS: setSingle(rd, (single(rs1) & 0x7fff_ffff) | (single(rs2) & 0x8000_0000))
        case .fsgnjnS: setSingle(rd, (single(rs1) & 0x7fff_ffff) | (~single(rs2) & 0x8000_0000))
        case .fsgnjxS: setSingle(rd, single(rs1) ^ (single(rs2) & 0x8000_0000))
        case .fminS: setSingle(rd, rvf32_min(single(rs1), single(rs2), &fl))
        case .fmaxS: setSingle(rd, rvf32_max(single(rs1), single(rs2), &fl))
        case .feqS: x[Int(rd)] = UInt64(rvf32_eq(single(rs1), single(rs2), &fl))
        case .fltS: x[Int(rd)] = UInt64(rvf32_lt(single(rs1), single(rs2), &fl))
        case .fleS: x[Int(rd)] = UInt64(rvf32_le(single(rs1), single(rs2), &fl))
        case .fclassS: x[Int(rd)] = UInt64(rvf32_classify(single(rs1)))
        case .fmvXW: x[Int(rd)] = Self.sext32(f[Int(rs1)])
        case .fmvWX: setSingle(rd, UInt32(truncatingIfNeeded: x[Int(rs1)]))
        case .fcvtWS: let m = try roundingMode(d.rm); x[Int(rd)] = UInt64(bitPattern: rvf32_to_i32(single(rs1), m, &fl))
        case .fcvtWUS: let m = try roundingMode(d.rm); x[Int(rd)] = UInt64(bitPattern: rvf32_to_u32(single(rs1), m, &fl))
        case .fcvtLS: let m = try roundingMode(d.rm); x[Int(rd)] = UInt64(bitPattern: rvf32_to_i64(single(rs1), m, &fl))
        case .fcvtLUS: let m = try roundingMode(d.rm); x[Int(rd)] = rvf32_to_u64(single(rs1), m, &fl)
        case .fcvtSW: let m = try roundingMode(d.rm); setSingle(rd, rvf32_from_i32(Int32(truncatingIfNeeded: x[Int(rs1)]), m, &fl))
        case .fcvtSWU: let m = try roundingMode(d.rm); setSingle(rd, rvf32_from_u32(UInt32(truncatingIfNeeded: x[Int(rs1)]), m, &fl))
        case .fcvtSL: let m = try roundingMode(d.rm); setSingle(rd, rvf32_from_i64(Int64(bitPattern: x[Int(rs1)]), m, &fl))
        case .fcvtSLU: let m = try roundingMode(d.rm); setSingle(rd, rvf32_from_u64(x[Int(rs1)], m, &fl))

        // Double precision arithmetic.
        case .faddD: let m = try roundingMode(d.rm); setDouble(rd, rvf64_add(f[Int(rs1)], f[Int(rs2)], m, &fl))
        case .fsubD: let m = try roundingMode(d.rm); setDouble(rd, rvf64_sub(f[Int(rs1)], f[Int(rs2)], m, &fl))
        case .fmulD: let m = try roundingMode(d.rm); setDouble(rd, rvf64_mul(f[Int(rs1)], f[Int(rs2)], m, &fl))
        case .fdivD: let m = try roundingMode(d.rm); setDouble(rd, rvf64_div(f[Int(rs1)], f[Int(rs2)], m, &fl))
        case .fsqrtD: let m = try roundingMode(d.rm); setDouble(rd, rvf64_sqrt(f[Int(rs1)], m, &fl))
        case .fmaddD: let m = try roundingMode(d.rm); setDouble(rd, rvf64_madd(f[Int(rs1)], f[Int(rs2)], f[Int(rs3)], m, &fl))
        case .fmsubD: let m = try roundingMode(d.rm); setDouble(rd, rvf64_msub(f[Int(rs1)], f[Int(rs2)], f[Int(rs3)], m, &fl))
        case .fnmsubD: let m = try roundingMode(d.rm); setDouble(rd, rvf64_nmsub(f[Int(rs1)], f[Int(rs2)], f[Int(rs3)], m, &fl))
        case .fnmaddD: let m = try roundingMode(d.rm); setDouble(rd, rvf64_nmadd(f[Int(rs1)], f[Int(rs2)], f[Int(rs3)], m, &fl))
        case .fsgnjD: setDouble(rd, (f[Int(rs1)] & ~(1 << 63)) | (f[Int(rs2)] & (1 << 63)))
        case .fsgnjnD: setDouble(rd, (f[Int(rs1)] & ~(1 << 63)) | (~f[Int(rs2)] & (1 << 63)))
        case .fsgnjxD: setDouble(rd, f[Int(rs1)] ^ (f[Int(rs2)] & (1 << 63)))
        case .fminD: setDouble(rd, rvf64_min(f[Int(rs1)], f[Int(rs2)], &fl))
        case .fmaxD: setDouble(rd, rvf64_max(f[Int(rs1)], f[Int(rs2)], &fl))
        case .feqD: x[Int(rd)] = UInt64(rvf64_eq(f[Int(rs1)], f[Int(rs2)], &fl))
        case .fltD: x[Int(rd)] = UInt64(rvf64_lt(f[Int(rs1)], f[Int(rs2)], &fl))
        case .fleD: x[Int(rd)] = UInt64(rvf64_le(f[Int(rs1)], f[Int(rs2)], &fl))
        case .fclassD: x[Int(rd)] = UInt64(rvf64_classify(f[Int(rs1)]))
        case .fmvXD: x[Int(rd)] = f[Int(rs1)]
        case .fmvDX: setDouble(rd, x[Int(rs1)])
        case .fcvtWD: let m = try roundingMode(d.rm); x[Int(rd)] = UInt64(bitPattern: rvf64_to_i32(f[Int(rs1)], m, &fl))
        case .fcvtWUD: let m = try roundingMode(d.rm); x[Int(rd)] = UInt64(bitPattern: rvf64_to_u32(f[Int(rs1)], m, &fl))
        case .fcvtLD: let m = try roundingMode(d.rm); x[Int(rd)] = UInt64(bitPattern: rvf64_to_i64(f[Int(rs1)], m, &fl))
        case .fcvtLUD: let m = try roundingMode(d.rm); x[Int(rd)] = rvf64_to_u64(f[Int(rs1)], m, &fl)
        case .fcvtDW: let m = try roundingMode(d.rm); setDouble(rd, rvf64_from_i32(Int32(truncatingIfNeeded: x[Int(rs1)]), m, &fl))
        case .fcvtDWU: let m = try roundingMode(d.rm); setDouble(rd, rvf64_from_u32(UInt32(truncatingIfNeeded: x[Int(rs1)]), m, &fl))
        case .fcvtDL: let m = try roundingMode(d.rm); setDouble(rd, rvf64_from_i64(Int64(bitPattern: x[Int(rs1)]), m, &fl))
        case .fcvtDLU: let m = try roundingMode(d.rm); setDouble(rd, rvf64_from_u64(x[Int(rs1)], m, &fl))
        case .fcvtSD: let m = try roundingMode(d.rm); setSingle(rd, rvf64_to_f32(f[Int(rs1)], m, &fl))
        case .fcvtDS: _ = try roundingMode(d.rm); setDouble(rd, rvf32_to_f64(single(rs1), &fl))
        default: throw Exception(.illegalInstruction)
        }
        accrue(fl)
    }
}
