#if canImport(Glibc)
import Glibc
#endif
import CShims
import Foundation  // Thread
import Synchronization
import Virtio

/// The machine's I/O thread (ARCHITECTURE.md, "Threads"): it reads the console's input, and
/// carries out the part of device requests that blocks the host, writes to and reads from TAPs
/// itself and the fsyncs, fallocates and disk reads of each disk image on a `BlockingLane` of
/// the disk's own, so that the harts run on meanwhile, on the host's other core.
///
/// Devices take chains and answer the driver on the harts' thread; only the host I/O comes here
/// (`OffloadingDevice`). The harts' thread learns of completed requests at its next slice
/// boundary (`takeCompletions`) or, when every hart waits for an interrupt, from
/// `completionDescriptor`, which it polls. With nothing to do, the thread sleeps in poll() on
/// its own eventfd, the console's input and the TAPs whose devices hold receive buffers. Timers
/// are not its business: the harts' thread sleeps until the next deadline itself, which a relay
/// through this thread would only delay. It is an OS thread, never the Swift concurrency pool.
final class IOThread: DeviceWorker, @unchecked Sendable {
    /// The devices whose work this thread runs between its polls (networks). Set before
    /// `start`, read-only afterwards: both threads read it.
    private let devices: [OffloadingDevice]
    /// The devices whose work can wait long on storage (disks), each on a lane of its own.
    private var lanes: [BlockingLane] = []
    /// Every offloading device, for `hasRequestsInFlight`.
    private let allDevices: [OffloadingDevice]
    /// Signalled by devices that submitted work, and by `stop`.
    private let wakeDescriptor: Int32
    /// Signalled when requests completed: the harts' thread polls it while all harts sleep.
    let completionDescriptor: Int32
    private let completionsPending = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)
    /// A device submitted work since the thread last looked.
    private let workPending = Atomic<Bool>(false)
    /// The thread sleeps in poll(): `wake` must signal `wakeDescriptor`. Each side stores its own
    /// flag and then loads the other's, both sequentially consistent, so one of them always sees
    /// the other and no wakeup is lost; while awake, no system call is made.
    private let asleep = Atomic<Bool>(false)
    /// The harts' thread sleeps in poll(): completions must signal `completionDescriptor`.
    private let hartsAsleep = Atomic<Bool>(false)
    private let exited = DispatchSemaphore(value: 0)
    private var thread: Thread?

    /// What the thread did, for `--stats`: batches of completed requests it handed back, and
    /// times it woke from poll().
    private let batchCount = Atomic<UInt64>(0)
    private let wakeupCount = Atomic<UInt64>(0)
    var batches: UInt64 { batchCount.load(ordering: .relaxed) }
    var wakeups: UInt64 { wakeupCount.load(ordering: .relaxed) }

    /// Whose input the thread reads (nil: none).
    private let console: Console?

    init(devices: [OffloadingDevice], console: Console?) throws(MachineError) {
        let wake = trapeze_event_create(), completion = trapeze_event_create()
        guard wake >= 0, completion >= 0 else {
            let reason = String(cString: strerror(errno))
            for fd in [wake, completion] where fd >= 0 { close(fd) }
            throw .hostResource("cannot create the I/O thread's eventfd: \(reason) (raise the open-files limit, ulimit -n)")
        }
        self.devices = devices.filter { $0.workKind == .polled }
        allDevices = devices
        self.console = console
        wakeDescriptor = wake
        completionDescriptor = completion
        for device in self.devices { device.attach(worker: self) }
        for (i, device) in devices.enumerated() where device.workKind == .blocking {
            lanes.append(BlockingLane(device: device, name: "trapeze-io-\(i)") { [unowned self] in noteCompletions() })
        }
        console?.observeRoom { [weak self] in self?.wake() }
    }

    deinit {
        close(wakeDescriptor)
        close(completionDescriptor)
    }

    /// Starts the thread and its lanes (once).
    func start() {
        guard thread == nil else { return }
        for lane in lanes { lane.start() }
        let thread = Thread { [self] in loop() }
        thread.name = "trapeze-io"
        self.thread = thread
        thread.start()
    }

    /// Carries out every request already submitted, then ends the thread and waits for it: the
    /// image holds every write the guest submitted before the VM stopped.
    func stop() {
        guard thread != nil else { return }
        stopping.store(true, ordering: .sequentiallyConsistent)
        trapeze_event_signal(wakeDescriptor)  // unconditionally: the thread may be about to sleep
        exited.wait()
        thread = nil
        for lane in lanes { lane.stop() }
    }

    // MARK: The harts' thread

    /// True once after the thread completed requests: the caller runs `finishCompleted()` on
    /// every device.
    func takeCompletions() -> Bool {
        guard completionsPending.load(ordering: .acquiring) else { return false }
        return completionsPending.exchange(false, ordering: .acquiringAndReleasing)
    }

    /// Completions wait to be taken (the harts' thread must not sleep).
    var hasCompletions: Bool { completionsPending.load(ordering: .acquiring) }

    /// Whether any device has a request the thread is carrying out (not a receive buffer
    /// waiting for a frame).
    var hasRequestsInFlight: Bool { allDevices.contains { $0.requestsInFlight > 0 } }

    /// Requests completed (on this thread or a lane): the harts' thread is told, through
    /// `completionDescriptor` when it sleeps.
    private func noteCompletions() {
        batchCount.add(1, ordering: .relaxed)
        completionsPending.store(true, ordering: .sequentiallyConsistent)
        if hartsAsleep.load(ordering: .sequentiallyConsistent) { trapeze_event_signal(completionDescriptor) }
    }

    /// Every hart waits for an interrupt and requests are in flight: spins for a short while in
    /// the hope that they complete, because on a virtual host the wakeup from poll() costs about
    /// as much as a small request (without spinning, 4 KiB IOPS fell to a third). True when
    /// completions arrived; false when the caller should sleep (in poll, with
    /// `completionDescriptor`, which `prepareToSleep` arms).
    func spinForCompletions(until deadline: UInt64, interrupted: () -> Bool) -> Bool {
        while trapeze_monotonic_ns() < deadline {
            if hasCompletions { return true }
            if interrupted() { return false }
            for _ in 0..<64 { trapeze_cpu_relax() }
        }
        return hasCompletions
    }

    /// Before the harts' thread sleeps in poll() with `completionDescriptor`: from now on each
    /// completion signals the descriptor. False when completions came meanwhile (do not sleep).
    func prepareToSleep() -> Bool {
        hartsAsleep.store(true, ordering: .sequentiallyConsistent)
        if completionsPending.load(ordering: .sequentiallyConsistent) {
            hartsAsleep.store(false, ordering: .relaxed)
            return false
        }
        return true
    }

    /// After the poll(): completions no longer signal the descriptor.
    func wokeUp() {
        hartsAsleep.store(false, ordering: .relaxed)
        trapeze_event_drain(completionDescriptor)
    }

    // MARK: DeviceWorker

    func wake() {
        workPending.store(true, ordering: .sequentiallyConsistent)
        if asleep.load(ordering: .sequentiallyConsistent) { trapeze_event_signal(wakeDescriptor) }
    }


    // MARK: The thread

    /// How long the thread keeps looking for new requests after its last one before it sleeps:
    /// long enough to cover a guest's turnaround from one request to the next at queue depth 1.
    static let spinNanoseconds: UInt64 = 300_000

    private func loop() {
        // The wake eventfd, then the descriptors of devices waiting for the host (a TAP while
        // its device holds receive buffers); refilled before each wait, never reallocated.
        var waits = [pollfd](repeating: pollfd(fd: -1, events: Int16(POLLIN), revents: 0), count: devices.count + 2)
        waits[0].fd = wakeDescriptor
        var lastWork = trapeze_monotonic_ns()
        // Where the console's descriptor is in `waits` (0: not polled).
        var consoleSlot = 0
        while true {
            // Cleared before looking for work, so a submission after the look sets it again.
            workPending.store(false, ordering: .sequentiallyConsistent)
            if consoleSlot > 0 && waits[consoleSlot].revents != 0 {
                waits[consoleSlot].revents = 0
                console?.readInput()
            }
            var completed = false
            for device in devices where device.performSubmitted() { completed = true }
            if completed {
                noteCompletions()
                lastWork = trapeze_monotonic_ns()
                continue
            }
            if stopping.load(ordering: .sequentiallyConsistent) { break }
            var count = 1
            consoleSlot = 0
            if let fd = console?.inputDescriptor {
                waits[count].fd = fd
                consoleSlot = count
                count += 1
            }
            for device in devices {
                guard let fd = device.workerReadinessDescriptor else { continue }
                waits[count].fd = fd
                count += 1
            }
            for i in 0..<count { waits[i].revents = 0 }
            if spinForWork(until: lastWork + Self.spinNanoseconds, waits: &waits, count: count) { continue }
            asleep.store(true, ordering: .sequentiallyConsistent)
            if !workPending.load(ordering: .sequentiallyConsistent) && !stopping.load(ordering: .sequentiallyConsistent) {
                _ = poll(&waits, nfds_t(count), -1)
                wakeupCount.add(1, ordering: .relaxed)
            }
            asleep.store(false, ordering: .sequentiallyConsistent)
            trapeze_event_drain(wakeDescriptor)
            lastWork = trapeze_monotonic_ns()
        }
        exited.signal()
    }

    /// Spins until a device submits work or, every few microseconds, one of the device
    /// descriptors (`waits[1..<count]`) polls readable; false at `deadline`.
    private func spinForWork(until deadline: UInt64, waits: inout [pollfd], count: Int) -> Bool {
        var round = 0
        while trapeze_monotonic_ns() < deadline {
            if workPending.load(ordering: .relaxed) || stopping.load(ordering: .relaxed) { return true }
            round += 1
            if count > 1 && round % 16 == 0 {
                let ready = waits.withUnsafeMutableBufferPointer { poll($0.baseAddress! + 1, nfds_t(count - 1), 0) }
                if ready > 0 { return true }
            }
            for _ in 0..<64 { trapeze_cpu_relax() }
        }
        return false
    }
}
