import XCTest
@_exported import RV64Encoding
@testable import RISCV
import Devices
import GuestMemory

/// A settable `mtime` for the hart's `time` CSR.
final class TestTimer: HartTimer {
    var mtime: UInt64 = 0
}

/// One hart with RAM at 0x8000_0000 and nothing else on the bus: enough to run a few
/// instructions placed by a test and inspect what they did.
final class TestMachine {
    static let ramBase: UInt64 = 0x8000_0000
    /// M-mode trap vector used by every test (direct mode); nothing needs to live there, since
    /// tests stop after the trap and inspect mcause/mepc/mtval.
    static let trapVector: UInt64 = ramBase + 0x8000

    let memory: GuestMemory
    let bus = Bus()
    let lines = InterruptLines()
    let timer = TestTimer()
    let code: DecodedCodeCache
    let hart: Hart

    init(ramSize: UInt64 = 16 << 20) {
        memory = try! GuestMemory(base: Self.ramBase, size: ramSize)
        code = DecodedCodeCache(memory: memory)
        hart = Hart(id: 0, memory: memory, bus: bus, lines: lines, timer: timer, code: code)
        hart.reset(pc: Self.ramBase)
        hart.mtvec = Self.trapVector
    }

    // MARK: Placing code and data (behind the hart's back: decoded code is dropped explicitly)

    /// Writes 32-bit instructions at `address` and points pc there.
    func load(_ words: [UInt32], at address: UInt64 = ramBase, setPC: Bool = true) {
        for (i, w) in words.enumerated() { memory.store(address + UInt64(4 * i), w) }
        codeChanged()
        if setPC { hart.pc = address }
    }

    /// Writes 16-bit parcels (compressed instructions, or halves of 32-bit ones) at `address`.
    func loadHalves(_ halves: [UInt16], at address: UInt64 = ramBase, setPC: Bool = true) {
        for (i, h) in halves.enumerated() { memory.store(address + UInt64(2 * i), h) }
        codeChanged()
        if setPC { hart.pc = address }
    }

    /// Test writes bypass the hart's store path, so they must drop decoded pages themselves.
    func codeChanged() {
        code.invalidateAll()
        hart.flushTranslations()
    }

    func write64(_ address: UInt64, _ value: UInt64) { memory.store(address, value) }
    func write32(_ address: UInt64, _ value: UInt32) { memory.store(address, value) }
    func read64(_ address: UInt64) -> UInt64 { memory.load(address, as: UInt64.self)! }
    func read32(_ address: UInt64) -> UInt32 { memory.load(address, as: UInt32.self)! }
    func read8(_ address: UInt64) -> UInt8 { memory.load(address, as: UInt8.self)! }

    // MARK: Running

    func step(_ n: Int = 1) { for _ in 0..<n { hart.step() } }

    /// Places `words` at RAM base, sets registers, runs one step per word.
    @discardableResult
    func exec(_ words: [UInt32], _ regs: [Int: UInt64] = [:]) -> Hart {
        load(words)
        for (r, v) in regs { hart.setRegister(r, v) }
        step(words.count)
        return hart
    }

    /// Runs a single instruction with the given registers and returns x[rd].
    func result(_ word: UInt32, rd: Int = 5, _ regs: [Int: UInt64] = [:]) -> UInt64 {
        exec([word], regs)
        return hart.register(rd)
    }

    // MARK: Privilege and CSRs

    /// Switches privilege directly (as a trap or xRET would) and re-derives the data privilege.
    func setPrivilege(_ p: Privilege) {
        hart.privilege = p
        hart.updateDataPrivilege()
    }

    func csr(_ c: UInt16) -> UInt64 { hart.readCSR(c) }
    func setCSR(_ c: UInt16, _ v: UInt64) { hart.writeCSR(c, v) }

    /// Turns the FPU on (mstatus.FS = Initial).
    func enableFPU() {
        hart.mstatus = (hart.mstatus & ~Mstatus.fs) | Mstatus.fsInitial
    }

    /// Asserts that the last step trapped to M-mode with `cause` at `epc`.
    func assertTrap(_ cause: ExceptionCause, epc: UInt64, tval: UInt64? = nil,
                    file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(hart.privilege, .machine, "trap taken in M-mode", file: file, line: line)
        XCTAssertEqual(hart.mcause, cause.rawValue, "mcause", file: file, line: line)
        XCTAssertEqual(hart.mepc, epc, "mepc", file: file, line: line)
        XCTAssertEqual(hart.pc, hart.mtvec & ~3, "pc at trap vector", file: file, line: line)
        if let tval { XCTAssertEqual(hart.mtval, tval, "mtval", file: file, line: line) }
    }
}

func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
