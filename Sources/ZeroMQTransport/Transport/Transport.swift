/// A connected stream a transport hands to the engine: a descriptor the engine reads and writes
/// itself on its driver, or a ``ByteStream`` that pushes what it receives.
public struct StreamConnection: Sendable {
    /// What carries the bytes.
    public enum Medium: @unchecked Sendable {
        /// A connected stream socket; the engine owns it from now on, makes it non-blocking, and
        /// closes it.
        case descriptor(Int32)
        /// A stream of the driver's runtime; the engine owns it from now on and closes it.
        /// (Handed from the transport to the engine on the driver's thread, and used only there.)
        case byteStream(any ByteStream)
    }

    /// What carries the bytes.
    public var medium: Medium
    /// The peer's address as the transport names it (`127.0.0.1:5555`, an ipc path, …): the
    /// `Peer-Address` message property and ZAP's address.
    public var peerAddress: String

    /// A connection over the descriptor `fd`, from the peer at `peerAddress`.
    public init(fd: Int32, peerAddress: String) {
        self.medium = .descriptor(fd)
        self.peerAddress = peerAddress
    }

    /// A connection over `stream`, from the peer at `peerAddress`.
    public init(stream: any ByteStream, peerAddress: String) {
        self.medium = .byteStream(stream)
        self.peerAddress = peerAddress
    }

    /// The descriptor, when the medium is one.
    public var fd: Int32? {
        if case .descriptor(let fd) = medium { return fd }
        return nil
    }
}

/// The socket options that reach a transport (libzmq's `ZMQ_BACKLOG`, `ZMQ_TCP_KEEPALIVE*`,
/// `ZMQ_IPV6`).
public struct TransportOptions: Sendable, Equatable {
    /// Pending connections a listener queues (ZMQ_BACKLOG, default 100).
    public var backlog: Int32 = 100
    /// SO_KEEPALIVE: nil leaves the system default (libzmq's -1), true/false sets it.
    public var tcpKeepalive: Bool? = nil
    /// Unanswered keepalive probes before the connection is dropped (TCP_KEEPCNT; nil: the
    /// system default).
    public var tcpKeepaliveCount: Int32? = nil
    /// Seconds a connection is idle before the first probe (TCP_KEEPIDLE; nil: the system
    /// default). Whole seconds because that is the unit the kernel takes.
    public var tcpKeepaliveIdle: Int32? = nil
    /// Seconds between probes (TCP_KEEPINTVL; nil: the system default).
    public var tcpKeepaliveInterval: Int32? = nil

    /// The system defaults, and a backlog of 100 as libzmq.
    public init() {}
}

/// A bound endpoint accepting connections (on its reactor's thread).
public protocol TransportListener: AnyObject {
    /// The endpoint actually bound, with wildcards resolved (libzmq's ZMQ_LAST_ENDPOINT).
    var boundEndpoint: String { get }
    /// Starts accepting.
    func start() throws(TransportError)
    /// Stops accepting and releases the endpoint (an ipc listener removes its socket file).
    func close()
}

/// One connection attempt (on its reactor's thread). Retrying belongs to the session.
public protocol TransportConnecter: AnyObject {
    /// Starts the attempt; its completion runs once, on the reactor's thread.
    func start()
    /// Abandons the attempt; the completion is not called afterwards.
    func cancel()
}

/// A way to carry ZMTP byte streams, chosen by an endpoint's scheme (`tcp://`, `ipc://`, or a
/// scheme of your own, registered with the Context). `listen` runs on the thread that binds
/// (it binds at once, so errors and the bound endpoint are known to `bind`); the listener's
/// `start`/`close`, `connect` and the connecter it returns run on `reactor`'s thread, and so do
/// the `onAccept` and `completion` callbacks.
///
/// A transport produces connected stream descriptors; the engine drives ZMTP over them. The
/// built-in `tcp` and `ipc` transports are implemented with this protocol too.
public protocol Transport: Sendable {
    /// The endpoint scheme, without `://`.
    var scheme: String { get }
    /// Binds `address` (the endpoint without its scheme) and calls `onAccept`, on `reactor`'s
    /// thread, for every connection once the listener is started.
    func listen(at address: String, options: TransportOptions, reactor: any IODriver,
                onAccept: @escaping (StreamConnection) -> Void) throws(TransportError) -> any TransportListener
    /// ``listen(at:options:reactor:onAccept:)``, also reporting connections that could not be
    /// accepted (out of descriptors, …) so they become events and counts. The default ignores
    /// them.
    func listen(at address: String, options: TransportOptions, reactor: any IODriver,
                onAccept: @escaping (StreamConnection) -> Void,
                onAcceptFailure: @escaping (AcceptFailure) -> Void) throws(TransportError) -> any TransportListener
    /// Prepares one attempt to connect to `address`; `completion` runs once, on the reactor.
    func connect(to address: String, options: TransportOptions, reactor: any IODriver,
                 completion: @escaping (Result<StreamConnection, TransportError>) -> Void) -> any TransportConnecter
    /// Checks an address's syntax at once, so `connect` can fail synchronously as libzmq does.
    func validate(_ address: String) throws(TransportError)
}

extension Transport {
    public func listen(at address: String, options: TransportOptions, reactor: any IODriver,
                       onAccept: @escaping (StreamConnection) -> Void,
                       onAcceptFailure: @escaping (AcceptFailure) -> Void) throws(TransportError) -> any TransportListener {
        try listen(at: address, options: options, reactor: reactor, onAccept: onAccept)
    }
}
