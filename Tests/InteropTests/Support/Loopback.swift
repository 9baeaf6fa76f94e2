#if canImport(Glibc)
import Glibc
#endif
import ZMTP

/// A failure of the test harness itself (a socket call, the peer process), with enough context
/// to diagnose it from the test log.
struct InteropFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The current time on the monotonic clock, as the core wants it.
func monotonicNow() -> ZMTPInstant {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ZMTPInstant(nanoseconds: UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec))
}

/// Milliseconds from `now` until `deadline` (0 when passed).
func milliseconds(until deadline: ZMTPInstant, from now: ZMTPInstant = monotonicNow()) -> Int {
    deadline <= now ? 0 : Int((deadline.nanoseconds - now.nanoseconds) / 1_000_000) + 1
}

/// TCP on 127.0.0.1 with ephemeral ports only: the plain Glibc calls the core is driven over.
/// Every socket is close-on-exec, so no peer process (ours or another test's) inherits one and
/// keeps a connection open after the test closed it.
enum Loopback {
    /// 127.0.0.1:`port` as a `sockaddr_in`.
    static func address(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }

    static func errorText(_ call: String) -> String {
        "\(call) failed: \(String(cString: strerror(errno)))"
    }

    /// Makes `fd` non-blocking and disables Nagle (small frames go out at once).
    static func configure(_ fd: Int32) {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), 1 /* TCP_NODELAY */, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Connects to 127.0.0.1:`port` (loopback connects complete or fail at once) and returns a
    /// non-blocking socket.
    static func connect(port: UInt16) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw InteropFailure(errorText("socket")) }
        var address = address(port: port)
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard status == 0 else {
            let text = errorText("connect to 127.0.0.1:\(port)")
            close(fd)
            throw InteropFailure(text)
        }
        configure(fd)
        return fd
    }
}

/// A listening socket on 127.0.0.1 and an ephemeral port.
final class LoopbackListener {
    let fd: Int32
    let port: UInt16

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw InteropFailure(Loopback.errorText("socket")) }
        var address = Loopback.address(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 8) == 0 else {
            let text = Loopback.errorText("bind/listen on 127.0.0.1:0")
            close(fd)
            throw InteropFailure(text)
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        self.fd = fd
        self.port = UInt16(bigEndian: actual.sin_port)
    }

    /// Accepts one connection, waiting at most `timeoutMs`; `whileWaiting` runs between polls
    /// (it pumps the peer's output and throws if the peer died) so a broken peer fails fast.
    func accept(timeoutMs: Int, whileWaiting: () throws -> Void) throws -> Int32 {
        let deadline = monotonicNow().adding(.milliseconds(timeoutMs))
        while true {
            let fd = Glibc.accept(self.fd, nil, nil)
            if fd >= 0 {
                // accept4 (which sets it atomically) is not in the Glibc module.
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                Loopback.configure(fd)
                return fd
            }
            guard errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR else {
                throw InteropFailure(Loopback.errorText("accept"))
            }
            try whileWaiting()
            let remaining = milliseconds(until: deadline)
            guard remaining > 0 else {
                throw InteropFailure("no connection to 127.0.0.1:\(port) within \(timeoutMs) ms")
            }
            var pfd = pollfd(fd: self.fd, events: Int16(POLLIN), revents: 0)
            _ = poll(&pfd, 1, Int32(min(remaining, 20)))
        }
    }

    deinit { close(fd) }
}
