#if canImport(Glibc)
import Glibc
#endif

/// A bound, listening stream socket that accepts nothing yet: the part of a listener that
/// binds (so the bound endpoint and any error are known at once), for the built-in listeners and
/// for runtimes that accept on their own, such as SwiftNIO's `ServerBootstrap.withBoundSocket`.
public struct ListeningSocket: Sendable {
    /// The listening descriptor (non-blocking, close-on-exec). Whoever accepts on it owns it.
    public let fd: Int32
    /// The endpoint actually bound, with wildcards resolved (libzmq's `ZMQ_LAST_ENDPOINT`).
    public let boundEndpoint: String
    /// The ipc socket file and the temporary directory made for `ipc://*`, removed by
    /// ``removeFiles()``.
    private let files: (address: IPCAddress, temporaryDirectory: String?)?

    /// Binds and listens on a `tcp://` address (without its scheme): the first of its resolved
    /// addresses that binds.
    public static func tcp(_ endpoint: String, backlog: Int32) throws(TransportError) -> ListeningSocket {
        let parsed = try TCPEndpoint(endpoint)
        var lastError = TransportError.invalidEndpoint(endpoint, "no address to bind")
        for address in try parsed.resolve(passive: true) {
            let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { lastError = .system("socket", errno); continue }
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            let bound = address.withSockaddr { bind(fd, $0, $1) } == 0 && listen(fd, backlog) == 0
            guard bound else {
                lastError = .system("bind \(address)", errno)
                Glibc.close(fd)
                continue
            }
            return ListeningSocket(fd: fd, boundEndpoint: "tcp://" + (SocketAddress.local(of: fd)?.description ?? "?"), files: nil)
        }
        throw lastError
    }

    /// Binds and listens on an `ipc://` address, with or without its scheme (`*` for a fresh
    /// path in a new temporary directory). A socket file left by a process that is gone is
    /// replaced, as libzmq does.
    public static func ipc(_ text: String, backlog: Int32) throws(TransportError) -> ListeningSocket {
        var temporary: String?
        var address: IPCAddress
        if text == "*" || text == "ipc://*" {
            var template = Array("/tmp/zmq-XXXXXX".utf8CString)
            guard mkdtemp(&template) != nil else { throw TransportError.system("mkdtemp", errno) }
            let directory = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            temporary = directory
            address = try IPCAddress(directory + "/socket")
        } else {
            address = try IPCAddress(text)
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TransportError.system("socket", errno) }
        var bound = address.withSockaddr { bind(fd, $0, $1) } == 0
        if !bound && errno == EADDRINUSE && !address.isAbstract && isStale(address) {
            unlink(address.path)
            bound = address.withSockaddr { bind(fd, $0, $1) } == 0
        }
        guard bound, listen(fd, backlog) == 0 else {
            let code = errno
            Glibc.close(fd)
            if let temporary { rmdir(temporary) }
            throw TransportError.system("bind \(address)", code)
        }
        return ListeningSocket(fd: fd, boundEndpoint: address.description, files: (address, temporary))
    }

    /// Removes what an ipc bind made in the file system (nothing for tcp or an abstract name).
    public func removeFiles() {
        guard let files else { return }
        if !files.address.isAbstract { unlink(files.address.path) }
        if let directory = files.temporaryDirectory { rmdir(directory) }
    }

    /// A socket file whose owner is gone: connecting to it is refused.
    private static func isStale(_ address: IPCAddress) -> Bool {
        let probe = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard probe >= 0 else { return false }
        defer { Glibc.close(probe) }
        let result = address.withSockaddr { connect(probe, $0, $1) }
        return result != 0 && errno == ECONNREFUSED
    }
}
