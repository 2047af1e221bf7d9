import XCTest
@testable import RISCV

/// RV64C: every 16-bit encoding must decode exactly as its 32-bit expansion (unprivileged spec,
/// "C" chapter, RVC instruction listings), and reserved encodings must be illegal.
final class CompressedDecoderTests: XCTestCase {

    // MARK: An independent expander, written from the spec's tables

    private static func bits(_ h: UInt32, _ hi: Int, _ lo: Int) -> UInt32 { (h >> UInt32(lo)) & ((1 << UInt32(hi - lo + 1)) - 1) }

    /// Scatters instruction bits `top`, `top-1`, ... into the immediate bit positions listed, in
    /// the spec's notation: "offset[11|4|9:8|10|6|7|3:1|5]" at bits 12:2 is
    /// `scatter(h, top: 12, [11, 4, 9, 8, 10, 6, 7, 3, 2, 1, 5])`.
    private static func scatter(_ h: UInt32, top: Int, _ positions: [Int]) -> UInt32 {
        var imm: UInt32 = 0
        for (i, p) in positions.enumerated() { imm |= ((h >> UInt32(top - i)) & 1) << UInt32(p) }
        return imm
    }

    private static func sext(_ v: UInt32, _ bits: Int) -> Int64 {
        let s = 64 - bits
        return (Int64(v) << s) >> s
    }

    /// The 32-bit expansion of `h`, or nil when the encoding is reserved.
    static func expand(_ h16: UInt16) -> UInt32? {
        let h = UInt32(h16)
        let op = h & 3, f3 = bits(h, 15, 13)
        let rdFull = Int(bits(h, 11, 7)), rs2Full = Int(bits(h, 6, 2))
        let rdp = Int(bits(h, 4, 2)) + 8, rs1p = Int(bits(h, 9, 7)) + 8
        let imm6 = sext(bits(h, 12, 12) << 5 | bits(h, 6, 2), 6)
        let shamt = bits(h, 12, 12) << 5 | bits(h, 6, 2)
        let uimmD = Int64(scatter(h, top: 12, [5, 4, 3]) | scatter(h, top: 6, [7, 6]))
        let uimmW = Int64(scatter(h, top: 12, [5, 4, 3]) | scatter(h, top: 6, [2, 6]))
        let fldOp = Asm.I(opcode: 0x07, f3: 3)
        switch (op, f3) {
        case (0, 0):
            let nzuimm = scatter(h, top: 12, [5, 4, 9, 8, 7, 6, 2, 3])
            return nzuimm == 0 ? nil : Asm.addi(rdp, 2, Int64(nzuimm))
        case (0, 1): return Asm.i(fldOp, rdp, rs1p, uimmD)
        case (0, 2): return Asm.lw(rdp, rs1p, uimmW)
        case (0, 3): return Asm.ld(rdp, rs1p, uimmD)
        case (0, 4): return nil
        case (0, 5): return Asm.fsd(rdp, rs1p, uimmD)
        case (0, 6): return Asm.sw(rdp, rs1p, uimmW)
        case (0, 7): return Asm.sd(rdp, rs1p, uimmD)

        case (1, 0): return Asm.addi(rdFull, rdFull, imm6)
        case (1, 1): return rdFull == 0 ? nil : Asm.i(Asm.addiw, rdFull, rdFull, imm6)
        case (1, 2): return Asm.addi(rdFull, 0, imm6)
        case (1, 3):
            if rdFull == 2 {
                let nz = scatter(h, top: 12, [9]) | scatter(h, top: 6, [4, 6, 8, 7, 5])
                return nz == 0 ? nil : Asm.addi(2, 2, sext(nz, 10))
            }
            let nz = scatter(h, top: 12, [17]) | scatter(h, top: 6, [16, 15, 14, 13, 12])
            return nz == 0 ? nil : Asm.lui(rdFull, sext(nz, 18))
        case (1, 4):
            let rd = rs1p
            switch bits(h, 11, 10) {
            case 0: return Asm.shift(Asm.srli, rd, rd, shamt)
            case 1: return Asm.shift(Asm.srai, rd, rd, shamt)
            case 2: return Asm.i(Asm.andi, rd, rd, imm6)
            default:
                let table: [Asm.R?] = [Asm.sub, Asm.xor, Asm.or, Asm.and, Asm.subw, Asm.addw, nil, nil]
                guard let r = table[Int(bits(h, 12, 12) << 2 | bits(h, 6, 5))] else { return nil }
                return Asm.r(r, rd, rd, rdp)
            }
        case (1, 5):
            return Asm.jal(0, sext(scatter(h, top: 12, [11, 4, 9, 8, 10, 6, 7, 3, 2, 1, 5]), 12))
        case (1, 6), (1, 7):
            let off = sext(scatter(h, top: 12, [8, 4, 3]) | scatter(h, top: 6, [7, 6, 2, 1, 5]), 9)
            return Asm.b(f3 == 6 ? Asm.beq : Asm.bne, rs1p, 0, off)

        case (2, 0): return Asm.shift(Asm.slli, rdFull, rdFull, shamt)
        case (2, 1):
            return Asm.i(fldOp, rdFull, 2, Int64(scatter(h, top: 12, [5]) | scatter(h, top: 6, [4, 3, 8, 7, 6])))
        case (2, 2):
            guard rdFull != 0 else { return nil }
            return Asm.lw(rdFull, 2, Int64(scatter(h, top: 12, [5]) | scatter(h, top: 6, [4, 3, 2, 7, 6])))
        case (2, 3):
            guard rdFull != 0 else { return nil }
            return Asm.ld(rdFull, 2, Int64(scatter(h, top: 12, [5]) | scatter(h, top: 6, [4, 3, 8, 7, 6])))
        case (2, 4):
            if bits(h, 12, 12) == 0 {
                if rs2Full == 0 { return rdFull == 0 ? nil : Asm.jalr(0, rdFull, 0) }
                return Asm.r(Asm.add, rdFull, 0, rs2Full)
            }
            if rs2Full == 0 { return rdFull == 0 ? Asm.ebreak : Asm.jalr(1, rdFull, 0) }
            return Asm.r(Asm.add, rdFull, rdFull, rs2Full)
        case (2, 5): return Asm.fsd(rs2Full, 2, Int64(scatter(h, top: 12, [5, 4, 3, 8, 7, 6])))
        case (2, 6): return Asm.sw(rs2Full, 2, Int64(scatter(h, top: 12, [5, 4, 3, 2, 7, 6])))
        case (2, 7): return Asm.sd(rs2Full, 2, Int64(scatter(h, top: 12, [5, 4, 3, 8, 7, 6])))
        default: return nil
        }
    }

    /// The compressed form with its length forced to 4, to compare with the expansion's decoding.
    private func widened(_ d: DecodedInstruction) -> DecodedInstruction {
        DecodedInstruction(op: d.op, rd: d.rd, rs1: d.rs1, rs2: d.rs2, length: 4, imm: d.imm)
    }

    // MARK: Tests

    /// All 49152 compressed halfwords against the expander.
    func testEveryCompressedEncodingMatchesItsExpansion() {
        var legal = 0, reserved = 0
        for value in 0...0xffff where value & 3 != 3 {
            let h = UInt16(value)
            let c = Decoder.decodeCompressed(h)
            XCTAssertEqual(c.length, 2, "length of \(String(value, radix: 16))")
            guard let w = Self.expand(h) else {
                XCTAssertEqual(c.op, .illegal, "reserved \(String(value, radix: 16)) decoded as \(c.op)")
                reserved += 1
                continue
            }
            let full = Decoder.decode(w)
            XCTAssertNotEqual(full.op, .illegal, "expansion \(String(w, radix: 16)) of \(String(value, radix: 16))")
            if widened(c) != full {
                XCTFail("\(String(value, radix: 16)): compressed \(c) != expansion \(String(w, radix: 16)) \(full)")
            } else {
                legal += 1
            }
        }
        XCTAssertEqual(legal + reserved, 49152)
        XCTAssertGreaterThan(legal, 45000)
    }

    /// Encodings from GNU as (riscv64-linux-gnu-as -march=rv64gc) with the fields they must
    /// decode to, so the expander above is itself pinned to a real assembler.
    func testAgainstGNUAssembler() {
        typealias D = DecodedInstruction
        let cases: [(UInt16, D, String)] = [
            (0x1fe0, D(op: .addi, rd: 8, rs1: 2, imm: 1020), "c.addi4spn s0,sp,1020"),
            (0x005c, D(op: .addi, rd: 15, rs1: 2, imm: 4), "c.addi4spn a5,sp,4"),
            (0x3ce0, D(op: .fld, rd: 8, rs1: 9, imm: 248), "c.fld fs0,248(s1)"),
            (0x5d64, D(op: .lw, rd: 9, rs1: 10, imm: 124), "c.lw s1,124(a0)"),
            (0x7c7c, D(op: .ld, rd: 15, rs1: 8, imm: 248), "c.ld a5,248(s0)"),
            (0xa41c, D(op: .fsd, rs1: 8, rs2: 15, imm: 8), "c.fsd fa5,8(s0)"),
            (0xc3a0, D(op: .sw, rs1: 15, rs2: 8, imm: 64), "c.sw s0,64(a5)"),
            (0xe144, D(op: .sd, rs1: 10, rs2: 9, imm: 128), "c.sd s1,128(a0)"),
            (0x1081, D(op: .addi, rd: 1, rs1: 1, imm: -32), "c.addi ra,-32"),
            (0x217d, D(op: .addiw, rd: 2, rs1: 2, imm: 31), "c.addiw sp,31"),
            (0x51fd, D(op: .addi, rd: 3, rs1: 0, imm: -1), "c.li gp,-1"),
            (0x7101, D(op: .addi, rd: 2, rs1: 2, imm: -512), "c.addi16sp sp,-512"),
            (0x617d, D(op: .addi, rd: 2, rs1: 2, imm: 496), "c.addi16sp sp,496"),
            (0x7201, D(op: .lui, rd: 4, imm: -0x20000), "c.lui tp,0xfffe0"),
            (0x6ffd, D(op: .lui, rd: 31, imm: 0x1f000), "c.lui t6,0x1f"),
            (0x907d, D(op: .srli, rd: 8, rs1: 8, imm: 63), "c.srli s0,63"),
            (0x9481, D(op: .srai, rd: 9, rs1: 9, imm: 32), "c.srai s1,32"),
            (0x9901, D(op: .andi, rd: 10, rs1: 10, imm: -32), "c.andi a0,-32"),
            (0x8c05, D(op: .sub, rd: 8, rs1: 8, rs2: 9), "c.sub s0,s1"),
            (0x8d2d, D(op: .xor, rd: 10, rs1: 10, rs2: 11), "c.xor a0,a1"),
            (0x8e55, D(op: .or, rd: 12, rs1: 12, rs2: 13), "c.or a2,a3"),
            (0x8f7d, D(op: .and, rd: 14, rs1: 14, rs2: 15), "c.and a4,a5"),
            (0x9c1d, D(op: .subw, rd: 8, rs1: 8, rs2: 15), "c.subw s0,a5"),
            (0x9fa1, D(op: .addw, rd: 15, rs1: 15, rs2: 8), "c.addw a5,s0"),
            (0x1ffe, D(op: .slli, rd: 31, rs1: 31, imm: 63), "c.slli t6,63"),
            (0x3ffe, D(op: .fld, rd: 31, rs1: 2, imm: 504), "c.fldsp ft11,504(sp)"),
            (0x50fe, D(op: .lw, rd: 1, rs1: 2, imm: 252), "c.lwsp ra,252(sp)"),
            (0x7ffe, D(op: .ld, rd: 31, rs1: 2, imm: 504), "c.ldsp t6,504(sp)"),
            (0x8f82, D(op: .jalr, rd: 32, rs1: 31, imm: 0), "c.jr t6"),
            (0x80fe, D(op: .add, rd: 1, rs1: 0, rs2: 31), "c.mv ra,t6"),
            (0x9002, D(op: .ebreak), "c.ebreak"),
            (0x9282, D(op: .jalr, rd: 1, rs1: 5, imm: 0), "c.jalr t0"),
            (0x9f86, D(op: .add, rd: 31, rs1: 31, rs2: 1), "c.add t6,ra"),
            (0xbf86, D(op: .fsd, rs1: 2, rs2: 1, imm: 504), "c.fsdsp ft1,504(sp)"),
            (0xdffe, D(op: .sw, rs1: 2, rs2: 31, imm: 252), "c.swsp t6,252(sp)"),
            (0xff86, D(op: .sd, rs1: 2, rs2: 1, imm: 504), "c.sdsp ra,504(sp)"),
            (0xb001, D(op: .jal, rd: 32, imm: -2048), "c.j -2048"),
            (0xaff5, D(op: .jal, rd: 32, imm: 2044), "c.j +2044"),
            (0xa001, D(op: .jal, rd: 32, imm: 0), "c.j 0"),
            (0xd001, D(op: .beq, rs1: 8, rs2: 0, imm: -256), "c.beqz s0,-256"),
            (0xeff5, D(op: .bne, rs1: 15, rs2: 0, imm: 252), "c.bnez a5,+252"),
            (0xc8a9, D(op: .beq, rs1: 9, rs2: 0, imm: 82), "c.beqz s1,+82"),
            (0xdc6d, D(op: .beq, rs1: 8, rs2: 0, imm: -6), "c.beqz s0,-6"),
        ]
        for (h, want, name) in cases {
            let got = Decoder.decodeCompressed(h)
            XCTAssertEqual(widened(got), want, "\(name) (\(String(h, radix: 16))): \(got)")
            XCTAssertEqual(got.length, 2, name)
            if let w = Self.expand(h) { XCTAssertEqual(Decoder.decode(w), want, "expander: \(name)") }
            else { XCTFail("expander rejects \(name)") }
        }
    }

    func testReservedEncodingsAreIllegal() {
        let reserved: [(UInt16, String)] = [
            (0x0000, "all-zero halfword (c.addi4spn imm 0)"),
            (0x0010, "c.addi4spn rd'=x12 imm 0"),
            (0x4002, "c.lwsp rd=0"),
            (0x6002, "c.ldsp rd=0"),
            (0x8002, "c.jr rs1=0"),
            (0x6101, "c.addi16sp imm 0"),
            (0x6081, "c.lui x1 imm 0"),
            (0x6001, "c.lui x0 imm 0"),
            (0x2001, "c.addiw rd=0"),
            (0x8000 | 0x0000, "quadrant 0 funct3 100"),
            (0x9c41, "c.subw-space reserved (funct2 10)"),
            (0x9c61, "c.subw-space reserved (funct2 11)"),
        ]
        for (h, name) in reserved {
            XCTAssertEqual(Decoder.decodeCompressed(h).op, .illegal, name)
            XCTAssertNil(Self.expand(h), "expander agrees: \(name)")
        }
    }

    /// Compressed instructions execute with 2-byte lengths: pc advances by 2, links are pc + 2.
    func testCompressedExecution() {
        let m = TestMachine()
        let base = TestMachine.ramBase
        // c.li a0,-1 ; c.addi a0,3 ; c.slli a0,4 (a0 = 2 << 4 = 32); c.jalr t0 (t0 = base + 0x20)
        m.loadHalves([0x557d, 0x050d, 0x0512, 0x9282])
        m.hart.setRegister(5, base + 0x20)
        m.step(3)
        XCTAssertEqual(m.hart.register(10), 32)
        XCTAssertEqual(m.hart.pc, base + 6)
        m.step()
        XCTAssertEqual(m.hart.pc, base + 0x20)
        XCTAssertEqual(m.hart.register(1), base + 8, "c.jalr links pc + 2")

        // A 32-bit instruction at a 2-byte aligned address after a compressed one.
        let add = Asm.r(Asm.add, 5, 6, 7)
        m.loadHalves([0x0001, UInt16(add & 0xffff), UInt16(add >> 16), 0x0001])
        m.hart.setRegister(6, 40)
        m.hart.setRegister(7, 2)
        m.step(2)
        XCTAssertEqual(m.hart.register(5), 42)
        XCTAssertEqual(m.hart.pc, base + 6)
    }

    /// A 32-bit instruction whose halves straddle a page boundary, and a compressed one at the
    /// last halfword of a page.
    func testInstructionsStraddlingAPage() {
        let m = TestMachine()
        let base = TestMachine.ramBase
        let add = Asm.r(Asm.add, 5, 6, 7)
        m.loadHalves([UInt16(add & 0xffff), UInt16(add >> 16), 0x0505], at: base + 0xffe)
        m.hart.setRegister(6, 40)
        m.hart.setRegister(7, 2)
        m.step()
        XCTAssertEqual(m.hart.register(5), 42)
        XCTAssertEqual(m.hart.pc, base + 0x1002)
        m.step()  // c.addi a0, 1
        XCTAssertEqual(m.hart.register(10), 1)
        // Run it again through the cached path, then change only the upper half.
        m.hart.pc = base + 0xffe
        m.step()
        XCTAssertEqual(m.hart.register(5), 42)
        // Rewrite the upper half behind the hart's back (no invalidation): a straddling
        // instruction is fetched afresh every time, so the new half must still be seen.
        let sub = Asm.r(Asm.sub, 5, 6, 7)
        m.memory.store(base + 0x1000, UInt16(sub >> 16))
        m.hart.pc = base + 0xffe
        m.step()
        XCTAssertEqual(m.hart.register(5), 38)
    }
}
