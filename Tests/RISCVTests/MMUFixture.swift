import XCTest
@testable import RISCV
import GuestMemory

/// PTE bits (privileged spec 4.3.1), spelled out here rather than borrowed from the hart.
enum PTEBit {
    static let v: UInt64 = 1, r: UInt64 = 2, w: UInt64 = 4, x: UInt64 = 8
    static let u: UInt64 = 16, g: UInt64 = 32, a: UInt64 = 64, d: UInt64 = 128
}

/// Builds Sv39/Sv48 page tables in guest RAM, and (hypervisor extension, privileged spec 8.5.1)
/// Sv39x4/Sv48x4 G-stage tables, whose root is 16 KiB and indexed by two more address bits.
/// Tables of a VS-stage live in guest-physical memory: `hostOffset` is what turns a table's
/// (guest-physical) address into the RAM address the builder writes.
final class PageTableBuilder {
    let memory: GuestMemory
    let levels: Int
    let root: UInt64
    let widenedRoot: Bool
    let hostOffset: UInt64
    private var nextFree: UInt64

    init(memory: GuestMemory, levels: Int, region: UInt64, widenedRoot: Bool = false, hostOffset: UInt64 = 0) {
        self.memory = memory
        self.levels = levels
        self.widenedRoot = widenedRoot
        self.hostOffset = hostOffset
        root = region
        nextFree = region
        for _ in 0..<(widenedRoot ? 4 : 1) { _ = allocate() }
    }

    /// satp/vsatp (Sv39 = 8, Sv48 = 9), or hgatp for a widened root (Sv39x4 = 8, Sv48x4 = 9).
    var satp: UInt64 { UInt64(levels == 3 ? 8 : 9) << 60 | root >> 12 }

    private func allocate() -> UInt64 {
        let page = nextFree
        nextFree += 0x1000
        for i in 0..<512 { memory.store(page + hostOffset + UInt64(8 * i), UInt64(0)) }
        return page
    }

    private func vpn(_ va: UInt64, _ level: Int) -> UInt64 {
        (va >> UInt64(12 + 9 * level)) & (widenedRoot && level == levels - 1 ? 0x7ff : 0x1ff)
    }

    /// Address of the PTE translating `va` at `level` (0 = 4 KiB leaf), creating pointer PTEs above it.
    func entry(_ va: UInt64, level: Int = 0) -> UInt64 {
        var table = root
        var l = levels - 1
        while l > level {
            let address = table + vpn(va, l) * 8
            var pte: UInt64 = memory.load(address + hostOffset)!
            if pte & PTEBit.v == 0 {
                pte = (allocate() >> 12) << 10 | PTEBit.v
                memory.store(address + hostOffset, pte)
            }
            precondition(pte & (PTEBit.r | PTEBit.x) == 0, "a leaf is in the way")
            table = ((pte >> 10) & ((1 << 44) - 1)) << 12
            l -= 1
        }
        return table + vpn(va, level) * 8
    }

    /// Maps `va` to `pa` with a leaf at `level` (1 = 2 MiB, 2 = 1 GiB, 3 = 512 GiB). `pa` is used
    /// as given, so misaligned superpages can be built on purpose.
    func map(_ va: UInt64, _ pa: UInt64, _ flags: UInt64, level: Int = 0) {
        memory.store(entry(va, level: level) + hostOffset, (pa >> 12) << 10 | flags)
    }

    func pte(_ va: UInt64, level: Int = 0) -> UInt64 { memory.load(entry(va, level: level) + hostOffset)! }
    func setPTE(_ va: UInt64, level: Int = 0, _ value: UInt64) { memory.store(entry(va, level: level) + hostOffset, value) }
}

/// A hart with translation on: supervisor and user code pages, one data page, and a builder for more.
final class MMUFixture {
    static let codeVA: UInt64 = 0x2000_0000       // S code: R X
    static let userCodeVA: UInt64 = 0x2000_1000   // same frame, U R X
    static let dataVA: UInt64 = 0x1_3000_0000    // its own 1 GiB region, apart from the code
    static let codePA = TestMachine.ramBase + 0x1000
    static let dataPA = TestMachine.ramBase + 0x40_0000
    static let marker: UInt64 = 0x1122_3344_5566_7788
    static let rwxad = PTEBit.v | PTEBit.r | PTEBit.w | PTEBit.x | PTEBit.a | PTEBit.d

    let m = TestMachine()
    let pt: PageTableBuilder

    init(levels: Int = 3) {
        pt = PageTableBuilder(memory: m.memory, levels: levels, region: TestMachine.ramBase + 0x10_0000)
        pt.map(Self.codeVA, Self.codePA, PTEBit.v | PTEBit.r | PTEBit.x | PTEBit.a | PTEBit.d)
        pt.map(Self.userCodeVA, Self.codePA, PTEBit.v | PTEBit.r | PTEBit.x | PTEBit.u | PTEBit.a | PTEBit.d)
        m.write64(Self.dataPA, Self.marker)
        m.setCSR(CSR.satp, pt.satp)
    }

    var hart: Hart { m.hart }

    static func codeVA(_ p: Privilege) -> UInt64 { p == .user ? userCodeVA : codeVA }

    /// Places `words` in the code frame and runs them one step each at `privilege`.
    func run(_ words: [UInt32], as privilege: Privilege, _ regs: [Int: UInt64] = [:]) {
        place(words, as: privilege, regs)
        m.step(words.count)
    }

    func place(_ words: [UInt32], as privilege: Privilege, _ regs: [Int: UInt64] = [:]) {
        m.load(words, at: Self.codePA, setPC: false)
        hart.pc = Self.codeVA(privilege)
        m.setPrivilege(privilege)
        for (r, v) in regs { hart.setRegister(r, v) }
    }

    /// Loads a doubleword from `va` at `privilege`; returns the value, or nil after checking the fault.
    func load(_ va: UInt64, as privilege: Privilege, file: StaticString = #filePath, line: UInt = #line) -> UInt64? {
        hart.mcause = 0xdead
        run([Asm.ld(5, 6, 0)], as: privilege, [6: va, 5: 0xbad])
        if hart.mcause == 0xdead {
            XCTAssertEqual(hart.pc, Self.codeVA(privilege) + 4, "load retired", file: file, line: line)
            return hart.register(5)
        }
        m.assertTrap(.loadPageFault, epc: Self.codeVA(privilege), tval: va, file: file, line: line)
        XCTAssertEqual(hart.register(5), 0xbad, "rd untouched by a faulting load", file: file, line: line)
        return nil
    }

    /// Stores `value` to `va`; returns true if it retired (false after checking the store page fault).
    func store(_ va: UInt64, _ value: UInt64, as privilege: Privilege, file: StaticString = #filePath, line: UInt = #line) -> Bool {
        hart.mcause = 0xdead
        run([Asm.sd(7, 6, 0)], as: privilege, [6: va, 7: value])
        if hart.mcause == 0xdead { return true }
        m.assertTrap(.storePageFault, epc: Self.codeVA(privilege), tval: va, file: file, line: line)
        return false
    }

    /// Executes one instruction at `va` (mapped by the test to the code frame).
    func fetch(_ va: UInt64, as privilege: Privilege, file: StaticString = #filePath, line: UInt = #line) -> Bool {
        m.load([Asm.addi(5, 0, 1)], at: Self.codePA, setPC: false)
        hart.pc = va
        m.setPrivilege(privilege)
        hart.setRegister(5, 0)
        hart.mcause = 0xdead
        m.step()
        if hart.mcause == 0xdead {
            XCTAssertEqual(hart.register(5), 1, "fetched instruction ran", file: file, line: line)
            XCTAssertEqual(hart.pc, va + 4, file: file, line: line)
            return true
        }
        m.assertTrap(.instructionPageFault, epc: va, tval: va, file: file, line: line)
        return false
    }

    func setStatus(_ bits: UInt64, _ on: Bool) {
        let s = m.csr(CSR.mstatus)
        m.setCSR(CSR.mstatus, on ? s | bits : s & ~bits)
    }
}
