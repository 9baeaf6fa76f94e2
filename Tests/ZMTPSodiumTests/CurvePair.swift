import FuzzSupport
import Testing
@_spi(Testing) @testable import ZMTP
import ZMTPSodium

/// The two CURVE providers the machines are driven with.
enum Provider: String, CaseIterable, CustomTestStringConvertible {
    case sodium
    case insecure

    var crypto: any CurveCrypto {
        switch self {
        case .sodium: return SodiumCurveCrypto()
        case .insecure: return InsecureFuzzingCurveCrypto()
        }
    }

    var testDescription: String { rawValue }
}

/// A CURVE client and server wired back to back, no sockets (quinn's `Pair`, h11's
/// `ConnectionPair`). Every command body that crosses is kept in `transcript`.
struct CurvePair {
    static let clientMetadata: Metadata = ["Socket-Type": "DEALER", "Identity": "client-1"]
    static let serverMetadata: Metadata = ["Socket-Type": "ROUTER", "Identity": ""]

    let crypto: any CurveCrypto
    let serverKeys: CurveKeyPair
    let clientKeys: CurveKeyPair
    var client: CurveClientHandshake
    var server: CurveServerHandshake
    var transcript: [[UInt8]] = []

    /// - Parameters:
    ///   - seed: seeds the long-term keys and both sides' randomness; same seed, same bytes.
    ///   - clientServerKey: the server key the client is configured with (default: the right one).
    init(
        _ provider: Provider, seed: UInt64 = 1, authenticate: Bool = false, clientServerKey: [UInt8]? = nil,
        clientMetadata: Metadata = CurvePair.clientMetadata, serverMetadata: Metadata = CurvePair.serverMetadata
    ) throws(ZMTPError) {
        crypto = provider.crypto
        let keyRandom = SeededRandom(seed: seed &* 1000)
        serverKeys = try CurveKeyPair.generate(crypto: crypto, random: keyRandom)
        clientKeys = try CurveKeyPair.generate(crypto: crypto, random: keyRandom)
        client = try CurveClientHandshake(
            serverPublicKey: clientServerKey ?? serverKeys.publicKey, keyPair: clientKeys, metadata: clientMetadata,
            crypto: crypto, random: SeededRandom(seed: seed &* 1000 &+ 1))
        server = try CurveServerHandshake(
            keyPair: serverKeys, metadata: serverMetadata, domain: "global", address: "127.0.0.1",
            authenticate: authenticate, crypto: crypto, random: SeededRandom(seed: seed &* 1000 &+ 2))
    }

    // MARK: One command at a time

    /// client.start() → HELLO.
    mutating func hello() throws(ZMTPError) -> [UInt8] {
        let serverStart = try server.start()
        #expect(serverStart.send.isEmpty)
        return try only(client.start())
    }

    /// server.receive(HELLO) → WELCOME.
    mutating func welcome(_ hello: [UInt8]) throws(ZMTPError) -> [UInt8] {
        try only(server.receive(hello[...]))
    }

    /// client.receive(WELCOME) → INITIATE.
    mutating func initiate(_ welcome: [UInt8]) throws(ZMTPError) -> [UInt8] {
        try only(client.receive(welcome[...]))
    }

    /// server.receive(INITIATE) → the step (READY + completion, or an authentication request).
    mutating func serverStep(_ initiate: [UInt8]) throws(ZMTPError) -> HandshakeStep {
        let step = try server.receive(initiate[...])
        transcript += step.send
        return step
    }

    /// client.receive(READY) → the client's completion.
    mutating func clientCompletion(_ ready: [UInt8]) throws(ZMTPError) -> HandshakeCompletion {
        let step = try client.receive(ready[...])
        #expect(step.send.isEmpty)
        guard let completion = step.completion else {
            Issue.record("client did not complete on READY")
            throw ZMTPError(.unspecified, blame: .apiMisuse, "test")
        }
        return completion
    }

    /// The whole handshake without authentication.
    mutating func complete() throws(ZMTPError) -> (client: HandshakeCompletion, server: HandshakeCompletion) {
        let step = try serverStep(initiate(welcome(hello())))
        guard let serverCompletion = step.completion, step.send.count == 1 else {
            Issue.record("server did not complete on INITIATE")
            throw ZMTPError(.unspecified, blame: .apiMisuse, "test")
        }
        return (try clientCompletion(step.send[0]), serverCompletion)
    }

    /// The two MESSAGE codecs after a complete handshake.
    mutating func codecs() throws(ZMTPError) -> (client: CurveMessageCodec, server: CurveMessageCodec) {
        let (c, s) = try complete()
        return (try codec(c), try codec(s))
    }

    private mutating func only(_ step: HandshakeStep) -> [UInt8] {
        #expect(step.send.count == 1)
        #expect(step.completion == nil)
        #expect(step.failure == nil)
        transcript += step.send
        return step.send.first ?? []
    }
}

func codec(_ completion: HandshakeCompletion) throws(ZMTPError) -> CurveMessageCodec {
    switch completion.dataCodec {
    case .curve(let codec): return codec
    case .plaintext:
        Issue.record("CURVE completed with a plaintext codec")
        throw ZMTPError(.unspecified, blame: .apiMisuse, "test")
    }
}

func seal(_ codec: CurveMessageCodec, flags: UInt8 = 0, _ payload: [UInt8]) -> [UInt8] {
    payload.withUnsafeBytes { codec.seal(flags: flags, body: $0) }
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// `body` with bit `bit` of octet `index` flipped.
func flipped(_ body: [UInt8], at index: Int, bit: UInt8 = 0x01) -> [UInt8] {
    var copy = body
    copy[index] ^= bit
    return copy
}

/// Expects `body` to throw a ZMTPError with `code` and `blame`.
///
/// The closure is untyped `throws`: closures do not infer typed throws without the
/// FullTypedThrows feature.
func expectError(
    _ code: ZMTPError.Code, blame: ZMTPError.Blame = .peerMisbehaved,
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
) {
    do {
        try body()
        Issue.record("expected \(code), nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as ZMTPError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        #expect(error.blame == blame, "\(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected ZMTPError \(code), got \(error)", sourceLocation: sourceLocation)
    }
}

// MARK: Forging with the insecure provider

/// Reads and rewrites CURVE commands made with ``InsecureFuzzingCurveCrypto``, whose "shared
/// keys" are computable from public keys alone: exactly what lets a fuzzer reach the later
/// checks, and what lets these tests reach the vouch and metadata checks.
struct Forger {
    let crypto = InsecureFuzzingCurveCrypto()
    let serverPublicKey: [UInt8]
    let hello: [UInt8]
    let welcome: [UInt8]

    /// XOR of two public keys: the insecure provider's shared key.
    static func xor(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> [UInt8] { zip(a, b).map { $0 ^ $1 } }

    var clientTransientKey: [UInt8] { Array(hello[80..<112]) }

    /// S' and the cookie, from WELCOME.
    var welcomePlaintext: [UInt8] {
        crypto.openBox(
            welcome[24...], nonce: CurveWire.nonce(CurveWire.welcomeNoncePrefix, welcome[8..<24]),
            sharedKey: Forger.xor(clientTransientKey, serverPublicKey))!
    }

    var serverTransientKey: [UInt8] { Array(welcomePlaintext[0..<32]) }
    var sessionKey: [UInt8] { Forger.xor(clientTransientKey, serverTransientKey) }

    /// An INITIATE carrying `plaintext` (C, vouch, metadata) under the real cookie.
    func initiate(plaintext: [UInt8], shortNonce: UInt64 = 2) -> [UInt8] {
        var out = [UInt8(8)] + bytes("INITIATE") + welcomePlaintext[32..<128]
        appendBigEndian(shortNonce, to: &out)
        out += crypto.box(plaintext, nonce: CurveWire.nonce(CurveWire.initiateNoncePrefix, shortNonce), sharedKey: sessionKey)
        return out
    }

    /// The plaintext of a real INITIATE.
    func open(initiate: [UInt8]) -> [UInt8] {
        crypto.openBox(
            initiate[113...], nonce: CurveWire.nonce(CurveWire.initiateNoncePrefix, readBigEndianUInt64(initiate[...], at: 105)),
            sharedKey: sessionKey)!
    }

    /// A vouch Box[content](C → S') with a fixed nonce.
    func vouch(_ content: [UInt8], clientPublicKey: [UInt8]) -> [UInt8] {
        let nonce = [UInt8](repeating: 7, count: 16)
        return nonce
            + crypto.box(
                content, nonce: CurveWire.nonce(CurveWire.vouchNoncePrefix, nonce),
                sharedKey: Forger.xor(clientPublicKey, serverTransientKey))
    }

    /// A READY carrying `plaintext` from the server.
    func ready(plaintext: [UInt8], shortNonce: UInt64 = 1) -> [UInt8] {
        var out = [UInt8(5)] + bytes("READY")
        appendBigEndian(shortNonce, to: &out)
        out += crypto.box(plaintext, nonce: CurveWire.nonce(CurveWire.readyNoncePrefix, shortNonce), sharedKey: sessionKey)
        return out
    }
}
