import Devices
import RISCV

/// What the SBI needs from the machine it serves: the harts, the console, the timer and
/// power control. The machine (or, later, the VMM's vCPU layer) implements it.
public protocol SBIPlatform: AnyObject {
    var harts: [Hart] { get }
    /// The machine timer, in timebase ticks.
    var mtime: UInt64 { get }
    func consoleWrite(_ byte: UInt8)
    /// Next console input byte, if any.
    func consoleRead() -> UInt8?
    func systemReset(_ request: PowerRequest)
    /// Starts a stopped hart in S-mode at `entry` with a0 and a1 set (SBI HSM hart_start):
    /// directly on the hart, or as a virtual CPU under the VMM.
    func startHart(_ hart: Hart, at entry: UInt64, a0: UInt64, a1: UInt64)
}

/// SBI return codes (SBI spec, "Standard SBI Errors").
public enum SBIError: Int64 {
    case success = 0
    case failed = -1
    case notSupported = -2
    case invalidParameter = -3
    case denied = -4
    case invalidAddress = -5
    case alreadyAvailable = -6
    case alreadyStarted = -7
    case alreadyStopped = -8
}

/// SBI extension IDs this implementation answers (SBI spec v2.0).
public enum SBIExtension: UInt64, CaseIterable {
    case legacySetTimer = 0x00
    case legacyConsolePutchar = 0x01
    case legacyConsoleGetchar = 0x02
    case legacyClearIPI = 0x03
    case legacySendIPI = 0x04
    case legacyRemoteFenceI = 0x05
    case legacyRemoteSfenceVMA = 0x06
    case legacyRemoteSfenceVMAASID = 0x07
    case legacyShutdown = 0x08
    case base = 0x10
    case timer = 0x5449_4D45        // "TIME"
    case ipi = 0x73_5049            // "sPI"
    case remoteFence = 0x5246_4E43  // "RFNC"
    case hartStateManagement = 0x48_534D // "HSM"
    case systemReset = 0x5352_5354  // "SRST"
    case debugConsole = 0x4442_434E // "DBCN"
}
