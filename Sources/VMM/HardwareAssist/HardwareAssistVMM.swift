import CShims
import Devices
import GuestMemory
import RISCV

/// The VMM of `--virt hw`: HS-mode software for the hart's H extension, written in Swift.
///
/// The guest runs in VS-mode and VU-mode with its own VS CSRs. Its exceptions (system calls,
/// its page faults, illegal instructions) and its interrupts are delegated to it through
/// hedeleg and hideleg, so they never leave the guest; its page tables translate to
/// guest-physical addresses, which the G-stage (`GStageTables`) maps onto guest RAM. What
/// exits is what must: SBI calls (ecall from VS), device accesses (G-stage faults on unmapped
/// MMIO), and the host-level timer, software and external interrupts, which the VMM turns
/// into the guest's VS-level interrupts through hvip.
///
/// With `--mmu shadow` there is no G-stage: the hart's vsatp holds a shadow root the VMM built
/// from the guest's tables (see `HardwareAssistVMM+Shadow.swift`), as KVM did on hardware
/// without nested paging.
public final class HardwareAssistVMM: VirtualMachineMonitor, HartTrapHandler {
    let guestRAM: GuestMemory
    let bus: Bus
    let hypercalls: SupervisorCallHandler
    let harts: [Hart]
    /// Nested paging: the G-stage tables. Shadow paging: the shadows and each hart's guest satp
    /// (the real vsatp holds the shadow root) and shadow.
    let gstage: GStageTables?
    let shadow: ShadowPageTables?
    var guestSatp: [UInt64]
    var shadowKeys: [ShadowKey]
    var accounting = ExitAccounting()

    /// Exceptions the guest takes itself (privileged spec 8.2.2): misaligned and access faults,
    /// illegal instruction, breakpoint, ecall from VU, and its own page faults. Not delegated:
    /// ecall from VS (hypercalls), guest-page faults (20, 21, 23) and virtual instruction (22).
    static let guestExceptions: UInt64 = 0x1FF | 1 << 12 | 1 << 13 | 1 << 15
    /// VS-level software, timer and external interrupts (hideleg bits 2, 6, 10).
    static let guestInterrupts: UInt64 = 0x444
    /// The host-level (HS) interrupts that make the guest exit: SSIP, STIP, SEIP.
    static let software: UInt64 = 1 << 1, timer: UInt64 = 1 << 5, external: UInt64 = 1 << 9
    static let vsSoftware: UInt64 = 1 << 2, vsTimer: UInt64 = 1 << 6, vsExternal: UInt64 = 1 << 10
    /// The guest's own page faults (12, 13, 15), kept back from hedeleg under shadow paging.
    static let pageFaults: UInt64 = 1 << 12 | 1 << 13 | 1 << 15
    /// hstatus.VTVM: satp accesses and sfence.vma from VS-mode raise virtual instruction.
    static let trapVirtualMemory: UInt64 = 1 << 20

    public init(machine: GuestMemory, guestRAM: GuestMemory, bus: Bus, harts: [Hart],
                hypercalls: SupervisorCallHandler, memory: MemoryVirtualization) {
        precondition(machine.base == guestRAM.base && machine.size > guestRAM.size)
        self.guestRAM = guestRAM
        self.bus = bus
        self.hypercalls = hypercalls
        self.harts = harts
        guestSatp = Array(repeating: 0, count: harts.count)
        shadowKeys = Array(repeating: ShadowKey(guestSatp: 0, kind: .mirrored), count: harts.count)
        switch memory {
        case .nested:
            gstage = GStageTables(machine: machine, guestRAM: guestRAM, region: guestRAM.end..<machine.end)
            shadow = nil
        case .shadow:
            gstage = nil
            let shadow = ShadowPageTables(machine: machine, guestRAM: guestRAM, poolBase: guestRAM.end,
                                          poolPages: Int((machine.size - guestRAM.size) >> 12))
            shadow.flushPage = { va in for hart in harts { hart.flushTranslation(page: va) } }
            shadow.flushAll = { for hart in harts { hart.flushTranslations() } }
            self.shadow = shadow
        }
        for hart in harts { hart.trapHandler = self }
    }

    /// Machine memory the VMM needs above the guest's RAM: the G-stage tables, or the pool of
    /// shadow tables.
    public static func privateMemory(forGuestRAM size: UInt64, memory: MemoryVirtualization) -> UInt64 {
        switch memory {
        case .nested: return (GStageTables.regionBytes(forGuestRAM: size) + 0xfff) & ~0xfff
        case .shadow: return TrapAndEmulateVMM.privateMemory(forGuestRAM: size)
        }
    }

    public func start(_ hart: Hart, at entry: UInt64, a0: UInt64, a1: UInt64) {
        // HS-mode as firmware leaves it (delegations, counters, FPU on), then the hypervisor's
        // own setup, then into VS-mode at the guest's entry with the MMU off.
        hart.enterSupervisor(at: entry, a0: a0, a1: a1)
        hart.trapHandler = self
        var h = hart.hypervisor
        h.hedeleg = Self.guestExceptions
        h.hideleg = Self.guestInterrupts
        h.hcounteren = 0xffff_ffff
        h.vsstatus = (h.vsstatus & ~Mstatus.fs) | Mstatus.fsInitial
        h.vsatp = 0
        if let gstage {
            h.hgatp = gstage.hgatp
        } else {
            // Shadow paging: the guest's page faults, satp accesses and fences come here.
            h.hgatp = 0
            h.hedeleg &= ~Self.pageFaults
            h.hstatus |= Self.trapVirtualMemory
        }
        hart.hypervisor = h
        if shadow != nil {
            guestSatp[hart.id] = 0
            selectShadow(hart)
        }
        hart.interruptEnable = Self.software | Self.timer | Self.external
        hart.enterGuest(pc: entry, privilege: .supervisor)
    }

    // MARK: Exits

    public func handleTrap(_ hart: Hart, cause: UInt64, tval: UInt64, isInterrupt: Bool) {
        let started = trapeze_cycle_counter()
        defer { accounting.ticks &+= trapeze_cycle_counter() &- started }
        if isInterrupt {
            accounting.count(.interrupt)
            return forwardInterrupt(hart, cause: cause)
        }
        switch cause {
        case 10: // ecall from VS-mode
            accounting.count(.hypercall)
            hypercall(hart)
        case 21, 23: // load or store guest-page fault: a device, or nothing
            let gpa = hart.hypervisor.htval << 2 | tval & 3
            guard let d = hart.decodedInstruction(at: hart.pc),
                  MemoryOperation.performDeviceAccess(d, at: gpa, isStore: cause == 23, on: hart, bus: bus) else {
                accounting.count(.reflectedException)
                return inject(hart, cause: cause == 23 ? 7 : 5, tval: tval)
            }
            accounting.count(.mmio)
            syncExternalInterrupt(hart)
        case 20: // instruction guest-page fault: code outside RAM
            accounting.count(.reflectedException)
            inject(hart, cause: 1, tval: tval)
        case 22 where shadow != nil:
            emulateVirtualMemoryInstruction(hart, tval: tval)
        case 22: // virtual instruction: the guest touched hypervisor state (no nested VMs here)
            accounting.count(.virtualInstruction)
            inject(hart, cause: 2, tval: tval)
        case 12, 13, 15 where shadow != nil:
            handleShadowFault(hart, cause == 12 ? .fetch : cause == 13 ? .load : .store, va: tval)
        default:
            accounting.count(.reflectedException)
            inject(hart, cause: cause, tval: tval)
        }
    }

    /// SBI call: the built-in SBI answers with the guest's a0-a7. A new timer deadline retracts
    /// the guest's pending timer interrupt and re-arms the host timer that will raise it again.
    func hypercall(_ hart: Hart) {
        let extensionID = hart.register(17)
        _ = hypercalls.handleSupervisorCall(from: hart)
        hart.pc &+= 4
        // A remote fence is a fence for the shadows too.
        if extensionID == 0x5246_4E43 || (0x05...0x07).contains(extensionID) { shadow?.resyncAll() }
        if extensionID == 0x5449_4D45 || extensionID == 0 {   // TIME set_timer, legacy set_timer
            hart.hvip &= ~Self.vsTimer
            hart.interruptEnable |= Self.timer
        }
        // Legacy clear_ipi: the guest's pending software interrupt is its VSSIP.
        if extensionID == 0x03 { hart.hvip &= ~Self.vsSoftware }
    }

    /// A host-level interrupt for the guest: raised as the matching VS-level interrupt in hvip,
    /// and masked at host level until the guest has dealt with it (timer: until it sets a new
    /// deadline; external: until the PLIC line drops; software: cleared at once).
    func forwardInterrupt(_ hart: Hart, cause: UInt64) {
        switch cause {
        case 5:
            hart.hvip |= Self.vsTimer
            hart.interruptEnable &= ~Self.timer
        case 9:
            hart.hvip |= Self.vsExternal
            hart.interruptEnable &= ~Self.external
        case 1:
            hart.hvip |= Self.vsSoftware
            hart.clearSupervisorSoftwareInterrupt()
        default:
            break
        }
    }

    /// After a device access: once the PLIC line is down (the guest claimed), the guest's
    /// external interrupt is retracted and the host-level one re-armed.
    func syncExternalInterrupt(_ hart: Hart) {
        if hart.interruptPending & Self.external == 0 && hart.hvip & Self.vsExternal != 0 {
            hart.hvip &= ~Self.vsExternal
            hart.interruptEnable |= Self.external
        }
    }

    /// Delivers an exception to the guest's VS-mode trap handler, as a trap delegated by hedeleg
    /// would have gone (privileged spec 8.6.4).
    func inject(_ hart: Hart, cause: UInt64, tval: UInt64) {
        hart.injectVirtualSupervisorException(cause: cause, tval: tval)
    }

    public func statistics() -> VMMStatistics {
        var s = VMMStatistics()
        s.technique = shadow == nil ? "hw+nested" : "hw+shadow"
        accounting.fill(&s)
        if let shadow { shadow.report(into: &s) }
        return s
    }
}
