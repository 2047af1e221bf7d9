import CShims
import Devices
import GuestMemory
import RISCV
import Virtio
import JIT
import VMM

/// How a VM run ended. The CLI turns it into the process exit status.
public enum MachineExit: Equatable, Sendable {
    /// The guest powered off (SBI system reset, the syscon device, or an HTIF pass).
    case poweroff
    /// The guest asked for a reboot (and did not panic).
    case reboot
    /// The guest reported failure: a sifive test FAIL code, an SBI reset with a failure reason,
    /// an HTIF `tohost` exit with a non-zero code, or a kernel panic followed by reboot (panic=-1).
    case failure(code: Int32)
    /// The user quit from the console (Ctrl-A x).
    case userQuit
}

/// Errors that stop a VM while it runs, each one line a user can act on.
public enum MachineError: Error, CustomStringConvertible {
    case unhandledMachineTrap(hart: Int, cause: UInt64, pc: UInt64, tval: UInt64)
    case placement(String)
    /// The host refused something the VM needs to run (a thread's eventfd).
    case hostResource(String)

    public var description: String {
        switch self {
        case .unhandledMachineTrap(let hart, let cause, let pc, let tval):
            let kind = cause >> 63 != 0 ? "interrupt" : "exception"
            return "hart \(hart): guest took an M-mode \(kind) (cause \(cause & ~(1 << 63)), pc 0x\(String(pc, radix: 16)), tval 0x\(String(tval, radix: 16))) with no firmware to handle it; boot it with --firmware or check the kernel is an S-mode kernel"
        case .placement(let message), .hostResource(let message):
            return message
        }
    }
}

/// A VM assembled from a `VMConfig`: QEMU virt board memory map, device tree, loaded images and
/// harts. Harts are multiplexed deterministically on the calling thread (see `run()`); a single
/// host thread for the harts keeps device and guest state lock-free and makes runs reproducible,
/// at the cost of guest SMP parallelism (these machines have 2 cores). The host I/O of disks and
/// networks runs on the I/O thread (`IOThread`), which the harts' thread hands requests to.
public final class Machine: PowerControl, SBIPlatform {
    public let config: VMConfig
    /// The guest's RAM: what devices, loaders and the SBI may touch.
    public let memory: GuestMemory
    /// All the memory the harts address: the guest's RAM, plus (under a VMM) the VMM's private
    /// pages above it for shadow page tables.
    let machineMemory: GuestMemory
    /// The VMM with `--virt trap` or `--virt hw`.
    var vmm: VirtualMachineMonitor?
    public let bus = Bus()
    public let harts: [Hart]
    let lines: [InterruptLines]
    let clint: CLINT
    let plic: PLIC
    let uart: UART16550
    /// The virtio-mmio slots that hold a device, highest address first (disks, then virtio-rng).
    let virtio: [VirtioMMIOTransport]
    /// The virtio-console with `--console virtio`: host input goes there instead of the UART.
    let virtioConsole: VirtioConsole?
    /// The `--net` devices: the run loop moves frames from their TAPs and sleeps on them.
    let networkDevices: [VirtioNet]
    /// The devices whose host I/O runs on `ioThread` (disks and networks), with `--io thread`.
    let offloadingDevices: [OffloadingDevice]
    /// Reads console input, and does the devices' host I/O with `--io thread`.
    let ioThread: IOThread
    let console: Console
    let code: DecodedCodeCache
    let panicDetector: PanicDetector
    var sbi: SupervisorBinaryInterface?
    var htif: HTIF?
    /// Set by the devices or the SBI when the guest asks to power off, reboot or fail.
    var powerRequest: PowerRequest?
    public let boot: BootLayout
    /// The JIT shared by the harts (`--exec jit`), nil when they interpret.
    public private(set) var jit: JITEngine?
    /// Host monotonic time when the machine was built, for statistics.
    let startedAt = trapeze_monotonic_ns()

    public init(config: VMConfig, console: Console) throws {
        try config.validate()
        self.config = config
        self.console = console
        let vmmMemory: UInt64
        switch config.virtualization {
        case .bare: vmmMemory = 0
        case .trap, .bt: vmmMemory = TrapAndEmulateVMM.privateMemory(forGuestRAM: config.memorySize)
        case .hw: vmmMemory = HardwareAssistVMM.privateMemory(forGuestRAM: config.memorySize,
                                                              memory: config.effectiveMemoryVirtualization ?? .nested)
        }
        machineMemory = try GuestMemory(base: VirtMemoryMap.dram, size: config.memorySize + vmmMemory)
        memory = vmmMemory == 0 ? machineMemory : GuestMemory(prefixOf: machineMemory, size: config.memorySize)
        code = DecodedCodeCache(memory: machineMemory)
        lines = (0..<config.hartCount).map { _ in InterruptLines() }
        clint = CLINT(lines: lines, clock: HostMonotonicClock(frequency: VirtMemoryMap.timebaseFrequency))
        plic = PLIC(lines: lines, sourceCount: VirtMemoryMap.plicSources)
        panicDetector = PanicDetector(forwardingTo: console)
        uart = UART16550(output: panicDetector, interrupts: plic, irq: VirtMemoryMap.uart0IRQ)
        let clintTimer = CLINTTimer(clint)
        let machineMemory = self.machineMemory, bus = self.bus, code = self.code, lines = self.lines
        harts = (0..<config.hartCount).map {
            Hart(id: $0, memory: machineMemory, bus: bus, lines: lines[$0], timer: clintTimer, code: code)
        }
        if config.execution == .jit {
            let engine = try JITEngine(memory: machineMemory, code: code)
            for hart in harts { engine.attach(hart) }
            jit = engine
        }
        memory.deviceWriteObserver = { [code] address, length in code.invalidate(physical: address, length: length) }
        boot = try BootLayout.load(config: config, memory: memory)
        let devices = try VirtioSlots.devices(for: config, consoleOutput: panicDetector)
        virtioConsole = devices.lazy.compactMap { $0 as? VirtioConsole }.first
        networkDevices = devices.compactMap { $0 as? VirtioNet }
        offloadingDevices = config.deviceIO == .thread ? devices.compactMap { $0 as? OffloadingDevice } : []
        ioThread = try IOThread(devices: offloadingDevices, console: console)
        virtio = VirtioSlots.map(devices, on: bus, memory: memory, interrupts: plic)
        let syscon = Syscon(power: self)
        bus.map(syscon, at: VirtMemoryMap.test, length: VirtMemoryMap.testSize)
        bus.map(clint, at: VirtMemoryMap.clint, length: VirtMemoryMap.clintSize)
        bus.map(plic, at: VirtMemoryMap.plic, length: VirtMemoryMap.plicSize)
        bus.map(uart, at: VirtMemoryMap.uart0, length: VirtMemoryMap.uart0Size)
        startHarts()
    }

    /// Puts every hart at its first instruction: firmware in M-mode on all harts (it picks a boot
    /// hart itself), or, with the built-in SBI, the kernel in S-mode on hart 0 and the others
    /// stopped until the kernel starts them through SBI HSM.
    func startHarts() {
        if let firmware = boot.firmware {
            for hart in harts {
                hart.reset(pc: firmware.entry, privilege: .machine)
                hart.setRegister(10, UInt64(hart.id))
                hart.setRegister(11, boot.deviceTree)
                hart.setRegister(12, boot.dynamicInfo)
            }
            if let tohost = firmware.tohost {
                htif = HTIF(memory: memory, tohost: tohost, fromhost: firmware.fromhost, console: console, power: self)
                code.watch(address: tohost)
                for hart in harts { hart.storeWatcher = { [unowned self] pa, size in self.htif?.stored(at: pa, size: size) } }
            }
        } else {
            let sbi = SupervisorBinaryInterface(platform: self, memory: memory)
            self.sbi = sbi
            if config.virtualization != .bare {
                let vmm: VirtualMachineMonitor = config.virtualization != .hw
                    ? TrapAndEmulateVMM(machine: machineMemory, guestRAM: memory, bus: bus, harts: harts, hypercalls: sbi,
                                        binaryTranslation: config.virtualization == .bt)
                    : HardwareAssistVMM(machine: machineMemory, guestRAM: memory, bus: bus, harts: harts, hypercalls: sbi,
                                        memory: config.effectiveMemoryVirtualization ?? .nested)
                self.vmm = vmm
                for hart in harts {
                    hart.reset(pc: boot.kernelEntry, privilege: .user)
                    hart.runState = .stopped
                }
                vmm.start(harts[0], at: boot.kernelEntry, a0: 0, a1: boot.deviceTree)
                return
            }
            for hart in harts {
                hart.supervisorCalls = sbi
                hart.firmwareless = true
                hart.reset(pc: boot.kernelEntry, privilege: .supervisor)
                hart.runState = .stopped
            }
            harts[0].enterSupervisor(at: boot.kernelEntry, a0: 0, a1: boot.deviceTree)
        }
    }

    // MARK: PowerControl and SBIPlatform

    public func request(_ request: PowerRequest) {
        if powerRequest == nil { powerRequest = request }
        for hart in harts { hart.requestSliceEnd() }
    }

    public func systemReset(_ request: PowerRequest) { self.request(request) }

    public func startHart(_ hart: Hart, at entry: UInt64, a0: UInt64, a1: UInt64) {
        if let vmm {
            vmm.start(hart, at: entry, a0: a0, a1: a1)
        } else {
            hart.enterSupervisor(at: entry, a0: a0, a1: a1)
            hart.firmwareless = true
        }
    }

    public var mtime: UInt64 { clint.mtime }

    public func consoleWrite(_ byte: UInt8) { panicDetector.write(byte: byte) }

    public func consoleRead() -> UInt8? { console.readByte() }
}

/// Lets harts read the CLINT's mtime for the `time` CSR without RISCV depending on Devices' CLINT.
final class CLINTTimer: HartTimer {
    unowned let clint: CLINT
    init(_ clint: CLINT) { self.clint = clint }
    var mtime: UInt64 { clint.mtime }
}
