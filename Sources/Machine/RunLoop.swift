#if canImport(Glibc)
import Glibc
#endif
import CShims
import Devices
import RISCV

extension Machine {
    /// Instructions a hart runs before the loop services devices and the next hart: long enough
    /// to amortise the loop, short enough that timer and console latency stay under ~1 ms.
    static let sliceLength = 50_000
    /// With several harts, a hart spinning on a lock or waiting for an IPI answer burns its whole
    /// slice before the hart it waits for runs, so slices are shorter (measured on a 2-hart boot).
    static let multiHartSliceLength = 5_000
    /// How long the loop spins for a request in flight on the I/O thread before it sleeps, when
    /// every hart waits: a 1 MiB write to the host's page cache takes about this long.
    static let completionSpinNanoseconds: UInt64 = 1_000_000

    /// Runs the VM until the guest powers off, reboots or fails, or the user quits.
    ///
    /// Harts run in turn on this thread, each for a slice; between slices the loop updates the
    /// timer lines, answers the device requests the I/O thread completed, moves console input
    /// into the UART and flushes output. When every hart waits (WFI or stopped), the thread sleeps
    /// in poll() until the next timer deadline, input, a frame or a completed request.
    public func run() throws -> MachineExit {
        ioThread.start()
        defer {
            // Writes the guest submitted reach the image before the VM is gone.
            ioThread.stop()
            console.flush()
        }
        let multiHart = harts.count > 1
        let slice = multiHart ? Self.multiHartSliceLength : Self.sliceLength
        // TRAPEZE_DEBUG_HARTS=1 prints every hart's state once a second: where a hung guest spins.
        let debug = getenv("TRAPEZE_DEBUG_HARTS") != nil
        var lastReport = trapeze_monotonic_ns()
        while true {
            if debug && trapeze_monotonic_ns() &- lastReport > 1_000_000_000 {
                lastReport = trapeze_monotonic_ns()
                reportHartStates()
            }
            var anyRunning = false
            for hart in harts {
                if hart.runState == .waitingForInterrupt && hart.wakeupPending { hart.runState = .running }
                guard hart.runState == .running else { continue }
                anyRunning = true
                if multiHart { hart.clearReservation() }
                _ = hart.run(budget: slice)
                if let trap = hart.unhandledMachineTrap {
                    throw MachineError.unhandledMachineTrap(hart: hart.id, cause: trap.cause, pc: trap.pc, tval: trap.tval)
                }
                if powerRequest != nil { break }
            }
            if let exit = exitStatus() { return exit }
            serviceDevices()
            if console.quitRequested { return .userQuit }
            if !anyRunning && !harts.contains(where: { $0.runState == .running || $0.wakeupPending }) {
                sleepUntilEvent()
            }
        }
    }

    func reportHartStates() {
        for h in harts {
            let line = "hart \(h.id): \(h.runState) pc=0x\(String(h.pc, radix: 16)) \(h.privilege) instret=\(h.instret) \(h.debugSummary)\n"
            _ = line.withCString { write(2, $0, strlen($0)) }
        }
    }

    func exitStatus() -> MachineExit? {
        guard let request = powerRequest else { return nil }
        switch request {
        case .poweroff: return .poweroff
        case .reboot: return panicDetector.sawPanic ? .failure(code: 1) : .reboot
        case .fail(let code): return .failure(code: Int32(code))
        }
    }

    /// Timer lines, requests the I/O thread completed back to their drivers, console input into
    /// the console device (the UART or the virtio-console), receive buffers the network drivers
    /// posted (with `--io inline`, frames from the TAPs into them), console output out.
    func serviceDevices() {
        if ioThread.takeCompletions() {
            for device in offloadingDevices { device.finishCompleted() }
        }
        clint.update()
        let now = clint.mtime
        for hart in harts { hart.updateSupervisorTimer(now: now) }
        if let virtioConsole {
            virtioConsole.receive { console.readByte() }
        } else {
            while uart.canReceive, let byte = console.readByte() {
                _ = uart.receive(byte)
            }
        }
        // Drivers may post receive buffers without notifying. Inline, a non-blocking read per
        // device that holds buffers: one system call a slice.
        for net in networkDevices { net.pollReceive() }
        console.flush()
    }

    /// Blocks until the earliest timer deadline of any hart, console input, a request the I/O
    /// thread completed, or (with `--io inline`) a frame on a TAP whose device has a receive
    /// buffer for it.
    func sleepUntilEvent() {
        let now = clint.mtime
        var deadline = clint.nextDeadline() ?? .max
        for hart in harts where hart.supervisorTimerCompare > now {
            deadline = min(deadline, hart.supervisorTimerCompare)
        }
        // Ticks are 100 ns at 10 MHz; wait at most 100 ms so quit and odd states stay responsive.
        let ticks = deadline == .max ? 1_000_000 : min(deadline &- now, 1_000_000)
        let ms = Int32((ticks + 9_999) / 10_000)
        // Input the console device has no room for waits in the Console; sleeping anyway keeps
        // the loop from spinning on it until the driver posts a buffer (an interrupt wakes a hart).
        if console.hasInput && (virtioConsole?.canReceive ?? true) { return }
        if ioThread.hasRequestsInFlight {
            // The guest most likely waits for those requests: spin for them, no longer than the
            // next timer deadline.
            let spinUntil = trapeze_monotonic_ns() + min(Self.completionSpinNanoseconds, ticks * 100)
            if ioThread.spinForCompletions(until: spinUntil, interrupted: { console.hasInput }) { return }
        }
        guard ioThread.prepareToSleep() else { return }
        defer { ioThread.wokeUp() }
        // Inline, a TAP whose device has no buffer is left out: its frames wait there until the
        // driver posts one, which it does while a hart runs. With the I/O thread, it polls them.
        var pfds = [pollfd(fd: console.wakeFileDescriptor, events: Int16(POLLIN), revents: 0)]
        pfds.append(pollfd(fd: ioThread.completionDescriptor, events: Int16(POLLIN), revents: 0))
        for net in networkDevices {
            if let fd = net.receiveReadinessDescriptor { pfds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0)) }
        }
        _ = poll(&pfds, nfds_t(pfds.count), ms)
        console.drainWake()
    }
}
