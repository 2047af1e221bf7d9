import CShims
#if canImport(Glibc)
import Glibc
#endif

/// Why a TAP interface cannot back a virtio-net device. The machine builder turns these into
/// messages that name the command-line flag.
public enum TapError: Error, Equatable, Sendable {
    /// /dev/net/tun is missing or the kernel has no tun driver.
    case noTunDriver(reason: String)
    /// Creating the interface needs CAP_NET_ADMIN; attaching to one needs it or ownership.
    case notPermitted(name: String, reason: String)
    /// Another process has the (single-queue) interface open.
    case inUse(name: String)
    /// An interface of that name exists but is a TUN, a multi-queue TAP or another kind of device.
    case notATap(name: String)
    case cannotOpen(name: String, reason: String)
}

/// A host TAP interface as a network backend: each read(2) of the descriptor gives one frame the
/// host sent to the interface, each write(2) puts one frame on it, both after a 12-byte
/// virtio-net header (IFF_NO_PI | IFF_VNET_HDR, TUNSETVNETHDRSZ 12, little-endian). The kernel
/// applies a written header's offloads itself (finishes the checksum, segments a TSO frame) and
/// fills in the header of what it hands over. The descriptor is non-blocking: a read with no
/// frame waiting returns EAGAIN, which is how the run loop polls it between hart slices for the
/// price of one system call.
///
/// Any descriptor that keeps frame boundaries reads and writes the same way, so tests adopt one
/// end of a SOCK_SEQPACKET socketpair with `init(descriptor:name:)`; the test on the other end
/// speaks the header too, and sees the receive offloads in `receiveOffloads`.
public final class TapBackend: NetBackend {
    /// What the descriptor is: only a TAP takes TUNSETOFFLOAD.
    private enum Kind { case tap, framedSocket }

    public let name: String
    /// The offloads last set with `setReceiveOffloads` (none at first).
    public private(set) var receiveOffloads: NetOffloads = []
    private let fd: Int32
    private let kind: Kind

    /// Attaches to TAP interface `name`, creating it (as root) when it does not exist.
    public init(name: String) throws(TapError) {
        var step: Int32 = 0
        let fd = trapeze_tap_open(name, &step)
        guard fd >= 0 else {
            let error = errno
            let reason = String(cString: strerror(error))
            if step == Int32(TRAPEZE_TAP_STEP_VNET.rawValue) {
                throw .cannotOpen(name: name, reason: "cannot set up its virtio-net header: \(reason)")
            }
            if step == Int32(TRAPEZE_TAP_STEP_OPEN.rawValue) {
                if error == ENOENT || error == ENODEV || error == ENXIO { throw .noTunDriver(reason: reason) }
                if error == EACCES || error == EPERM { throw .notPermitted(name: name, reason: reason) }
                throw .cannotOpen(name: name, reason: reason)
            }
            switch error {
            case EPERM, EACCES: throw .notPermitted(name: name, reason: reason)
            case EBUSY: throw .inUse(name: name)
            // TUNSETIFF: an existing interface of another kind, or flags that do not match it.
            case EINVAL: throw .notATap(name: name)
            default: throw .cannotOpen(name: name, reason: reason)
            }
        }
        self.fd = fd
        self.name = name
        kind = .tap
    }

    /// Adopts `descriptor` (non-blocking, frame-preserving); it is closed with the backend.
    public init(descriptor: Int32, name: String) {
        fd = descriptor
        self.name = name
        kind = .framedSocket
    }

    deinit { close(fd) }

    public var readinessDescriptor: Int32 { fd }

    public func receive(into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        while true {
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n > 0 { return n }
            if n < 0 && errno == EINTR { continue }
            // EAGAIN: nothing waits. Anything else (the interface went away) reads as silence too;
            // 0 is not a frame.
            return nil
        }
    }

    public func send(_ frame: UnsafeRawBufferPointer) -> Bool {
        while true {
            let n = write(fd, frame.baseAddress, frame.count)
            if n >= 0 { return n == frame.count }
            if errno == EINTR { continue }
            // EAGAIN (the host's queue is full), EIO (the interface is down), EINVAL (the kernel refused
            // the header's offloads): dropped, as on a wire.
            return false
        }
    }

    public func setReceiveOffloads(_ offloads: NetOffloads) -> Bool {
        if kind == .tap && trapeze_tap_set_offload(fd, offloads.rawValue) != 0 { return false }
        receiveOffloads = offloads
        return true
    }
}
