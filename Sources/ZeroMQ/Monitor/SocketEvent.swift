import Synchronization
import ZMTP
import ZeroMQTransport

/// Something that happened to one of a socket's connections (libzmq's `zmq_socket_monitor`
/// events), as a typed value.
public enum SocketEvent: Sendable, Equatable, CustomStringConvertible {
    /// A bind succeeded (ZMQ_EVENT_LISTENING).
    case listening(endpoint: String)
    /// A connection was accepted (ZMQ_EVENT_ACCEPTED).
    case accepted(endpoint: String, peerAddress: String)
    /// A connect's attempt reached its peer (ZMQ_EVENT_CONNECTED).
    case connected(endpoint: String, peerAddress: String)
    /// A connect's attempt failed and will be retried after `after` (ZMQ_EVENT_CONNECT_RETRIED).
    case connectRetried(endpoint: String, after: Duration, error: TransportError)
    /// The ZMTP handshake completed (ZMQ_EVENT_HANDSHAKE_SUCCEEDED).
    case handshakeSucceeded(endpoint: String, peerAddress: String)
    /// The handshake failed: protocol error, authentication refused, incompatible socket types,
    /// timeout (ZMQ_EVENT_HANDSHAKE_FAILED_*).
    case handshakeFailed(endpoint: String, error: ZMTPError)
    /// An established connection ended: the peer closed it, the byte stream failed, or the
    /// protocol was violated (ZMQ_EVENT_DISCONNECTED).
    case disconnected(endpoint: String, reason: DisconnectReason)
    /// A listener or a connect ended for good (ZMQ_EVENT_CLOSED).
    case closed(endpoint: String)

    /// Why a connection ended.
    public enum DisconnectReason: Sendable, Equatable {
        case closedByPeer
        case transport(TransportError)
        case protocolError(ZMTPError)
        /// We closed it (close, disconnect, unbind, LINGER).
        case local
    }

    public var description: String {
        switch self {
        case .listening(let e): return "listening \(e)"
        case .accepted(let e, let p): return "accepted \(p) on \(e)"
        case .connected(let e, let p): return "connected \(e) (\(p))"
        case .connectRetried(let e, let after, let error): return "connect \(e) failed (\(error)); retry in \(after)"
        case .handshakeSucceeded(let e, let p): return "handshake with \(p) on \(e)"
        case .handshakeFailed(let e, let error): return "handshake on \(e) failed: \(error)"
        case .disconnected(let e, let reason): return "disconnected \(e): \(reason)"
        case .closed(let e): return "closed \(e)"
        }
    }
}

/// A socket's recent connection events, written by its I/O threads. Bounded: when full, the
/// oldest events are dropped and counted.
final class SocketEventLog: Sendable {
    static let capacity = 1024

    private struct State {
        var events: [SocketEvent] = []
        var dropped = 0
    }

    private let state = Mutex(State())

    func record(_ event: SocketEvent) {
        state.withLock { state in
            if state.events.count >= Self.capacity {
                state.events.removeFirst()
                state.dropped += 1
            }
            state.events.append(event)
        }
    }

    func take() -> (events: [SocketEvent], dropped: Int) {
        state.withLock { state in
            defer {
                state.events.removeAll()
                state.dropped = 0
            }
            return (state.events, state.dropped)
        }
    }
}
