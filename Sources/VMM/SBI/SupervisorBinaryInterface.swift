import Devices
import GuestMemory
import RISCV

/// The built-in SBI: firmware services written in Swift, answering S-mode `ecall`s directly
/// instead of running OpenSBI in M-mode. It is written as the VMM's hypercall layer: every call
/// is an exit from the guest kernel, counted by extension.
public final class SupervisorBinaryInterface: SupervisorCallHandler {
    /// SBI specification version 2.0 (major in bits 30:24).
    static let specVersion: Int64 = 2 << 24
    /// Implementation ID: not one of the registered ones (0-10), so guests treat it as generic.
    static let implementationID: Int64 = 0x5452_5A  // "TRZ"
    static let implementationVersion: Int64 = 1

    unowned let platform: SBIPlatform
    let memory: GuestMemory
    /// Reads a doubleword at a guest virtual address as the calling S-mode would (the legacy
    /// calls pass pointers). Nil uses the hart's own translation, which is the guest's on bare
    /// hardware and under the H extension; trap-and-emulate, whose hart walks shadow tables as
    /// U-mode, supplies a reader that walks the guest's tables instead.
    public var guestVirtualReader: ((Hart, UInt64) -> UInt64?)?
    /// Calls handled, by extension ID, for statistics.
    public private(set) var callCounts: [UInt64: UInt64] = [:]

    public init(platform: SBIPlatform, memory: GuestMemory) {
        self.platform = platform
        self.memory = memory
    }

    public func handleSupervisorCall(from hart: Hart) -> Bool {
        let eid = hart.register(17)
        let fid = hart.register(16)
        let args = (hart.register(10), hart.register(11), hart.register(12), hart.register(13))
        callCounts[eid, default: 0] &+= 1
        guard let ext = SBIExtension(rawValue: eid) else {
            finish(hart, .notSupported)
            return true
        }
        switch ext {
        case .legacySetTimer:
            setTimer(hart, args.0)
            hart.setRegister(10, 0)
        case .legacyConsolePutchar:
            platform.consoleWrite(UInt8(truncatingIfNeeded: args.0))
            hart.setRegister(10, 0)
        case .legacyConsoleGetchar:
            hart.setRegister(10, platform.consoleRead().map { UInt64($0) } ?? UInt64(bitPattern: -1))
        case .legacyClearIPI:
            hart.clearSupervisorSoftwareInterrupt()
            hart.setRegister(10, 0)
        case .legacySendIPI, .legacyRemoteFenceI, .legacyRemoteSfenceVMA, .legacyRemoteSfenceVMAASID:
            // Legacy calls pass a pointer to the hart mask in guest memory (S-mode virtual;
            // Linux passes a kernel address, so translate through the guest's tables).
            let mask = legacyHartMask(hart, address: args.0)
            for target in platform.harts where mask.contains(target.id) {
                if ext == .legacySendIPI { raiseSoftwareInterrupt(on: target) } else { target.flushTranslations() }
            }
            hart.setRegister(10, 0)
        case .legacyShutdown:
            platform.systemReset(.poweroff)
            hart.requestSliceEnd()
        case .base: base(hart, fid, args.0)
        case .timer:
            guard fid == 0 else { finish(hart, .notSupported); return true }
            setTimer(hart, args.0)
            finish(hart, .success)
        case .ipi:
            guard fid == 0 else { finish(hart, .notSupported); return true }
            guard let targets = harts(mask: args.0, base: args.1) else { finish(hart, .invalidParameter); return true }
            targets.forEach(raiseSoftwareInterrupt)
            finish(hart, .success)
        case .remoteFence:
            guard fid <= 6 else { finish(hart, .notSupported); return true }
            guard fid <= 2 else { finish(hart, .notSupported); return true } // hypervisor fences: no H extension here
            guard let targets = harts(mask: args.0, base: args.1) else { finish(hart, .invalidParameter); return true }
            // fence.i needs no work (stores invalidate decoded code); address-range fences flush
            // whole TLBs, which is always correct.
            if fid != 0 { targets.forEach { $0.flushTranslations() } }
            finish(hart, .success)
        case .hartStateManagement: hartStateManagement(hart, fid, args)
        case .systemReset: systemReset(hart, fid, args.0, args.1)
        case .debugConsole: debugConsole(hart, fid, args)
        }
        return true
    }

    func finish(_ hart: Hart, _ error: SBIError, value: UInt64 = 0) {
        hart.setRegister(10, UInt64(bitPattern: error.rawValue))
        hart.setRegister(11, value)
    }

    func base(_ hart: Hart, _ fid: UInt64, _ arg: UInt64) {
        switch fid {
        case 0: finish(hart, .success, value: UInt64(Self.specVersion))
        case 1: finish(hart, .success, value: UInt64(Self.implementationID))
        case 2: finish(hart, .success, value: UInt64(Self.implementationVersion))
        case 3: finish(hart, .success, value: SBIExtension(rawValue: arg) != nil ? 1 : 0)
        case 4, 5, 6: finish(hart, .success, value: 0) // mvendorid, marchid, mimpid
        default: finish(hart, .notSupported)
        }
    }

    func setTimer(_ hart: Hart, _ deadline: UInt64) {
        hart.supervisorTimerCompare = deadline
        hart.updateSupervisorTimer(now: platform.mtime)
    }

    func raiseSoftwareInterrupt(on target: Hart) {
        target.raiseSupervisorSoftwareInterrupt()
    }

    /// Harts named by an SBI hart mask: bit i of `mask` is hart `base + i`; base = -1 means all.
    /// Nil when the mask names a hart that does not exist.
    func harts(mask: UInt64, base: UInt64) -> [Hart]? {
        let all = platform.harts
        if base == UInt64.max { return all }
        var result: [Hart] = []
        for bit in 0..<64 where mask >> UInt64(bit) & 1 != 0 {
            let (id, overflow) = base.addingReportingOverflow(UInt64(bit))
            guard !overflow, id < UInt64(all.count) else { return nil }
            result.append(all[Int(id)])
        }
        return result
    }

    func legacyHartMask(_ hart: Hart, address: UInt64) -> Set<Int> {
        if address == 0 { return Set(platform.harts.map(\.id)) }
        guard let mask = guestVirtualReader.map({ $0(hart, address) }) ?? hart.readVirtual64(address) else { return [] }
        return Set((0..<64).filter { mask >> UInt64($0) & 1 != 0 })
    }
}
