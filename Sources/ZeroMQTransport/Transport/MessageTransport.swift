import Synchronization
import ZMTP

/// A transport that carries whole messages over something other than a ZMTP byte stream:
/// libzmq's `pgm://` and `epgm://` (multicast with ZMTP/1.0 framing, no greeting, no handshake;
/// the `ZeroMQPGM` module), or one of your own. A context learns it with
/// `context.register(_:)`, by scheme, as it learns a stream ``Transport``.
///
/// Such a transport has no peers the socket can tell apart: each bind or connect opens one
/// ``MessageTransportLink``, which the socket treats as one peer with one pipe. Bind and connect
/// mean the same thing, as for libzmq's pgm.
public protocol MessageTransport: Sendable {
    /// The endpoint scheme, without `://`.
    var scheme: String { get }

    /// Opens `address` (the endpoint without its scheme) for a socket of `socketType`. Runs on
    /// the thread that binds or connects, so every error (a socket type the transport cannot
    /// serve, a malformed endpoint, a missing interface) reaches `bind`/`connect` at once, typed.
    /// Create descriptors here: they belong to the calling thread's network namespace.
    func open(_ address: String, socketType: SocketType,
              options: MessageTransportOptions) throws(MessageTransportError) -> any MessageTransportLink
}

/// One opened endpoint of a ``MessageTransport``. After ``start(pipe:reactor:host:)`` everything
/// runs on that reactor's thread.
public protocol MessageTransportLink: AnyObject, Sendable {
    /// Starts moving messages between `pipe` (its other end is the socket's) and the network:
    /// a sender reads whole messages from `pipe`, a receiver writes whole messages into it.
    func start(pipe: PipeEnd, reactor: any IODriver, host: MessageTransportHost)

    /// The socket is done with this endpoint (close, unbind, disconnect): send what is queued
    /// for at most `linger` (nil: as long as it takes), release everything, then call
    /// ``MessageTransportHost/ended()``.
    func terminate(linger: Duration?)
}

/// The socket options that reach a message transport (libzmq's `ZMQ_RATE`, `ZMQ_RECOVERY_IVL`,
/// `ZMQ_MULTICAST_HOPS`, `ZMQ_MULTICAST_MAXTPDU`, `ZMQ_SNDBUF`, `ZMQ_RCVBUF`, and the receive
/// limit). The defaults are libzmq's.
public struct MessageTransportOptions: Sendable, Equatable {
    /// The data rate in kbit/s (ZMQ_RATE, default 100).
    public var rate = 100
    /// How long lost data can be repaired (ZMQ_RECOVERY_IVL, default 10 s).
    public var recoveryInterval: Duration = .seconds(10)
    /// The IP TTL of multicast packets (ZMQ_MULTICAST_HOPS, default 1).
    public var multicastHops = 1
    /// The largest packet, in bytes (ZMQ_MULTICAST_MAXTPDU, default 1500).
    public var multicastMaxTPDU = 1500
    /// The kernel's send buffer, in bytes (ZMQ_SNDBUF; nil: the system's).
    public var sendBufferSize: Int? = nil
    /// The kernel's receive buffer, in bytes (ZMQ_RCVBUF; nil: the system's).
    public var receiveBufferSize: Int? = nil
    /// The largest message part a receiver accepts from the network, refused from its header:
    /// the socket's ZMQ_MAXMSGSIZE within its receive memory limit (16 MiB by default), since
    /// any host on a group can send.
    public var maxFrameSize = 16 << 20

    /// libzmq's defaults.
    public init() {}
}

/// Why a ``MessageTransport`` could not open an endpoint: a code the socket layer maps to the
/// error its `bind`/`connect` throws, and what happened.
public struct MessageTransportError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure. Extensible: a transport may define codes of its own; the socket
    /// layer reports a code it does not know as an invalid argument.
    public struct Code: RawRepresentable, Hashable, Sendable {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        /// The transport cannot serve this socket type (libzmq: ENOCOMPATPROTO).
        public static let socketTypeNotServed = Code(rawValue: 1)
        /// The address is malformed or names nothing usable: no such interface, no route
        /// (libzmq: EINVAL).
        public static let invalidAddress = Code(rawValue: 2)
        /// The operating system refused (``MessageTransportError/systemCode`` holds the `errno`
        /// when there is one).
        public static let system = Code(rawValue: 3)
    }

    /// What kind of failure.
    public var code: Code
    /// What happened, for people.
    public var detail: String
    /// The `errno` behind a ``Code/system`` failure (0 when unknown).
    public var systemCode: Int32

    /// A failure of kind `code`, described by `detail`, with the `errno` behind it if any.
    public init(_ code: Code, _ detail: String, systemCode: Int32 = 0) {
        self.code = code
        self.detail = detail
        self.systemCode = systemCode
    }

    public var description: String { detail }
}

/// What a ``MessageTransportLink`` reports about its endpoint.
public enum MessageTransportEvent: Sendable, Equatable {
    /// Data the transport could not deliver and could not recover (a PGM receive window
    /// overrun, an unrepaired gap).
    case dataLost(detail: String)
    /// The network failed under the link: it ends, or, for a receiver, backs off and goes on.
    case failed(TransportError)
}

/// Where a ``MessageTransportLink`` reports to its socket and context. Thread-safe. The socket
/// layer makes one per link; a test of a transport can make its own.
public final class MessageTransportHost: Sendable {
    /// The endpoint as the application gave it.
    public let endpoint: String
    private let report: @Sendable (MessageTransportEvent) -> Void
    private let end: @Sendable () -> Void
    private let over = Atomic<Bool>(false)

    /// A host for `endpoint` that passes events to `report` and the link's end, once, to
    /// `ended`.
    public init(endpoint: String, report: @escaping @Sendable (MessageTransportEvent) -> Void,
                ended: @escaping @Sendable () -> Void) {
        self.endpoint = endpoint
        self.report = report
        self.end = ended
    }

    /// Data lost for good: never silent (the sockets raise a `dataLost` event and count it).
    public func reportDataLoss(_ detail: String) {
        report(.dataLost(detail: detail))
    }

    /// The network failed under the link (the sockets raise a `disconnected` event).
    public func reportFailure(_ error: TransportError) {
        report(.failed(error))
    }

    /// The link has released everything: context termination stops waiting for it. Once.
    public func ended() {
        guard !over.exchange(true, ordering: .acquiringAndReleasing) else { return }
        end()
    }
}
