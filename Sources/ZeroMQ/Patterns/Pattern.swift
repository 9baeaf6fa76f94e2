@_spi(Draft) import ZMTP

/// A socket's routing logic, one case per concrete pattern class: the socket switches on the case
/// and calls the class directly (statically dispatched, inlinable), where an `any SocketPattern`
/// would cost a witness-table call and an opaque boundary per message.
enum Pattern {
    case pair(PairPattern)
    case push(PushPattern)
    case pull(PullPattern)
    case dealer(DealerPattern)
    case router(RouterPattern)
    case request(RequestPattern)
    case reply(ReplyPattern)
    /// PUB and XPUB.
    case publish(PublishPattern)
    /// SUB and XSUB.
    case subscribe(SubscribePattern)
    case stream(StreamPattern)

    /// The routing logic for a socket type.
    init(_ type: SocketType, options: SocketOptions) {
        switch type {
        case .pair: self = .pair(PairPattern(options: options))
        case .push: self = .push(PushPattern(options: options))
        case .pull: self = .pull(PullPattern(options: options))
        case .dealer: self = .dealer(DealerPattern(options: options))
        case .router: self = .router(RouterPattern(options: options))
        case .req: self = .request(RequestPattern(options: options))
        case .rep: self = .reply(ReplyPattern(options: options))
        case .pub: self = .publish(PublishPattern(options: options, extended: false))
        case .xpub: self = .publish(PublishPattern(options: options, extended: true))
        case .sub: self = .subscribe(SubscribePattern(options: options, extended: false))
        case .xsub: self = .subscribe(SubscribePattern(options: options, extended: true))
        case .stream: self = .stream(StreamPattern(options: options))
        case .server, .client, .radio, .dish, .gather, .scatter, .dgram, .peer, .channel:
            // Socket.init refuses these before asking.
            self = .pair(PairPattern(options: options))
        }
    }

    /// The pattern as its protocol, for the calls that are not per message.
    private var contract: any SocketPattern {
        switch self {
        case .pair(let pattern): return pattern
        case .push(let pattern): return pattern
        case .pull(let pattern): return pattern
        case .dealer(let pattern): return pattern
        case .router(let pattern): return pattern
        case .request(let pattern): return pattern
        case .reply(let pattern): return pattern
        case .publish(let pattern): return pattern
        case .subscribe(let pattern): return pattern
        case .stream(let pattern): return pattern
        }
    }

    // MARK: Per message: direct calls

    /// Sends one part (``SocketPattern/send(_:)``).
    @inline(__always)
    func send(_ message: consuming Message) throws(ZeroMQError) -> SendOutcome {
        switch self {
        case .push(let pattern): return pattern.send(message)
        case .dealer(let pattern): return pattern.send(message)
        case .publish(let pattern): return try pattern.send(message)
        case .router(let pattern): return try pattern.send(message)
        case .request(let pattern): return try pattern.send(message)
        case .reply(let pattern): return try pattern.send(message)
        case .pair(let pattern): return try pattern.send(message)
        case .pull(let pattern): return try pattern.send(message)
        case .subscribe(let pattern): return try pattern.send(message)
        case .stream(let pattern): return try pattern.send(message)
        }
    }

    /// The next part (``SocketPattern/receive(wantsSource:)``).
    @inline(__always)
    func receive(wantsSource: Bool) throws(ZeroMQError) -> Inbound? {
        switch self {
        case .pull(let pattern): return pattern.receive(wantsSource: wantsSource)
        case .dealer(let pattern): return pattern.receive(wantsSource: wantsSource)
        case .subscribe(let pattern): return try pattern.receive(wantsSource: wantsSource)
        case .router(let pattern): return try pattern.receive(wantsSource: wantsSource)
        case .request(let pattern): return try pattern.receive(wantsSource: wantsSource)
        case .reply(let pattern): return try pattern.receive(wantsSource: wantsSource)
        case .pair(let pattern): return try pattern.receive(wantsSource: wantsSource)
        case .publish(let pattern): return try pattern.receive(wantsSource: wantsSource)
        case .push(let pattern): return try pattern.receive(wantsSource: wantsSource)
        case .stream(let pattern): return try pattern.receive(wantsSource: wantsSource)
        }
    }

    /// The next part alone, without the pipe it came from: PULL and DEALER take it straight
    /// from their fair queue, with no ``Inbound`` to build and destroy.
    @inline(__always)
    func receiveMessage() throws(ZeroMQError) -> Message? {
        switch self {
        case .pull(let pattern): return pattern.receiveMessage()
        case .dealer(let pattern): return pattern.receiveMessage()
        case .pair, .push, .router, .request, .reply, .publish, .subscribe, .stream:
            return try receive(wantsSource: false)?.message
        }
    }

    // MARK: Pipes, readiness, options

    var options: SocketOptions {
        get { contract.options }
        nonmutating set { contract.options = newValue }
    }

    func attach(_ peer: PeerPipe) { contract.attach(peer) }
    func identified(_ peer: PeerPipe) { contract.identified(peer) }
    func detach(_ peer: PeerPipe) { contract.detach(peer) }

    func readActivated(_ peer: PeerPipe) { contract.readActivated(peer) }
    func writeActivated(_ peer: PeerPipe) { contract.writeActivated(peer) }

    var canSend: Bool { contract.canSend }
    var canReceive: Bool { contract.canReceive }
    func subscribe(_ topic: [UInt8]) throws(ZeroMQError) { try contract.subscribe(topic) }
    func unsubscribe(_ topic: [UInt8]) throws(ZeroMQError) { try contract.unsubscribe(topic) }
    var drops: DropCounts { contract.drops }
}
