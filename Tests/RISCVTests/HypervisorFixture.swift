import XCTest
@testable import RISCV
import GuestMemory

/// Encodings of the hypervisor instructions (privileged spec 8.3; the same bits binutils emits,
/// e.g. `hlv.b a0, (a1)` = 0x6005c573, `hfence.gvma` = 0x62000073).
extension Asm {
    static func hfenceVVMA(_ rs1: Int = 0, _ rs2: Int = 0) -> UInt32 {
        0x11 << 25 | UInt32(rs2) << 20 | UInt32(rs1) << 15 | 0x73
    }
    static func hfenceGVMA(_ rs1: Int = 0, _ rs2: Int = 0) -> UInt32 {
        0x31 << 25 | UInt32(rs2) << 20 | UInt32(rs1) << 15 | 0x73
    }

    /// HLV/HLVX: funct7 by size, the rs2 field by variant (0 signed, 1 unsigned, 3 HLVX).
    enum HypervisorLoad {
        case b, bu, h, hu, xhu, w, wu, xwu, d
        var bits: (funct7: UInt32, variant: UInt32) {
            switch self {
            case .b: return (0x30, 0)
            case .bu: return (0x30, 1)
            case .h: return (0x32, 0)
            case .hu: return (0x32, 1)
            case .xhu: return (0x32, 3)
            case .w: return (0x34, 0)
            case .wu: return (0x34, 1)
            case .xwu: return (0x34, 3)
            case .d: return (0x36, 0)
            }
        }
    }
    static func hlv(_ kind: HypervisorLoad, _ rd: Int, _ rs1: Int) -> UInt32 {
        kind.bits.funct7 << 25 | kind.bits.variant << 20 | UInt32(rs1) << 15 | 4 << 12 | UInt32(rd) << 7 | 0x73
    }
    /// HSV.B/H/W/D: funct7 0x31, 0x33, 0x35, 0x37 for 1, 2, 4, 8 bytes.
    static func hsv(bytes: Int, _ rs2: Int, _ rs1: Int) -> UInt32 {
        let funct7: UInt32 = [1: 0x31, 2: 0x33, 4: 0x35, 8: 0x37][bytes]!
        return funct7 << 25 | UInt32(rs2) << 20 | UInt32(rs1) << 15 | 4 << 12 | 0x73
    }
}

/// A hart with two-stage translation set up (privileged spec 8.5):
///
/// - G-stage (hgatp, Sv39x4 or Sv48x4, tables in host RAM at 0x8010_0000, 16 KiB root): a
///   4 MiB guest-RAM window, GPA 0x1000_0000-0x1040_0000, mapped by two 2 MiB leaves to host
///   0x8080_0000-0x80c0_0000.
/// - VS-stage (vsatp, Sv39 or Sv48, tables in that window at GPA 0x1010_0000): VS code at VA
///   0x4000_0000 and VU code at VA 0x4000_1000 (the same frame, GPA 0x1000_1000), a data page
///   at VA 0x5000_0000 (GPA 0x1020_0000) holding `marker`.
///
/// Nothing is delegated: every trap goes to M-mode at TestMachine.trapVector.
final class HypervisorFixture {
    static let gpaBase: UInt64 = 0x1000_0000
    static let hpaBase = TestMachine.ramBase + 0x80_0000
    static let hostOffset = hpaBase - gpaBase
    static let gTables = TestMachine.ramBase + 0x10_0000
    static let codeVA: UInt64 = 0x4000_0000
    static let userCodeVA: UInt64 = 0x4000_1000
    static let codeGPA = gpaBase + 0x1000
    static let dataVA: UInt64 = 0x5000_0000
    static let dataGPA = gpaBase + 0x20_0000
    /// Guest-physical pages outside the window, for tests that need G-stage mappings of their own.
    static let spareGPA: UInt64 = 0x2000_0000
    static let spareHPA = TestMachine.ramBase + 0x60_0000
    static let marker: UInt64 = 0x0123_4567_89ab_cdef

    static let v = PTEBit.v, r = PTEBit.r, w = PTEBit.w, x = PTEBit.x, u = PTEBit.u, a = PTEBit.a, d = PTEBit.d
    /// A VS-stage supervisor leaf and a G-stage leaf (which must have U, privileged spec 8.5.1).
    static let vsRWX = v | r | w | x | a | d
    static let gRWX = v | r | w | x | u | a | d

    let m = TestMachine()
    let g: PageTableBuilder
    let vs: PageTableBuilder

    init(gLevels: Int = 3, vsLevels: Int = 3) {
        g = PageTableBuilder(memory: m.memory, levels: gLevels, region: Self.gTables, widenedRoot: true)
        g.map(Self.gpaBase, Self.hpaBase, Self.gRWX, level: 1)
        g.map(Self.gpaBase + 0x20_0000, Self.hpaBase + 0x20_0000, Self.gRWX, level: 1)
        vs = PageTableBuilder(memory: m.memory, levels: vsLevels, region: Self.gpaBase + 0x10_0000,
                              hostOffset: Self.hostOffset)
        vs.map(Self.codeVA, Self.codeGPA, Self.v | Self.r | Self.x | Self.a | Self.d)
        vs.map(Self.userCodeVA, Self.codeGPA, Self.v | Self.r | Self.x | Self.u | Self.a | Self.d)
        vs.map(Self.dataVA, Self.dataGPA, Self.vsRWX)
        m.write64(host(Self.dataGPA), Self.marker)
        m.setCSR(CSR.hgatp, g.satp)
        m.setCSR(CSR.vsatp, vs.satp)
    }

    var hart: Hart { m.hart }

    /// The host address behind a guest-physical address of the window.
    func host(_ gpa: UInt64) -> UInt64 { gpa + Self.hostOffset }

    static func codeVA(_ p: Privilege) -> UInt64 { p == .user ? userCodeVA : codeVA }

    /// Places `words` in the guest code frame and enters the guest at `privilege` (V=1).
    func place(_ words: [UInt32], as privilege: Privilege, _ regs: [Int: UInt64] = [:]) {
        m.load(words, at: host(Self.codeGPA), setPC: false)
        hart.enterGuest(pc: Self.codeVA(privilege), privilege: privilege)
        for (r, v) in regs { hart.setRegister(r, v) }
        hart.mcause = 0xdead
    }

    func run(_ words: [UInt32], as privilege: Privilege, _ regs: [Int: UInt64] = [:]) {
        place(words, as: privilege, regs)
        m.step(words.count)
    }

    /// Whether the instruction at the start of the guest code retired: the hart is still in the
    /// guest, just past it (a trap into M, HS or VS-mode lands elsewhere).
    private func retired(as privilege: Privilege) -> Bool {
        hart.virtualized && hart.pc == Self.codeVA(privilege) + 4
    }

    /// `ld x5, 0(x6)` in the guest; the value, or nil if it trapped (x5 then keeps 0xbad).
    func load(_ va: UInt64, as privilege: Privilege = .supervisor) -> UInt64? {
        run([Asm.ld(5, 6, 0)], as: privilege, [6: va, 5: 0xbad])
        return retired(as: privilege) ? hart.register(5) : nil
    }

    /// `sd x7, 0(x6)` in the guest; whether it retired.
    func store(_ va: UInt64, _ value: UInt64, as privilege: Privilege = .supervisor) -> Bool {
        run([Asm.sd(7, 6, 0)], as: privilege, [6: va, 7: value])
        return retired(as: privilege)
    }

    /// Runs `addi x5, x0, 1` fetched from `va` (mapped by the test to the code frame).
    func fetch(_ va: UInt64, as privilege: Privilege = .supervisor) -> Bool {
        m.load([Asm.addi(5, 0, 1)], at: host(Self.codeGPA), setPC: false)
        hart.enterGuest(pc: va, privilege: privilege)
        hart.setRegister(5, 0)
        hart.mcause = 0xdead
        m.step()
        return hart.virtualized && hart.pc == va + 4 && hart.register(5) == 1
    }

    func setStatus(_ bits: UInt64, _ on: Bool) {
        let s = m.csr(CSR.mstatus)
        m.setCSR(CSR.mstatus, on ? s | bits : s & ~bits)
    }

    func setVSStatus(_ bits: UInt64, _ on: Bool) {
        let s = m.csr(CSR.vsstatus)
        m.setCSR(CSR.vsstatus, on ? s | bits : s & ~bits)
    }

    /// Asserts that the last step trapped from the guest into M-mode (privileged spec 8.6.2):
    /// V=0, MPV=1, with the cause, epc, tval, mtval2 (GPA >> 2), GVA and, if given, mtinst.
    func assertMachineTrap(_ cause: ExceptionCause, epc: UInt64, tval: UInt64, gpa: UInt64? = nil,
                           gva: Bool = true, tinst: UInt64? = nil, file: StaticString = #filePath, line: UInt = #line) {
        m.assertTrap(cause, epc: epc, tval: tval, file: file, line: line)
        XCTAssertFalse(hart.virtualized, "V = 0 in M-mode", file: file, line: line)
        let status = m.csr(CSR.mstatus)
        XCTAssertNotEqual(status & Mstatus.mpv, 0, "MPV = 1: the trap came from V=1", file: file, line: line)
        XCTAssertEqual(status & Mstatus.gva != 0, gva, "mstatus.GVA", file: file, line: line)
        XCTAssertEqual(m.csr(CSR.mtval2), gpa.map { $0 >> 2 } ?? 0, "mtval2 = GPA >> 2", file: file, line: line)
        if let tinst { XCTAssertEqual(m.csr(CSR.mtinst), tinst, "mtinst", file: file, line: line) }
    }
}
