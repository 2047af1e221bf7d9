import RISCV

/// HSM extension (SBI spec chapter 9): secondary harts start STOPPED and are started by the
/// boot hart; a hart may stop itself or suspend (retentively) until an interrupt.
extension SupervisorBinaryInterface {
    enum HartStatus: UInt64 {
        case started = 0, stopped = 1, startPending = 2, stopPending = 3, suspended = 4
    }

    func hartStateManagement(_ hart: Hart, _ fid: UInt64, _ args: (UInt64, UInt64, UInt64, UInt64)) {
        switch fid {
        case 0: // hart_start(hartid, start_addr, opaque)
            guard args.0 < UInt64(platform.harts.count) else { return finish(hart, .invalidParameter) }
            let target = platform.harts[Int(args.0)]
            guard target.runState == .stopped else { return finish(hart, .alreadyAvailable) }
            guard memory.contains(args.1, length: 2) else { return finish(hart, .invalidAddress) }
            platform.startHart(target, at: args.1, a0: args.0, a1: args.2)
            finish(hart, .success)
        case 1: // hart_stop
            hart.runState = .stopped
            hart.requestSliceEnd()
            finish(hart, .success)
        case 2: // hart_get_status(hartid)
            guard args.0 < UInt64(platform.harts.count) else { return finish(hart, .invalidParameter) }
            let target = platform.harts[Int(args.0)]
            let status: HartStatus
            switch target.runState {
            case .stopped: status = .stopped
            case .running: status = .started
            case .waitingForInterrupt: status = .started
            }
            finish(hart, .success, value: status.rawValue)
        case 3: // hart_suspend(type, resume_addr, opaque)
            // Only the retentive default suspend (type 0): it behaves as WFI, then returns.
            guard args.0 == 0 else { return finish(hart, .notSupported) }
            finish(hart, .success)
            hart.waitForInterrupt()
        default:
            finish(hart, .notSupported)
        }
    }
}
