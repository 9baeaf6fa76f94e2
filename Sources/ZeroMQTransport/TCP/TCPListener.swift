#if canImport(Glibc)
import Glibc
#endif
import CSysShim

/// A listening TCP socket on a reactor: accepts connections and hands each descriptor (non-
/// blocking, `TCP_NODELAY`, close-on-exec) to its owner; out of descriptors, it pauses rather
/// than spin (``AcceptBackoff``). Reactor thread only, after `init` (hence `@unchecked
/// Sendable`: it is handed to the reactor once, then confined to it).
public final class TCPListener: @unchecked Sendable {
    /// The endpoint actually bound, with the real port (libzmq's `ZMQ_LAST_ENDPOINT`).
    public let boundEndpoint: String

    private let loop: AcceptLoop
    /// Told when accepting fails (see ``AcceptFailure``).
    var onAcceptFailure: ((AcceptFailure) -> Void)? {
        get { loop.onFailure }
        set { loop.onFailure = newValue }
    }

    /// Binds and listens at once (so the bound port is known); accepting starts with ``start()``.
    public init(endpoint: String, reactor: any IODriver, backlog: Int32 = 100, options: TransportOptions = TransportOptions(),
                onAccept: @escaping (_ fd: Int32, _ peer: SocketAddress?) -> Void) throws(TransportError) {
        let bound = try ListeningSocket.tcp(endpoint, backlog: backlog)
        boundEndpoint = bound.boundEndpoint
        loop = AcceptLoop(fd: bound.fd, reactor: reactor) { client in
            TCPOptions.configure(client, options)
            onAccept(client, SocketAddress.peer(of: client))
        }
    }

    /// Starts accepting (on the reactor's thread).
    public func start() throws(TransportError) {
        try loop.start()
    }

    /// Stops accepting and closes the listening socket (on the reactor's thread).
    public func close() {
        loop.close()
    }
}

/// The options every connected TCP descriptor gets.
public enum TCPOptions {
    /// Gives a connected descriptor TCP_NODELAY and the keepalive `options`.
    public static func configure(_ fd: Int32, _ options: TransportOptions) {
        set(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
        if let keepalive = options.tcpKeepalive { set(fd, SOL_SOCKET, SO_KEEPALIVE, keepalive ? 1 : 0) }
        if let count = options.tcpKeepaliveCount { set(fd, Int32(IPPROTO_TCP), TCP_KEEPCNT, count) }
        if let idle = options.tcpKeepaliveIdle { set(fd, Int32(IPPROTO_TCP), TCP_KEEPIDLE, idle) }
        if let interval = options.tcpKeepaliveInterval { set(fd, Int32(IPPROTO_TCP), TCP_KEEPINTVL, interval) }
    }

    private static func set(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) {
        var value = value
        setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size))
    }
}
