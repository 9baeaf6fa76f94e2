/// What a ``Connection`` reports, one at a time, from ``Connection/nextEvent()``.
public enum ConnectionEvent: Hashable, Sendable {
    /// The greeting and the mechanism handshake are done; messages may flow.
    case handshakeCompleted(PeerInfo)
    /// One message part from the peer (``Message/more`` says whether parts follow).
    case message(Message)
    /// The peer subscribed to a topic prefix (SUBSCRIBE command, or a 0x01 data frame sent to
    /// PUB/XPUB by a ZMTP 3.0 peer).
    case subscribe(topic: [UInt8])
    /// The peer cancelled a subscription (CANCEL command, or a 0x00 data frame).
    case cancel(topic: [UInt8])
    /// The peer joined a group (RADIO/DISH).
    case join(group: [UInt8])
    /// The peer left a group.
    case leave(group: [UInt8])
    /// A command the connection does not handle itself (libzmq drops these silently).
    case command(Command)
    /// The mechanism wants the application to authenticate the peer (a ZAP request). Answer
    /// with ``Connection/completeAuthentication(_:now:)``.
    case authenticationRequest(AuthenticationRequest)
    /// The connection failed; the error is sticky. Transmit what ``Connection/pollTransmit(into:)``
    /// still returns (an ERROR command, perhaps), then close the byte stream.
    case failed(ZMTPError)
}

/// What the handshake told us about the peer.
public struct PeerInfo: Hashable, Sendable {
    /// The peer's ZMTP version: (3, 1), (3, 0), (2, 0) or (1, 0).
    public var version: (major: UInt8, minor: UInt8)
    /// The mechanism both sides agreed on.
    public var mechanism: MechanismName
    /// The peer's `Socket-Type` (nil for ZMTP 1.0 peers and READYs without one).
    public var socketType: SocketType?
    /// The peer's `Identity` property (or ZMTP 1.0/2.0 identity frame).
    public var identity: [UInt8]
    /// Every property from the peer's READY or INITIATE.
    public var metadata: Metadata
    /// The application's authentication answer, when this side authenticated the peer.
    public var authentication: AuthenticationReply?

    public static func == (lhs: PeerInfo, rhs: PeerInfo) -> Bool {
        lhs.version == rhs.version && lhs.mechanism == rhs.mechanism && lhs.socketType == rhs.socketType
            && lhs.identity == rhs.identity && lhs.metadata == rhs.metadata && lhs.authentication == rhs.authentication
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(version.major)
        hasher.combine(version.minor)
        hasher.combine(mechanism)
        hasher.combine(identity)
        hasher.combine(metadata)
    }

    /// Whether the peer understands SUBSCRIBE/CANCEL commands (ZMTP 3.1 and later).
    public var acceptsSubscriptionCommands: Bool {
        version.major > 3 || (version.major == 3 && version.minor >= 1)
    }
}

/// A large message body waiting to be sent by reference (``Connection/pollTransmit(into:bodies:)``):
/// it belongs in the byte stream at `offset` of the transmit buffer.
public struct TransmitBody: Sendable, Equatable {
    /// Where the body goes: the number of transmit-buffer bytes that precede it in the stream.
    public var offset: Int
    /// The message whose body this is (its ``Message/more`` flag is already in the header).
    public var body: Message

    /// A body to be written after the first `offset` bytes of the transmit buffer.
    public init(offset: Int, body: Message) {
        self.offset = offset
        self.body = body
    }
}
