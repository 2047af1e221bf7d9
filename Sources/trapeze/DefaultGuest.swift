#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Machine

/// The guest `trapeze run` boots when no kernel is given: the one guests/build.sh put in the
/// image cache, `${TRAPEZE_CACHE:-$HOME/.cache/trapeze}/current/`.
struct DefaultGuest {
    /// The kernel command line: the console on the device `--console` names (earlycon=sbi prints
    /// until the console driver is up, which for the virtio-console is late in boot).
    ///
    /// The virtio port is hvc0 because the default kernel leaves out HVC_RISCV_SBI, whose SBI
    /// console would claim hvc0 at console_initcall, before virtio-console probes.
    static func commandLine(for console: ConsoleDevice) -> String {
        switch console {
        case .uart: return "console=ttyS0 earlycon=sbi panic=-1"
        case .virtio: return "console=hvc0 earlycon=sbi panic=-1"
        }
    }

    let kernel: String
    let initrd: String

    /// The cached guest, or an error naming the cache when it has not been built.
    ///
    /// The uncompressed initramfs is preferred when the cache has it: unpacking the gzip one is
    /// about 40% of the guest instructions up to /init (measured), which halves boot time.
    static func find() throws -> DefaultGuest {
        let cache = cacheDirectory()
        let kernel = cache + "/current/Image"
        let initrd = ["/current/initramfs.cpio", "/current/initramfs.cpio.gz"]
            .map { cache + $0 }
            .first { access($0, R_OK) == 0 }
        guard access(kernel, R_OK) == 0, let initrd else {
            throw DefaultGuestError.notBuilt(cache: cache)
        }
        return DefaultGuest(kernel: kernel, initrd: initrd)
    }

    static func cacheDirectory() -> String {
        if let cache = environment("TRAPEZE_CACHE"), !cache.isEmpty { return cache }
        return (environment("HOME") ?? "") + "/.cache/trapeze"
    }

    private static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}

enum DefaultGuestError: Error, CustomStringConvertible {
    case notBuilt(cache: String)

    var description: String {
        switch self {
        case .notBuilt(let cache):
            return "no default guest image in \(cache); build it with guests/build.sh (or pass --kernel)"
        }
    }
}
