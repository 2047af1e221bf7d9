import Devices
import RISCV

/// SRST (system reset) and DBCN (debug console) extensions.
extension SupervisorBinaryInterface {
    func systemReset(_ hart: Hart, _ fid: UInt64, _ type: UInt64, _ reason: UInt64) {
        guard fid == 0 else { return finish(hart, .notSupported) }
        let request: PowerRequest
        switch UInt32(truncatingIfNeeded: type) {
        case 0: request = reason == 1 ? .fail(code: 1) : .poweroff   // shutdown; reason 1 = system failure
        case 1, 2: request = .reboot                                  // cold / warm reboot
        default: return finish(hart, .invalidParameter)
        }
        platform.systemReset(request)
        hart.requestSliceEnd()
        finish(hart, .success)
    }

    func debugConsole(_ hart: Hart, _ fid: UInt64, _ args: (UInt64, UInt64, UInt64, UInt64)) {
        switch fid {
        case 0: // write(num_bytes, base_lo, base_hi): a physical address range in guest RAM
            let count = args.0, address = args.1
            guard count <= (1 << 20), let p = memory.pointer(address, length: count) else {
                return finish(hart, .invalidParameter)
            }
            for i in 0..<Int(count) { platform.consoleWrite(p.load(fromByteOffset: i, as: UInt8.self)) }
            finish(hart, .success, value: count)
        case 1: // read(num_bytes, base_lo, base_hi)
            let count = args.0, address = args.1
            guard count <= (1 << 20), let p = memory.pointer(address, length: count) else {
                return finish(hart, .invalidParameter)
            }
            var n = 0
            while n < Int(count), let byte = platform.consoleRead() {
                p.storeBytes(of: byte, toByteOffset: n, as: UInt8.self)
                n += 1
            }
            finish(hart, .success, value: UInt64(n))
        case 2: // write_byte
            platform.consoleWrite(UInt8(truncatingIfNeeded: args.0))
            finish(hart, .success)
        default:
            finish(hart, .notSupported)
        }
    }
}
