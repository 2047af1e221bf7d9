import ArgumentParser
import Foundation
import Machine
import VMM

/// `trapeze run`: boot a kernel (by default the cached guest) with its console on this terminal.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Boot a guest; its serial console is this terminal (C-a x quits, C-a h for help).",
        discussion: """
            Without --kernel, boots the guest that guests/build.sh built into \
            ${TRAPEZE_CACHE:-$HOME/.cache/trapeze}/current, with the command line \
            "\(DefaultGuest.commandLine(for: .uart))" ("\(DefaultGuest.commandLine(for: .virtio))" \
            with --console virtio).
            """)

    @Option(help: ArgumentHelp("Kernel: a RISC-V Linux Image, an ELF or a raw binary.", valueName: "path"))
    var kernel: String?

    @Option(help: ArgumentHelp("Initial ramdisk (a cpio archive, usually gzip-compressed).", valueName: "path"))
    var initrd: String?

    @Option(help: ArgumentHelp("Kernel command line.", valueName: "text"))
    var cmdline: String?

    @Option(name: [.customShort("m"), .long],
            help: ArgumentHelp("Guest RAM: bytes or a K/M/G suffix (16M to 16G).", valueName: "size"))
    var memory = "512M"

    @Option(help: ArgumentHelp("Number of harts (1 to 8).", valueName: "n"))
    var cpus = 1

    @Option(help: ArgumentHelp("M-mode firmware (ELF or raw binary), like QEMU's -bios; default: the built-in SBI.",
                               valueName: "path"))
    var firmware: String?

    @Option(name: .customLong("disk"),
            help: ArgumentHelp("A virtio-blk disk over a raw image file; repeat for more (vda, vdb, ...). "
                               + "Add ,readonly to make it read-only.", valueName: "path[,readonly]"))
    var disks: [String] = []

    @Option(name: .customLong("net"),
            help: ArgumentHelp("A virtio-net device on a host TAP interface, created if missing (needs root); "
                               + "repeat for more (eth0, eth1, ...). Add ,mac=XX:XX:XX:XX:XX:XX to set its address "
                               + "(default 52:54:00:12:34:56, then :57, ...).", valueName: "tap=name[,mac=addr]"))
    var networks: [String] = []

    @Option(help: ArgumentHelp("The guest console: uart (ttyS0) or virtio (a virtio-console, hvc0). "
                               + "Host input goes to it; the UART still prints early boot messages.",
                               valueName: "uart|virtio"))
    var console: ConsoleDevice = .uart

    @Option(help: ArgumentHelp("How the guest kernel runs: bare (S-mode on the hart), trap (deprivileged to U-mode "
                               + "under the trap-and-emulate VMM), bt (as trap, with its code binary-translated so "
                               + "sensitive instructions call the VMM directly) or hw (VS-mode under the emulated H "
                               + "extension). See docs/virtualization.md.", valueName: "bare|trap|bt|hw"))
    var virt: VirtualizationMode = .bare

    @Option(help: ArgumentHelp("How the VMM virtualizes guest memory: shadow (shadow page tables; the default with "
                               + "--virt trap and bt) or nested (two-stage translation; the default with --virt hw).",
                               valueName: "shadow|nested"))
    var mmu: MemoryVirtualization?

    @Option(help: ArgumentHelp("How guest code executes: jit (translated to x86-64, the default) or interp "
                               + "(the pre-decoded interpreter, the reference).", valueName: "jit|interp"))
    var exec: ExecutionMode = .jit

    @Option(help: ArgumentHelp("Where disk and network devices do their host I/O: thread (an I/O thread, while "
                               + "the harts run on; the default) or inline (on the harts' thread, which waits "
                               + "for each read, write and fsync).", valueName: "thread|inline"))
    var io: DeviceIOMode = .thread

    @Flag(help: "At exit, print what the run cost (instructions, MIPS, TLB flushes, SBI calls, virtio device counters) to stderr.")
    var stats = false

    @Option(name: .customLong("stats-json"),
            help: ArgumentHelp("At exit, write the same statistics as JSON to this file.", valueName: "path"))
    var statsJSON: String?

    func run() throws {
        let config = try makeConfig()
        let console = Console()
        defer { console.restore() }
        let machine = try Machine(config: config, console: console)
        console.start()
        let exit = try machine.run()
        console.restore()
        try report(machine.statistics())
        throw ExitCode(status(for: exit))
    }

    private func report(_ statistics: MachineStatistics) throws {
        if stats {
            FileHandle.standardError.write(Data((statistics.table() + "\n").utf8))
        }
        if let statsJSON {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            do {
                try encoder.encode(statistics).write(to: URL(fileURLWithPath: statsJSON))
            } catch {
                throw ValidationError("cannot write statistics to \(statsJSON): \(error.localizedDescription); pass a writable path to --stats-json")
            }
        }
    }

    private func makeConfig() throws -> VMConfig {
        var config = VMConfig(memorySize: try SizeParser.parse(memory), hartCount: cpus, firmwarePath: firmware,
                              disks: try disks.map { try DiskConfig(parsing: $0) }, console: console)
        config.networks = try networks.map { try NetConfig(parsing: $0) }
        config.virtualization = virt
        config.memoryVirtualization = mmu
        config.execution = exec
        config.deviceIO = io
        if let kernel {
            config.kernelPath = kernel
            config.initrdPath = initrd
            config.commandLine = cmdline ?? ""
        } else {
            let guest = try DefaultGuest.find()
            config.kernelPath = guest.kernel
            config.initrdPath = initrd ?? guest.initrd
            config.commandLine = cmdline ?? DefaultGuest.commandLine(for: console)
        }
        try config.validate()
        return config
    }

    /// The guest's verdict as the process status. Statuses are 8 bits, so a failure code that
    /// would wrap to 0 becomes 1.
    private func status(for exit: MachineExit) -> Int32 {
        switch exit {
        case .poweroff, .reboot, .userQuit: return 0
        case .failure(let code): return (1...255).contains(code) ? code : 1
        }
    }
}

extension ConsoleDevice: ExpressibleByArgument {}
extension VirtualizationMode: ExpressibleByArgument {}
extension MemoryVirtualization: ExpressibleByArgument {}
extension ExecutionMode: ExpressibleByArgument {}
extension DeviceIOMode: ExpressibleByArgument {}
