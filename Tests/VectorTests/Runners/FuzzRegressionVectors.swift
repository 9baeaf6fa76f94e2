@_spi(Testing) import ZMTP

/// Kind "fuzz-regression": inputs the fuzzers found (Vectors/regressions/, written by the fuzzing
/// harnesses in Fuzz/) replayed through the target they came from. The invariant is the fuzzers'
/// (h11's): whatever the bytes, the parser or connection produces values, or an error blamed on
/// the peer; it never traps, and feeding the bytes whole or one at a time gives the same result.
enum FuzzRegressionVectors {
    static let targets: Set<String> = [
        "FuzzGreeting", "FuzzFrameDecoderV3", "FuzzFrameDecoderV2", "FuzzFrameDecoderV1", "FuzzCommand", "FuzzZ85",
        "FuzzPlainServer", "FuzzCurveServer", "FuzzCurveClient", "FuzzConnection",
    ]

    static func run(_ vector: VectorCase) throws {
        var f = try Fields(case: vector)
        let target = try f.string("target")
        let input = try f.bytes("input")
        // Optional: an explicit set-up instead of the harness's (connection targets).
        let configuration = f.optional("configuration")
        let stream = try f.optionalBytes("stream")
        let random = f.optional("random")
        let reply = try f.optional("authenticationReply").map { try Vectors.authenticationReply($0, "\(vector.name).authenticationReply") }
        _ = f.optional("finding")
        try f.finish()

        switch target {
        case "FuzzGreeting": greeting(input)
        case "FuzzFrameDecoderV3": frames(input, .zmtp3)
        case "FuzzFrameDecoderV2": frames(input, .zmtp2)
        case "FuzzFrameDecoderV1": frames(input, .zmtp1)
        case "FuzzCommand": command(input)
        case "FuzzZ85": z85(input)
        case "FuzzPlainServer", "FuzzCurveServer", "FuzzCurveClient", "FuzzConnection":
            let setup: ConnectionSetup
            if let configuration {
                let c = try VectorConfiguration(configuration, "\(vector.name).configuration")
                setup = ConnectionSetup(configuration: c.configuration, crypto: c.crypto,
                                        random: { try VectorRandom.from(random, "\(vector.name).random") },
                                        stream: stream ?? input, queued: [],
                                        authenticate: { _, _ in reply ?? .accept() })
            } else {
                guard let harness = try FuzzHarnesses.setup(target: target, input: input, stream: stream) else {
                    throw VectorFormatError("\(vector.name): this \(target) input cannot be replayed without the harness's recorded stream: "
                                            + "give \"stream\", the bytes the harness fed the connection (Vectors/README.md)")
                }
                setup = harness
            }
            try connection(setup)
        default:
            fail("unknown fuzz target \(target): add it to FuzzRegressionVectors and Vectors/README.md")
        }
    }

    static func requirePeer(_ error: ZMTPError, _ what: String, allowTransport: Bool = false) {
        switch error.blame {
        case .peerMisbehaved, .peerIncompatible: return
        case .transport where allowTransport: return
        case .transport, .apiMisuse: fail("\(what) threw \(error), blamed on \(error.blame.rawValue), not the peer")
        }
    }

    // MARK: Parsers

    static func greeting(_ input: [UInt8]) {
        for n in 0...min(input.count, Greeting.size + 2) {
            do throws(ZMTPError) { _ = try Greeting.detect(input.prefix(n)) } catch { requirePeer(error, "Greeting.detect(\(n) B)") }
        }
        do throws(ZMTPError) { _ = try Greeting.detect(input) } catch { requirePeer(error, "Greeting.detect") }
    }

    static func frames(_ input: [UInt8], _ version: FramingVersion) {
        for limit in [nil, 0, 1, 32, 33, 255] as [Int?] {
            let whole = FrameVectors.decode(input, version: version, maxMessageSize: limit, feed: .whole, limit: nil)
            let drip = FrameVectors.decode(input, version: version, maxMessageSize: limit, feed: .byteByByte, limit: nil)
            if let e = whole.error { requirePeer(e, "FrameDecoder (limit \(limit.map(String.init) ?? "none"))") }
            if whole.frames != drip.frames || whole.error != drip.error {
                fail("limit \(limit.map(String.init) ?? "none"): whole gave \(FrameVectors.show(whole.frames)) \(whole.error.map { "\($0)" } ?? ""), byte by byte \(FrameVectors.show(drip.frames)) \(drip.error.map { "\($0)" } ?? "")")
            }
        }
    }

    static func command(_ input: [UInt8]) {
        do throws(ZMTPError) {
            let command = try Command.parse(input[...])
            _ = try? command.encoded()
        } catch {
            requirePeer(error, "Command.parse")
        }
        do throws(ZMTPError) { _ = try Metadata.parse(input[...]) } catch { requirePeer(error, "Metadata.parse") }
    }

    static func z85(_ input: [UInt8]) {
        do throws(ZMTPError) { _ = try Z85.decode(String(decoding: input, as: UTF8.self)) } catch { requirePeer(error, "Z85.decode") }
        do throws(ZMTPError) {
            _ = try Z85.encode(input)
        } catch {
            if input.count % 4 == 0 || error.code != .invalidZ85 { fail("Z85.encode of \(input.count) bytes threw \(error)") }
        }
    }

    // MARK: Connections

    /// Everything needed to rebuild the connection a harness fuzzed.
    struct ConnectionSetup {
        var configuration: Connection.Configuration
        var crypto: any CurveCrypto
        var random: () throws -> RandomSource
        var stream: [UInt8]
        var queued: [Message]
        /// The answer to the `index`-th authentication request.
        var authenticate: (_ index: Int, _ request: AuthenticationRequest) -> AuthenticationReply
    }

    struct Run: Equatable {
        var events: [ConnectionEvent] = []
        var output: [UInt8] = []
    }

    static func connection(_ setup: ConnectionSetup) throws {
        let whole = try run(setup, drip: false)
        let drip = try run(setup, drip: true)
        if whole != drip {
            fail("whole and byte-by-byte runs differ: \(whole.events.map(Match.describe)) vs \(drip.events.map(Match.describe))")
        }
    }

    static func run(_ setup: ConnectionSetup, drip: Bool) throws -> Run {
        var connection = Connection(configuration: setup.configuration, crypto: setup.crypto, random: try setup.random(), now: .zero)
        var result = Run()
        var requests = 0
        var timersFired = false
        for message in setup.queued {
            do throws(ZMTPError) { try connection.send(message) } catch { fail("send before any input threw \(error)") }
        }
        func pump(_ now: ZMTPInstant) {
            while let event = connection.nextEvent() {
                result.events.append(event)
                switch event {
                case .failed(let error):
                    requirePeer(error, "the connection", allowTransport: timersFired)
                case .authenticationRequest(let request):
                    let reply = setup.authenticate(requests, request)
                    requests += 1
                    do throws(ZMTPError) {
                        try connection.completeAuthentication(reply, now: now)
                    } catch {
                        requirePeer(error, "completeAuthentication")
                    }
                default:
                    break
                }
            }
            connection.pollTransmit(into: &result.output)
        }
        pump(.zero)
        if drip {
            for byte in setup.stream {
                connection.receive([byte], now: .zero)
                pump(.zero)
            }
        } else {
            connection.receive(setup.stream, now: .zero)
            pump(.zero)
        }
        timersFired = true
        var t = ZMTPInstant.zero
        for hours in [1, 3] {
            t = t.adding(milliseconds: hours * 3_600_000)
            connection.handleTimeout(now: t)
            pump(t)
        }
        return result
    }
}

/// The fuzzing harnesses' set-ups (Fuzz/Sources/FuzzSupport/Scenarios.swift and Transcripts.swift),
/// rebuilt from a regression's `input` where that is possible without the harness's recordings.
enum FuzzHarnesses {
    static let crypto = InsecureFuzzingCurveCrypto()
    static let underTestSeed: UInt64 = 0x5E4E
    static let queued = Message(Array("queued by the application".utf8))

    static func keyPair(_ fill: UInt8) -> CurveKeyPair {
        let secret = (0..<32).map { UInt8(truncatingIfNeeded: Int(fill) &+ $0 &* 7) }
        return try! CurveKeyPair.from(secretKey: secret, crypto: crypto)
    }

    static let serverKeys = keyPair(0x11)
    static let clientKeys = keyPair(0x22)

    /// `alternating(denyFirst:)`: accept (user "fuzz", X-Fuzz=1) and deny in turn.
    static func alternating(denyFirst: Bool) -> (Int, AuthenticationRequest) -> AuthenticationReply {
        { index, _ in (index % 2 == 0) != denyFirst ? .accept(userID: "fuzz", metadata: ["X-Fuzz": "1"]) : .deny }
    }

    static func setup(target: String, input: [UInt8], stream: [UInt8]?) throws -> FuzzRegressionVectors.ConnectionSetup? {
        let seeded: () throws -> RandomSource = { SeededRandom(seed: underTestSeed) }
        switch target {
        case "FuzzPlainServer":
            var c = Connection.Configuration(socketType: .router, security: .plainServer(zapDomain: "fuzz"))
            c.peerAddress = "fuzz-peer"
            return .init(
                configuration: c, crypto: crypto, random: seeded,
                stream: stream ?? (Greeting(minor: 1, mechanism: .plain).encoded() + input), queued: [queued],
                authenticate: { index, request in
                    switch (index + (request.credentials.first?.count ?? 0)) % 4 {
                    case 0: return .accept(userID: "fuzz", metadata: ["X-Fuzz": "1"])
                    case 1: return .deny
                    case 2: return AuthenticationReply(statusCode: "300", statusText: "Try later")
                    default: return AuthenticationReply(statusCode: "500", statusText: "Internal")
                    }
                })
        case "FuzzConnection":
            let b0 = input.first ?? 0
            let b1 = input.dropFirst().first ?? 0
            let types = SocketType.allCases
            let type = types[Int(b0) % types.count]
            let security: Security
            switch (Int(b0) / types.count) % 6 {
            case 0: security = .none
            case 1: security = .null(zapDomain: "fuzz")
            case 2: security = .plainServer(zapDomain: "fuzz")
            case 3: security = .plainClient(username: Array("user".utf8), password: Array("password".utf8))
            case 4: security = .curveServer(keyPair: serverKeys, zapDomain: "fuzz", authenticate: b1 & 0x20 != 0)
            default: security = .curveClient(serverPublicKey: serverKeys.publicKey, keyPair: clientKeys)
            }
            var c = Connection.Configuration(socketType: type, security: security)
            c.acceptLegacyPeers = b0 >= 126
            if b1 & 0x01 != 0 {
                c.heartbeatInterval = 1_000
                c.heartbeatTTL = 5_000
                c.heartbeatTimeout = 2_000
            }
            if b1 & 0x02 != 0 { c.greetingMinorVersion = 0 }
            c.maxMessageSize = [nil, 0, 32, 300][Int(b1 >> 2) & 3]
            if b1 & 0x10 != 0 { c.identity = Array("fuzz-identity".utf8) }
            if b1 & 0x80 != 0 { c.properties = ["X-Fuzz": "yes", "X-Empty": ""] }
            c.peerAddress = "fuzz-peer"
            return .init(configuration: c, crypto: crypto, random: seeded, stream: stream ?? Array(input.dropFirst(2)),
                         queued: [queued], authenticate: alternating(denyFirst: b1 & 0x40 != 0))
        case "FuzzCurveServer", "FuzzCurveClient":
            // Only splice point 0 outside sealed mode replaces the whole recorded stream; any other
            // mode needs the recording, so the regression must carry "stream".
            let mode = input.first ?? 0
            guard stream != nil || (mode & 0x08 == 0 && Int(mode & 0x07) % 5 == 0) else { return nil }
            let pairs: [(server: SocketType, client: SocketType)] = [(.router, .dealer), (.pub, .sub), (.rep, .req), (.server, .client)]
            let pair = pairs[Int(mode >> 4) & 3]
            var c: Connection.Configuration
            var authenticate = alternating(denyFirst: false)
            if target == "FuzzCurveServer" {
                c = Connection.Configuration(socketType: pair.server, security: .curveServer(
                    keyPair: serverKeys, zapDomain: "fuzz", authenticate: mode & 0x40 != 0))
                c.identity = Array("server-id".utf8)
                c.peerAddress = "fuzz-peer"
                authenticate = alternating(denyFirst: mode & 0x80 != 0)
            } else {
                c = Connection.Configuration(socketType: pair.client, security: .curveClient(
                    serverPublicKey: serverKeys.publicKey, keyPair: clientKeys))
                c.identity = Array("client-id".utf8)
                c.properties = ["X-Fuzz": "client"]
                if mode & 0x40 != 0 {
                    c.heartbeatInterval = 1_000
                    c.heartbeatTTL = 5_000
                    c.heartbeatTimeout = 2_000
                }
                if mode & 0x80 != 0 { c.maxMessageSize = 64 }
            }
            return .init(configuration: c, crypto: crypto, random: seeded, stream: stream ?? Array(input.dropFirst()),
                         queued: [queued], authenticate: authenticate)
        default:
            return nil
        }
    }
}
