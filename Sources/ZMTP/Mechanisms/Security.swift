/// The security mechanisms named in the greeting (RFC 23 §Security Mechanisms).
public enum MechanismName: String, Hashable, Sendable, CaseIterable {
    /// No security (RFC 23): optionally checked by a ZAP handler by address.
    case null = "NULL"
    /// Clear-text user name and password (RFC 24): authentication, no confidentiality.
    case plain = "PLAIN"
    /// CurveZMQ (RFC 26): Curve25519 authentication and encryption.
    case curve = "CURVE"

    /// The 20-byte, NUL-padded greeting field.
    public var greetingField: [UInt8] {
        var field = Array(rawValue.utf8)
        field.append(contentsOf: repeatElement(0, count: 20 - field.count))
        return field
    }
}

/// A CURVE long-term or transient key pair (RFC 26). Keys are 32 bytes.
public struct CurveKeyPair: Hashable, Sendable {
    /// The key length (RFC 26: 32 octets).
    public static let keyLength = 32

    /// The public key: given to peers, and for a server, to every client that connects to it.
    public var publicKey: [UInt8]
    /// The secret key: never leaves this process.
    public var secretKey: [UInt8]

    /// - Throws: ``ZMTPError/Code/invalidArgument`` unless both keys are 32 bytes and not all zero.
    public init(publicKey: [UInt8], secretKey: [UInt8]) throws(ZMTPError) {
        try CurveKeyPair.validate(publicKey, "public key")
        try CurveKeyPair.validate(secretKey, "secret key")
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// How many draws ``generate(crypto:random:)`` makes before it gives up on a broken source.
    static let generationAttempts = 16

    /// Generates a key pair from `random` (a secret key of 32 random bytes, `crypto_box_keypair`).
    /// - Throws: ``ZMTPError/Code/cryptographic`` when the random source or the provider keeps
    ///   producing unusable (all-zero or wrongly sized) keys.
    public static func generate(crypto: some CurveCrypto, random: RandomSource) throws(ZMTPError) -> CurveKeyPair {
        for _ in 0..<generationAttempts {
            let secret = random.bytes(keyLength)
            if let pair = try? CurveKeyPair(publicKey: crypto.publicKey(forSecretKey: secret), secretKey: secret) {
                return pair
            }
        }
        throw ZMTPError(.cryptographic, blame: .apiMisuse, "no usable CURVE key pair from this random source and provider")
    }

    /// The key pair whose secret key is `secretKey` (public from secret).
    public static func from(secretKey: [UInt8], crypto: some CurveCrypto) throws(ZMTPError) -> CurveKeyPair {
        try validate(secretKey, "secret key")
        return try CurveKeyPair(publicKey: crypto.publicKey(forSecretKey: secretKey), secretKey: secretKey)
    }

    static func validate(_ key: [UInt8], _ what: String) throws(ZMTPError) {
        guard key.count == keyLength else { throw .misuse(.invalidArgument, "CURVE \(what) must be 32 bytes") }
        guard key.contains(where: { $0 != 0 }) else { throw .misuse(.invalidArgument, "CURVE \(what) is all zero") }
    }
}

/// The security a connection uses, and its role (RFC 23, 24, 26; libzmq's *_SERVER options).
///
/// The role comes from local configuration, not from the greeting's as-server byte, exactly as
/// libzmq does (it always sends as-server = 0 and never reads the peer's).
public enum Security: Sendable {
    /// NULL. With a ZAP domain, the accepting side asks for authentication (RFC 27).
    case null(zapDomain: String?)
    /// PLAIN client: sends the credentials.
    case plainClient(username: [UInt8], password: [UInt8])
    /// PLAIN server: always asks the application to authenticate (libzmq always calls ZAP).
    case plainServer(zapDomain: String)
    /// CURVE client: needs the server's public key and its own long-term key pair.
    case curveClient(serverPublicKey: [UInt8], keyPair: CurveKeyPair)
    /// CURVE server. With `authenticate`, the client's long-term key is handed to the application
    /// (libzmq: when a ZAP handler exists); without, any client with a valid vouch is accepted.
    case curveServer(keyPair: CurveKeyPair, zapDomain: String, authenticate: Bool)

    /// The NULL mechanism without ZAP.
    @available(*, deprecated, message: "use .null(zapDomain: nil): one name for the NULL mechanism")
    public static let none = Security.null(zapDomain: nil)

    /// The mechanism named in the greeting.
    public var mechanism: MechanismName {
        switch self {
        case .null: return .null
        case .plainClient, .plainServer: return .plain
        case .curveClient, .curveServer: return .curve
        }
    }

    /// Whether ZMTP 1.0/2.0 peers may be accepted (NULL without a ZAP domain, as libzmq).
    var allowsLegacyPeers: Bool {
        switch self {
        case .null(let domain): return domain?.isEmpty ?? true
        case .plainClient, .plainServer, .curveClient, .curveServer: return false
        }
    }
}

/// The question a server-side mechanism asks the application (the ZAP request of RFC 27).
///
/// The connection emits it as ``ConnectionEvent/authenticationRequest(_:)`` and waits; the
/// driver answers with ``Connection/completeAuthentication(_:now:)``.
public struct AuthenticationRequest: Hashable, Sendable {
    /// NULL, PLAIN or CURVE.
    public var mechanism: MechanismName
    /// The ZAP domain configured on the socket.
    public var domain: String
    /// The peer's address as the driver described it (``Connection/Configuration/peerAddress``).
    public var address: String
    /// Our own socket's routing id, as libzmq's `zap_client` sends it in the ZAP request's
    /// identity frame (the same for every mechanism; the peer's identity arrives with the
    /// handshake's metadata).
    public var identity: [UInt8]
    /// The mechanism's credentials: none for NULL, [username, password] for PLAIN, the client's
    /// 32-byte long-term public key for CURVE.
    public var credentials: [[UInt8]]

    /// A request as the mechanism asks it; tests and custom authenticators build their own.
    public init(mechanism: MechanismName, domain: String, address: String, identity: [UInt8], credentials: [[UInt8]]) {
        self.mechanism = mechanism
        self.domain = domain
        self.address = address
        self.identity = identity
        self.credentials = credentials
    }
}

/// The application's answer to an ``AuthenticationRequest`` (the ZAP reply of RFC 27).
public struct AuthenticationReply: Hashable, Sendable {
    /// "200" success, "300" temporary failure, "400" authentication failure, "500" internal error.
    public var statusCode: String
    /// The reason for the status, for people; sent in the ZAP reply and logged by libzmq peers.
    public var statusText: String
    /// The user id, exposed as the `User-Id` property of every message from this peer.
    public var userID: String
    /// Extra properties from the authenticator (ZAP metadata frame).
    public var metadata: Metadata

    /// A reply with any ZAP status; ``accept(userID:metadata:)`` and ``deny`` cover the usual two.
    public init(statusCode: String, statusText: String = "", userID: String = "", metadata: Metadata = Metadata()) {
        self.statusCode = statusCode
        self.statusText = statusText
        self.userID = userID
        self.metadata = metadata
    }

    /// Accept the peer.
    public static func accept(userID: String = "", metadata: Metadata = Metadata()) -> AuthenticationReply {
        AuthenticationReply(statusCode: "200", statusText: "OK", userID: userID, metadata: metadata)
    }

    /// Refuse the peer with status 400.
    public static let deny = AuthenticationReply(statusCode: "400", statusText: "Denied")
}

/// What the connection must do after one step of a mechanism's handshake.
struct HandshakeStep {
    /// Command bodies (name-len, name, data) to send, in order, as command frames.
    var send: [[UInt8]] = []
    /// Ask the application to authenticate the peer, then call the mechanism's `resume`.
    var authenticate: AuthenticationRequest? = nil
    /// The handshake is complete.
    var completion: HandshakeCompletion? = nil
    /// The handshake failed after `send` (an ERROR command) was queued.
    var failure: ZMTPError? = nil

    static var nothing: HandshakeStep { HandshakeStep() }
}

/// The result of a completed handshake.
struct HandshakeCompletion {
    /// The properties from the peer's READY or INITIATE.
    var peerMetadata: Metadata
    /// The outcome of authentication, if it ran on this side.
    var authentication: AuthenticationReply?
    /// How messages are protected from now on.
    var dataCodec: DataCodec
}

/// How data frames travel once the handshake is done.
enum DataCodec {
    /// NULL and PLAIN: frames as they are.
    case plaintext
    /// CURVE: every frame in a MESSAGE box (RFC 26 §MESSAGE, libzmq's flags byte).
    case curve(CurveMessageCodec)
}

/// The shared rules for turning an application's reply into a handshake outcome.
extension AuthenticationReply {
    /// Validates the status and returns the failure to report, if any.
    func failure() -> ZMTPError? {
        switch statusCode {
        case "200": return nil
        case "300", "400", "500": return ZMTPError(.authenticationFailed, blame: .peerIncompatible, statusCode)
        default: return ZMTPError(.zapInvalidStatusCode, blame: .apiMisuse, statusCode)
        }
    }

    /// The step that ends a refused handshake and its failure, or nil when the reply accepts
    /// the peer.
    ///
    /// As libzmq's `zap_client`: 400 and 500 send ERROR with the status as reason, then fail;
    /// 300 (temporary) and invalid codes fail without a word to the peer.
    func refusal() -> (step: HandshakeStep, failure: ZMTPError)? {
        guard let failure = failure() else { return nil }
        var step = HandshakeStep(failure: failure)
        if statusCode == "400" || statusCode == "500" {
            // error = %d5 "ERROR" reason-len reason (RFC 23), the reason a 3-digit status.
            step.send = [[5] + Array("ERROR".utf8) + [UInt8(statusCode.utf8.count)] + Array(statusCode.utf8)]
        }
        return (step, failure)
    }
}

// MARK: Keeping secrets out of logs

extension CurveKeyPair: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The public key in hex; the secret key is never printed.
    public var description: String {
        "CurveKeyPair(public: \(publicKey.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()), secret: <redacted>)"
    }

    public var debugDescription: String { description }

    /// `dump` and the debugger show the public key only.
    public var customMirror: Mirror {
        Mirror(self, children: ["publicKey": publicKey, "secretKey": "<redacted>"])
    }
}

extension Security: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The mechanism and role, with keys and passwords redacted.
    public var description: String {
        switch self {
        case .null(let domain): return "NULL(zapDomain: \(domain ?? "none"))"
        case .plainClient(let username, _): return "PLAIN client(username: \(String(decoding: username, as: UTF8.self)), password: <redacted>)"
        case .plainServer(let domain): return "PLAIN server(zapDomain: \(domain))"
        case .curveClient(_, let keyPair): return "CURVE client(\(keyPair))"
        case .curveServer(let keyPair, let domain, let authenticate): return "CURVE server(\(keyPair), zapDomain: \(domain), authenticate: \(authenticate))"
        }
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror { Mirror(self, children: ["security": description]) }
}
