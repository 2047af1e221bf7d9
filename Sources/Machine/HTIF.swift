import Devices
import GuestMemory

/// The Host-Target Interface of RISC-V test suites: the guest writes a command to the
/// `tohost` doubleword, the host answers and clears it. Device 0 command 0 with bit 0 set is
/// "exit with code payload >> 1"; device 1 command 1 writes one console character.
final class HTIF {
    let memory: GuestMemory
    let tohost: UInt64
    let fromhost: UInt64?
    let console: ByteSink
    unowned let power: PowerControl
    /// The exit code the guest reported, once it did.
    private(set) var exitCode: UInt64?

    init(memory: GuestMemory, tohost: UInt64, fromhost: UInt64?, console: ByteSink, power: PowerControl) {
        self.memory = memory
        self.tohost = tohost
        self.fromhost = fromhost
        self.console = console
        self.power = power
    }

    /// Called after every store to tohost's page. A command is complete once its high word is
    /// written (tests store it as one doubleword or as low then high word).
    func stored(at address: UInt64, size: Int) {
        guard address < tohost + 8, address + UInt64(size) > tohost + 4 else { return }
        guard let value: UInt64 = memory.load(tohost), value != 0 else { return }
        let device = value >> 56
        let command = (value >> 48) & 0xff
        let payload = value & 0xffff_ffff_ffff
        switch (device, command) {
        case (0, 0) where payload & 1 == 1:
            let code = payload >> 1
            exitCode = code
            power.request(code == 0 ? .poweroff : .fail(code: UInt16(truncatingIfNeeded: min(code, 0xffff))))
        case (1, 1):
            console.write(byte: UInt8(truncatingIfNeeded: payload))
            if let fromhost { memory.store(fromhost, (device << 56) | (command << 48) | 1) }
        default:
            break
        }
        memory.store(tohost, UInt64(0))
    }
}
