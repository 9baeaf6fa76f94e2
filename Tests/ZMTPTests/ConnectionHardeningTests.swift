import FuzzSupport
import Testing
@_spi(Testing) @testable import ZMTP

/// Behaviours that protect a connection from hostile peers and careless embedders.
@Suite("Connection hardening")
struct ConnectionHardeningTests {
    static let insecure = InsecureFuzzingCurveCrypto()

    static func curvePair() throws -> ConnectionPair {
        let server = try CurveKeyPair.generate(crypto: insecure, random: SeededRandom(seed: 10))
        let client = try CurveKeyPair.generate(crypto: insecure, random: SeededRandom(seed: 11))
        return ConnectionPair(
            client: Connection.Configuration(socketType: .dealer, security: .curveClient(serverPublicKey: server.publicKey, keyPair: client)),
            server: Connection.Configuration(socketType: .router, security: .curveServer(keyPair: server, zapDomain: "", authenticate: false)),
            crypto: insecure)
    }

    @Test func aPingFloodGetsOnePongUntilTheDriverTransmits() {
        var router = RawPeer(Connection.Configuration(socketType: .router))
        router.feed(RawWireTests.nullGreeting31 + RawWireTests.readyDealer)
        let ping = hex("04 07 04") + ascii("PING") + hex("00 00")
        router.connection.receive(Array(repeating: ping, count: 1000).flatMap { $0 }, now: .zero)
        while let e = router.connection.nextEvent() { router.events.append(e) }
        var out: [UInt8] = []
        router.connection.pollTransmit(into: &out)
        #expect(out == hex("04 05 04") + ascii("PONG"))
        #expect(router.error == nil)
    }

    @Test func aHeartbeatTimeoutOfZeroNeverFires() {
        var c = Connection.Configuration(socketType: .dealer)
        c.heartbeatInterval = .milliseconds(100)
        c.heartbeatTimeout = .milliseconds(0)
        var pair = ConnectionPair(client: c, server: Connection.Configuration(socketType: .router))
        pair.drive()
        var t = ZMTPInstant.zero
        for _ in 0..<50 {
            t = t.adding(.milliseconds(100))
            pair.client.handleTimeout(now: t)   // PINGs go out; nothing comes back
        }
        #expect(pair.client.error == nil)
    }

    @Test func aCleartextErrorInjectedIntoACurveSessionIsNotAnAuthenticationFailure() throws {
        var pair = try Self.curvePair()
        pair.drive()
        #expect(pair.clientPeer != nil)
        pair.client.receive(hex("04 0a 05") + ascii("ERROR") + hex("03") + ascii("400"), now: .zero)
        while let e = pair.client.nextEvent() { pair.clientEvents.append(e) }
        #expect(pair.clientError?.code == .unexpectedCommand)
    }

    @Test func copiesOfACurveConnectionNeverReuseANonce() throws {
        var pair = try Self.curvePair()
        pair.drive()
        var copy = pair.client
        var first: [UInt8] = []
        var second: [UInt8] = []
        try pair.client.send(Message(string: "one"))
        pair.client.pollTransmit(into: &first)
        try copy.send(Message(string: "two"))
        copy.pollTransmit(into: &second)
        // 00 len 07 'MESSAGE' nonce(8) …: the short nonces differ.
        #expect(first[10..<18] != second[10..<18])
    }

    @Test func anInvalidConfigurationFailsBeforeTheGreeting() throws {
        var config = Connection.Configuration(socketType: .dealer)
        config.identity = [UInt8](repeating: 1, count: 256)
        var connection = Connection(configuration: config, random: SeededRandom(seed: 1), now: .zero)
        var out: [UInt8] = []
        #expect(connection.pollTransmit(into: &out) == 0)
        #expect(connection.nextEvent() == .failed(ZMTPError(.invalidArgument, blame: .apiMisuse, "identity is at most 255 bytes")))
        let noCrypto = Connection(configuration: .init(socketType: .dealer, security: .curveClient(
            serverPublicKey: [UInt8](repeating: 9, count: 32),
            keyPair: try CurveKeyPair(publicKey: [UInt8](repeating: 1, count: 32), secretKey: [UInt8](repeating: 2, count: 32)))),
            random: SeededRandom(seed: 1), now: .zero)
        #expect(noCrypto.error?.code == .invalidArgument)
    }

    @Test func aPeerOfTheWrongSocketTypeGetsNoReady() {
        var pair = ConnectionPair(
            client: Connection.Configuration(socketType: .push, security: .plainClient(username: ascii("u"), password: ascii("p"))),
            server: Connection.Configuration(socketType: .pub, security: .plainServer(zapDomain: "")))
        pair.drive()
        #expect(pair.serverError?.code == .incompatibleSocketType)
        // The server sent its greeting and WELCOME; READY never went out.
        #expect(pair.serverWire.contains(subsequence: ascii("WELCOME")))
        #expect(!pair.serverWire.contains(subsequence: ascii("READY")))
        #expect(pair.clientPeer == nil)
    }

    @Test func theAuthenticationRequestCarriesOurOwnRoutingIdAsLibzmqDoes() {
        var requests: [AuthenticationRequest] = []
        var server = Connection.Configuration(socketType: .router, security: .plainServer(zapDomain: "z"))
        server.identity = ascii("me")
        server.peerAddress = "10.0.0.1"
        var client = Connection.Configuration(socketType: .dealer, security: .plainClient(username: ascii("u"), password: ascii("p")))
        client.identity = ascii("them")
        var pair = ConnectionPair(client: client, server: server)
        pair.authenticator = { requests.append($0); return .accept() }
        pair.drive()
        #expect(requests.map(\.identity) == [ascii("me")])
        #expect(requests.map(\.address) == ["10.0.0.1"])
        #expect(pair.serverPeer?.identity == ascii("them"))
    }

    @Test func secretsDoNotPrint() throws {
        let pair = try CurveKeyPair(publicKey: [UInt8](repeating: 1, count: 32), secretKey: [UInt8](repeating: 0xAB, count: 32))
        let security = Security.plainClient(username: ascii("admin"), password: ascii("hunter2"))
        #expect(!"\(pair)".contains("abab"))
        #expect(!"\(security)".contains("hunter2"))
        var dumped = ""
        dump(Security.curveServer(keyPair: pair, zapDomain: "", authenticate: false), to: &dumped)
        #expect(!dumped.contains("171"))
    }
}

extension Array where Element == UInt8 {
    func contains(subsequence: [UInt8]) -> Bool {
        guard subsequence.count <= count else { return false }
        return (0...(count - subsequence.count)).contains { self[$0..<($0 + subsequence.count)].elementsEqual(subsequence) }
    }
}
