extension Connection {
    /// Everything a connection needs to know about its own side (libzmq's socket options that
    /// reach the wire).
    ///
    /// Times are `Duration`s, as in the socket layer's `SocketOptions`. This is a source break for
    /// code written before the first release, when they were `Int` milliseconds:
    /// `heartbeatInterval = 1_000` becomes `heartbeatInterval = .seconds(1)`.
    public struct Configuration: Sendable {
        /// Our socket type, sent as `Socket-Type` and checked against the peer's (RFC 23).
        public var socketType: SocketType
        /// Our routing id, sent as `Identity` by REQ, DEALER and ROUTER (≤ 255 bytes).
        public var identity: [UInt8] = []
        /// Application properties for READY/INITIATE (libzmq's ZMQ_METADATA; names `X-*`).
        public var properties: Metadata = Metadata()
        /// The mechanism and our role in it.
        public var security: Security = .null(zapDomain: nil)
        /// Inbound frames larger than this fail the connection (ZMQ_MAXMSGSIZE; nil = unlimited).
        public var maxMessageSize: Int? = nil
        /// Greeting plus handshake must finish within this time (ZMQ_HANDSHAKE_IVL; `.zero` or
        /// less = never).
        public var handshakeTimeout: Duration = .seconds(30)
        /// Send PING this often once ready (ZMQ_HEARTBEAT_IVL; `.zero` or less = off).
        public var heartbeatInterval: Duration = .zero
        /// Close if nothing arrives this long after a PING (ZMQ_HEARTBEAT_TIMEOUT; nil = the
        /// interval, as libzmq's -1; `.zero` or less = never).
        public var heartbeatTimeout: Duration? = nil
        /// The TTL we ask the peer to apply (ZMQ_HEARTBEAT_TTL; `.zero` = none), sent in whole
        /// deciseconds, truncated; at most ``maxHeartbeatTTL``.
        public var heartbeatTTL: Duration = .zero
        /// Accept ZMTP 1.0 and 2.0 peers (NULL without a ZAP domain only, as libzmq).
        ///
        /// Off: the whole 64-byte greeting is sent at once and legacy peers are refused.
        /// On: the greeting is sent in libzmq's stages (10-byte signature, major version, then the
        /// rest once the peer's revision is known), so a 1.0/2.0 peer can be answered in its own
        /// protocol.
        public var acceptLegacyPeers: Bool = false
        /// The minor version we advertise: 1 (ZMTP 3.1, the default) or 0 (ZMTP 3.0, whose peers
        /// send subscriptions as 0x01/0x00 data frames). For compatibility testing.
        public var greetingMinorVersion: UInt8 = 1
        /// The peer's address as the driver knows it, for ``AuthenticationRequest/address``.
        public var peerAddress: String = ""

        /// A configuration with every other option at libzmq's default: no identity, no heartbeats,
        /// a 30-second handshake timeout, no message size limit.
        public init(socketType: SocketType, security: Security = .null(zapDomain: nil)) {
            self.socketType = socketType
            self.security = security
        }

        /// The largest `Identity` (RFC 23).
        public static let maxIdentityLength = 255
        /// The largest TTL libzmq accepts for ZMQ_HEARTBEAT_TTL: 6,553,599 ms, since the PING
        /// carries it as a uint16 of deciseconds (RFC 37).
        public static let maxHeartbeatTTL: Duration = .milliseconds(6_553_599)

        /// Checks everything that does not depend on the peer, so a bad configuration fails at
        /// once rather than after the greeting.
        func validate(hasCrypto: Bool) throws(ZMTPError) {
            var scratch: [UInt8] = []
            try localMetadata().encode(into: &scratch)
            guard greetingMinorVersion <= 1 else {
                throw .misuse(.invalidArgument, "greetingMinorVersion is 0 (ZMTP 3.0) or 1 (ZMTP 3.1)")
            }
            guard heartbeatTTL >= .zero, heartbeatTTL <= Self.maxHeartbeatTTL else {
                throw .misuse(.invalidArgument, "heartbeatTTL is 0...6553599 ms")
            }
            switch security {
            case .null, .plainServer:
                break
            case .plainClient(let username, let password):
                guard username.count <= 255, password.count <= 255 else {
                    throw .misuse(.invalidArgument, "PLAIN username and password are at most 255 bytes")
                }
            case .curveClient(let serverPublicKey, _):
                try CurveKeyPair.validate(serverPublicKey, "server public key")
                guard hasCrypto else { throw .misuse(.invalidArgument, "CURVE needs a CurveCrypto provider") }
            case .curveServer:
                guard hasCrypto else { throw .misuse(.invalidArgument, "CURVE needs a CurveCrypto provider") }
            }
        }

        /// The properties we send in READY/INITIATE: Socket-Type, Identity (REQ/DEALER/ROUTER),
        /// then the application's, as libzmq orders them.
        func localMetadata() throws(ZMTPError) -> Metadata {
            guard identity.count <= Self.maxIdentityLength else {
                throw .misuse(.invalidArgument, "identity is at most 255 bytes")
            }
            var metadata = Metadata()
            metadata.append(name: Metadata.Name.socketType, value: Array(socketType.name.utf8))
            if socketType.sendsIdentity {
                metadata.append(name: Metadata.Name.identity, value: identity)
            }
            for property in properties.properties {
                metadata.append(name: property.name, value: property.value)
            }
            return metadata
        }
    }
}
