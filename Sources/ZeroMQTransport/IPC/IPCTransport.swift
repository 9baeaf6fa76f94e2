#if canImport(Glibc)
import Glibc
#endif

/// `ipc://`: Unix domain stream sockets, with filesystem paths or Linux abstract names.
public struct IPCTransport: Transport {
    /// The ipc transport; it holds no state, so one instance serves every socket.
    public init() {}

    public var scheme: String { "ipc" }

    public func validate(_ address: String) throws(TransportError) {
        _ = try IPCAddress(address)
    }

    public func listen(at address: String, options: TransportOptions, reactor: any IODriver,
                       onAccept: @escaping (StreamConnection) -> Void) throws(TransportError) -> any TransportListener {
        try IPCListener(address: address, reactor: reactor, backlog: options.backlog, onAccept: onAccept)
    }

    public func listen(at address: String, options: TransportOptions, reactor: any IODriver,
                       onAccept: @escaping (StreamConnection) -> Void,
                       onAcceptFailure: @escaping (AcceptFailure) -> Void) throws(TransportError) -> any TransportListener {
        let listener = try IPCListener(address: address, reactor: reactor, backlog: options.backlog, onAccept: onAccept)
        listener.onAcceptFailure = onAcceptFailure
        return listener
    }

    public func connect(to address: String, options: TransportOptions, reactor: any IODriver,
                        completion: @escaping (Result<StreamConnection, TransportError>) -> Void) -> any TransportConnecter {
        IPCConnecter(address: address, reactor: reactor, completion: completion)
    }
}

/// A listening Unix domain socket. A socket file left by a process that died (nobody accepts
/// on it) is replaced; a live one makes the bind fail with `EADDRINUSE`. The file is removed when
/// the listener closes. Out of descriptors, it pauses rather than spin (``AcceptBackoff``).
public final class IPCListener: TransportListener, @unchecked Sendable {
    public let boundEndpoint: String
    private let socket: ListeningSocket
    private let loop: AcceptLoop
    private var closed = false
    /// Told when accepting fails (see ``AcceptFailure``).
    var onAcceptFailure: ((AcceptFailure) -> Void)? {
        get { loop.onFailure }
        set { loop.onFailure = newValue }
    }

    /// Binds and listens on `text` (`*` for a fresh path), accepting on `reactor`'s thread.
    /// - Parameters:
    ///   - text: the `ipc://` address, with or without its prefix.
    ///   - reactor: the I/O thread that accepts.
    ///   - backlog: pending connections the kernel queues (ZMQ_BACKLOG).
    ///   - onAccept: each accepted connection, on the reactor's thread.
    /// - Throws: an invalid address, or the failing `socket`, `bind` or `listen`.
    public init(address text: String, reactor: any IODriver, backlog: Int32 = 100,
                onAccept: @escaping (StreamConnection) -> Void) throws(TransportError) {
        socket = try ListeningSocket.ipc(text, backlog: backlog)
        loop = AcceptLoop(fd: socket.fd, reactor: reactor) { client in
            onAccept(StreamConnection(fd: client, peerAddress: IPCPeer.address(of: client)))
        }
        boundEndpoint = socket.boundEndpoint
    }

    /// The loop closes the descriptor (on close, or when it is released).
    deinit { if !closed { socket.removeFiles() } }

    public func start() throws(TransportError) {
        try loop.start()
    }

    public func close() {
        guard !closed else { return }
        closed = true
        loop.close()
        socket.removeFiles()
    }
}

/// One connection attempt to a Unix domain socket.
public final class IPCConnecter: TransportConnecter, @unchecked Sendable {
    private let text: String
    private let attempt: StreamConnectAttempt

    /// Starts connecting to `address` on `reactor`; `completion` runs once, on the reactor's thread,
    /// with the connected stream or the error.
    public init(address: String, reactor: any IODriver, completion: @escaping (Result<StreamConnection, TransportError>) -> Void) {
        self.text = address
        let path = (try? IPCAddress(address))?.path ?? address
        attempt = StreamConnectAttempt(reactor: reactor, label: "connect ipc://\(path)") { result in
            completion(result.map { StreamConnection(fd: $0, peerAddress: IPCPeer.address(of: $0)) })
        }
    }

    public func start() {
        let text = text
        attempt.start { (fd: inout Int32) throws(TransportError) -> Int32 in
            let address = try IPCAddress(text)
            fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw TransportError.system("socket", errno) }
            let socket = fd
            return address.withSockaddr { connect(socket, $0, $1) }
        }
    }

    public func cancel() {
        attempt.cancel()
    }
}

/// How libzmq names the process at the other end of a Unix domain socket (its `Peer-Address`
/// property and ZAP address): `localhost:uid:gid:pid` from SO_PEERCRED (glibc's getnameinfo
/// calls any AF_UNIX peer "localhost"), so a ZAP handler can authorise local processes by user.
enum IPCPeer {
    /// Linux's SO_PEERCRED (Swift's Glibc module leaves it out with `struct ucred`).
    static let peerCredentialsOption: Int32 = 17

    /// `localhost:uid:gid:pid` of the process at the other end of `fd`.
    static func address(of fd: Int32) -> String {
        // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
        var credentials: (pid: Int32, uid: UInt32, gid: UInt32) = (0, 0, 0)
        var length = socklen_t(MemoryLayout<(Int32, UInt32, UInt32)>.size)
        let result = withUnsafeMutableBytes(of: &credentials) { raw in
            getsockopt(fd, SOL_SOCKET, peerCredentialsOption, raw.baseAddress, &length)
        }
        guard result == 0 else { return "localhost" }
        return "localhost:\(credentials.uid):\(credentials.gid):\(credentials.pid)"
    }
}
