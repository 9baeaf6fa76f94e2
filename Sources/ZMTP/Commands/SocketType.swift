/// The ZeroMQ socket types, with libzmq's numbers and the names sent in `Socket-Type`
/// (RFC 23 §Socket Types, RFC 37, and the draft RFCs 41/48/49/51/52).
public enum SocketType: UInt8, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    case pair = 0, pub = 1, sub = 2, req = 3, rep = 4, dealer = 5, router = 6, pull = 7, push = 8
    case xpub = 9, xsub = 10, stream = 11
    // The draft types (RFCs 41/48/49/51/52): the core speaks their greetings, but no socket
    // implements them yet, so they are out of sight (and of autocompletion) unless a file says
    // `@_spi(Draft) import ZMTP`. They come into the public API as their sockets arrive.
    @_spi(Draft) case server = 12
    @_spi(Draft) case client = 13
    @_spi(Draft) case radio = 14
    @_spi(Draft) case dish = 15
    @_spi(Draft) case gather = 16
    @_spi(Draft) case scatter = 17
    @_spi(Draft) case dgram = 18
    @_spi(Draft) case peer = 19
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
