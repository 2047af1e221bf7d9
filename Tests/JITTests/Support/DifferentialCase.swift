@_exported import RV64Encoding
import GuestMemory
@testable import RISCV

/// Where the differential tests put things in guest RAM. Code and the trap handlers are
/// identity-mapped when paging is on, so the handlers can read the trapping instruction at xepc.
enum GuestLayout {
    static let ramBase: UInt64 = 0x8000_0000
    static let ramSize: UInt64 = 1 << 20
    /// M-mode trap handler (mtvec) and S-mode trap handler (stvec), on page 0.
    static let machineHandler = ramBase
    static let supervisorHandler = ramBase + 0x100
    /// The address of the program's final `ecall`: the handlers stop the hart (WFI) there.
    static let haltSlot = ramBase + 0x800
    /// Programs start somewhere in page 1 and may run on into the next pages.
    static let codeStart = ramBase + 0x1000
    static let codePages = 1...5
    /// Data: pages 0x10-0x15; x28 points at page 0x11 for the whole program.
    static let dataStart = ramBase + 0x10000
    static let dataEnd = ramBase + 0x16000
    static let dataBase = ramBase + 0x11000
    static let dataPages = 0x10...0x15
    /// Stores here are reported to the hart's store watcher (the path HTIF's tohost takes).
    static let watchedPage = ramBase + 0x13000
    /// Under paging, this virtual page maps to `PagingSetup.aliasTarget` instead of itself.
    static let aliasPage = 0x15
    /// Sv39 tables: root, one level-1 and one level-0 table.
    static let pageTables = ramBase + 0x40000
    /// The G-stage root (Sv39x4: 16 KiB, 16 KiB aligned) for programs run with V=1.
    static let gStageTables = ramBase + 0x44000
    /// Under paging, a 2 MiB megapage here maps all of RAM again.
    static let megapageAlias: UInt64 = 0x8020_0000
    /// Bytes compared after every slice (the whole of RAM is compared at the end).
    static let comparedBytes = 0x48000
}

/// Sv39 mappings of one program: per 4 KiB page of the first 2 MiB, the leaf PTE's flags
/// (0: not mapped); every page maps itself except `GuestLayout.aliasPage`.
struct PagingSetup {
    var leafFlags: [Int: UInt64]
    var aliasTarget: Int
    var megapage: Bool
    /// A gigapage mapping the first GiB (the mailbox device) to itself.
    var devices: Bool
    /// User pages (U set on the leaves the program uses), for U-mode programs.
    var user: Bool

    var satp: UInt64 { (8 << 60) | (GuestLayout.pageTables >> 12) }

    func write(to memory: GuestMemory) {
        let root = GuestLayout.pageTables, level1 = root + 0x1000, level0 = root + 0x2000
        func pointer(_ table: UInt64) -> UInt64 { (table >> 12) << 10 | PTE.v }
        _ = memory.store(root + 8 * 2, pointer(level1))            // VA 0x8000_0000 (VPN[2] = 2)
        let u = user ? PTE.u : 0
        if devices { _ = memory.store(root, PTE.v | PTE.r | PTE.w | PTE.a | PTE.d | u) }
        _ = memory.store(level1, pointer(level0))                  // its first 2 MiB
        if megapage {
            _ = memory.store(level1 + 8, (GuestLayout.ramBase >> 12) << 10 | PTE.v | PTE.r | PTE.w | PTE.a | PTE.d | u)
        }
        for (page, flags) in leafFlags where flags != 0 {
            let target = page == GuestLayout.aliasPage ? aliasTarget : page
            let pa = GuestLayout.ramBase + UInt64(target) << 12
            _ = memory.store(level0 + 8 * UInt64(page), (pa >> 12) << 10 | flags)
        }
    }
}

/// A program run with V=1 (in VS- or VU-mode): its `PagingSetup` goes to vsatp, and the
/// G-stage is bare or maps guest-physical to host-physical addresses one to one (gigapages:
/// RAM, and the first GiB for the mailbox device).
struct Virtualization {
    var hedeleg: UInt64
    var hcounteren: UInt64
    /// vsstatus bits: FS, SUM, MXR.
    var vsstatus: UInt64
    var gStage: Bool
    /// A and D of the G-stage leaves (the walker sets what is missing).
    var gStageAccessedDirty: UInt64

    var hgatp: UInt64 { gStage ? (8 << 60) | (GuestLayout.gStageTables >> 12) : 0 }

    func write(to memory: GuestMemory) {
        guard gStage else { return }
        let root = GuestLayout.gStageTables
        let leaf = PTE.v | PTE.r | PTE.w | PTE.u | gStageAccessedDirty
        _ = memory.store(root + 8 * 2, (GuestLayout.ramBase >> 12) << 10 | leaf | PTE.x)
        _ = memory.store(root, leaf)
    }
}

/// Everything one differential run needs, so a failure can be re-run and minimised.
struct DifferentialCase {
    let seed: UInt64
    let index: Int
    var pieces: [ProgramPiece]
    let start: UInt64
    let haltLabel: Int
    let privilege: Privilege
    let paging: PagingSetup?
    let virtualization: Virtualization?
    /// mstatus bits set at the start: FS, SUM, MXR, and MPRV with MPP.
    let mstatus: UInt64
    let medeleg: UInt64
    let mcounteren: UInt64
    let scounteren: UInt64
    let frm: UInt8
    let x: [UInt64]
    let f: [UInt64]
    let dataSeed: UInt64
    /// The budgets of successive `run(budget:)` calls, cycled.
    let budgets: [Int]

    var program: AssembledProgram { AssembledProgram(pieces, at: start) }

    var summary: String {
        let fs = (mstatus >> 13) & 3
        let mprv = mstatus & Mstatus.mprv != 0 ? " with MPRV (MPP=\((mstatus >> 11) & 3))" : ""
        let v = virtualization.map { " with V=1 (G-stage \($0.gStage ? "Sv39x4" : "bare"), hedeleg=0x\(String($0.hedeleg, radix: 16)))" } ?? ""
        return "seed \(seed) program \(index): \(privilege) mode\(mprv)\(v), "
            + (paging.map { "Sv39 (alias page -> \($0.aliasTarget), megapage \($0.megapage), devices \($0.devices))" } ?? "bare")
            + ", FS=\(fs), medeleg=0x\(String(medeleg, radix: 16)), frm=\(frm), budgets \(budgets)"
    }

    var initialRegisters: String {
        (1..<32).map { "x\($0)=0x\(String(x[$0], radix: 16))" }.joined(separator: " ")
    }
}

/// The trap handlers every case runs with. An exception advances xepc past the trapping
/// instruction (2 or 4 bytes, read from memory) and returns; an interrupt clears the pending
/// bits the program set and returns; a fetch fault, or the `ecall` at the halt address, parks
/// the hart in a WFI loop with every interrupt disabled, so `run` returns.
enum TrapHandlers {
    static func assemble(supervisor: Bool) -> AssembledProgram {
        let base = supervisor ? GuestLayout.supervisorHandler : GuestLayout.machineHandler
        let cause: UInt16 = supervisor ? CSR.scause : CSR.mcause
        let epc: UInt16 = supervisor ? CSR.sepc : CSR.mepc
        var b = ProgramBuilder()
        let halt = b.newLabel(), advanced = b.newLabel()
        func branch(_ f3: UInt32, _ rs1: Int, _ rs2: Int, _ label: Int, _ text: String) {
            b.emit(ProgramInstruction(size: 4, text: text, target: label) { Asm.b(f3, rs1, rs2, $0) })
        }
        let interrupt = b.newLabel()
        b.word(Asm.csrOp(2, 31, cause, 0), "csrr x31, cause")
        branch(Asm.blt, 31, 0, interrupt, "bltz x31, interrupt")
        b.word(Asm.addi(30, 0, 12), "li x30, 12")
        branch(Asm.beq, 31, 30, halt, "beq x31, x30, halt        # instruction page fault")
        b.word(Asm.addi(30, 0, 2), "li x30, 2")
        branch(Asm.bltu, 31, 30, halt, "bltu x31, x30, halt       # misaligned or access-faulting fetch")
        b.word(Asm.addi(30, 0, 20), "li x30, 20")
        branch(Asm.beq, 31, 30, halt, "beq x31, x30, halt        # instruction guest-page fault")
        b.word(Asm.csrOp(2, 31, epc, 0), "csrr x31, epc")
        let anchor = base + UInt64(ProgramBuilder.bytes(b.pieces))
        b.word(Asm.auipc(30, 0), "auipc x30, 0")
        b.word(Asm.ld(30, 30, Int64(GuestLayout.haltSlot - anchor)), "ld x30, haltSlot")
        branch(Asm.beq, 31, 30, halt, "beq x31, x30, halt")
        b.word(Asm.lhu(30, 31, 0), "lhu x30, 0(x31)")
        b.word(Asm.i(Asm.andi, 30, 30, 3), "andi x30, x30, 3")
        b.word(Asm.addi(31, 31, 2), "addi x31, x31, 2")
        b.word(Asm.addi(30, 30, -3), "addi x30, x30, -3")
        branch(Asm.bne, 30, 0, advanced, "bnez x30, advanced        # compressed")
        b.word(Asm.addi(31, 31, 2), "addi x31, x31, 2")
        b.bind(advanced)
        b.word(Asm.csrOp(1, 0, epc, 31), "csrw epc, x31")
        b.word(supervisor ? Asm.sret : Asm.mret, supervisor ? "sret" : "mret")
        b.bind(interrupt)
        // Software-pending bits (SSIP, STIP, SEIP) set by the program: clear, return to the
        // interrupted instruction.
        b.word(Asm.addi(30, 0, 0x222), "li x30, 0x222")
        b.word(Asm.csrOp(3, 0, supervisor ? CSR.sip : CSR.mip, 30), "csrc ip, x30")
        b.word(supervisor ? Asm.sret : Asm.mret, supervisor ? "sret" : "mret")
        b.bind(halt)
        // No interrupt may wake the WFI.
        b.word(Asm.csrOp(1, 0, supervisor ? CSR.sie : CSR.mie, 0), "csrw ie, x0")
        b.word(Asm.wfi, "wfi")
        b.emit(ProgramInstruction(size: 4, text: "j halt", target: halt) { Asm.jal(0, $0) })
        return AssembledProgram(b.pieces, at: base)
    }

    static let machine = assemble(supervisor: false)
    static let supervisor = assemble(supervisor: true)
}
