import XCTest
@testable import RISCV
import Devices

/// Code written after it was decoded must run as written: every kind of store into a page with
/// decoded code drops that page's decoded slots (DecodedCodeCache), including stores into the
/// page being executed, through another mapping, or by another hart.
final class SelfModifyingCodeTests: XCTestCase {
    let base = TestMachine.ramBase
    var m: TestMachine!

    let original = Asm.addi(5, 5, 1)
    let replacement = Asm.addi(5, 5, 100)

    override func setUp() { m = TestMachine() }

    /// base: addi x5,x5,1 ; <store of `replacement` over base> ; jal back to base.
    private func loop(store: UInt32) -> [UInt32] {
        [original, store, Asm.jal(0, -8)]
    }

    func testStoreOverAnExecutedInstructionStepping() {
        m.exec(loop(store: Asm.sw(7, 6, 0)), [6: base, 7: UInt64(replacement)])
        m.step()  // base again
        XCTAssertEqual(m.hart.register(5), 101)
        XCTAssertEqual(m.read32(base), replacement)
    }

    func testStoreOverAnExecutedInstructionInARunSlice() {
        m.load(loop(store: Asm.sw(7, 6, 0)))
        m.hart.setRegister(6, base)
        m.hart.setRegister(7, UInt64(replacement))
        XCTAssertEqual(m.hart.run(budget: 4), 4)  // addi, sw, jal, addi (new)
        XCTAssertEqual(m.hart.register(5), 101)
        XCTAssertEqual(m.hart.run(budget: 3), 3)
        XCTAssertEqual(m.hart.register(5), 201)
    }

    /// The store rewrites an instruction further down the page being executed, which was
    /// decoded by an earlier pass.
    func testStoreAheadInTheCurrentPage() {
        let code = [Asm.sw(7, 6, 8), Asm.addi(0, 0, 0), original, Asm.jal(0, 0)]
        m.load(code)
        m.hart.setRegister(6, base + 0x10_0000)  // first pass: a harmless store to another page
        _ = m.hart.run(budget: 4)
        XCTAssertEqual(m.hart.register(5), 1)
        XCTAssertEqual(m.hart.pc, base + 12)
        m.hart.pc = base
        m.hart.setRegister(6, base)
        m.hart.setRegister(7, UInt64(replacement))
        _ = m.hart.run(budget: 4)
        XCTAssertEqual(m.hart.register(5), 101, "the rewritten instruction ran in the same slice")
    }

    /// A device (DMA) writing over decoded code: no hart store saw it, so the machine reports it
    /// (`GuestMemory.noteDeviceWrite` -> `invalidate(physical:length:)`) and the new code runs.
    func testDeviceWriteOverDecodedCode() {
        m.load([original, Asm.jal(0, 0)])
        _ = m.hart.run(budget: 1)
        XCTAssertEqual(m.hart.register(5), 1)
        let before = m.code.invalidations
        m.memory.store(base, replacement)   // behind the hart's back, as DMA is
        m.code.invalidate(physical: base, length: 4)
        XCTAssertEqual(m.code.invalidations, before + 1)
        m.code.invalidate(physical: base + 0x20_0000, length: 4096)   // a page with no code: nothing to drop
        XCTAssertEqual(m.code.invalidations, before + 1)
        m.hart.pc = base
        m.hart.flushTranslations()
        _ = m.hart.run(budget: 1)
        XCTAssertEqual(m.hart.register(5), 101)
    }

    /// Every way of writing memory: each variant overwrites the `original` at `target`.
    func testEveryKindOfStoreInvalidates() {
        let target = base + 0x1000
        struct Variant { let name: String; let code: [UInt32]; let regs: [Int: UInt64] }
        let r = UInt64(replacement)
        let variants: [Variant] = [
            Variant(name: "sw", code: [Asm.sw(7, 6, 0)], regs: [6: target, 7: r]),
            Variant(name: "sd", code: [Asm.sd(7, 6, 0)], regs: [6: target, 7: UInt64(Asm.jalr(0, 1, 0)) << 32 | r]),
            Variant(name: "sh high half", code: [Asm.sh(7, 6, 2)], regs: [6: target, 7: r >> 16]),
            Variant(name: "sb", code: [Asm.sb(7, 6, 2), Asm.sb(8, 6, 3)], regs: [6: target, 7: r >> 16 & 0xff, 8: r >> 24]),
            Variant(name: "misaligned sd", code: [Asm.sd(7, 6, -4)], regs: [6: target, 7: r << 32 | 0x13]),
            Variant(name: "amoswap.w", code: [Asm.amo(.swap, word: true, 0, 6, 7)], regs: [6: target, 7: r]),
            Variant(name: "amoadd.w", code: [Asm.amo(.add, word: true, 0, 6, 7)], regs: [6: target, 7: r - UInt64(original)]),
            Variant(name: "lr/sc.w", code: [Asm.amo(.lr, word: true, 8, 6, 0), Asm.amo(.sc, word: true, 8, 6, 7)],
                    regs: [6: target, 7: r]),
            Variant(name: "fsw", code: [Asm.fmvWX(1, 7), Asm.fsw(1, 6, 0)], regs: [6: target, 7: r]),
            Variant(name: "sw then fence.i", code: [Asm.sw(7, 6, 0), Asm.fenceI], regs: [6: target, 7: r]),
        ]
        for v in variants {
            m = TestMachine()
            m.enableFPU()
            m.write32(target - 4, 0x13)          // nop before the target, for the misaligned store
            m.load([original, Asm.jalr(0, 1, 0)], at: target, setPC: false)
            // Caller: call target; <variant>; call target again; spin.
            m.load([Asm.jal(1, 0x1000)] + v.code + [Asm.auipc(9, 0x1000), Asm.jalr(1, 9, Int64(-4 * (v.code.count + 1))),
                                                   Asm.jal(0, 0)])
            for (reg, value) in v.regs { m.hart.setRegister(reg, value) }
            _ = m.hart.run(budget: 2 + v.code.count + 4)
            XCTAssertEqual(m.read32(target), replacement, "\(v.name): memory")
            XCTAssertEqual(m.hart.register(5), 101, "\(v.name): the new instruction ran")
            XCTAssertEqual(m.hart.privilege, .machine)
            XCTAssertEqual(m.hart.mcause, 0, "\(v.name): no trap")
        }
    }

    func testOverwriteWithCompressedInstructions() {
        // A 32-bit addi replaced by c.li x5, 7 ; c.addi x5, 1.
        let halves: UInt32 = 0x0285 << 16 | 0x429d
        m.load([original, Asm.jalr(0, 1, 0)], at: base + 0x1000, setPC: false)
        m.load([Asm.jal(1, 0x1000), Asm.sw(7, 6, 0), Asm.jal(1, 0x1000 - 8), Asm.jal(0, 0)])
        m.hart.setRegister(6, base + 0x1000)
        m.hart.setRegister(7, UInt64(halves))
        // jal, addi, ret, sw, jal, c.li, c.addi, ret
        XCTAssertEqual(m.hart.run(budget: 8), 8)
        XCTAssertEqual(m.hart.register(5), 8)
        XCTAssertEqual(m.hart.pc, base + 12)
    }

    func testOverwriteUpperHalfOnly() {
        // sub differs from add in funct7 only: the loop rewrites bytes 2-3 of its first instruction.
        let sub = Asm.r(Asm.sub, 5, 6, 7)
        m.load([Asm.r(Asm.add, 5, 6, 7), Asm.sh(9, 8, 2), Asm.jal(0, -8)])
        for (r, v) in [6: 40, 7: 2, 8: base, 9: UInt64(sub >> 16)] as [Int: UInt64] { m.hart.setRegister(r, v) }
        XCTAssertEqual(m.hart.run(budget: 1), 1)
        XCTAssertEqual(m.hart.register(5), 42)
        XCTAssertEqual(m.hart.run(budget: 3), 3)
        XCTAssertEqual(m.hart.register(5), 38)
    }

    func testStoreThroughAnotherVirtualMapping() {
        let f = MMUFixture()
        // Code at VA 0x2000_0000 (frame codePA), writable alias of the same frame at VA 0x1_7000_0000.
        f.pt.map(0x1_7000_0000, MMUFixture.codePA, PTEBit.v | PTEBit.r | PTEBit.w | PTEBit.a | PTEBit.d)
        f.place([original, Asm.sw(7, 6, 0), Asm.jal(0, -8)], as: .supervisor, [6: 0x1_7000_0000, 7: UInt64(replacement)])
        _ = f.hart.run(budget: 4)
        XCTAssertEqual(f.hart.register(5), 101)
    }

    func testStoreByAnotherHartSharingTheCodeCache() {
        let other = Hart(id: 1, memory: m.memory, bus: m.bus, lines: InterruptLines(), timer: m.timer, code: m.code)
        other.reset(pc: base + 0x2000)
        m.load([original, Asm.jal(0, -4)])
        m.load([Asm.sw(7, 6, 0), Asm.jal(0, 0)], at: base + 0x2000, setPC: false)
        _ = m.hart.run(budget: 3)  // addi, jal, addi: decoded and cached
        XCTAssertEqual(m.hart.register(5), 2)
        other.setRegister(6, base)
        other.setRegister(7, UInt64(replacement))
        other.step()
        XCTAssertEqual(m.read32(base), replacement)
        _ = m.hart.run(budget: 2)  // jal, addi (new)
        XCTAssertEqual(m.hart.register(5), 102)
    }
}
