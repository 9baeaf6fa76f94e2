#if canImport(Glibc)
import Glibc
#endif
import CSysShim

/// An eventfd that one thread signals and another waits on through its poller (libzmq's
/// `signaler_t`). Signals coalesce: many `signal()` calls before one `drain()` wake once.
public final class WakeupSignal: @unchecked Sendable {
    /// The descriptor to register for ``IOEvents/readable``.
    public let fd: Int32

    /// Creates the eventfd, non-blocking and close-on-exec.
    /// - Throws: the `eventfd` failure, out of descriptors for instance.
    public init() throws(TransportError) {
        fd = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard fd >= 0 else { throw TransportError.system("eventfd", errno) }
    }

    deinit { close(fd) }

    /// Makes ``fd`` readable (from any thread).
    public func signal() {
        var one: UInt64 = 1
        while true {
            let n = write(fd, &one, 8)
            if n == 8 || errno != EINTR { return }
        }
    }

    /// Consumes every pending signal (on the waiting thread).
    public func drain() {
        var value: UInt64 = 0
        while read(fd, &value, 8) < 0 && errno == EINTR {}
    }
}
