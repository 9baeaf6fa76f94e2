import Synchronization
import ZMTP
import ZeroMQTransport

/// A transport that carries whole messages over something other than a ZMTP byte stream:
/// libzmq's `pgm://` and `epgm://` (multicast with ZMTP/1.0 framing, no greeting, no handshake;
/// the `ZeroMQPGM` module), or one of your own. Register it with ``Context/register(_:)-(MessageTransport)``.
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
    func open(_ address: String, socketType: SocketType, options: SocketOptions) throws(ZeroMQError) -> any MessageTransportLink
}

/// One opened endpoint of a ``MessageTransport``. After ``start(pipe:reactor:host:)`` everything
/// runs on that reactor's thread.
public protocol MessageTransportLink: AnyObject, Sendable {
    /// Starts moving messages between `pipe` (its other end is the socket's) and the network:
    /// a sender reads whole messages from `pipe`, a receiver writes whole messages into it.
    func start(pipe: PipeEnd, reactor: Reactor, host: MessageTransportHost)

    /// The socket is done with this endpoint (close, unbind, disconnect): send what is queued
    /// for at most `linger` (nil: as long as it takes), release everything, then call
    /// ``MessageTransportHost/ended()``.
    func terminate(linger: Duration?)
}

/// What a ``MessageTransportLink`` reports to its socket and context. Thread-safe.
public final class MessageTransportHost: Sendable {
    /// The endpoint as the application gave it.
    public let endpoint: String
    private let events: SocketEventLog
    private let context: ContextCore
    private let over = Atomic<Bool>(false)

    init(endpoint: String, events: SocketEventLog, context: ContextCore) {
        self.endpoint = endpoint
        self.events = events
        self.context = context
    }

    /// Data the transport could not deliver and could not recover (a PGM receive window
    /// overrun, an unrepaired gap): raises ``SocketEvent/dataLost(endpoint:detail:)`` and counts
    /// it in ``SocketStatistics/dataLosses``. Never silent.
    public func reportDataLoss(_ detail: String) {
        events.record(.dataLost(endpoint: endpoint, detail: detail))
    }

    /// Raises any other event about this endpoint.
    public func record(_ event: SocketEvent) {
        events.record(event)
    }

    /// The link has released everything: context termination stops waiting for it. Once.
    public func ended() {
        guard !over.exchange(true, ordering: .acquiringAndReleasing) else { return }
        context.sessionEnded()
    }
}
