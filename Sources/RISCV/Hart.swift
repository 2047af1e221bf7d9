import Devices
import GuestMemory

/// One RV64GC hart: registers, CSRs, privilege, soft TLB and the pre-decoded interpreter.
///
/// Harts of a machine are multiplexed on one host thread, so nothing here is locked. The
/// register files are raw allocations (not Swift arrays) so the interpreter loop pays no
/// copy-on-write or exclusivity checks.
public final class Hart {
    public let id: Int
    public let memory: GuestMemory
    public let bus: Bus
    public let lines: InterruptLines
    public let timer: HartTimer
    public let code: DecodedCodeCache

    /// Answers S-mode ecalls when no firmware runs (built-in SBI). Nil with real firmware.
    public var supervisorCalls: SupervisorCallHandler?
    /// The VMM that takes every trap when the guest runs deprivileged (`--virt trap`); nil on
    /// bare hardware, where traps go to mtvec/stvec.
    public var trapHandler: HartTrapHandler?
    /// The VMM whose guest-kernel code the JIT rewrites (`--virt bt`); nil otherwise.
    public var binaryTranslation: BinaryTranslationMonitor?
    /// Executes instructions instead of the interpreter when set (`--exec jit`).
    public var engine: ExecutionEngine?
    /// Told about every store to a watched page (HTIF tohost), with the physical address and size.
    public var storeWatcher: ((UInt64, Int) -> Void)?

    /// x0...x31, plus slot 32: decoded instructions name it instead of x0 as a destination.
    let x: UnsafeMutablePointer<UInt64>
    /// f0...f31 as raw bits; single-precision values are NaN-boxed.
    let f: UnsafeMutablePointer<UInt64>

    public var pc: UInt64 = 0
    public internal(set) var privilege: Privilege = .machine
    /// The virtualization mode V (privileged spec 8.1): true in VS-mode and VU-mode, where
    /// addresses go through two-stage translation and the VS CSRs stand in for the S CSRs.
    public internal(set) var virtualized = false
    public var runState: HartRunState = .running

    // Machine-level CSRs.
    var mstatus: UInt64 = Mstatus.initial
    var medeleg: UInt64 = 0
    var mideleg: UInt64 = 0
    var mie: UInt64 = 0
    /// The software-writable pending bits (SSIP, STIP, SEIP); the rest of mip comes from `lines`.
    var mipSoftware: UInt64 = 0
    var mtvec: UInt64 = 0
    var mscratch: UInt64 = 0
    var mepc: UInt64 = 0
    var mcause: UInt64 = 0
    var mtval: UInt64 = 0
    var mcounteren: UInt64 = 0
    var mcountinhibit: UInt64 = 0
    var menvcfg: UInt64 = 0
    var pmpcfg: (UInt64, UInt64) = (0, 0)
    let pmpaddr: UnsafeMutablePointer<UInt64>
    /// True when some PMP entry is not OFF (see Hart+PMP).
    var pmpActive = false

    // Supervisor-level CSRs.
    var stvec: UInt64 = 0
    var sscratch: UInt64 = 0
    var sepc: UInt64 = 0
    var scause: UInt64 = 0
    var stval: UInt64 = 0
    var satp: UInt64 = 0
    var scounteren: UInt64 = 0
    var senvcfg: UInt64 = 0

    /// Hypervisor-extension CSRs (see HypervisorCSRs.swift).
    var hyp = HypervisorCSRs()

    // Floating-point control and status.
    var fflags: UInt32 = 0
    var frm: UInt8 = 0

    /// Instructions retired; mcycle reads the same count (one instruction per cycle).
    public internal(set) var instret: UInt64 = 0
    /// Instructions retired in the current run slice and not yet added to `instret` (the loop
    /// counts in a register); set before a CSR instruction so counters read exactly.
    var retiredInSlice: UInt64 = 0
    var cycleOffset: UInt64 = 0
    var instretOffset: UInt64 = 0

    /// Supervisor timer compare kept for the built-in SBI's set_timer: STIP follows
    /// `mtime >= supervisorTimerCompare`, as Sstc's stimecmp would.
    public var supervisorTimerCompare: UInt64 = .max

    /// Physical address reserved by LR, or nil.
    var reservation: UInt64?

    /// Set to leave the inner interpreter loop: interrupts must be re-checked (an enable bit,
    /// a pending bit or the privilege changed) or the slice must end.
    var sliceBreak = false
    /// Set when `run` must return to the machine's loop (power request, HSM stop, a trap
    /// nobody can take).
    var yieldRequested = false

    let tlb: SoftTLB
    /// Recent G-stage translations, for the VS-stage walks of two-stage translation.
    let gStageTLB = GStageTLB()
    /// Soft-TLB misses and the page walks they caused, for statistics (slow path only).
    public internal(set) var translationCounters = TranslationCounters()
    /// Current fetch page: virtual page number and its decoded slots, valid while privilege,
    /// translation and the page's code are unchanged.
    var fetchVPN: UInt64 = .max
    var fetchSlots: UnsafeMutablePointer<DecodedInstruction>
    /// Effective privilege for loads and stores (MPRV applies MPP in M-mode).
    var dataPrivilege: Privilege = .machine
    /// Effective virtualization mode for loads and stores (MPRV applies MPV in M-mode).
    var dataVirtualized = false
    /// The soft-TLB sets of the current privilege (fetch) and effective data privilege.
    var fetchSet: UnsafeMutablePointer<TLBEntry>
    var loadSet: UnsafeMutablePointer<TLBEntry>
    var storeSet: UnsafeMutablePointer<TLBEntry>
    /// Host address of RAM byte 0, to find a stored-to page's flags from a host pointer.
    let ramHost: UInt64
    /// True when no M-mode firmware runs (built-in SBI): a trap into M-mode is then a guest
    /// error that the machine reports instead of jumping to an unset mtvec.
    public var firmwareless = false
    /// The trap that reached M-mode with no firmware to take it: (cause, pc, tval).
    public internal(set) var unhandledMachineTrap: (cause: UInt64, pc: UInt64, tval: UInt64)?
    /// The interrupt-line generation last seen, to notice device interrupts raised during MMIO.
    var seenLineGeneration: UInt64 = 0

    public init(id: Int, memory: GuestMemory, bus: Bus, lines: InterruptLines, timer: HartTimer,
                code: DecodedCodeCache) {
        self.id = id
        self.memory = memory
        self.bus = bus
        self.lines = lines
        self.timer = timer
        self.code = code
        x = .allocate(capacity: 33)
        x.initialize(repeating: 0, count: 33)
        f = .allocate(capacity: 32)
        f.initialize(repeating: 0, count: 32)
        pmpaddr = .allocate(capacity: 16)
        pmpaddr.initialize(repeating: 0, count: 16)
        tlb = SoftTLB(memory: memory)
        fetchSet = tlb.set(.machine, .fetch)
        loadSet = tlb.set(.machine, .load)
        storeSet = tlb.set(.machine, .store)
        ramHost = UInt64(UInt(bitPattern: memory.host))
        fetchSlots = code.page(0)
        updateDataPrivilege()
    }

    deinit {
        x.deallocate()
        f.deallocate()
        pmpaddr.deallocate()
    }

    /// Integer register `i` (x0 reads 0).
    public func register(_ i: Int) -> UInt64 { i == 0 ? 0 : x[i] }
    public func setRegister(_ i: Int, _ value: UInt64) { if i != 0 && i < 32 { x[i] = value } }
    /// Floating-point register `i` as raw bits.
    public func floatRegister(_ i: Int) -> UInt64 { f[i] }
    public func setFloatRegister(_ i: Int, _ value: UInt64) { f[i] = value }

    /// Puts the hart in its reset state at `pc` in `privilege` (privileged spec 3.4).
    public func reset(pc: UInt64, privilege: Privilege = .machine) {
        x.initialize(repeating: 0, count: 33)
        f.initialize(repeating: 0, count: 32)
        self.pc = pc
        self.privilege = privilege
        virtualized = false
        mstatus = Mstatus.initial
        medeleg = 0; mideleg = 0; mie = 0; mipSoftware = 0
        mtvec = 0; mscratch = 0; mepc = 0; mcause = 0; mtval = 0
        mcounteren = 0; mcountinhibit = 0; menvcfg = 0
        pmpcfg = (0, 0)
        pmpaddr.initialize(repeating: 0, count: 16)
        pmpActive = false
        stvec = 0; sscratch = 0; sepc = 0; scause = 0; stval = 0; satp = 0; scounteren = 0; senvcfg = 0
        hyp = HypervisorCSRs()
        fflags = 0; frm = 0
        reservation = nil
        supervisorTimerCompare = .max
        runState = .running
        flushTranslations()
        updateDataPrivilege()
    }

    /// Prepares the hart to run an S-mode kernel directly, as firmware would leave it: exceptions
    /// and supervisor interrupts delegated, FPU and counters enabled. Used by the built-in SBI path.
    public func enterSupervisor(at entry: UInt64, a0: UInt64, a1: UInt64) {
        reset(pc: entry, privilege: .supervisor)
        medeleg = Delegation.supervisorExceptions
        mideleg = Delegation.supervisorInterrupts
        // Counters readable from S and U, as OpenSBI leaves them: Linux 6.1 without a PMU
        // driver never writes scounteren, and its vDSO reads `time` in user mode.
        mcounteren = 0xffff_ffff
        scounteren = 0xffff_ffff
        mstatus = (mstatus & ~Mstatus.fs) | Mstatus.fsInitial
        mie = InterruptLines.supervisorSoftware | InterruptLines.supervisorTimer | InterruptLines.supervisorExternal
        x[10] = a0
        x[11] = a1
        updateDataPrivilege()
    }

    /// Ends the current run slice at the next instruction boundary.
    public func requestSliceEnd() {
        sliceBreak = true
        yieldRequested = true
    }

    /// Drops the reservation of LR (another hart ran, or a trap happened).
    public func clearReservation() { reservation = nil }
}

/// mstatus fields (privileged spec 3.1.6).
public enum Mstatus {
    public static let sie: UInt64 = 1 << 1
    public static let mie: UInt64 = 1 << 3
    public static let spie: UInt64 = 1 << 5
    public static let mpie: UInt64 = 1 << 7
    public static let spp: UInt64 = 1 << 8
    public static let mppShift: UInt64 = 11
    public static let mpp: UInt64 = 3 << 11
    public static let fs: UInt64 = 3 << 13
    public static let fsInitial: UInt64 = 1 << 13
    public static let fsDirty: UInt64 = 3 << 13
    public static let mprv: UInt64 = 1 << 17
    public static let sum: UInt64 = 1 << 18
    public static let mxr: UInt64 = 1 << 19
    public static let tvm: UInt64 = 1 << 20
    public static let tw: UInt64 = 1 << 21
    public static let tsr: UInt64 = 1 << 22
    /// GVA and MPV (hypervisor extension, privileged spec 8.4.1).
    public static let gva: UInt64 = 1 << 38
    public static let mpv: UInt64 = 1 << 39
    /// UXL = SXL = 2 (64-bit), read-only.
    public static let xlen: UInt64 = (2 << 32) | (2 << 34)
    public static let sd: UInt64 = 1 << 63
    public static let initial: UInt64 = xlen
    public static let writable: UInt64 = sie | mie | spie | mpie | spp | mpp | fs | mprv | sum | mxr | tvm | tw | tsr | gva | mpv
    /// What sstatus reads: UXL is visible, SXL (bits 35:34) is not (privileged spec 4.1.1).
    public static let supervisorView: UInt64 = sie | spie | spp | fs | sum | mxr | (2 << 32) | sd
    public static let supervisorWritable: UInt64 = sie | spie | spp | fs | sum | mxr

    /// sstatus (or vsstatus) after a trap into S-mode from `privilege`: SPIE takes SIE, SIE is
    /// cleared, SPP records where the trap came from (privileged spec 4.1.1). The hart, and a
    /// VMM reflecting a trap into its guest, share this.
    @inline(__always)
    public static func enteringSupervisorTrap(_ s: UInt64, from privilege: Privilege) -> UInt64 {
        var s = (s & ~spie) | (s & sie != 0 ? spie : 0)
        s &= ~sie
        return (s & ~spp) | (privilege == .supervisor ? spp : 0)
    }

    /// sstatus (or vsstatus) after SRET: SIE takes SPIE, SPIE is set, SPP is cleared. The mode
    /// to return to is the SPP of the status before.
    @inline(__always)
    public static func returningFromSupervisorTrap(_ s: UInt64) -> UInt64 {
        ((s & ~sie) | (s & spie != 0 ? sie : 0) | spie) & ~spp
    }
}

enum Delegation {
    /// Every exception S-mode can take: all but ecall from S and M (which go to the SBI).
    static let supervisorExceptions: UInt64 = 0xB1FF
    static let supervisorInterrupts: UInt64 = 0x222
    /// Everything but ecall from M (11) and the reserved codes: with the hypervisor extension
    /// that includes ecall from VS (10), guest-page faults and virtual instruction (20-23).
    static let medelegWritable: UInt64 = 0xF0_B7FF
    static let midelegWritable: UInt64 = 0x222
}
