import ZMTP
import ZeroMQTransport

/// The socket's side of one pipe to a peer: the pipe end plus what the socket knows of the peer
/// (libzmq's `pipe_t` as a socket sees it). Socket thread only.
final class PeerPipe {
    let pipe: PipeEnd
    /// Who is at the other end; nil for a connect's pipe until its first handshake completes.
    var peer: PeerDescription?
    /// The endpoint of ours this pipe belongs to (for unbind/disconnect).
    let endpoint: String
    /// The session behind it (nil for inproc).
    let session: SessionID?
    /// The routing id a ROUTER or STREAM gave it.
    var routingId: [UInt8] = []
    /// The routing id a ROUTER/STREAM connect was told to use (ZMQ_CONNECT_ROUTING_ID).
    var assignedRoutingId: [UInt8]?
    /// How many handshakes completed on this pipe: a connect's pipe survives reconnects, and a
    /// count above 1 tells SUB to send its subscriptions again (libzmq's hiccup).
    var handshakes = 0
    /// XPUB/PUB: the prefixes this peer subscribed to.
    var subscriptions = SubscriptionTrie()

    init(pipe: PipeEnd, peer: PeerDescription?, endpoint: String, session: SessionID?) {
        self.pipe = pipe
        self.peer = peer
        self.endpoint = endpoint
        self.session = session
    }

    /// ZMQ_PROBE_ROUTER: an empty message first, so that a ROUTER learns us before we speak.
    func sendProbe() {
        pipe.write(Message.empty)
        pipe.flush()
    }

    /// The properties messages from this peer carry (Socket-Type, Identity, Peer-Address, …).
    var properties: Metadata { peer?.properties ?? Metadata() }
}

extension PeerPipe: Hashable {
    static func == (lhs: PeerPipe, rhs: PeerPipe) -> Bool { lhs === rhs }
    func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}

/// One message part received by a pattern, with the pipe it came from (for properties; nil
/// when the caller did not ask, which spares a retain of the pipe per message).
struct Inbound {
    var message: Message
    var from: PeerPipe?
}

/// A socket type's routing logic (libzmq's `xsend`/`xrecv`/`xattach_pipe`… of each socket
/// class). Runs on the socket's thread. Messages move one part at a time; ``send(_:)`` is asked
/// about a message's first part and must accept every later part of it.
///
/// The contract every pattern class meets; the socket holds its pattern as a ``Pattern``, an
/// enum of the concrete classes, and calls them directly, never through this protocol.
protocol SocketPattern: AnyObject {
    /// The socket's options; the socket sets this whenever they change.
    var options: SocketOptions { get set }
    /// A new pipe. It starts readable and writable: the pattern tries it until a read or a write
    /// fails, then waits for ``readActivated(_:)`` / ``writeActivated(_:)``.
    func attach(_ peer: PeerPipe)
    /// A connect's pipe, attached before its peer existed, now has a handshaken peer.
    func identified(_ peer: PeerPipe)
    /// The pipe is gone (its peer closed and everything was read, or the socket dropped it).
    func detach(_ peer: PeerPipe)
    func readActivated(_ peer: PeerPipe)
    func writeActivated(_ peer: PeerPipe)
    /// Sends one part, taking it over: the part moves from the caller into a pipe without a
    /// copy. Gives it back untouched (``SendOutcome/wouldBlock(_:)``) when it is a message's
    /// first part and no pipe can take it now; throws for a send the pattern refuses.
    func send(_ message: consuming Message) throws(ZeroMQError) -> SendOutcome
    /// The next part, or nil when none is ready; with the pipe it came from when `wantsSource`.
    func receive(wantsSource: Bool) throws(ZeroMQError) -> Inbound?
    /// Whether a send of a new message could succeed now (ZMQ_POLLOUT).
    var canSend: Bool { get }
    /// Whether a receive would succeed now (ZMQ_POLLIN).
    var canReceive: Bool { get }
    /// ZMQ_SUBSCRIBE / ZMQ_UNSUBSCRIBE (SUB, XSUB; XPUB in manual mode).
    func subscribe(_ topic: [UInt8]) throws(ZeroMQError)
    func unsubscribe(_ topic: [UInt8]) throws(ZeroMQError)
    /// Messages this pattern dropped as it may: at a full peer (PUB at HWM) or for want of a
    /// route (ROUTER without ROUTER_MANDATORY, a REP reply to a peer that left).
    var drops: DropCounts { get }
}

extension SocketPattern {
    func identified(_ peer: PeerPipe) {}
    func subscribe(_ topic: [UInt8]) throws(ZeroMQError) { throw .notSupported("subscribe on this socket type") }
    func unsubscribe(_ topic: [UInt8]) throws(ZeroMQError) { throw .notSupported("unsubscribe on this socket type") }
    var drops: DropCounts { DropCounts() }
}

/// What a pattern did with a part handed to it (``SocketPattern/send(_:)``).
enum SendOutcome {
    /// The part went into a pipe, or was dropped as the pattern's rules say.
    case sent
    /// No pipe can take a message's first part now: the part comes back, so that a blocking
    /// send retries it without having copied it.
    case wouldBlock(Message)

    /// Whether the part went (or was dropped by rule).
    var wasSent: Bool {
        if case .sent = self { return true }
        return false
    }
}

/// Messages a pattern dropped, by cause.
public struct DropCounts: Sendable, Hashable {
    /// The peer's queue was at its high-water mark (PUB/XPUB, XSUB, ROUTER, REP).
    public var atHighWaterMark = 0
    /// No peer to send to: an unknown routing id, a REP reply whose requester left.
    public var noRoute = 0

    /// Drops of every cause.
    public var total: Int { atHighWaterMark + noRoute }

    /// Counts with these values; zero by default.
    public init(atHighWaterMark: Int = 0, noRoute: Int = 0) {
        self.atHighWaterMark = atHighWaterMark
        self.noRoute = noRoute
    }
}
