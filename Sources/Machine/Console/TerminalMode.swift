#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Puts the controlling terminal into raw mode and guarantees it comes back, whatever way the
/// process ends: `restore()`, `exit()` (the console's atexit hook), a terminating signal or a crash.
///
/// The state lives in process-wide storage allocated once, before any handler is installed,
/// because a signal handler may touch nothing that could allocate or lock.
enum TerminalMode {
    /// Signals after which the terminal must not be left raw (SIGPIPE: `trapeze | head`). Each
    /// handler restores the terminal, reinstalls the previous action (the default, or the Swift
    /// runtime's crash reporter) and re-raises, so the process still dies the way it would have.
    /// A handler that recovers from faults (a JIT's SIGSEGV) must be installed after this one
    /// and chain to it for faults it does not own.
    static let fatalSignals: [Int32] = [SIGTERM, SIGHUP, SIGINT, SIGQUIT, SIGSEGV, SIGBUS,
                                        SIGABRT, SIGILL, SIGFPE, SIGTRAP, SIGSYS, SIGPIPE]

    /// Enters raw mode on `fd`. Returns false (and changes nothing) when `fd` is not a terminal.
    static func enterRaw(fd: Int32) -> Bool {
        let state = SavedState.shared
        if state.active.pointee != 0 { return true }
        guard tcgetattr(fd, state.original) == 0 else { return false }
        var raw = state.original.pointee
        // cfmakeraw, spelled out: no line editing, no echo, no signal keys (Ctrl-C, Ctrl-Z and
        // Ctrl-\ go to the guest, as under QEMU -nographic), 8-bit clean input. Output
        // post-processing stays on, as QEMU's stdio keeps it: Linux sends "\r\n" itself, but
        // bare-metal programs often print bare "\n" and would otherwise staircase.
        raw.c_iflag &= ~tcflag_t(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON)
        raw.c_lflag &= ~tcflag_t(ECHO | ECHONL | ICANON | ISIG | IEXTEN)
        raw.c_cflag &= ~tcflag_t(CSIZE | PARENB)
        raw.c_cflag |= tcflag_t(CS8)
        withUnsafeMutableBytes(of: &raw.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        installHandlersOnce()
        state.fd.pointee = fd
        state.active.pointee = 1
        guard tcsetattr(fd, TCSANOW, &raw) == 0 else {
            state.active.pointee = 0
            return false
        }
        return true
    }

    /// Puts the original settings back. Idempotent; async-signal-safe (tcsetattr is).
    static func restore() {
        let state = SavedState.shared
        guard state.active.pointee != 0 else { return }
        state.active.pointee = 0
        _ = tcsetattr(state.fd.pointee, TCSANOW, state.original)
    }

    private static func installHandlersOnce() {
        let state = SavedState.shared
        guard state.handlersInstalled.pointee == 0 else { return }
        state.handlersInstalled.pointee = 1
        for signal in fatalSignals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signal in
                TerminalMode.restore()
                // Back to whoever handled this signal before us, then deliver it again: for a
                // fault the instruction re-executes; otherwise the pending signal fires on return.
                let previous = SavedState.shared.previousActions + Int(signal)
                _ = sigaction(signal, previous, nil)
                _ = raise(signal)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            _ = sigaction(signal, &action, SavedState.shared.previousActions + Int(signal))
        }
    }
}

/// Storage the signal handlers read: allocated once, never freed, never moved.
private final class SavedState: @unchecked Sendable {
    static let shared = SavedState()
    let original = UnsafeMutablePointer<termios>.allocate(capacity: 1)
    let fd = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
    let active = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
    let handlersInstalled = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
    let previousActions = UnsafeMutablePointer<sigaction>.allocate(capacity: 65)

    private init() {
        original.initialize(to: termios())
        fd.initialize(to: 0)
        active.initialize(to: 0)
        handlersInstalled.initialize(to: 0)
        previousActions.initialize(repeating: sigaction(), count: 65)
    }
}
