import CSodium

/// The runner's own CURVE side (RFC 26, CurveZMQ over ZMTP): long-term keys from the vector,
/// fresh transient keys and nonces of its own. It builds the commands the peer sends and opens
/// those the target sends, so that a live run judges what the target's commands mean rather
/// than bytes that depend on the vector's fixed randomness. It is written from the RFC and uses
/// libsodium directly: the runner judges this package's CURVE code, so it must not share it.
struct CurvePeer {
    enum Role: Equatable { case client, server }

    /// Where the handshake stands; the secrets each state needs travel with it.
    enum Phase {
        /// Client: HELLO not yet sent. Server: HELLO not yet received.
        case start
        /// Client: HELLO sent, WELCOME awaited.
        case expectWelcome
        /// Client: INITIATE may be sent (the server's transient key is known).
        case welcomed(serverTransient: [UInt8], cookie: [UInt8])
        /// Server: HELLO received, WELCOME may be sent.
        case helloReceived(clientTransient: [UInt8])
        /// Server: WELCOME sent, INITIATE awaited.
        case expectInitiate(clientTransient: [UInt8], cookieKey: [UInt8])
        /// Both: the transient keys are agreed; READY or MESSAGE boxes flow.
        case established(peerTransient: [UInt8])
    }

    let role: Role
    /// The runner's long-term key pair.
    let publicKey: [UInt8]
    let secretKey: [UInt8]
    /// The target's long-term public key (a client knows it; a server learns it from INITIATE).
    var peerPublicKey: [UInt8]?
    /// The runner's transient key pair, fresh per connection.
    let transientPublic: [UInt8]
    let transientSecret: [UInt8]
    var phase = Phase.start
    /// The short nonce of the runner's next box, and the last the target used (RFC 26: strictly
    /// increasing, so a replay is refused).
    var nextNonce: UInt64 = 1
    var lastPeerNonce: UInt64 = 0
    /// The client's long-term public key as the server saw it in INITIATE.
    var initiator: [UInt8]?

    static let keyBytes = 32
    static let macBytes = 16
    static let ready: Bool = sodium_init() >= 0

    init(role: Role, publicKey: [UInt8], secretKey: [UInt8], peerPublicKey: [UInt8]?) {
        precondition(Self.ready, "libsodium failed to initialise")
        self.role = role
        self.publicKey = publicKey
        self.secretKey = secretKey
        self.peerPublicKey = peerPublicKey
        var pk = [UInt8](repeating: 0, count: Self.keyBytes)
        var sk = [UInt8](repeating: 0, count: Self.keyBytes)
        crypto_box_keypair(&pk, &sk)
        transientPublic = pk
        transientSecret = sk
    }

    // MARK: Primitives

    static func random(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        randombytes_buf(&out, count)
        return out
    }

    /// crypto_box_curve25519xsalsa20poly1305: MAC (16) then ciphertext.
    static func box(_ plaintext: [UInt8], nonce: [UInt8], to receiver: [UInt8], from sender: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: plaintext.count + macBytes)
        _ = crypto_box_easy(&out, plaintext, UInt64(plaintext.count), nonce, receiver, sender)
        return out
    }

    static func open(_ box: some Collection<UInt8>, nonce: [UInt8], from sender: [UInt8], to receiver: [UInt8]) -> [UInt8]? {
        let sealed = Array(box)
        guard sealed.count >= macBytes, sender.count == keyBytes, receiver.count == keyBytes else { return nil }
        var out = [UInt8](repeating: 0, count: sealed.count - macBytes)
        guard crypto_box_open_easy(&out, sealed, UInt64(sealed.count), nonce, sender, receiver) == 0 else { return nil }
        return out
    }

    static func secretBox(_ plaintext: [UInt8], nonce: [UInt8], key: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: plaintext.count + macBytes)
        _ = crypto_secretbox_easy(&out, plaintext, UInt64(plaintext.count), nonce, key)
        return out
    }

    static func secretOpen(_ box: some Collection<UInt8>, nonce: [UInt8], key: [UInt8]) -> [UInt8]? {
        let sealed = Array(box)
        guard sealed.count >= macBytes else { return nil }
        var out = [UInt8](repeating: 0, count: sealed.count - macBytes)
        guard crypto_secretbox_open_easy(&out, sealed, UInt64(sealed.count), nonce, key) == 0 else { return nil }
        return out
    }

    static func bigEndian(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) } }

    static func readBigEndian(_ bytes: some Collection<UInt8>) -> UInt64 { bytes.reduce(0) { $0 << 8 | UInt64($1) } }

    static func prefix(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// A command body: name length, name, fields (RFC 23 §command).
    static func command(_ name: String, _ fields: [UInt8]) -> [UInt8] { [UInt8(name.utf8.count)] + Array(name.utf8) + fields }

    /// Metadata properties: name length (1), name, value length (4, big-endian), value.
    static func metadata(_ properties: [(name: String, value: [UInt8])]) -> [UInt8] {
        properties.flatMap { property in
            [UInt8(property.name.utf8.count)] + Array(property.name.utf8) + Array(bigEndian(UInt64(property.value.count)).suffix(4)) + property.value
        }
    }

    /// Parses metadata; nil when malformed.
    static func parseMetadata(_ bytes: [UInt8]) -> [(name: String, value: [UInt8])]? {
        var out: [(name: String, value: [UInt8])] = []
        var index = 0
        while index < bytes.count {
            let nameLength = Int(bytes[index])
            guard nameLength > 0, index + 1 + nameLength + 4 <= bytes.count else { return nil }
            let name = String(decoding: bytes[(index + 1)...].prefix(nameLength), as: UTF8.self)
            index += 1 + nameLength
            let valueLength = Int(readBigEndian(bytes[index..<(index + 4)]))
            index += 4
            guard valueLength <= bytes.count - index else { return nil }
            out.append((name, Array(bytes[index..<(index + valueLength)])))
            index += valueLength
        }
        return out
    }

    private mutating func takeNonce() -> [UInt8] {
        defer { nextNonce += 1 }
        return Self.bigEndian(nextNonce)
    }

    // MARK: Commands the runner sends (bodies, without the frame header)

    /// HELLO: version 1.0, 72 octets of padding, C', short nonce, Box[64 zeros](C'->S).
    mutating func hello() -> [UInt8] {
        let short = takeNonce()
        let signature = Self.box([UInt8](repeating: 0, count: 64), nonce: Self.prefix("CurveZMQHELLO---") + short,
                                 to: peerPublicKey ?? [], from: transientSecret)
        phase = .expectWelcome
        return Self.command("HELLO", [1, 0] + [UInt8](repeating: 0, count: 72) + transientPublic + short + signature)
    }

    /// WELCOME: long nonce, Box[S' + cookie](S->C'); the cookie is the cookie nonce and
    /// SecretBox[C' + s'](K) under a key K of this connection.
    mutating func welcome() -> [UInt8] {
        guard case .helloReceived(let clientTransient) = phase else { return Self.command("WELCOME", []) }
        let cookieKey = Self.random(32)
        let cookieNonce = Self.random(16)
        let cookie = cookieNonce + Self.secretBox(clientTransient + transientSecret, nonce: Self.prefix("COOKIE--") + cookieNonce, key: cookieKey)
        let long = Self.random(16)
        let box = Self.box(transientPublic + cookie, nonce: Self.prefix("WELCOME-") + long, to: clientTransient, from: secretKey)
        phase = .expectInitiate(clientTransient: clientTransient, cookieKey: cookieKey)
        return Self.command("WELCOME", long + box)
    }

    /// INITIATE: cookie, short nonce, Box[C + vouch + metadata](C'->S'); the vouch is a long
    /// nonce and Box[C' + S](C->S'). `vouchKey` signs the vouch with another long-term secret
    /// (a vouch that does not match C).
    mutating func initiate(_ properties: [(name: String, value: [UInt8])], vouchSecret: [UInt8]? = nil) -> [UInt8] {
        guard case .welcomed(let serverTransient, let cookie) = phase else { return Self.command("INITIATE", []) }
        let vouchNonce = Self.random(16)
        let vouch = vouchNonce + Self.box(transientPublic + (peerPublicKey ?? []), nonce: Self.prefix("VOUCH---") + vouchNonce,
                                          to: serverTransient, from: vouchSecret ?? secretKey)
        let short = takeNonce()
        let box = Self.box(publicKey + vouch + Self.metadata(properties), nonce: Self.prefix("CurveZMQINITIATE") + short,
                           to: serverTransient, from: transientSecret)
        phase = .established(peerTransient: serverTransient)
        return Self.command("INITIATE", cookie + short + box)
    }

    /// READY: short nonce, Box[metadata](S'->C').
    mutating func readyCommand(_ properties: [(name: String, value: [UInt8])]) -> [UInt8] {
        guard case .established(let clientTransient) = phase else { return Self.command("READY", []) }
        let short = takeNonce()
        return Self.command("READY", short + Self.box(Self.metadata(properties), nonce: Self.prefix("CurveZMQREADY---") + short,
                                                      to: clientTransient, from: transientSecret))
    }

    /// MESSAGE: short nonce, Box[flags + body]; the client's nonces say MESSAGEC, the server's MESSAGES.
    mutating func message(flags: UInt8, body: [UInt8]) -> [UInt8] {
        guard case .established(let peerTransient) = phase else { return Self.command("MESSAGE", []) }
        let short = takeNonce()
        let prefix = Self.prefix(role == .client ? "CurveZMQMESSAGEC" : "CurveZMQMESSAGES")
        return Self.command("MESSAGE", short + Self.box([flags] + body, nonce: prefix + short, to: peerTransient, from: transientSecret))
    }

    // MARK: Commands the target sends

    /// Why a command of the target does not hold, or nil; `body` is the frame body.
    enum Opened: Equatable {
        case hello
        case welcome
        case initiate(clientKey: [UInt8], metadata: [Property])
        case ready(metadata: [Property])
        case message(flags: UInt8, body: [UInt8])
    }

    struct Property: Equatable { var name: String; var value: [UInt8] }

    /// Opens the target's command `body`, expected to be `name`; the reason when it does not hold.
    mutating func open(_ name: String, _ body: [UInt8]) -> Result<Opened, CurveProblem> {
        let nameBytes = Array(name.utf8)
        guard body.count > nameBytes.count, Int(body[0]) == nameBytes.count, Array(body[1...nameBytes.count]) == nameBytes else {
            let got = body.first.map { String(decoding: body.dropFirst().prefix(Int($0)), as: UTF8.self) } ?? "(empty)"
            return .failure(CurveProblem("the target sent \(got) where the vector has \(name)"))
        }
        let fields = Array(body[(nameBytes.count + 1)...])
        switch name {
        case "HELLO":
            guard fields.count == 194, fields[0] == 1, fields[1] == 0 else { return .failure(CurveProblem("HELLO has \(fields.count + 6) octets or a version other than 1.0")) }
            let clientTransient = Array(fields[74..<106])
            let short = Array(fields[106..<114])
            guard let zeros = Self.open(fields[114...], nonce: Self.prefix("CurveZMQHELLO---") + short, from: clientTransient, to: secretKey),
                  zeros == [UInt8](repeating: 0, count: 64) else { return .failure(CurveProblem("the HELLO signature box does not open to 64 zeros")) }
            lastPeerNonce = Self.readBigEndian(short)
            phase = .helloReceived(clientTransient: clientTransient)
            return .success(.hello)
        case "WELCOME":
            guard fields.count == 160 else { return .failure(CurveProblem("WELCOME has \(fields.count + 8) octets, not 168")) }
            guard let plain = Self.open(fields[16...], nonce: Self.prefix("WELCOME-") + fields[0..<16], from: peerPublicKey ?? [], to: transientSecret),
                  plain.count == 128 else { return .failure(CurveProblem("the WELCOME box does not open")) }
            phase = .welcomed(serverTransient: Array(plain[0..<32]), cookie: Array(plain[32...]))
            return .success(.welcome)
        case "INITIATE":
            guard case .expectInitiate(let clientTransient, let cookieKey) = phase else { return .failure(CurveProblem("INITIATE out of turn")) }
            guard fields.count >= 248 else { return .failure(CurveProblem("INITIATE has \(fields.count + 9) octets, under 257")) }
            guard let cookie = Self.secretOpen(fields[16..<96], nonce: Self.prefix("COOKIE--") + fields[0..<16], key: cookieKey),
                  cookie == clientTransient + transientSecret else { return .failure(CurveProblem("the INITIATE cookie is not the one WELCOME sent")) }
            let short = Array(fields[96..<104])
            guard let plain = Self.open(fields[104...], nonce: Self.prefix("CurveZMQINITIATE") + short, from: clientTransient, to: transientSecret),
                  plain.count >= 128 else { return .failure(CurveProblem("the INITIATE box does not open")) }
            let clientKey = Array(plain[0..<32])
            guard let vouch = Self.open(plain[48..<128], nonce: Self.prefix("VOUCH---") + plain[32..<48], from: clientKey, to: transientSecret),
                  vouch == clientTransient + publicKey else { return .failure(CurveProblem("the vouch does not open to C' and S")) }
            guard let metadata = Self.parseMetadata(Array(plain[128...])) else { return .failure(CurveProblem("the INITIATE metadata is malformed")) }
            lastPeerNonce = Self.readBigEndian(short)
            initiator = clientKey
            phase = .established(peerTransient: clientTransient)
            return .success(.initiate(clientKey: clientKey, metadata: metadata.map { Property(name: $0.name, value: $0.value) }))
        case "READY":
            guard case .established(let serverTransient) = phase, fields.count >= 24 else { return .failure(CurveProblem("READY of \(fields.count + 6) octets, or out of turn")) }
            guard let plain = Self.open(fields[8...], nonce: Self.prefix("CurveZMQREADY---") + fields[0..<8], from: serverTransient, to: transientSecret)
            else { return .failure(CurveProblem("the READY box does not open")) }
            guard let metadata = Self.parseMetadata(plain) else { return .failure(CurveProblem("the READY metadata is malformed")) }
            lastPeerNonce = Self.readBigEndian(fields[0..<8])
            return .success(.ready(metadata: metadata.map { Property(name: $0.name, value: $0.value) }))
        default:
            guard case .established(let peerTransient) = phase, fields.count >= 25 else { return .failure(CurveProblem("MESSAGE of \(fields.count + 8) octets, or before the handshake")) }
            let short = Self.readBigEndian(fields[0..<8])
            guard short > lastPeerNonce else { return .failure(CurveProblem("the MESSAGE nonce \(short) does not increase (last \(lastPeerNonce))")) }
            let prefix = Self.prefix(role == .client ? "CurveZMQMESSAGES" : "CurveZMQMESSAGEC")
            guard let plain = Self.open(fields[8...], nonce: prefix + fields[0..<8], from: peerTransient, to: transientSecret), !plain.isEmpty
            else { return .failure(CurveProblem("the MESSAGE box does not open")) }
            lastPeerNonce = short
            return .success(.message(flags: plain[0], body: Array(plain[1...])))
        }
    }
}

/// Why a CURVE command of the target does not hold.
struct CurveProblem: Error, Equatable {
    var message: String
    init(_ message: String) { self.message = message }
}
