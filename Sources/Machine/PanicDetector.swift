import Devices

/// Passes console output through and remembers whether the guest kernel printed its panic
/// banner, so that the reboot a `panic=-1` kernel performs ends trapeze with a failure status
/// (Linux 6.1 asks SBI for an ordinary reboot after a panic; nothing else tells the two apart).
final class PanicDetector: ByteSink {
    static let banner = Array("Kernel panic - not syncing".utf8)
    let next: ByteSink
    private var matched = 0
    private(set) var sawPanic = false

    init(forwardingTo next: ByteSink) { self.next = next }

    func write(byte: UInt8) {
        next.write(byte: byte)
        if byte == Self.banner[matched] {
            matched += 1
            if matched == Self.banner.count {
                sawPanic = true
                matched = 0
            }
        } else {
            // The banner has no repeated prefix, so a mismatch restarts at this byte.
            matched = byte == Self.banner[0] ? 1 : 0
        }
    }
}
