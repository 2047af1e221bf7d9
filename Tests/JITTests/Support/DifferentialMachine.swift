import Devices
import Foundation
import GuestMemory
import JIT
@testable import RISCV

/// A `time` CSR that never moves, so both machines read the same value.
final class FrozenTimer: HartTimer {
    let mtime: UInt64 = 0x1234_5678
}

/// A small MMIO device: 256 bytes of registers that read back what was written, and one
/// register (`lineRegister`) whose bit 0 drives the machine external interrupt line, so a store
/// there changes the lines in the middle of translated code. Nothing enables that interrupt; it
/// shows in mip and makes the hart leave its inner loop.
final class MailboxDevice: MMIODevice {
    static let base: UInt64 = 0x1000_0000
    static let length: UInt64 = 0x100
    static let lineRegister: UInt64 = 0xf8

    let name = "mailbox"
    let lines: InterruptLines
    var bytes = [UInt8](repeating: 0, count: Int(MailboxDevice.length))

    init(lines: InterruptLines) { self.lines = lines }

    func reset() {
        bytes = [UInt8](repeating: 0, count: Int(Self.length))
        lines.set(InterruptLines.machineExternal, false)
    }

    func read(offset: UInt64, size: Int) -> UInt64 {
        (0..<size).reduce(0) { $0 | UInt64(bytes[Int(offset) + $1]) << (8 * UInt64($1)) }
    }

    func write(offset: UInt64, size: Int, value: UInt64) {
        for i in 0..<size { bytes[Int(offset) + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
        if offset == Self.lineRegister { lines.set(InterruptLines.machineExternal, value & 1 != 0) }
    }
}

/// One hart with RAM and a mailbox device on the bus, run either by the interpreter or through an
/// engine (the JIT). Reused from case to case: `load` puts it back in a known state.
final class DifferentialMachine {
    let memory: GuestMemory
    let code: DecodedCodeCache
    let hart: Hart
    let engine: JITEngine?
    let device: MailboxDevice
    /// Stores to the watched data page (as HTIF's tohost is watched), in order: physical
    /// address and size.
    var watchedStores: [UInt64] = []

    init(jit: Bool, codeBytes: Int) throws {
        memory = try GuestMemory(base: GuestLayout.ramBase, size: GuestLayout.ramSize)
        code = DecodedCodeCache(memory: memory)
        let bus = Bus(), lines = InterruptLines()
        device = MailboxDevice(lines: lines)
        bus.map(device, at: MailboxDevice.base, length: MailboxDevice.length)
        hart = Hart(id: 0, memory: memory, bus: bus, lines: lines, timer: FrozenTimer(), code: code)
        code.watch(address: GuestLayout.watchedPage)
        if jit {
            let engine = try JITEngine(memory: memory, code: code, codeBytes: codeBytes)
            engine.attach(hart)
            self.engine = engine
        } else {
            engine = nil
        }
        hart.storeWatcher = { [unowned self] address, size in self.watchedStores.append(address << 4 | UInt64(size)) }
    }

    func load(_ c: DifferentialCase, _ program: AssembledProgram) {
        // memset, not GuestMemory.clear(): a byte loop in debug builds, 2 ms a case.
        memset(memory.host, 0, Int(memory.size))
        for handler in [TrapHandlers.machine, TrapHandlers.supervisor] {
            try! memory.copyIn(handler.bytes, at: handler.start, what: "trap handler")
        }
        _ = memory.store(GuestLayout.haltSlot, program.labelAddresses[c.haltLabel]!)
        var data = SplitMix64(seed: c.dataSeed)
        let words = (memory.host + Int(GuestLayout.dataStart - GuestLayout.ramBase)).assumingMemoryBound(to: UInt64.self)
        for i in 0..<Int(GuestLayout.dataEnd - GuestLayout.dataStart) / 8 { words[i] = data.next() }
        try! memory.copyIn(program.bytes, at: program.start, what: "program")
        c.paging?.write(to: memory)
        c.virtualization?.write(to: memory)
        device.reset()
        watchedStores = []
        // Written behind the hart's back: drop decoded and translated code explicitly.
        code.invalidateAll()

        hart.reset(pc: program.start, privilege: c.privilege)
        hart.instret = 0
        hart.cycleOffset = 0
        hart.instretOffset = 0
        hart.mtvec = GuestLayout.machineHandler
        hart.stvec = GuestLayout.supervisorHandler
        hart.mstatus = (hart.mstatus & ~(Mstatus.fs | Mstatus.sum | Mstatus.mxr | Mstatus.mprv | Mstatus.mpp)) | c.mstatus
        hart.medeleg = c.medeleg
        hart.mcounteren = c.mcounteren
        hart.scounteren = c.scounteren
        hart.frm = c.frm
        if let v = c.virtualization {
            hart.virtualized = true
            hart.hyp.vsatp = c.paging?.satp ?? 0
            hart.hyp.hgatp = v.hgatp
            hart.hyp.hedeleg = v.hedeleg
            hart.hyp.hcounteren = v.hcounteren
            hart.hyp.vsstatus = (hart.hyp.vsstatus & ~(Mstatus.fs | Mstatus.sum | Mstatus.mxr)) | v.vsstatus
            hart.hyp.vstvec = GuestLayout.supervisorHandler
        } else {
            hart.satp = c.paging?.satp ?? 0
        }
        for i in 0..<32 {
            hart.setRegister(i, c.x[i])
            hart.setFloatRegister(i, c.f[i])
        }
        hart.flushTranslations()
        hart.flushGuestTranslations()
        hart.updateDataPrivilege()
    }
}

/// The architectural state of a hart that the comparison looks at, as named fields.
struct HartSnapshot {
    static let csrs: [(UInt16, String)] = [
        (CSR.fflags, "fflags"), (CSR.frm, "frm"), (CSR.cycle, "cycle"), (CSR.instret, "instret"),
        (CSR.sstatus, "sstatus"), (CSR.sie, "sie"), (CSR.stvec, "stvec"), (CSR.scounteren, "scounteren"),
        (CSR.sscratch, "sscratch"), (CSR.sepc, "sepc"), (CSR.scause, "scause"), (CSR.stval, "stval"),
        (CSR.sip, "sip"), (CSR.satp, "satp"), (CSR.mstatus, "mstatus"), (CSR.medeleg, "medeleg"),
        (CSR.mideleg, "mideleg"), (CSR.mie, "mie"), (CSR.mip, "mip"), (CSR.mtvec, "mtvec"),
        (CSR.mcounteren, "mcounteren"), (CSR.mcountinhibit, "mcountinhibit"), (CSR.mscratch, "mscratch"),
        (CSR.mepc, "mepc"), (CSR.mcause, "mcause"), (CSR.mtval, "mtval"), (CSR.mcycle, "mcycle"),
        (CSR.minstret, "minstret"), (CSR.hstatus, "hstatus"), (CSR.htval, "htval"), (CSR.htinst, "htinst"),
        (CSR.vsstatus, "vsstatus"), (CSR.mtinst, "mtinst"), (CSR.mtval2, "mtval2"), (CSR.hedeleg, "hedeleg"),
        (CSR.hgatp, "hgatp"), (CSR.vsatp, "vsatp"), (CSR.vsscratch, "vsscratch"), (CSR.vsepc, "vsepc"),
        (CSR.vscause, "vscause"), (CSR.vstval, "vstval"),
    ]

    static let names: [String] = ["pc", "privilege", "virtualized", "runState", "hart.instret", "reservation"]
        + (1..<32).map { "x\($0)" } + (0..<32).map { "f\($0)" } + csrs.map(\.1)

    let values: [UInt64]

    init(_ hart: Hart) {
        var v: [UInt64] = [hart.pc, UInt64(hart.privilege.rawValue), hart.virtualized ? 1 : 0,
                           hart.runState == .running ? 0 : hart.runState == .waitingForInterrupt ? 1 : 2,
                           hart.instret, hart.reservation ?? .max]
        v.reserveCapacity(Self.names.count)
        for i in 1..<32 { v.append(hart.register(i)) }
        for i in 0..<32 { v.append(hart.floatRegister(i)) }
        for (csr, _) in Self.csrs { v.append(hart.readCSR(csr)) }
        values = v
    }

    /// "name: jit 0x... interpreter 0x..." for every field that differs.
    static func differences(jit: HartSnapshot, reference: HartSnapshot) -> [String] {
        guard jit.values != reference.values else { return [] }
        return jit.values.indices.compactMap { i in
            let a = jit.values[i], b = reference.values[i]
            return a == b ? nil : "\(names[i]): jit 0x\(String(a, radix: 16)), interpreter 0x\(String(b, radix: 16))"
        }
    }
}

/// The first few differing 8-byte words of RAM (physical addresses). Strict, page-table bits
/// included: the JIT walks for the next block's fetch only when the budget allows that block to
/// run, so even A/D updates happen exactly when the interpreter makes them.
func memoryDifferences(_ a: GuestMemory, _ b: GuestMemory, bytes: Int) -> [String] {
    guard memcmp(a.host, b.host, bytes) != 0 else { return [] }
    var out: [String] = []
    for offset in stride(from: 0, to: bytes, by: 8) {
        let x = a.host.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        let y = b.host.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        if x == y { continue }
        out.append("memory 0x\(String(a.base + UInt64(offset), radix: 16)): jit 0x\(String(x, radix: 16)), interpreter 0x\(String(y, radix: 16))")
        if out.count == 6 { break }
    }
    return out
}
