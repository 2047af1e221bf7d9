/// A device that answers loads and stores in a range of guest-physical addresses.
///
/// `offset` is relative to the start of the device's range; `size` is 1, 2, 4 or 8 bytes.
/// The guest is hostile: every offset, size and value may be anything. A device answers
/// what hardware would (zero for unknown registers, ignored writes), never traps the host.
public protocol MMIODevice: AnyObject {
    var name: String { get }
    func read(offset: UInt64, size: Int) -> UInt64
    func write(offset: UInt64, size: Int, value: UInt64)
}

/// Something that takes interrupt requests from devices, by line number: the PLIC on the virt board.
public protocol InterruptSink: AnyObject {
    func setLevel(irq: Int, high: Bool)
}

/// Where a device's byte output goes (the console for the UART).
public protocol ByteSink: AnyObject {
    func write(byte: UInt8)
}

/// What the syscon (sifive,test) device asks of the machine.
public enum PowerRequest: Equatable, Sendable {
    case poweroff
    case reboot
    /// A failure code, as the sifive test device's FAIL command carries it.
    case fail(code: UInt16)
}

public protocol PowerControl: AnyObject {
    func request(_ request: PowerRequest)
}
