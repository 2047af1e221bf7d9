#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CShims
import Devices
import Foundation // NSLock

/// The serial console is the terminal: guest output goes to `outputFD`, keystrokes on `inputFD`
/// go to the guest.
///
/// When input is a terminal, `start()` makes it raw (Ctrl-C goes to the guest) and the escape key
/// Ctrl-A works: `C-a x` quits, `C-a h` prints help, `C-a C-a` sends a C-a. When input is a pipe
/// or a file, bytes pass through untouched and end of input simply ends input: the guest runs on.
///
/// Threads: the machine's I/O thread polls `inputDescriptor` and calls `readInput()`, which
/// queues bytes; harts and the run loop call `write(byte:)`, `readByte()` and `flush()`.
public final class Console: ByteSink, @unchecked Sendable {
    /// True when input is a terminal: raw mode and the escape key apply.
    public let isTerminal: Bool
    private let inputFD: Int32
    private let outputFD: Int32

    /// Guards the input queue, the quit flag and the wake eventfd's state.
    private let input = NSLock()
    private var queue: [UInt8] = []
    private var queueHead = 0
    private var quit = false
    /// read() said end of input (or failed): nothing more will come.
    private var inputEnded = false
    /// The queue reached `maxQueued`: input is not read until the guest takes some.
    private var inputFull = false
    /// Called (outside the lock) when a full queue has room again, so the reader polls again.
    private var roomObserver: (@Sendable () -> Void)?
    private var decoder = EscapeDecoder()
    private var readBuffer = [UInt8](repeating: 0, count: 256)
    private var wakeSignalled = false
    /// Readable while input or a quit waits for the run loop (an eventfd, as the I/O thread's).
    private let wake: Int32
    private var started = false

    /// Guards the output buffer and serialises writes to `outputFD`, so output keeps its order.
    private let output = NSLock()
    private var pending: [UInt8] = []

    /// Input is not read while this much waits unread (back-pressure on a pipe).
    private static let maxQueued = 64 << 10
    /// `write(byte:)` flushes by itself once this much output is buffered.
    private static let autoFlushBytes = 4096

    /// `inputFD` -1 means no input at all (tests, headless runs).
    public init(inputFD: Int32 = 0, outputFD: Int32 = 1) {
        self.inputFD = inputFD
        self.outputFD = outputFD
        self.isTerminal = inputFD >= 0 && isatty(inputFD) == 1
        wake = trapeze_event_create()
    }

    deinit {
        flush()
        if wake >= 0 { close(wake) }
    }

    // MARK: Lifecycle

    /// Enters raw mode (when input is a terminal) and arranges for the terminal to be restored
    /// and output flushed on every exit path; from then on input is read (by whoever polls
    /// `inputDescriptor`). Call once.
    public func start() {
        input.lock()
        let first = !started
        started = true
        input.unlock()
        guard first else { return }
        Console.registerForExit(self)
        if isTerminal { _ = TerminalMode.enterRaw(fd: inputFD) }
    }

    /// Flushes output and gives the terminal its original settings back. Idempotent.
    public func restore() {
        flush()
        TerminalMode.restore()
    }

    // MARK: Output

    public func write(byte: UInt8) {
        output.lock()
        defer { output.unlock() }
        pending.append(byte)
        if pending.count >= Console.autoFlushBytes { writePendingLocked() }
    }

    /// Writes buffered output to the terminal. The run loop calls this at slice boundaries and at exit.
    public func flush() {
        output.lock()
        defer { output.unlock() }
        writePendingLocked()
    }

    private func writePendingLocked() {
        guard !pending.isEmpty else { return }
        pending.withUnsafeBytes { writeAll(outputFD, $0) }
        pending.removeAll(keepingCapacity: true)
    }

    private func writeText(_ text: String) {
        output.lock()
        defer { output.unlock() }
        pending.append(contentsOf: Array(text.utf8))
        writePendingLocked()
    }

    // MARK: Input

    /// The next byte typed, or nil when none is waiting. Never blocks.
    public func readByte() -> UInt8? {
        input.lock()
        defer { input.unlock() }
        guard queueHead < queue.count else { return nil }
        let byte = queue[queueHead]
        queueHead += 1
        if queueHead == queue.count {
            queue.removeAll(keepingCapacity: true)
            queueHead = 0
            if inputFull {
                inputFull = false
                let observer = roomObserver
                input.unlock()
                observer?()  // the reader stopped polling for lack of room
                input.lock()
            }
        }
        return byte
    }

    public var hasInput: Bool {
        input.lock()
        defer { input.unlock() }
        return queueHead < queue.count
    }

    /// Set once the user typed C-a x (or someone called `requestQuit()`); the run loop then stops.
    public var quitRequested: Bool {
        input.lock()
        defer { input.unlock() }
        return quit
    }

    public func requestQuit() {
        input.lock()
        defer { input.unlock() }
        quit = true
        signalWakeLocked()
    }

    // MARK: Waking the run loop

    /// Becomes readable when new input is queued or quit is requested, so a run loop whose harts
    /// all wait in WFI can poll() it with a timeout. Call `drainWake()` after it fires.
    public var wakeFileDescriptor: Int32 { wake }

    /// Empties the wake eventfd; it becomes readable again on the next input or quit.
    public func drainWake() {
        input.lock()
        defer { input.unlock() }
        if wake >= 0 { trapeze_event_drain(wake) }
        wakeSignalled = false
    }

    /// One signal at most: the flag and the eventfd change together, under the lock.
    private func signalWakeLocked() {
        guard !wakeSignalled, wake >= 0 else { return }
        wakeSignalled = true
        trapeze_event_signal(wake)
    }

    // MARK: Reading input

    /// The descriptor to poll for keystrokes: nil before `start()`, without input, at its end,
    /// after quit, and while `maxQueued` bytes wait unread (back-pressure on a pipe).
    public var inputDescriptor: Int32? {
        input.lock()
        defer { input.unlock() }
        guard started, inputFD >= 0, !inputEnded, !quit, !inputFull else { return nil }
        return inputFD
    }

    /// Calls `observer` whenever input has room again after the queue filled up.
    public func observeRoom(_ observer: @escaping @Sendable () -> Void) {
        input.lock()
        defer { input.unlock() }
        roomObserver = observer
    }

    /// Reads the input that waits (call when `inputDescriptor` polls readable; one read(), which
    /// does not block then) and queues it for the guest, handling the escape key on a terminal.
    public func readInput() {
        guard let fd = inputDescriptor else { return }
        let count = readBuffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count < 0 {
            if errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK { return }
            endInput()
            return
        }
        if count == 0 { return endInput() }  // end of input: the guest keeps running without it
        let bytes = readBuffer[0..<count]
        guard isTerminal else { return enqueue(bytes) }
        var forward: [UInt8] = []
        for byte in bytes {
            switch decoder.feed(byte) {
            case .forward(let b): forward.append(b)
            case .swallow: break
            case .help: writeText(EscapeDecoder.helpText)
            case .quit:
                enqueue(forward[...])
                requestQuit()
                return
            }
        }
        enqueue(forward[...])
    }

    private func endInput() {
        input.lock()
        defer { input.unlock() }
        inputEnded = true
    }

    private func enqueue(_ bytes: ArraySlice<UInt8>) {
        guard !bytes.isEmpty else { return }
        input.lock()
        defer { input.unlock() }
        if queueHead > 4096 {
            queue.removeFirst(queueHead)
            queueHead = 0
        }
        queue.append(contentsOf: bytes)
        if queue.count - queueHead >= Console.maxQueued { inputFull = true }
        signalWakeLocked()
    }

    // MARK: Exit

    nonisolated(unsafe) private static weak var active: Console?
    nonisolated(unsafe) private static var exitHookInstalled = false

    /// exit() still flushes the console that was started last and restores the terminal. A
    /// thread may hold the output lock at that moment; then its bytes are being written anyway.
    private static func registerForExit(_ console: Console) {
        active = console
        guard !exitHookInstalled else { return }
        exitHookInstalled = true
        atexit {
            if let console = Console.active, console.output.try() {
                console.writePendingLocked()
                console.output.unlock()
            }
            TerminalMode.restore()
        }
    }
}

/// Writes all of `bytes`, through partial writes, EINTR and a non-blocking descriptor. Gives up
/// only on a real error (EPIPE, EIO): there is nobody left to show the output to.
private func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) {
    guard var p = bytes.baseAddress else { return }
    var left = bytes.count
    while left > 0 {
        let n = write(fd, p, left)
        if n > 0 {
            p += n
            left -= n
        } else if n < 0 && errno == EINTR {
            continue
        } else if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
            var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            _ = poll(&pfd, 1, 1000)
        } else {
            return
        }
    }
}

