import Foundation
import Testing
@_spi(Testing) import ZMTP
import ZMTPSodium

/// A case of `Vectors/curve-interop-hello.json` (kind "curve-hello"): a CURVE HELLO this core
/// produces from fixed keys and fixed randomness, and that libzmq accepts (checked by
/// ``LibzmqInterop/Curve``). The file has the layout of every vector file (Vectors/README.md).
struct CurveHelloVector: Decodable {
    struct File: Decodable {
        var description: String
        var source: String
        var kind: String
        var cases: [CurveHelloVector]
    }

    var name: String
    var description: String
    var source: String
    var clientPublicKey: String
    var clientSecretKey: String
    var serverPublicKey: String
    /// What the libzmq server is given (CURVE_SECRETKEY); not needed to check the HELLO.
    var serverSecretKey: String
    /// Every random octet the client draws, in order: 32 for its transient secret key (HELLO),
    /// then 16 for the vouch nonce (INITIATE).
    var randomness: String
    /// The HELLO command body (RFC 26 §HELLO: 200 octets, without the `04 c8` frame header).
    var hello: String

    static let path: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Vectors/curve-interop-hello.json").path

    static func load() throws -> [CurveHelloVector] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InteropFailure("cannot read \(path)")
        }
        let file = try JSONDecoder().decode(File.self, from: data)
        guard file.kind == "curve-hello", !file.cases.isEmpty else {
            throw InteropFailure("\(path): expected kind curve-hello with cases")
        }
        return file.cases
    }
}

/// Serves a vector's scripted random bytes, then secure ones, counting every byte drawn: a core
/// that came to draw more than the vector holds fails the test instead of trapping
/// (`ScriptedRandom` would stop the whole test process).
final class VectorRandom: RandomSource {
    private let scripted: [UInt8]
    private let fallback = SodiumRandom()
    private(set) var drawn = 0

    init(_ scripted: [UInt8]) { self.scripted = scripted }

    func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        for i in 0..<buffer.count {
            if drawn < scripted.count {
                buffer[i] = scripted[drawn]
            } else {
                fallback.fill(UnsafeMutableRawBufferPointer(rebasing: buffer[i...]))
                drawn += buffer.count - i
                return
            }
            drawn += 1
        }
    }
}

extension LibzmqInterop {
    /// CURVE (RFC 25/26) against libzmq, with libsodium on the Swift side.
    @Suite("CURVE") struct Curve {
        static let request: [[UInt8]] = [utf8("curve"), [], [UInt8](repeating: 0xC5, count: 300)]
        static let reply: [[UInt8]] = [utf8("boxed"), utf8("reply"), [UInt8](repeating: 0x3C, count: 70_000)]

        // MARK: Swift client, libzmq server

        @Test("the Swift CURVE client sends the recorded HELLO vector, libzmq accepts it, and messages flow",
              arguments: Direction.allCases)
        func swiftClientMatchesVectorAndTalks(_ direction: Direction) throws {
            let vectors = try CurveHelloVector.load()
            for vector in vectors {
                try run(vector, direction)
            }
        }

        private func run(_ vector: CurveHelloVector, _ direction: Direction) throws {
            let clientKeys = try CurveKeyPair(publicKey: bytes(hex: vector.clientPublicKey), secretKey: bytes(hex: vector.clientSecretKey))
            let serverSecretZ85 = try CurveKeys.z85(bytes(hex: vector.serverSecretKey))
            var configuration = Connection.Configuration(
                socketType: .dealer,
                security: .curveClient(serverPublicKey: bytes(hex: vector.serverPublicKey), keyPair: clientKeys))
            configuration.identity = utf8("curve-client")
            let scripted = bytes(hex: vector.randomness)
            let random = VectorRandom(scripted)
            let (peer, driver) = try startSession(
                direction, peer: ["--type", "ROUTER", "--curve-server-secret=" + serverSecretZ85, "--zap", "--monitor"],
                configuration: configuration, crypto: SodiumCurveCrypto(), random: random)
            defer { peer.stop() }
            #expect(try peer.waitForLine("SERVERKEY") == "SERVERKEY \(try CurveKeys.z85(bytes(hex: vector.serverPublicKey)))")

            driver.send(Self.request)
            try #require(driver.run(until: { _ in peer.received.count >= 1 }, "libzmq to receive the request"))

            // HELLO follows our 64-byte greeting in a short command frame: 04 c8 + 200 bytes.
            try #require(driver.sent.count >= 266)
            #expect(Array(driver.sent[64..<66]) == [0x04, 0xC8])
            let hello = Array(driver.sent[66..<266])
            #expect(hello == bytes(hex: vector.hello), "\(vector.name): the core now sends the HELLO \(hex(hello))")
            #expect(random.drawn == scripted.count, "the client drew \(random.drawn) random bytes; the vector has \(scripted.count)")

            // libzmq opened every box: ZAP saw the long-term key from INITIATE's vouch.
            #expect(peer.lines("ZAP") == ["ZAP CURVE 200 \(hex(bytes(hex: vector.clientPublicKey)))"])
            #expect(peer.received == [[utf8("curve-client")] + Self.request])
            #expect(peer.metadata["Socket-Type"] == utf8("DEALER"))
            #expect(peer.metadata["User-Id"] == utf8("curve-client"))
            let info = try #require(driver.peerInfo)
            #expect(info.mechanism == .curve)
            #expect(info.socketType == .router)

            peer.send([utf8("curve-client")] + Self.reply)
            try #require(driver.run(until: { $0.messages.count >= 1 }, "the reply"))
            #expect(driver.messages == [Self.reply])
            #expect(driver.failure == nil)
            // MESSAGE boxes never show plaintext on the wire.
            #expect(!driver.received.contains(bytes: utf8("boxed")))
            #expect(!driver.sent.contains(bytes: utf8("curve")))
        }

        @Test("a Swift CURVE client with the wrong server key: libzmq drops it and nothing is delivered",
              arguments: Direction.allCases)
        func swiftClientWithWrongServerKey(_ direction: Direction) throws {
            let configuration = Connection.Configuration(
                socketType: .dealer,
                security: .curveClient(serverPublicKey: CurveKeys.generate().publicKey, keyPair: try ExampleKeys.client()))
            let (peer, driver) = try startSession(
                direction, peer: ["--type", "ROUTER", "--curve-server-secret=" + ExampleKeys.serverSecret, "--monitor"],
                configuration: configuration, crypto: SodiumCurveCrypto())
            defer { peer.stop() }

            driver.send([utf8("must not arrive")])
            try #require(driver.run(
                until: { _ in peer.events.contains { $0.name.hasPrefix("HANDSHAKE_FAILED") } }, "libzmq's failure event"))
            let event = try #require(peer.events.first { $0.name.hasPrefix("HANDSHAKE_FAILED") })
            // libzmq cannot open the HELLO box (it was sealed for another key) and closes.
            #expect(event.name == "HANDSHAKE_FAILED_PROTOCOL")
            #expect(event.value == LibzmqProtocolError.cryptographic)
            try #require(driver.run(until: { $0.streamClosed || $0.failure != nil }, "the connection to end"))
            #expect(driver.peerInfo == nil)
            #expect(driver.messages.isEmpty)
            #expect(try peer.receivedCount() == 0)
        }

        // MARK: libzmq client, Swift server

        @Test("libzmq's CURVE client is authenticated by the Swift CURVE server and messages flow",
              arguments: Direction.allCases)
        func libzmqClientTalksToSwiftServer(_ direction: Direction) throws {
            let configuration = Connection.Configuration(
                socketType: .router,
                security: .curveServer(keyPair: try ExampleKeys.server(), zapDomain: "interop", authenticate: true))
            var clientKey: [UInt8] = []
            let (peer, driver) = try startSession(
                direction, peer: ["--type", "DEALER", "--curve-server-key=" + ExampleKeys.serverPublic, "--monitor"],
                configuration: configuration, crypto: SodiumCurveCrypto(),
                authenticate: { request in request.credentials == [clientKey] ? .accept(userID: "curve-user") : .deny })
            defer { peer.stop() }
            let line = try peer.waitForLine("CLIENTKEY")
            clientKey = try CurveKeys.key(z85: String(line.dropFirst("CLIENTKEY ".count)))

            try #require(driver.run(until: { $0.peerInfo != nil }, "the handshake"))
            let request = try #require(driver.authenticationRequests.first)
            #expect(request.mechanism == .curve)
            #expect(request.domain == "interop")
            #expect(request.credentials == [clientKey])
            let info = try #require(driver.peerInfo)
            #expect(info.mechanism == .curve)
            #expect(info.socketType == .dealer)
            #expect(info.authentication?.userID == "curve-user")

            peer.send(Self.request)
            driver.send(Self.reply)
            try #require(driver.run(
                until: { $0.messages.count >= 1 && peer.received.count >= 1 }, "a message each way"))
            #expect(driver.messages == [Self.request])
            #expect(peer.received == [Self.reply])
            #expect(peer.metadata["Socket-Type"] == utf8("ROUTER"))
            #expect(driver.failure == nil)
        }

        @Test("libzmq's CURVE client with the wrong server key: the Swift server refuses and nothing is delivered",
              arguments: Direction.allCases)
        func libzmqClientWithWrongServerKey(_ direction: Direction) throws {
            let configuration = Connection.Configuration(
                socketType: .router,
                security: .curveServer(keyPair: try ExampleKeys.server(), zapDomain: "interop", authenticate: true))
            let wrongKey = try CurveKeys.z85(CurveKeys.generate().publicKey)
            let early = direction == .libzmqConnects ? ["--send", hex(utf8("must not arrive either"))] : []
            let (peer, driver) = try startSession(
                direction, peer: ["--type", "DEALER", "--curve-server-key=" + wrongKey, "--monitor"] + early,
                configuration: configuration, crypto: SodiumCurveCrypto(), authenticate: { _ in .accept() })
            defer { peer.stop() }

            driver.send([utf8("must not arrive")])
            try #require(driver.run(until: { $0.failure != nil }, "the Swift server to refuse the HELLO"))
            #expect(driver.failure?.code == .cryptographic)
            #expect(driver.authenticationRequests.isEmpty)
            try #require(driver.run(
                until: { _ in peer.events.contains { $0.name.hasPrefix("HANDSHAKE_FAILED") || $0.name == "DISCONNECTED" } },
                "libzmq to notice"))
            #expect(!peer.events.contains { $0.name == "HANDSHAKE_SUCCEEDED" })
            #expect(driver.messages.isEmpty)
            #expect(try peer.receivedCount() == 0)
        }
    }
}
