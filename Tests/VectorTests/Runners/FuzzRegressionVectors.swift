import ZMTPConformance
import FuzzSupport
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
        case "FuzzZAP": zap(input)
        case "FuzzPlainServer", "FuzzCurveServer", "FuzzCurveClient", "FuzzConnection":
            let setup: ConnectionSetup
            if let configuration {
                let c = try VectorConfiguration(configuration, "\(vector.name).configuration")
                let made = c.configuration, crypto = c.crypto
                setup = ConnectionSetup(make: { Connection(configuration: made, crypto: crypto, random: $0, now: .zero) },
                                        random: { try VectorRandom.from(random, "\(vector.name).random") },
                                        stream: stream ?? input, queued: [],
                                        authenticate: { _, _ in reply ?? .accept() })
            } else {
                setup = harnessSetup(target: target, input: input, stream: stream)
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

    static func zap(_ input: [UInt8]) {
        let parts = ZAPHarness.frames(input)
        do throws(ZMTPError) { _ = try ZAPFrames.parseReply(parts) } catch {
            if !ZAPHarness.codes.contains(error.code) { fail("parseReply threw \(error)") }
        }
        for delimited in [true, false] {
            do throws(ZMTPError) { _ = try ZAPFrames.parseRequest(parts.map(\.bytes), delimited: delimited) } catch {
                if !ZAPHarness.codes.contains(error.code) { fail("parseRequest threw \(error)") }
            }
        }
    }

    // MARK: Connections

    /// Everything needed to rebuild the connection a harness fuzzed.
    struct ConnectionSetup {
        /// Creates the connection under test with its random source.
        var make: (RandomSource) -> Connection
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
        var connection = setup.make(try setup.random())
        var result = Run()
        var requests = 0
        var timersFired = false
        for message in setup.queued {
            do throws(ZMTPError) { try connection.send(message) } catch { fail("send before any input threw \(error)") }
        }
        // Output is collected only after the stream and after each timer, as the fuzz harness
        // does: a connection keeps one pending PONG at a time, so how often a driver transmits
        // changes what it sends.
        func pump(_ now: ZMTPInstant, transmit: Bool = true) {
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
            if transmit { connection.pollTransmit(into: &result.output) }
        }
        pump(.zero)
        if drip {
            for byte in setup.stream {
                connection.receive([byte], now: .zero)
                pump(.zero, transmit: false)
            }
            pump(.zero)
        } else {
            connection.receive(setup.stream, now: .zero)
            pump(.zero)
        }
        timersFired = true
        var t = ZMTPInstant.zero
        for hours in [1, 3] {
            t = t.adding(.seconds(hours * 3_600))
            connection.handleTimeout(now: t)
            pump(t)
        }
        return result
    }
}

extension FuzzRegressionVectors {
    /// The set-up the fuzz target itself used for `input` (FuzzSupport, shared with Fuzz/): its
    /// configuration, recorded prefix, random seed and authentication answers.
    static func harnessSetup(target: String, input: [UInt8], stream: [UInt8]?) -> ConnectionSetup {
        let scenario: ConnectionScenario
        let tail: [UInt8]
        switch target {
        case "FuzzPlainServer": (scenario, tail) = (PlainServerHarness.scenario, input)
        case "FuzzCurveServer": (scenario, tail) = CurveHarness.setup(.server, input: input)
        case "FuzzCurveClient": (scenario, tail) = CurveHarness.setup(.client, input: input)
        default: (scenario, tail) = ConnectionHarness.setup(input: input)
        }
        return ConnectionSetup(
            make: scenario.make, random: { ReplayableRandom(seed: FuzzSeeds.underTest) },
            stream: stream ?? (scenario.prefix + tail), queued: scenario.queuedMessages,
            authenticate: { index, request in scenario.authenticator(index, request) })
    }
}
