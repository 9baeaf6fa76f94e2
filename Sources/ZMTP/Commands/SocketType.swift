/// The ZeroMQ socket types, with libzmq's numbers and the names sent in `Socket-Type`
/// (RFC 23 §Socket Types, RFC 37, and the draft RFCs 41/48/49/51/52).
///
/// A socket's type is its messaging pattern: it decides which peer types it may connect to
/// (``compatiblePeers``), whether it sends, receives or both, and how it spreads outgoing
/// messages over its peers and queues incoming ones. The pairs that work together:
///
/// | Pattern | Types | Shape |
/// |---|---|---|
/// | Request-reply | ``req`` with ``rep``; ``dealer`` and ``router`` for asynchronous ends and brokers | each request gets one reply |
/// | Publish-subscribe | ``pub`` with ``sub``; ``xpub`` and ``xsub`` to see subscriptions (proxies) | one to many, filtered by topic prefix |
/// | Pipeline | ``push`` with ``pull`` | work spread round-robin, results fanned in |
/// | Exclusive pair | ``pair`` with ``pair`` | one peer each way, usually over inproc |
/// | Raw TCP | ``stream`` | talks to non-ZeroMQ TCP peers |
///
/// The draft types (`server` to `channel`, RFCs 41/48/49/51/52) are understood on the wire, so a
/// greeting from a libzmq peer that uses them is parsed and checked; the socket layer does not
/// offer them yet, so they are out of sight (and of autocompletion) unless a file says
/// `@_spi(Draft) import ZMTP`. They come into the public API as their sockets arrive.
public enum SocketType: UInt8, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    /// Exclusive pair: one connection, both ways (ZMQ_PAIR).
    case pair = 0
    /// Publisher: sends every message to each subscriber whose subscription prefixes it;
    /// never receives (ZMQ_PUB).
    case pub = 1
    /// Subscriber: receives the messages of its subscriptions from every publisher; never
    /// sends (ZMQ_SUB).
    case sub = 2
    /// Requester: sends a request, then must receive its reply before the next (ZMQ_REQ).
    case req = 3
    /// Replier: receives a request, then must send its reply before the next (ZMQ_REP).
    case rep = 4
    /// Asynchronous requester or worker: sends round-robin, receives fair-queued, in any order
    /// (ZMQ_DEALER).
    case dealer = 5
    /// Asynchronous replier or broker: every received message is prefixed with its sender's
    /// routing id, and a message sent is routed by its first frame (ZMQ_ROUTER).
    case router = 6
    /// The fan-in end of a pipeline: receives, fair-queued from every pusher (ZMQ_PULL).
    case pull = 7
    /// The fan-out end of a pipeline: sends round-robin to the pullers (ZMQ_PUSH).
    case push = 8
    /// A publisher that also receives its subscribers' subscriptions (ZMQ_XPUB).
    case xpub = 9
    /// A subscriber that subscribes by sending subscription messages (ZMQ_XSUB).
    case xsub = 10
    /// Raw TCP to peers that do not speak ZMTP, framed by connection (ZMQ_STREAM); it has no
    /// `Socket-Type` on the wire, and no ZMTP peer is compatible.
    case stream = 11
    /// Draft (RFC 41): replies to `client`s by routing id, one part per message (ZMQ_SERVER).
    @_spi(Draft) case server = 12
    /// Draft (RFC 41): talks to `server`s, one part per message (ZMQ_CLIENT).
    @_spi(Draft) case client = 13
    /// Draft (RFC 48): publishes to groups over unreliable transports too (ZMQ_RADIO).
    @_spi(Draft) case radio = 14
    /// Draft (RFC 48): receives the groups it joined from `radio`s (ZMQ_DISH).
    @_spi(Draft) case dish = 15
    /// Draft (RFC 49): the fan-in end of a thread-safe pipeline (ZMQ_GATHER).
    @_spi(Draft) case gather = 16
    /// Draft (RFC 49): the fan-out end of a thread-safe pipeline (ZMQ_SCATTER).
    @_spi(Draft) case scatter = 17
    /// Draft: datagrams over UDP, each to and from an address (ZMQ_DGRAM).
    @_spi(Draft) case dgram = 18
    /// Draft (RFC 51): a peer-to-peer socket that connects and routes by routing id (ZMQ_PEER).
    @_spi(Draft) case peer = 19
    /// Draft (RFC 52): a thread-safe exclusive pair (ZMQ_CHANNEL).
    @_spi(Draft) case channel = 20

    /// The name used in the `Socket-Type` metadata property.
    public var name: String {
        switch self {
        case .pair: return "PAIR"
        case .pub: return "PUB"
        case .sub: return "SUB"
        case .req: return "REQ"
        case .rep: return "REP"
        case .dealer: return "DEALER"
        case .router: return "ROUTER"
        case .pull: return "PULL"
        case .push: return "PUSH"
        case .xpub: return "XPUB"
        case .xsub: return "XSUB"
        case .stream: return "STREAM"
        case .server: return "SERVER"
        case .client: return "CLIENT"
        case .radio: return "RADIO"
        case .dish: return "DISH"
        case .gather: return "GATHER"
        case .scatter: return "SCATTER"
        case .dgram: return "DGRAM"
        case .peer: return "PEER"
        case .channel: return "CHANNEL"
        }
    }

    public var description: String { name }

    /// The type whose `Socket-Type` name is `name` (exact, as libzmq compares it).
    public init?(name: some Collection<UInt8>) {
        guard let match = SocketType.allCases.first(where: { $0.name.utf8.elementsEqual(name) }) else { return nil }
        self = match
    }

    /// The peer types this type may talk to (RFC 23 table, libzmq `mechanism_t::check_socket_type`).
    public var compatiblePeers: Set<SocketType> {
        switch self {
        case .pair: return [.pair]
        case .pub, .xpub: return [.sub, .xsub]
        case .sub, .xsub: return [.pub, .xpub]
        case .req: return [.rep, .router]
        case .rep: return [.req, .dealer]
        case .dealer: return [.rep, .dealer, .router]
        case .router: return [.req, .dealer, .router]
        case .pull: return [.push]
        case .push: return [.pull]
        case .server: return [.client]
        case .client: return [.server]
        case .radio: return [.dish]
        case .dish: return [.radio]
        case .gather: return [.scatter]
        case .scatter: return [.gather]
        case .peer: return [.peer]
        case .channel: return [.channel]
        case .stream, .dgram: return []
        }
    }

    /// Whether this type may talk to `peer`.
    public func isCompatible(with peer: SocketType) -> Bool { compatiblePeers.contains(peer) }

    /// Whether this type sends the `Identity` property in READY (libzmq: REQ, DEALER, ROUTER).
    public var sendsIdentity: Bool { self == .req || self == .dealer || self == .router }
}
