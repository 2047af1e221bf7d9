import XCTest
import Foundation
@testable import RISCV
import Devices

/// Popek and Goldberg's condition for the classic VMM (docs/popek-goldberg.md): with the guest
/// kernel deprivileged to U-mode, every sensitive instruction traps before it changes any state,
/// and the innocuous ones run natively once the VMM has set the counter enables and FS.
///
/// `sensitive` and `innocuous` are the two tables of that document, row for row, in its order;
/// `testListsMirrorTheDoc` reads the document and fails when they drift apart.
final class PopekGoldbergTests: XCTestCase {
    let base = TestMachine.ramBase
    /// Where the guest instruction under test sits; `base` holds the `mret` that enters U-mode.
    let guestPC = TestMachine.ramBase + 0x1000
    /// Memory for the loads-and-stores row.
    let data = TestMachine.ramBase + 0x2000
    /// mcause before the guest runs: any trap overwrites it.
    static let noTrap: UInt64 = 0x1e
    static let mtime: UInt64 = 0x1234_5678_9abc
    /// x5 receives every read; it holds this before.
    static let sentinel: UInt64 = 0x5555_5555_5555_5555
    /// x7: a valid Sv39 satp value (PPN 0x80000), so a wrongly allowed `csrrw satp, x7` would
    /// change satp (an all-ones write selects an unsupported mode and is ignored).
    static let sv39Root: UInt64 = 8 << 60 | 0x8_0000
    var m: TestMachine!

    override func setUp() { m = TestMachine() }

    private var hart: Hart { m.hart }

    // MARK: The tables of docs/popek-goldberg.md

    enum Code {
        case word(UInt32)
        /// A compressed instruction.
        case half(UInt16)

        var bits: UInt64 {
            switch self {
            case .word(let w): return UInt64(w)
            case .half(let h): return UInt64(h)
            }
        }
    }

    /// A row of the sensitive table: the instructions it stands for and the trap each raises.
    struct SensitiveRow {
        let name: String
        let cases: [(label: String, code: Code)]
        let cause: ExceptionCause
    }

    /// A row of the innocuous table: its U-level CSRs (for the sweep) and what runs natively.
    struct InnocuousRow {
        let name: String
        let csrs: [UInt16]
        let cases: [NativeCase]
    }

    struct NativeCase {
        let label: String
        let code: [UInt32]
        /// x5 afterwards, from the hart's state before the code runs.
        let x5: (Hart) -> UInt64
        /// A CSR the code writes, and its value afterwards.
        var writes: (csr: UInt16, value: UInt64)? = nil
    }

    /// Every Zicsr form on `csr`. x6 is all ones, the immediates are 31: a write that went
    /// through would change the CSR, since every CSR holds a nonzero value (see `enterUserMode`).
    static func csrForms(_ csr: UInt16) -> [(label: String, code: Code)] {
        let n = hex(UInt64(csr))
        return [
            ("csrrw x5, \(n), x6", .word(Asm.csrrw(5, csr, 6))),
            ("csrrw x5, \(n), x7", .word(Asm.csrrw(5, csr, 7))),
            ("csrrs x5, \(n), x6", .word(Asm.csrrs(5, csr, 6))),
            ("csrrc x5, \(n), x6", .word(Asm.csrrc(5, csr, 6))),
            ("csrrwi x5, \(n), 31", .word(Asm.csrrwi(5, csr, 31))),
            ("csrrsi x5, \(n), 31", .word(Asm.csrrsi(5, csr, 31))),
            ("csrrci x5, \(n), 31", .word(Asm.csrrci(5, csr, 31))),
            ("csrr x5, \(n)", .word(Asm.csrrs(5, csr, 0))),
            ("csrw \(n), x6", .word(Asm.csrrw(0, csr, 6))),
        ]
    }

    static func csrRow(_ name: String, _ numbers: [UInt16]) -> SensitiveRow {
        SensitiveRow(name: name, cases: numbers.flatMap(csrForms), cause: .illegalInstruction)
    }

    static func csrRow(_ name: String, _ number: UInt16) -> SensitiveRow { csrRow(name, [number]) }

    static func csrRange(_ range: ClosedRange<UInt16>, by step: UInt16 = 1) -> [UInt16] {
        Array(stride(from: range.lowerBound, through: range.upperBound, by: Int(step)))
    }

    static var sensitive: [SensitiveRow] {
        [
            csrRow("sstatus", CSR.sstatus),
            csrRow("sie", CSR.sie),
            csrRow("stvec", CSR.stvec),
            csrRow("scounteren", CSR.scounteren),
            csrRow("senvcfg", CSR.senvcfg),
            csrRow("sscratch", CSR.sscratch),
            csrRow("sepc", CSR.sepc),
            csrRow("scause", CSR.scause),
            csrRow("stval", CSR.stval),
            csrRow("sip", CSR.sip),
            csrRow("satp", CSR.satp),
            csrRow("vsstatus", CSR.vsstatus),
            csrRow("vsie", CSR.vsie),
            csrRow("vstvec", CSR.vstvec),
            csrRow("vsscratch", CSR.vsscratch),
            csrRow("vsepc", CSR.vsepc),
            csrRow("vscause", CSR.vscause),
            csrRow("vstval", CSR.vstval),
            csrRow("vsip", CSR.vsip),
            csrRow("vsatp", CSR.vsatp),
            csrRow("hstatus", CSR.hstatus),
            csrRow("hedeleg", CSR.hedeleg),
            csrRow("hideleg", CSR.hideleg),
            csrRow("hie", CSR.hie),
            csrRow("htimedelta", CSR.htimedelta),
            csrRow("hcounteren", CSR.hcounteren),
            csrRow("hgeie", CSR.hgeie),
            csrRow("henvcfg", CSR.henvcfg),
            csrRow("htval", CSR.htval),
            csrRow("hip", CSR.hip),
            csrRow("hvip", CSR.hvip),
            csrRow("htinst", CSR.htinst),
            csrRow("hgatp", CSR.hgatp),
            csrRow("hgeip", CSR.hgeip),
            csrRow("mvendorid", CSR.mvendorid),
            csrRow("marchid", CSR.marchid),
            csrRow("mimpid", CSR.mimpid),
            csrRow("mhartid", CSR.mhartid),
            csrRow("mconfigptr", CSR.mconfigptr),
            csrRow("mstatus", CSR.mstatus),
            csrRow("misa", CSR.misa),
            csrRow("medeleg", CSR.medeleg),
            csrRow("mideleg", CSR.mideleg),
            csrRow("mie", CSR.mie),
            csrRow("mtvec", CSR.mtvec),
            csrRow("mcounteren", CSR.mcounteren),
            csrRow("menvcfg", CSR.menvcfg),
            csrRow("mcountinhibit", CSR.mcountinhibit),
            csrRow("mhpmevent3–mhpmevent31", csrRange(0x323...0x33F)),
            csrRow("mscratch", CSR.mscratch),
            csrRow("mepc", CSR.mepc),
            csrRow("mcause", CSR.mcause),
            csrRow("mtval", CSR.mtval),
            csrRow("mip", CSR.mip),
            csrRow("mtinst", CSR.mtinst),
            csrRow("mtval2", CSR.mtval2),
            csrRow("pmpcfg0–pmpcfg14", csrRange(0x3A0...0x3AE, by: 2)),
            csrRow("pmpaddr0–pmpaddr63", csrRange(0x3B0...0x3EF)),
            csrRow("mcycle", CSR.mcycle),
            csrRow("minstret", CSR.minstret),
            csrRow("mhpmcounter3–mhpmcounter31", csrRange(0xB03...0xB1F)),
            SensitiveRow(name: "sret", cases: [("sret", .word(Asm.sret))], cause: .illegalInstruction),
            SensitiveRow(name: "mret", cases: [("mret", .word(Asm.mret))], cause: .illegalInstruction),
            SensitiveRow(name: "sfence.vma", cases: [("sfence.vma x0, x0", .word(Asm.sfenceVMA())),
                                                     ("sfence.vma x6, x7", .word(Asm.sfenceVMA(6, 7)))],
                         cause: .illegalInstruction),
            SensitiveRow(name: "hfence.vvma", cases: [("hfence.vvma x0, x0", .word(Asm.hfenceVVMA())),
                                                      ("hfence.vvma x6, x7", .word(Asm.hfenceVVMA(6, 7)))],
                         cause: .illegalInstruction),
            SensitiveRow(name: "hfence.gvma", cases: [("hfence.gvma x0, x0", .word(Asm.hfenceGVMA())),
                                                      ("hfence.gvma x6, x7", .word(Asm.hfenceGVMA(6, 7)))],
                         cause: .illegalInstruction),
            SensitiveRow(name: "hlv, hlvx, hsv", cases: hypervisorLoadsAndStores, cause: .illegalInstruction),
            SensitiveRow(name: "wfi", cases: [("wfi", .word(Asm.wfi))], cause: .illegalInstruction),
            SensitiveRow(name: "ecall", cases: [("ecall", .word(Asm.ecall))], cause: .environmentCallFromU),
            SensitiveRow(name: "ebreak", cases: [("ebreak", .word(Asm.ebreak))], cause: .breakpoint),
            SensitiveRow(name: "c.ebreak", cases: [("c.ebreak", .half(0x9002))], cause: .breakpoint),
        ]
    }

    /// Every HLV, HLVX and HSV, on the data page (x8).
    static var hypervisorLoadsAndStores: [(label: String, code: Code)] {
        let loads: [(String, Asm.HypervisorLoad)] = [("hlv.b", .b), ("hlv.bu", .bu), ("hlv.h", .h), ("hlv.hu", .hu),
                                                     ("hlvx.hu", .xhu), ("hlv.w", .w), ("hlv.wu", .wu),
                                                     ("hlvx.wu", .xwu), ("hlv.d", .d)]
        return loads.map { ("\($0.0) x5, (x8)", .word(Asm.hlv($0.1, 5, 8))) }
            + [1, 2, 4, 8].map { bytes in
                ("hsv.\(["b", "h", "w", "d"][bytes.trailingZeroBitCount]) x7, (x8)", .word(Asm.hsv(bytes: bytes, 7, 8)))
            }
    }

    static func read(_ name: String, _ csr: UInt16, _ value: @escaping (Hart) -> UInt64) -> NativeCase {
        NativeCase(label: "csrr x5, \(name)", code: [Asm.csrrs(5, csr, 0)], x5: value)
    }

    static var innocuous: [InnocuousRow] {
        let hpm = csrRange(0xC03...0xC1F)
        let unchanged: (Hart) -> UInt64 = { $0.register(5) }
        return [
            InnocuousRow(name: "cycle", csrs: [CSR.cycle], cases: [read("cycle", CSR.cycle) { $0.readCSR(CSR.cycle) }]),
            InnocuousRow(name: "time", csrs: [CSR.time], cases: [read("time", CSR.time) { _ in mtime }]),
            InnocuousRow(name: "instret", csrs: [CSR.instret],
                         cases: [read("instret", CSR.instret) { $0.readCSR(CSR.instret) }]),
            InnocuousRow(name: "hpmcounter3–hpmcounter31", csrs: hpm,
                         cases: hpm.map { read("hpmcounter\($0 - 0xC00)", $0) { _ in 0 } }),
            InnocuousRow(name: "fflags", csrs: [CSR.fflags], cases: [
                read("fflags", CSR.fflags) { _ in 0x15 },
                NativeCase(label: "fsflagsi x5, 10", code: [Asm.csrrwi(5, CSR.fflags, 10)], x5: { _ in 0x15 },
                           writes: (CSR.fflags, 10)),
            ]),
            InnocuousRow(name: "frm", csrs: [CSR.frm], cases: [
                read("frm", CSR.frm) { _ in 3 },
                NativeCase(label: "fsrmi x5, 1", code: [Asm.csrrwi(5, CSR.frm, 1)], x5: { _ in 3 }, writes: (CSR.frm, 1)),
            ]),
            InnocuousRow(name: "fcsr", csrs: [CSR.fcsr], cases: [
                read("fcsr", CSR.fcsr) { _ in 3 << 5 | 0x15 },
                NativeCase(label: "csrrwi x5, fcsr, 31", code: [Asm.csrrwi(5, CSR.fcsr, 31)], x5: { _ in 3 << 5 | 0x15 },
                           writes: (CSR.fcsr, 31)),
            ]),
            InnocuousRow(name: "fence", csrs: [], cases: [NativeCase(label: "fence", code: [Asm.fence], x5: unchanged)]),
            InnocuousRow(name: "fence.i", csrs: [], cases: [NativeCase(label: "fence.i", code: [Asm.fenceI], x5: unchanged)]),
            InnocuousRow(name: "loads and stores", csrs: [], cases: [
                NativeCase(label: "sd x7, 0(x8); ld x5, 0(x8)", code: [Asm.sd(7, 8, 0), Asm.ld(5, 8, 0)],
                           x5: { $0.register(7) }),
            ]),
        ]
    }

    // MARK: The hart as the VMM leaves it

    /// Sets up the real hart as a VMM resuming its guest kernel would, and enters U-mode at
    /// `guestPC` through `mret`, with `code` placed there.
    ///
    /// Nothing is delegated (medeleg = 0), so every exception the guest raises lands in M-mode at
    /// mtvec. mideleg routes only interrupts, none of which is pending here; it is set so that
    /// sie and sip have writable bits and a write to them that went through would show. Every
    /// CSR holds a nonzero value (so a wrongly allowed csrrc would change it too) that leaves
    /// U-mode undisturbed: translation Bare, PMP entry 0 granting all of memory, SSIP pending
    /// but SSIE off, counters enabled for U, FS Initial.
    private func enterUserMode(_ code: [Code]) {
        let h = hart
        h.reset(pc: base)
        h.mtvec = TestMachine.trapVector
        h.medeleg = 0
        h.mideleg = Delegation.supervisorInterrupts
        // MPP = U, MPIE = 0: the mret below enters U-mode with MIE clear.
        h.mstatus = Mstatus.initial | Mstatus.spie | Mstatus.spp | Mstatus.sum | Mstatus.mxr
            | Mstatus.tvm | Mstatus.tw | Mstatus.tsr | Mstatus.fsInitial
        h.mie = 0xAAA & ~InterruptLines.supervisorSoftware
        h.mipSoftware = InterruptLines.supervisorSoftware
        h.stvec = base + 0x9000
        h.sscratch = 0x5c5c_5c5c_5c5c
        h.sepc = base + 0x4440
        h.scause = 0xf
        h.stval = 0x7777
        h.senvcfg = 1
        h.mcounteren = 0xffff_ffff
        h.scounteren = 0xffff_ffff
        h.menvcfg = 1
        h.mcountinhibit = 1 << 3
        h.mscratch = 0x4d4d_4d4d_4d4d
        h.mcause = Self.noTrap
        h.mtval = 0x6666
        // Hypervisor-extension state (the hart implements H). hstatus.HU stays 0: with it set,
        // HLV/HLVX/HSV would run in U-mode. The VS-level interrupt bits are set, but VS-level
        // interrupts are never taken with V=0.
        h.hyp.hstatus = Hstatus.vsxl64 | Hstatus.vtsr | Hstatus.vtw | Hstatus.vtvm | Hstatus.spvp
        h.hyp.hedeleg = 1 << 8
        h.hyp.hideleg = Delegation.virtualSupervisorInterrupts
        h.mie |= InterruptLines.virtualSupervisorTimer | InterruptLines.virtualSupervisorExternal
        h.mipSoftware |= InterruptLines.virtualSupervisorSoftware
        h.hyp.htimedelta = 0x1000
        h.hyp.hcounteren = 0xffff_ffff
        h.hyp.henvcfg = 1
        h.hyp.htval = 0x1234
        h.hyp.htinst = 0x3000
        h.hyp.hgatp = 8 << 60 | 0x8_0100
        h.hyp.vsstatus = Hstatus.vsstatusUXL | Mstatus.sie | Mstatus.spp | Mstatus.fsInitial
        h.hyp.vstvec = base + 0xa000
        h.hyp.vsscratch = 0x5d5d_5d5d_5d5d
        h.hyp.vsepc = base + 0x5550
        h.hyp.vscause = 0xd
        h.hyp.vstval = 0x8888
        h.hyp.vsatp = 9 << 60 | 0x8_0200
        h.hyp.mtval2 = 0x2222
        h.hyp.mtinst = 0x3020
        h.pmpaddr[0] = (1 << 54) - 1  // NAPOT: the whole address space
        for i in 1..<16 { h.pmpaddr[i] = UInt64(i) << 20 }
        h.pmpcfg = (0x1f, 0x01)       // entry 0 RWX NAPOT; entry 8 has R set but is OFF
        h.pmpChanged()
        h.fflags = 0x15
        h.frm = 3
        for i in 0..<32 { h.setFloatRegister(i, 0x4000_0000_0000_0000 | UInt64(i)) }
        for i in 1..<32 { h.setRegister(i, 0x1111_1111_0000_0000 | UInt64(i)) }
        h.setRegister(5, Self.sentinel)
        h.setRegister(6, .max)
        h.setRegister(7, Self.sv39Root)
        h.setRegister(8, data)
        m.timer.mtime = Self.mtime

        h.mepc = guestPC
        m.load([Asm.mret])
        for (i, c) in code.enumerated() {
            switch c {
            case .word(let w): m.load([w], at: guestPC + UInt64(4 * i), setPC: false)
            case .half(let p): m.loadHalves([p], at: guestPC + UInt64(4 * i), setPC: false)
            }
        }
        m.step()
        XCTAssertEqual(h.privilege, .user, "mret entered U-mode")
        XCTAssertEqual(h.pc, guestPC)
        // Not the guest's pc, so the state check sees trap entry write mepc.
        h.mepc = base + 0x3330
    }

    /// Runs `code` in U-mode and asserts it trapped to M-mode with `cause` at its own pc, having
    /// changed nothing but what trap entry writes (privileged spec 3.1.6.1, 3.1.14-3.1.16).
    private func expectTrap(_ label: String, _ code: Code, _ cause: ExceptionCause,
                            configure: (Hart) -> Void = { _ in },
                            file: StaticString = #filePath, line: UInt = #line) {
        enterUserMode([code])
        configure(hart)
        let before = HartSnapshot(hart)
        m.step()
        XCTAssertEqual(hart.privilege, .machine, "\(label): trap taken in M-mode", file: file, line: line)
        XCTAssertEqual(hart.mcause, cause.rawValue, "\(label): mcause", file: file, line: line)
        XCTAssertEqual(hart.mepc, guestPC, "\(label): mepc is the instruction's pc", file: file, line: line)
        XCTAssertEqual(hart.pc, TestMachine.trapVector, "\(label): pc at mtvec", file: file, line: line)
        // mtval may be 0 or the informative value (3.1.16): the bits, or the pc for a breakpoint.
        let tvals: [UInt64] = switch cause {
        case .environmentCallFromU: [0]
        case .breakpoint: [0, guestPC]
        default: [0, code.bits]
        }
        XCTAssertTrue(tvals.contains(hart.mtval), "\(label): mtval \(hex(hart.mtval))", file: file, line: line)
        var expected = before
        expected.enterTrap(cause: cause.rawValue, epc: guestPC, tval: hart.mtval, vector: TestMachine.trapVector)
        for difference in expected.differences(HartSnapshot(hart)) {
            XCTFail("\(label): \(difference)", file: file, line: line)
        }
    }

    private func expectNative(_ c: NativeCase, file: StaticString = #filePath, line: UInt = #line) {
        enterUserMode(c.code.map(Code.word))
        let x5 = c.x5(hart)
        m.step(c.code.count)
        XCTAssertEqual(hart.mcause, Self.noTrap, "\(c.label): no trap", file: file, line: line)
        XCTAssertEqual(hart.privilege, .user, "\(c.label): still in U-mode", file: file, line: line)
        XCTAssertEqual(hart.pc, guestPC + UInt64(4 * c.code.count), "\(c.label): pc", file: file, line: line)
        XCTAssertEqual(hart.register(5), x5, "\(c.label): x5", file: file, line: line)
        if let w = c.writes {
            XCTAssertEqual(m.csr(w.csr), w.value, "\(c.label): \(hex(UInt64(w.csr))) written", file: file, line: line)
        }
    }

    // MARK: Sensitive instructions trap

    func testSensitiveInstructionsTrapBeforeChangingState() {
        for row in Self.sensitive {
            for c in row.cases { expectTrap("\(row.name): \(c.label)", c.code, row.cause) }
        }
    }

    /// Beyond the table: every CSR number above user level, implemented or not, traps from U-mode
    /// for a read and for a write (privileged spec 2.1).
    func testEveryCSRAboveUserLevelTrapsInUserMode() {
        for csr in UInt16(0)...0xFFF where (csr >> 8) & 3 != 0 {
            expectTrap("csrr \(hex(UInt64(csr)))", .word(Asm.csrrs(5, csr, 0)), .illegalInstruction)
            expectTrap("csrw \(hex(UInt64(csr)))", .word(Asm.csrrw(0, csr, 6)), .illegalInstruction)
        }
    }

    // MARK: Innocuous instructions run natively, and trap when the VMM withholds them

    func testInnocuousInstructionsRunNativelyInUserMode() {
        for row in Self.innocuous {
            for c in row.cases { expectNative(c) }
        }
    }

    /// With the enables set, U-mode can read exactly the CSRs of the innocuous table: no other
    /// user-level CSR number exists for a guest to learn anything from.
    func testUserModeReadsExactlyTheInnocuousCSRs() {
        var readable: Set<UInt16> = []
        for csr in UInt16(0)...0xFFF where (csr >> 8) & 3 == 0 {
            enterUserMode([.word(Asm.csrrs(5, csr, 0))])
            m.step()
            if hart.privilege == .user { readable.insert(csr) }
        }
        let listed = Set(Self.innocuous.flatMap(\.csrs))
        XCTAssertEqual(readable.sorted().map { hex(UInt64($0)) }, listed.sorted().map { hex(UInt64($0)) })
    }

    /// Counter reads trap unless both mcounteren and scounteren allow them (privileged spec
    /// 3.1.11, 4.1.5): the VMM can take them back whenever it wants to emulate them.
    func testCountersTrapWhenAnEnableIsClear() {
        let counters: [(String, UInt16)] = [("cycle", CSR.cycle), ("time", CSR.time), ("instret", CSR.instret),
                                            ("hpmcounter3", 0xC03), ("hpmcounter31", 0xC1F)]
        for (name, csr) in counters {
            let bit = UInt64(1) << UInt64(csr - 0xC00)
            let read = Code.word(Asm.csrrs(5, csr, 0))
            expectTrap("\(name), mcounteren bit clear", read, .illegalInstruction) { $0.mcounteren &= ~bit }
            expectTrap("\(name), scounteren bit clear", read, .illegalInstruction) { $0.scounteren &= ~bit }
        }
    }

    /// With FS off the FP CSRs and instructions trap (privileged spec 3.1.6.6): the VMM mirrors
    /// the guest's virtual FS into the real one, so a guest that turned its FPU off sees traps.
    func testFloatingPointTrapsWhenFSIsOff() {
        let cases: [(String, UInt32)] = [
            ("frflags", Asm.csrrs(5, CSR.fflags, 0)), ("fsflagsi", Asm.csrrwi(5, CSR.fflags, 10)),
            ("frrm", Asm.csrrs(5, CSR.frm, 0)), ("fsrmi", Asm.csrrwi(5, CSR.frm, 1)),
            ("frcsr", Asm.csrrs(5, CSR.fcsr, 0)), ("fscsr", Asm.csrrw(5, CSR.fcsr, 6)),
            ("fadd.d", Asm.faddD(1, 2, 3)),
        ]
        for (name, word) in cases {
            expectTrap("\(name), FS off", .word(word), .illegalInstruction) { $0.mstatus &= ~Mstatus.fs }
        }
    }

    // MARK: The lists are the doc's tables

    func testListsMirrorTheDoc() throws {
        let doc = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/popek-goldberg.md")
        let text = try String(contentsOf: doc, encoding: .utf8)
        XCTAssertEqual(try Self.tableRows(text, "sensitive"), Self.sensitive.map(\.name))
        XCTAssertEqual(try Self.tableRows(text, "innocuous"), Self.innocuous.map(\.name))
    }

    /// The first column of the table between `<!-- popek-goldberg:NAME -->` and its closing
    /// marker, backticks removed.
    static func tableRows(_ text: String, _ name: String) throws -> [String] {
        let open = try XCTUnwrap(text.range(of: "<!-- popek-goldberg:\(name) -->"), "no \(name) table")
        let close = try XCTUnwrap(text.range(of: "<!-- /popek-goldberg:\(name) -->"), "no end of \(name) table")
        let lines = text[open.upperBound..<close.lowerBound].split(separator: "\n").filter { $0.hasPrefix("|") }
        return lines.dropFirst(2).map { line in
            line.split(separator: "|", omittingEmptySubsequences: false)[1]
                .trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "`", with: "")
        }
    }
}

/// Everything an instruction could change: pc, privilege, registers and every CSR the hart
/// implements except the cycle counters (cycles are time, which a trap may take).
private struct HartSnapshot {
    static let csrNumbers: [UInt16] = (UInt16(0)...0xFFF).filter { csr in
        guard csr != CSR.cycle && csr != CSR.mcycle else { return false }
        return Hart.implemented(csr) || (CSR.fflags...CSR.fcsr).contains(csr) || (0xC00...0xC1F).contains(csr)
    }

    var pc: UInt64
    var privilege: Privilege
    var x: [UInt64]
    var f: [UInt64]
    var csrs: [UInt64]

    init(_ hart: Hart) {
        pc = hart.pc
        privilege = hart.privilege
        x = (0..<32).map(hart.register)
        f = (0..<32).map(hart.floatRegister)
        csrs = Self.csrNumbers.map(hart.readCSR)
    }

    /// Applies what taking an exception into M-mode writes (privileged spec 3.1.6.1, 8.6.2).
    mutating func enterTrap(cause: UInt64, epc: UInt64, tval: UInt64, vector: UInt64) {
        var status = self[CSR.mstatus]
        let mie = status & Mstatus.mie != 0
        status &= ~(Mstatus.mpp | Mstatus.mpie | Mstatus.mie | Mstatus.mpv | Mstatus.gva)
        status |= UInt64(privilege.rawValue) << Mstatus.mppShift | (mie ? Mstatus.mpie : 0)
        self[CSR.mstatus] = status
        self[CSR.mepc] = epc
        self[CSR.mcause] = cause
        self[CSR.mtval] = tval
        // From V=0, with no guest-physical address or transformed instruction (privileged spec 8.6.2).
        self[CSR.mtval2] = 0
        self[CSR.mtinst] = 0
        privilege = .machine
        pc = vector
    }

    subscript(csr: UInt16) -> UInt64 {
        get { csrs[Self.csrNumbers.firstIndex(of: csr)!] }
        set { csrs[Self.csrNumbers.firstIndex(of: csr)!] = newValue }
    }

    func differences(_ other: HartSnapshot) -> [String] {
        var result: [String] = []
        if pc != other.pc { result.append("pc \(hex(pc)) became \(hex(other.pc))") }
        if privilege != other.privilege { result.append("privilege \(privilege) became \(other.privilege)") }
        for i in 0..<32 where x[i] != other.x[i] { result.append("x\(i) \(hex(x[i])) became \(hex(other.x[i]))") }
        for i in 0..<32 where f[i] != other.f[i] { result.append("f\(i) \(hex(f[i])) became \(hex(other.f[i]))") }
        for (i, csr) in Self.csrNumbers.enumerated() where csrs[i] != other.csrs[i] {
            result.append("CSR \(hex(UInt64(csr))) \(hex(csrs[i])) became \(hex(other.csrs[i]))")
        }
        return result
    }
}
