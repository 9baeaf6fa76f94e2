#if canImport(Glibc)
import Glibc
#endif
import Testing
import ZMTPConformance

/// The runner's parsers under random input: a vector file, a shim's output line and a command
/// line either parse or give a `FormatError` that says what is wrong; nothing traps, and no
/// input makes them hold more than the named limits.
@Suite("Runner parsing, property-tested")
struct RunnerParsingTests {
    /// SplitMix64: reproducible randomness, so a failing input can be replayed from its seed.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    }

    /// A text edited at random: octets deleted, duplicated, replaced by JSON punctuation.
    static func mutate(_ text: [UInt8], _ random: inout Random) -> [UInt8] {
        var bytes = text
        let alphabet = Array("{}[]\",:0123456789abcdef-tnul \\\u{7f}".utf8) + [0xC3, 0xFF, 0x00]
        for _ in 0..<(1 + random.below(8)) where !bytes.isEmpty {
            let at = random.below(bytes.count)
            switch random.below(4) {
            case 0: bytes.remove(at: at)
            case 1: bytes.insert(alphabet[random.below(alphabet.count)], at: at)
            case 2: bytes[at] = alphabet[random.below(alphabet.count)]
            default:
                let end = min(bytes.count, at + random.below(64))
                bytes.insert(contentsOf: bytes[at..<end], at: at)
            }
        }
        return bytes
    }

    /// A JSON value with one node replaced by something of another shape.
    static func replaceNode(_ json: JSON, _ random: inout Random, depth: Int = 0) -> JSON {
        let stand: [JSON] = [.null, .bool(true), .int(-1), .int(Int.max), .double(1.5), .string("zz"), .string(""),
                             .array([]), .object([]), .object([("ascii", .string("é"))]), .object([("repeat", .string("00")), ("count", .int(1 << 40))])]
        if depth > 6 || random.below(5) == 0 { return stand[random.below(stand.count)] }
        switch json {
        case .array(let items) where !items.isEmpty:
            var copy = items
            let at = random.below(copy.count)
            copy[at] = replaceNode(copy[at], &random, depth: depth + 1)
            return .array(copy)
        case .object(let members) where !members.isEmpty:
            var copy = members
            let at = random.below(copy.count)
            if random.below(8) == 0 { copy[at].key += "x" } else { copy[at].value = replaceNode(copy[at].value, &random, depth: depth + 1) }
            return .object(copy)
        default:
            return stand[random.below(stand.count)]
        }
    }

    static func vectorFile(_ name: String) -> String {
        let path = LiveConformanceTests.root + "/Vectors/" + name
        var bytes: [UInt8] = []
        if let file = fopen(path, "r") {
            defer { fclose(file) }
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = fread(&buffer, 1, buffer.count, file)
                if count <= 0 { break }
                bytes += buffer[0..<count]
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test("a vector file edited at random is reported, never a trap", arguments: ["connection-null.json", "connection-plain.json", "connection-curve.json", "handshakes.json", "socket-layer.json"])
    func mutatedVectorText(_ name: String) throws {
        let text = Self.vectorFile(name)
        try #require(!text.isEmpty)
        let intact = ConformanceRunner.cases(file: name, text: text)
        #expect(intact.allSatisfy { if case .invalid = $0.content { return false }; return true }, "the file itself is valid")
        var random = Random(state: 0x5EED_0000 &+ UInt64(name.utf8.count))
        var invalid = 0
        for _ in 0..<300 {
            let mutated = String(decoding: Self.mutate(Array(text.utf8), &random), as: UTF8.self)
            for live in ConformanceRunner.cases(file: name, text: mutated) {
                if case .invalid(let error) = live.content {
                    invalid += 1
                    #expect(!error.message.isEmpty)
                }
            }
        }
        #expect(invalid > 0, "no mutation was reported: the edits did not reach the parser")
    }

    @Test("a vector whose values change shape is reported, never a trap", arguments: ["connection-null.json", "connection-legacy.json", "handshakes.json", "socket-layer.json"])
    func reshapedVector(_ name: String) throws {
        let json = try JSON.parse(Self.vectorFile(name))
        var random = Random(state: 0xC0FF_EE00 &+ UInt64(name.utf8.count))
        var invalid = 0
        for _ in 0..<400 {
            let reshaped = Self.replaceNode(json, &random)
            for live in ConformanceRunner.cases(file: name, text: reshaped.compact) {
                if case .invalid(let error) = live.content {
                    invalid += 1
                    #expect(error.message.contains(name), "the error names the file: \(error.message)")
                }
            }
        }
        #expect(invalid > 0)
    }

    @Test("every CURVE connection case citing a transcript becomes a plan for the runner's own CURVE side")
    func curveConnectionCasesArePlayable() throws {
        let references = ConformanceRunner.references(file: "handshakes.json", text: Self.vectorFile("handshakes.json"))
        try #require(!references.isEmpty)
        let cases = ConformanceRunner.cases(file: "connection-curve.json", text: Self.vectorFile("connection-curve.json"), references: references)
        var translated = 0
        for live in cases {
            guard case .live(let plan) = live.content else {
                Issue.record("\(live.name) is not live: \(live.content)")
                continue
            }
            // The runner's CURVE side builds frames, or opens the target's (a WELCOME of the
            // wrong size needs only the target's HELLO judged).
            let curveSteps = plan.steps.filter {
                switch $0 {
                case .curveSends, .curveExpects: return true
                default: return false
                }
            }
            if plan.curve != nil {
                translated += 1
                #expect(!curveSteps.isEmpty, "\(live.name): CURVE keys but no CURVE frame to build or open")
            } else {
                #expect(curveSteps.isEmpty, "\(live.name): CURVE frames without keys")
            }
        }
        // The cases whose steps cite handshakes.json (all but the hand-built greeting mismatches
        // and the HELLO-only cases).
        #expect(translated >= 20, "only \(translated) CURVE cases were translated")
    }

    @Test("a CURVE connection file or its cited transcripts edited at random are reported, never a trap")
    func mutatedCurveReferences() throws {
        let connection = Self.vectorFile("connection-curve.json")
        let handshakes = Self.vectorFile("handshakes.json")
        let references = ConformanceRunner.references(file: "handshakes.json", text: handshakes)
        let json = try JSON.parse(connection)
        let handshakeJSON = try JSON.parse(handshakes)
        var random = Random(state: 0xC0_4B_E5)
        var invalid = 0
        for round in 0..<300 {
            // One side edited at a time: the connection cases, or the transcripts they cite.
            let cases: [LiveCase]
            switch round % 3 {
            case 0:
                cases = ConformanceRunner.cases(file: "connection-curve.json", text: Self.replaceNode(json, &random).compact, references: references)
            case 1:
                let mutated = String(decoding: Self.mutate(Array(connection.utf8), &random), as: UTF8.self)
                cases = ConformanceRunner.cases(file: "connection-curve.json", text: mutated, references: references)
            default:
                let cited = ConformanceRunner.references(file: "handshakes.json", text: Self.replaceNode(handshakeJSON, &random).compact)
                cases = ConformanceRunner.cases(file: "connection-curve.json", text: connection, references: cited)
            }
            for live in cases {
                if case .invalid(let error) = live.content {
                    invalid += 1
                    #expect(!error.message.isEmpty)
                }
            }
        }
        #expect(invalid > 0, "no edit was reported: the edits did not reach the translation")
    }

    @Test("a shim line of random words parses or is refused with a reason")
    func randomShimLines() throws {
        let words = ["recv", "event", "zap", "send-failed", "unsupported", "handshake-succeeded", "handshake-failed-auth",
                     "handshake-failed-protocol", "disconnected", "-", "00", "0", "zz", "400", "-1", "99999999999999999999",
                     "CURVE", "\u{0}", "é", "", "  ", "0a0b0c", "ABCDEF"]
        var random = Random(state: 42)
        var parsed = 0
        var refused = 0
        for _ in 0..<5_000 {
            let line = (0..<random.below(6)).map { _ in words[random.below(words.count)] }.joined(separator: " ")
            do {
                _ = try ShimLine(parsing: line)
                parsed += 1
            } catch {
                #expect(!error.message.isEmpty)
                refused += 1
            }
        }
        #expect(parsed > 0 && refused > 0)
        #expect(throws: FormatError.self) { try ShimLine(parsing: String(repeating: "0", count: ShimLine.maxLineLength + 1)) }
        #expect(try ShimLine(parsing: "recv - 0a") == .received([[], [0x0A]]))
        #expect(try ShimLine(parsing: "event handshake-failed-auth 400") == .handshakeFailedAuthentication(400))
    }

    @Test("a command line of random options parses or is refused with a reason")
    func randomCommandLines() {
        let words = ["--vectors", "--filter", "--implementation", "--json", "--jobs", "--patience", "--quiet", "--", "0", "65",
                     "100", "x", "-1", "/usr/bin/python3", "--bogus"]
        var random = Random(state: 7)
        for _ in 0..<2_000 {
            let arguments = (0..<random.below(7)).map { _ in words[random.below(words.count)] }
            do {
                let options = try ConformanceRunner.Options(parsing: arguments)
                #expect(!options.command.isEmpty && (1...64).contains(options.jobs))
            } catch {
                #expect(!error.message.isEmpty)
            }
        }
    }

    /// A random set-up of the kind a vector or a running endpoint describes.
    static func randomSetup(_ random: inout Random) -> TargetSetup {
        func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) } }
        let types = ["PAIR", "DEALER", "ROUTER", "SUB", "XPUB", "REQ", "REP"]
        var setup = TargetSetup(socketType: types[random.below(types.count)])
        if random.below(2) == 0 { setup.identity = bytes(1 + random.below(8)) }
        switch random.below(5) {
        case 0: setup.mechanism = .null
        case 1: setup.mechanism = .plainClient(username: bytes(random.below(6)), password: bytes(random.below(6)))
        case 2: setup.mechanism = .plainServer
        case 3: setup.mechanism = .curveClient(serverKey: bytes(32), publicKey: bytes(32), secretKey: bytes(32))
        default: setup.mechanism = .curveServer(publicKey: bytes(32), secretKey: bytes(32))
        }
        if random.below(2) == 0 { setup.zapDomain = ["", "global", "test"][random.below(3)] }
        switch random.below(3) {
        case 0: setup.zapReply = nil
        case 1: setup.zapReply = .hold
        default: setup.zapReply = .answer(status: ["200", "300", "400"][random.below(3)], userId: ["", "admin"][random.below(2)])
        }
        if random.below(2) == 0 { setup.heartbeatIntervalMs = random.below(10_000) }
        if random.below(2) == 0 { setup.heartbeatTTLMs = random.below(10_000) }
        if random.below(2) == 0 { setup.maxMessageSize = random.below(1 << 20) }
        return setup
    }

    @Test("a running endpoint's set-up words are the shim's arguments: what a setup writes, it reads back")
    func setupWordsRoundTrip() throws {
        var random = Random(state: 0xE1D)
        for _ in 0..<500 {
            let setup = Self.randomSetup(&random)
            var words = setup.arguments(endpoint: "tcp://127.0.0.1:1")
            words.removeSubrange(2..<4)  // --connect ENDPOINT
            let read = try TargetSetup(parsingArguments: words)
            #expect(read == setup, "\(words)")
            #expect(read.difference(setup) == nil)
        }
        let a = TargetSetup(socketType: "ROUTER")
        var b = a
        b.socketType = "SUB"
        #expect(a.difference(b) == "it is a ROUTER socket, the case needs SUB")
    }

    @Test("set-up words and endpoints edited at random parse or are refused with a reason")
    func randomSetupWords() {
        let words = ["--type", "--identity", "--mechanism", "--plain-username", "--plain-password", "--curve-serverkey", "--curve-public",
                     "--curve-secret", "--zap-domain", "--zap-reply", "--zap-user-id", "--heartbeat-ivl", "--heartbeat-ttl",
                     "--maxmsgsize", "--connect", "ROUTER", "router", "null", "plain-server", "curve-client", "hold", "200", "2000",
                     "-", "zz", "0a", "-1", "99999999999999999999", "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7", "é", ""]
        var random = Random(state: 0xB0B)
        var parsed = 0
        var refused = 0
        for _ in 0..<5_000 {
            let line = (0..<random.below(9)).map { _ in words[random.below(words.count)] }
            do {
                let setup = try TargetSetup(parsingArguments: line)
                #expect(!setup.socketType.isEmpty)
                parsed += 1
            } catch {
                #expect(!error.message.isEmpty)
                refused += 1
            }
        }
        #expect(parsed > 0 && refused > 0)
        let endpoints: [(String, Bool)] = [
            ("tcp://127.0.0.1:5555", true), ("tcp://localhost:1", true), ("tcp://01.2.3.4:80", true), ("tcp://1.2.3:4", false),
            ("tcp://1.2.3.4:0", false), ("tcp://1.2.3.4:65536", false), ("tcp://256.1.1.1:5", false), ("tcp://::1:5", false),
            ("ipc://x", false), ("tcp://", false), ("tcp://:", false), ("", false), ("tcp://1.2.3.4:99999999999999999999", false),
        ]
        for (endpoint, valid) in endpoints {
            let target = try? ConformanceRunner.Options(parsing: ["--endpoint", endpoint, "--", "--type", "ROUTER"]).target()
            #expect((target != nil) == valid, "\(endpoint)")
        }
        #expect(throws: FormatError.self) { try ConformanceRunner.Options(parsing: ["--endpoint", "tcp://127.0.0.1:5"]) }
    }

    @Test("Z85 of random text decodes or is refused; of a key, it round-trips")
    func z85Decoding() {
        var random = Random(state: 85)
        let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#\"~ é".unicodeScalars)
        for _ in 0..<2_000 {
            let text = String(String.UnicodeScalarView((0..<random.below(45)).map { _ in alphabet[random.below(alphabet.count)] }))
            if let bytes = VectorValues.z85Decode(text) { #expect(bytes.count == text.utf8.count / 5 * 4) }
            let key = (0..<32).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            #expect(VectorValues.z85(key).flatMap(VectorValues.z85Decode) == key)
        }
        #expect(VectorValues.z85Decode("%%%%%") == nil, "over 2^32")
    }

    @Test("a repeat part cannot spell out more than the named limit")
    func repeatLimit() throws {
        #expect(throws: FormatError.self) { try VectorValues.bytes(.array([.object([("repeat", "00"), ("count", .int(1 << 40))])]), "x") }
        #expect(throws: FormatError.self) { try VectorValues.bytes("0", "x") }
        #expect(try VectorValues.bytes(.array(["01", .object([("ascii", "A")]), .object([("repeat", "ff"), ("count", 2)])]), "x") == [1, 0x41, 0xFF, 0xFF])
    }
}
