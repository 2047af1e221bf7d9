import CShims
import Devices
import GuestMemory
import RISCV

/// The classic trap-and-emulate VMM (`--virt trap --mmu shadow`).
///
/// The guest kernel runs in U-mode on the real hart, under shadow page tables. Everything that
/// would let it see or change privileged state traps (the Popek and Goldberg condition holds on
/// RISC-V: docs/popek-goldberg.md), and the hart hands each trap to `handleTrap`, which
/// emulates the instruction against the virtual CPU, fills the shadow, performs the MMIO
/// access, answers the SBI call, or reflects the trap into the guest's own stvec, exactly as a
/// real S-mode trap would have gone. The guest never runs a single instruction with real
/// privilege.
public final class TrapAndEmulateVMM: VirtualMachineMonitor, HartTrapHandler {
    let guestRAM: GuestMemory
    let bus: Bus
    let hypercalls: SupervisorCallHandler
    let shadow: ShadowPageTables
    private(set) var vcpus: [VirtualCPU] = []

    var accounting = ExitAccounting()

    /// - Parameters:
    ///   - machine: all of machine memory: the guest's RAM and, above it, the VMM's pages.
    ///   - guestRAM: the guest's RAM (a prefix of `machine`); the shadow pool is the rest.
    /// `--virt bt`: the JIT calls the VMM from translated guest-kernel code instead of trapping
    /// (BinaryTranslationCallouts.swift).
    let binaryTranslation: Bool

    public init(machine: GuestMemory, guestRAM: GuestMemory, bus: Bus, harts: [Hart],
                hypercalls: SupervisorCallHandler, binaryTranslation: Bool = false) {
        self.binaryTranslation = binaryTranslation
        precondition(machine.base == guestRAM.base && machine.size > guestRAM.size)
        self.guestRAM = guestRAM
        self.bus = bus
        self.hypercalls = hypercalls
        shadow = ShadowPageTables(machine: machine, guestRAM: guestRAM, poolBase: guestRAM.end,
                                  poolPages: Int((machine.size - guestRAM.size) >> 12))
        vcpus = harts.map(VirtualCPU.init)
        shadow.flushPage = { [unowned self] va in for v in vcpus { v.hart.flushTranslation(page: va) } }
        shadow.flushAll = { [unowned self] in for v in vcpus { v.hart.flushTranslations() } }
        for vcpu in vcpus {
            vcpu.hart.trapHandler = self
            if binaryTranslation { vcpu.hart.binaryTranslation = self }
        }
        if let sbi = hypercalls as? SupervisorBinaryInterface {
            sbi.guestVirtualReader = { [unowned self] hart, va in
                let s = vcpus[hart.id].state
                guard case .translated(let t) = shadow.walker.translate(va, .load, satp: s.satp, mode: .supervisor,
                                                                         sum: s.sum, mxr: s.mxr) else { return nil }
                return guestRAM.load(t.physical)
            }
        }
    }

    /// Machine memory the VMM needs on top of `guestRAM` bytes of guest RAM, for shadow tables.
    public static func privateMemory(forGuestRAM guestRAM: UInt64) -> UInt64 {
        max(16 << 20, (guestRAM / 16 + 0xfff) & ~0xfff)
    }

    /// Starts (or restarts, through SBI HSM) a virtual CPU in virtual S-mode at `entry`, with
    /// a0 and a1 as the SBI boot protocol says: the hart ID and an opaque value (the FDT).
    public func start(_ hart: Hart, at entry: UInt64, a0: UInt64, a1: UInt64) {
        let vcpu = vcpus[hart.id]
        hart.reset(pc: entry, privilege: .user)
        hart.trapHandler = self
        hart.floatingPointState = 1   // Initial, as firmware leaves it
        vcpu.state = VirtualSupervisorState()
        // As OpenSBI (and the bare built-in SBI) leave it: Linux 6.1 never writes scounteren,
        // and its vDSO reads `time` in user mode.
        vcpu.state.scounteren = 0xffff_ffff
        hart.setRegister(10, a0)
        hart.setRegister(11, a1)
        enterMode(vcpu)
        updateInterruptEnables(vcpu)
    }

    // MARK: Exits

    public func handleTrap(_ hart: Hart, cause: UInt64, tval: UInt64, isInterrupt: Bool) {
        let started = trapeze_cycle_counter()
        defer { accounting.ticks &+= trapeze_cycle_counter() &- started }
        let vcpu = vcpus[hart.id]
        if isInterrupt {
            count(.interrupt)
            deliverInterrupt(vcpu, cause: cause)
            return
        }
        switch ExceptionCause(rawValue: cause) {
        case .illegalInstruction:
            if vcpu.state.mode == .supervisor {
                emulatePrivilegedInstruction(vcpu, tval: tval)
            } else {
                count(.reflectedException)
                reflect(vcpu, cause: cause, tval: tval)
            }
        case .environmentCallFromU:
            if vcpu.state.mode == .supervisor {
                count(.hypercall)
                hypercall(vcpu)
            } else {
                count(.guestSyscall)
                reflect(vcpu, cause: cause, tval: 0)
            }
        case .instructionPageFault, .instructionAccessFault:
            handleMemoryFault(vcpu, .fetch, va: tval)
        case .loadPageFault, .loadAccessFault:
            handleMemoryFault(vcpu, .load, va: tval)
        case .storePageFault, .storeAccessFault:
            handleMemoryFault(vcpu, .store, va: tval)
        default:
            count(.reflectedException)
            reflect(vcpu, cause: cause, tval: tval)
        }
    }

    @inline(__always) func count(_ reason: ExitReason) {
        accounting.count(reason)
    }

    /// An SBI call from the guest kernel: the built-in SBI answers it against the real hart
    /// (a0-a7 are the guest's own registers), then the VMM re-reads what it may have changed.
    func hypercall(_ vcpu: VirtualCPU) {
        let extensionID = vcpu.hart.register(17)
        _ = hypercalls.handleSupervisorCall(from: vcpu.hart)
        // A remote fence (SBI RFNC or the legacy ones) is a fence for the shadows too.
        if extensionID == 0x5246_4E43 || (0x05...0x07).contains(extensionID) { shadow.resyncAll() }
        vcpu.hart.pc &+= 4
        updateInterruptEnables(vcpu)
    }

    // MARK: Statistics

    public func statistics() -> VMMStatistics {
        var s = VMMStatistics()
        s.technique = binaryTranslation ? "bt+shadow" : "trap+shadow"
        accounting.fill(&s)
        shadow.report(into: &s)
        return s
    }
}
