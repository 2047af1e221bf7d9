#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The guest `trapeze run` boots when no kernel is given: the one guests/build.sh put in the
/// image cache, `${TRAPEZE_CACHE:-$HOME/.cache/trapeze}/current/`.
struct DefaultGuest {
    static let commandLine = "console=ttyS0 earlycon=sbi panic=-1"

    let kernel: String
    let initrd: String

    /// The cached guest, or an error naming the cache when it has not been built.
    static func find() throws -> DefaultGuest {
        let cache = cacheDirectory()
        let guest = DefaultGuest(kernel: cache + "/current/Image", initrd: cache + "/current/initramfs.cpio.gz")
        guard access(guest.kernel, R_OK) == 0, access(guest.initrd, R_OK) == 0 else {
            throw DefaultGuestError.notBuilt(cache: cache)
        }
        return guest
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
