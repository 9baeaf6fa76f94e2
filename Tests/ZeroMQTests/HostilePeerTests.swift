#if canImport(Glibc)
import Glibc
#endif
import Testing
import ZMTPSodium
import ZeroMQ

/// libzmq's test_security_curve hostile clients, replayed over a raw TCP socket against a CURVE
/// server PULL: none gets a message to the application, each is dropped with the ZMTP error code
/// libzmq reports, and the socket goes on serving good clients.
@Suite("CURVE server against hostile peers")
struct HostilePeerTests {
    /// One hostile client: what it sends, and the error the server must report.
    enum HostileClient: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case zmtp10Anonymous
        case helloTooShort
        case helloVersion2
        case helloAllZeroTransientKey
        case helloForAnotherServer
        case initiateTooShort
        case initiateBadCookie
        case initiateBadBox
        case initiateAllZeroClientKey
        case nullClient
        case plainClient

        var testDescription: String { rawValue }

        /// The code the server's handshake failure carries.
        var expected: ZMTPError.Code {
            switch self {
            // libzmq refuses a ZMTP/1.0 peer when security is on (`zap_enabled`) with a bare
            // protocol error and no ZMQ_PROTOCOL_ERROR_* number; ours has a code of its own,
            // reported as HANDSHAKE_FAILED_NO_DETAIL.
            case .zmtp10Anonymous: return .legacyPeerRefused
            case .helloTooShort, .helloVersion2: return .malformedCommandHello
            case .initiateTooShort: return .malformedCommandInitiate
            case .helloAllZeroTransientKey, .helloForAnotherServer, .initiateBadCookie, .initiateBadBox,
                 .initiateAllZeroClientKey:
                return .cryptographic
            case .nullClient, .plainClient: return .mechanismMismatch
            }
        }

        /// Plays the attack on `peer`, a fresh connection to a server whose public key is `serverKey`.
        func play(_ peer: LoopbackTCP, serverKey: [UInt8]) throws {
            let curve = RawZMTP.greeting("CURVE")
            let client = try HandBuiltCurveClient(serverKey: serverKey)
            switch self {
            case .zmtp10Anonymous:
                // An anonymous ZMTP/1.0 identity frame, then a message frame whose length counts
                // its flags octet: `01 00`, `08 00 'sneaky\0'`.
                try peer.write([0x01, 0x00, 0x08, 0x00] + Array("sneaky".utf8) + [0])
            case .nullClient:
                let ready = RawZMTP.name("READY") + HandBuiltCurveClient.property("Socket-Type", "PUSH")
                try peer.write(RawZMTP.greeting("NULL") + RawZMTP.command(ready))
            case .plainClient:
                let hello = RawZMTP.name("HELLO") + [5] + Array("admin".utf8) + [8] + Array("password".utf8)
                try peer.write(RawZMTP.greeting("PLAIN") + RawZMTP.command(hello))
            case .helloTooShort:
                // `04 06 05 HELLO`: the name and nothing else.
                try peer.write(curve + RawZMTP.command(RawZMTP.name("HELLO")))
            case .helloVersion2:
                try peer.write(curve + RawZMTP.command(client.hello(version: 2)))
            case .helloAllZeroTransientKey:
                try peer.write(curve + RawZMTP.command(client.hello(transientKey: [UInt8](repeating: 0, count: 32))))
            case .helloForAnotherServer:
                let stranger = try CurveKeyPair.generate(crypto: SodiumCurveCrypto(), random: SodiumRandom())
                try peer.write(curve + RawZMTP.command(HandBuiltCurveClient(serverKey: stranger.publicKey).hello()))
            case .initiateTooShort, .initiateBadCookie, .initiateBadBox, .initiateAllZeroClientKey:
                var client = client
                let cookie = try client.exchangeHelloForCookie(over: peer)
                var initiate = client.initiate(
                    cookie: cookie, clientKey: self == .initiateAllZeroClientKey ? [UInt8](repeating: 0, count: 32) : nil)
                switch self {
                case .initiateTooShort: initiate = RawZMTP.name("INITIATE")  // `04 09 08 INITIATE`
                case .initiateBadCookie: initiate[40] ^= 0x01  // inside the cookie's secret box [25..<105]
                case .initiateBadBox: initiate[initiate.count - 1] ^= 0x01
                default: break
                }
                try peer.write(RawZMTP.command(initiate))
            }
        }
    }

    /// A CURVE server PULL on tcp://127.0.0.1:*, its key pair, and its monitor (made before the bind).
    static func curveServer(_ context: Context) throws -> (Socket, CurveKeyPair, SocketMonitor) {
        let keys = try CurveKeyPair.generate(crypto: SodiumCurveCrypto(), random: SodiumRandom())
        let server = try Fixture.socket(context, .pull, timeout: .seconds(20))
        server.options.security = .curveServer(keyPair: keys, zapDomain: "", authenticate: false)
        let monitor = server.monitor()
        try server.bind("tcp://127.0.0.1:*")
        return (server, keys, monitor)
    }

    /// A good CURVE client connects after the attack and its message is the first the server
    /// ever delivers.
    static func assertStillServesGoodClients(_ server: Socket, _ context: Context, serverKey: [UInt8],
                                             sourceLocation: SourceLocation = #_sourceLocation) throws {
        let client = try Fixture.socket(context, .push)
        let keys = try CurveKeyPair.generate(crypto: SodiumCurveCrypto(), random: SodiumRandom())
        client.options.security = .curveClient(serverPublicKey: serverKey, keyPair: keys)
        try client.connect(server.lastEndpoint)
        try client.send("good")
        #expect(try server.receiveString() == "good", sourceLocation: sourceLocation)
        #expect(server.statistics.messagesReceived == 1, sourceLocation: sourceLocation)
    }

    @Test("Control: the hand-built client, untampered, completes the handshake and gets its message delivered")
    func handBuiltClientIsServed() async throws {
        let context = try Context()
        let (server, keys, monitor) = try Self.curveServer(context)
        let peer = try LoopbackTCP.connect(port: RawZMTP.port(of: server.lastEndpoint))
        var client = try HandBuiltCurveClient(serverKey: keys.publicKey)
        let cookie = try client.exchangeHelloForCookie(over: peer)
        try peer.write(RawZMTP.command(client.initiate(cookie: cookie)))
        let header = try peer.read(exactly: 2)
        #expect(header[0] == 0x04, "READY comes in a short command frame")
        let ready = try peer.read(exactly: Int(header[1]))
        #expect(ready.starts(with: RawZMTP.name("READY")))
        // A MESSAGE in a data frame (flags 0x00), as libzmq sends it.
        let message = client.message(Array("hand-built".utf8))
        try peer.write([0x00, UInt8(message.count)] + message)
        #expect(try await server.receiveString() == "hand-built")
        let succeeded = await monitor.next { if case .handshakeSucceeded = $0 { return true }; return false }
        #expect(succeeded.match != nil, "no handshake succeeded among \(succeeded.seen)")
    }

    @Test("A hostile client is dropped with libzmq's error code, delivers nothing, and good clients are still served",
          arguments: HostileClient.allCases)
    func hostileClientIsRefused(_ attack: HostileClient) async throws {
        let context = try Context()
        let (server, keys, monitor) = try Self.curveServer(context)
        let peer = try LoopbackTCP.connect(port: RawZMTP.port(of: server.lastEndpoint))
        try attack.play(peer, serverKey: keys.publicKey)
        let answer = peer.readUntilClosed()
        #expect(answer.closed, "the server kept the connection open (read \(answer.bytes.count) bytes)")
        peer.close()

        let failure = await monitor.next { $0.handshakeError != nil }
        let event = try #require(failure.match, "no handshake failure among \(failure.seen)")
        let error = try #require(event.handshakeError)
        #expect(error.code == attack.expected, "\(error)")
        #expect(error.blame == .peerMisbehaved || error.blame == .peerIncompatible)
        #expect(!failure.seen.contains { if case .handshakeSucceeded = $0 { return true }; return false })
        // The libzmq monitor format carries the protocol code as libzmq's would.
        let libzmq = event.libzmqEvent
        if attack.expected == .legacyPeerRefused {
            #expect(libzmq.event == .handshakeFailedNoDetail)
        } else {
            #expect(libzmq.event == .handshakeFailedProtocol)
            #expect(libzmq.value == attack.expected.rawValue)
        }

        #expect(throws: ZeroMQError.self, "a message from the hostile client was delivered") {
            _ = try server.receive(timeout: .milliseconds(200))
        }
        #expect(server.statistics.handshakesSucceeded == 0)
        try Self.assertStillServesGoodClients(server, context, serverKey: keys.publicKey)
    }
}

/// A CURVE client written from RFC 26's grammar (libzmq.md §2.8) over libsodium, apart from the
/// core's client, so each field of its HELLO and INITIATE can be spoiled on its own. Short nonces:
/// HELLO 1, INITIATE 2, first MESSAGE 3, as libzmq counts.
struct HandBuiltCurveClient {
    let crypto = SodiumCurveCrypto()
    let random = SodiumRandom()
    /// S.
    let serverKey: [UInt8]
    /// C and c.
    let longTerm: CurveKeyPair
    /// C' and c'.
    let transient: CurveKeyPair
    /// S', from WELCOME.
    private(set) var serverTransientKey: [UInt8] = []

    init(serverKey: [UInt8]) throws {
        self.serverKey = serverKey
        longTerm = try CurveKeyPair.generate(crypto: crypto, random: random)
        transient = try CurveKeyPair.generate(crypto: crypto, random: random)
    }

    static func nonce(_ prefix: String, _ tail: [UInt8]) -> [UInt8] { Array(prefix.utf8) + tail }

    /// `name-len name value-len(4, big-endian) value` (RFC 23 metadata).
    static func property(_ name: String, _ value: String) -> [UInt8] {
        RawZMTP.name(name) + RawZMTP.bigEndian(UInt64(value.utf8.count)).suffix(4) + Array(value.utf8)
    }

    /// hello = %d5 "HELLO" version(2) padding(72) C' short-nonce Box[64 × %x00](C' → S): 200 octets.
    /// With `transientKey`, C' is replaced and the box is noise (nobody holds that key's secret).
    func hello(version: UInt8 = 1, transientKey: [UInt8]? = nil) -> [UInt8] {
        let shortNonce = RawZMTP.bigEndian(1)
        let box = transientKey != nil
            ? random.bytes(80)
            : crypto.box([UInt8](repeating: 0, count: 64), nonce: Self.nonce("CurveZMQHELLO---", shortNonce),
                         publicKey: serverKey, secretKey: transient.secretKey)
        return RawZMTP.name("HELLO") + [version, 0] + [UInt8](repeating: 0, count: 72)
            + (transientKey ?? transient.publicKey) + shortNonce + box
    }

    /// Sends the greeting and HELLO, reads the server's greeting and WELCOME, opens WELCOME
    /// (Box[S' cookie](S → C'), nonce "WELCOME-" + 16 octets) and returns the 96-octet cookie.
    mutating func exchangeHelloForCookie(over peer: LoopbackTCP) throws -> [UInt8] {
        try peer.write(RawZMTP.greeting("CURVE") + RawZMTP.command(hello()))
        let greeting = try peer.read(exactly: 64)
        guard greeting[0] == 0xFF, greeting[12..<17].elementsEqual("CURVE".utf8) else {
            throw LoopbackError("not a CURVE greeting: \(greeting)")
        }
        guard try peer.read(exactly: 2) == [0x04, 168] else { throw LoopbackError("no 168-octet WELCOME frame") }
        let welcome = try peer.read(exactly: 168)
        guard welcome.starts(with: RawZMTP.name("WELCOME")),
              let plaintext = crypto.openBox(welcome[24...], nonce: Self.nonce("WELCOME-", Array(welcome[8..<24])),
                                             publicKey: serverKey, secretKey: transient.secretKey),
              plaintext.count == 128
        else { throw LoopbackError("WELCOME does not open") }
        serverTransientKey = Array(plaintext[0..<32])
        return Array(plaintext[32...])
    }

    /// initiate = %d8 "INITIATE" cookie short-nonce Box[C vouch metadata](C' → S'),
    /// vouch = nonce(16) Box[C' S](C → S'). With `clientKey`, C is replaced and the vouch is noise.
    func initiate(cookie: [UInt8], clientKey: [UInt8]? = nil) -> [UInt8] {
        let vouchNonce = random.bytes(16)
        let vouch = clientKey != nil
            ? random.bytes(96)
            : vouchNonce + crypto.box(transient.publicKey + serverKey, nonce: Self.nonce("VOUCH---", vouchNonce),
                                      publicKey: serverTransientKey, secretKey: longTerm.secretKey)
        let plaintext = (clientKey ?? longTerm.publicKey) + vouch + Self.property("Socket-Type", "PUSH")
        let shortNonce = RawZMTP.bigEndian(2)
        let box = crypto.box(plaintext, nonce: Self.nonce("CurveZMQINITIATE", shortNonce),
                             publicKey: serverTransientKey, secretKey: transient.secretKey)
        return RawZMTP.name("INITIATE") + cookie + shortNonce + box
    }

    /// message = %d7 "MESSAGE" short-nonce Box[flags payload](C' → S'), flags 0 (last part).
    func message(_ payload: [UInt8], shortNonce: UInt64 = 3) -> [UInt8] {
        let nonce = RawZMTP.bigEndian(shortNonce)
        let box = crypto.box([0] + payload, nonce: Self.nonce("CurveZMQMESSAGEC", nonce),
                             publicKey: serverTransientKey, secretKey: transient.secretKey)
        return RawZMTP.name("MESSAGE") + nonce + box
    }
}
