import FuzzSupport
@_spi(Testing) import ZMTP
import ZMTPConformance
import ZMTPSodium

/// The randomness a vector gives a connection: `{"seed": n}` (SplitMix64, as ``SeededRandom``) or
/// `{"hex": bytes}` (exactly these bytes, in the order the connection asks for them).
///
/// Unlike ``ScriptedRandom`` it never traps: running out of scripted bytes yields zeros and is
/// reported as a test failure by the runner.
final class VectorRandom: RandomSource {
    private let seeded: SeededRandom?
    private let scripted: [UInt8]
    /// Bytes handed out so far.
    private(set) var consumed = 0
    /// More bytes were asked for than the vector scripted.
    private(set) var overrun = false

    init(seed: UInt64) {
        seeded = SeededRandom(seed: seed)
        scripted = []
    }

    init(bytes: [UInt8]) {
        seeded = nil
        scripted = bytes
    }

    var isScripted: Bool { seeded == nil }
    var remaining: Int { isScripted ? scripted.count - consumed : 0 }

    func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        defer { consumed += buffer.count }
        if let seeded {
            seeded.fill(buffer)
            return
        }
        for i in 0..<buffer.count {
            let k = consumed + i
            if k < scripted.count {
                buffer[i] = scripted[k]
            } else {
                buffer[i] = 0
                overrun = true
            }
        }
    }

    /// Absent: a script of no bytes (NULL and PLAIN use no randomness).
    static func from(_ json: JSON?, _ context: String) throws -> VectorRandom {
        guard let json, !json.isNull else { return VectorRandom(bytes: []) }
        var f = try Fields(json, context)
        let random: VectorRandom
        if f.has("seed") {
            let seed = try f.int("seed")
            guard seed >= 0 else { throw VectorFormatError("\(context).seed must not be negative") }
            random = VectorRandom(seed: UInt64(seed))
        } else {
            random = VectorRandom(bytes: try f.bytes("hex"))
        }
        try f.finish()
        return random
    }
}

/// A connection's configuration as a vector states it (Vectors/README.md, "Configuration").
struct VectorConfiguration {
    var configuration: Connection.Configuration
    var crypto: any CurveCrypto

    init(_ json: JSON, _ context: String) throws {
        var f = try Fields(json, context)
        let type = try Vectors.socketType(try f.string("socketType"), "\(context).socketType")
        var security: Security = .null(zapDomain: nil)
        if let s = f.optional("security") {
            security = try Self.security(s, "\(context).security")
        }
        var c = Connection.Configuration(socketType: type, security: security)
        c.identity = try f.optionalBytes("identity") ?? []
        if let p = f.optional("properties") { c.properties = try Vectors.metadata(p, "\(context).properties") }
        if f.has("maxMessageSize") { c.maxMessageSize = try f.optionalInt("maxMessageSize") }
        // The vectors keep libzmq's millisecond option values; the core takes Durations.
        c.handshakeTimeout = try f.optionalInt("handshakeTimeoutMs").map(Duration.milliseconds) ?? c.handshakeTimeout
        c.heartbeatInterval = try f.optionalInt("heartbeatIntervalMs").map(Duration.milliseconds) ?? c.heartbeatInterval
        if f.has("heartbeatTimeoutMs") { c.heartbeatTimeout = try f.optionalInt("heartbeatTimeoutMs").map(Duration.milliseconds) }
        c.heartbeatTTL = try f.optionalInt("heartbeatTTLMs").map(Duration.milliseconds) ?? c.heartbeatTTL
        c.acceptLegacyPeers = try f.bool("acceptLegacyPeers", default: c.acceptLegacyPeers)
        if let minor = try f.optionalInt("greetingMinorVersion") {
            guard let m = UInt8(exactly: minor) else { throw VectorFormatError("\(context).greetingMinorVersion out of range") }
            c.greetingMinorVersion = m
        }
        c.peerAddress = try f.optionalString("peerAddress") ?? ""
        switch try f.optionalString("crypto") ?? "sodium" {
        case "sodium": crypto = SodiumCurveCrypto()
        case "insecure-fuzzing": crypto = InsecureFuzzingCurveCrypto()
        case let other: throw VectorFormatError("\(context).crypto: unknown provider \(other)")
        }
        try f.finish()
        configuration = c
    }

    static func security(_ json: JSON, _ context: String) throws -> Security {
        var f = try Fields(json, context)
        let security: Security
        switch try f.string("mechanism") {
        case "NULL":
            security = .null(zapDomain: try f.optionalString("zapDomain"))
        case "PLAIN":
            switch try f.string("role") {
            case "client":
                security = .plainClient(username: try f.bytes("username"), password: try f.bytes("password"))
            case "server":
                security = .plainServer(zapDomain: try f.optionalString("zapDomain") ?? "")
            case let r: throw VectorFormatError("\(context).role: \(r)")
            }
        case "CURVE":
            let pair: CurveKeyPair
            do {
                pair = try CurveKeyPair(publicKey: try f.bytes("publicKey"), secretKey: try f.bytes("secretKey"))
            } catch let e as ZMTPError {
                throw VectorFormatError("\(context): invalid key pair: \(e)")
            }
            switch try f.string("role") {
            case "client":
                security = .curveClient(serverPublicKey: try f.bytes("serverPublicKey"), keyPair: pair)
            case "server":
                security = .curveServer(keyPair: pair, zapDomain: try f.optionalString("zapDomain") ?? "",
                                        authenticate: try f.bool("authenticate", default: false))
            case let r: throw VectorFormatError("\(context).role: \(r)")
            }
        case let m: throw VectorFormatError("\(context).mechanism: \(m)")
        }
        try f.finish()
        return security
    }
}

// MARK: - Matching events and peers

enum Match {
    /// Mismatches between `peer` and the members `expected` states (absent members are not checked).
    static func peer(_ peer: PeerInfo, _ expected: JSON, _ context: String) throws -> [String] {
        var f = try Fields(expected, context)
        var problems: [String] = []
        if let v = try f.optionalString("version") {
            let actual = "\(peer.version.major).\(peer.version.minor)"
            if actual != v { problems.append("version \(actual), expected \(v)") }
        }
        if let m = try f.optionalString("mechanism"), peer.mechanism.rawValue != m {
            problems.append("mechanism \(peer.mechanism.rawValue), expected \(m)")
        }
        if f.has("socketType") {
            let expectedType = try f.optionalString("socketType")
            if peer.socketType?.name != expectedType {
                problems.append("socket type \(peer.socketType?.name ?? "null"), expected \(expectedType ?? "null")")
            }
        }
        if let id = try f.optionalBytes("identity"), peer.identity != id {
            problems.append("identity \(Vectors.show(peer.identity)), expected \(Vectors.show(id))")
        }
        if let m = f.optional("metadata") {
            let expectedProperties = try Vectors.properties(m, "\(context).metadata")
            if !Vectors.sameProperties(peer.metadata, expectedProperties) {
                problems.append("metadata \(Vectors.showProperties(peer.metadata)), expected \(m.compact)")
            }
        }
        if let a = f.optional("authentication") {
            if a.isNull {
                if peer.authentication != nil { problems.append("authentication \(String(describing: peer.authentication)), expected null") }
            } else {
                let reply = try Vectors.authenticationReply(a, "\(context).authentication")
                if let actual = peer.authentication {
                    if actual.statusCode != reply.statusCode || actual.userID != reply.userID
                        || (a["statusText"] != nil && actual.statusText != reply.statusText)
                        || (a["metadata"] != nil && !Vectors.sameProperties(actual.metadata, reply.metadata.properties)) {
                        problems.append("authentication \(actual), expected \(a.compact)")
                    }
                } else {
                    problems.append("no authentication, expected \(a.compact)")
                }
            }
        }
        try f.finish()
        return problems
    }

    /// Nil when `event` matches `expected`, else what differs.
    static func event(_ event: ConnectionEvent, _ expected: JSON, _ context: String) throws -> String? {
        var f = try Fields(expected, context)
        let type = try f.string("type")
        var problem: String?
        func differs(_ what: String) { problem = "got \(describe(event)), expected \(expected.compact)\(what.isEmpty ? "" : ": " + what)" }
        switch (type, event) {
        case ("handshakeCompleted", .handshakeCompleted(let peer)):
            if let p = f.optional("peer") {
                let problems = try self.peer(peer, p, "\(context).peer")
                if !problems.isEmpty { differs(problems.joined(separator: "; ")) }
            }
        case ("message", .message(let m)):
            let body = try f.bytes("body")
            let more = try f.bool("more", default: false)
            if m.bytes != body || m.more != more { differs("") }
        case ("subscribe", .subscribe(let t)):
            if t != (try f.bytes("topic")) { differs("") }
        case ("cancel", .cancel(let t)):
            if t != (try f.bytes("topic")) { differs("") }
        case ("join", .join(let g)):
            if g != (try f.bytes("group")) { differs("") }
        case ("leave", .leave(let g)):
            if g != (try f.bytes("group")) { differs("") }
        case ("command", .command(let c)):
            let expectedCommand = try Vectors.command(try f.required("command"), "\(context).command")
            if !Vectors.sameCommand(c, expectedCommand) { differs("") }
        case ("authenticationRequest", .authenticationRequest(let r)):
            var problems: [String] = []
            if let m = try f.optionalString("mechanism"), r.mechanism.rawValue != m { problems.append("mechanism") }
            if let d = try f.optionalString("domain"), r.domain != d { problems.append("domain") }
            if let a = try f.optionalString("address"), r.address != a { problems.append("address") }
            if let i = try f.optionalBytes("identity"), r.identity != i { problems.append("identity") }
            if let c = f.optional("credentials") {
                guard let items = c.arrayValue else { throw VectorFormatError("\(context).credentials must be an array") }
                let creds = try items.enumerated().map { try Vectors.bytes($1, "\(context).credentials[\($0)]") }
                if r.credentials != creds { problems.append("credentials") }
            }
            if !problems.isEmpty { differs(problems.joined(separator: ", ")) }
        case ("failed", .failed(let e)):
            let code = try Vectors.errorCode(try f.string("error"), "\(context).error")
            if e.code != code { differs("") }
            if let b = try f.optionalString("blame"), e.blame != (try Vectors.blame(b, "\(context).blame")) { differs("blame") }
        default:
            let known = ["handshakeCompleted", "message", "subscribe", "cancel", "join", "leave", "command",
                         "authenticationRequest", "failed"]
            guard known.contains(type) else { throw VectorFormatError("\(context).type: unknown event type \(type)") }
            // Read the remaining members so that the mismatch, not the format, is reported.
            for k in expected.keys { _ = f.optional(k) }
            differs("")
        }
        try f.finish()
        return problem
    }

    static func describe(_ event: ConnectionEvent) -> String {
        switch event {
        case .handshakeCompleted(let p):
            return "handshakeCompleted(\(p.version.major).\(p.version.minor) \(p.mechanism.rawValue) \(p.socketType?.name ?? "-") identity=\(Vectors.hexString(p.identity)) \(Vectors.showProperties(p.metadata)))"
        case .message(let m): return "message(\(Vectors.show(m.bytes))\(m.more ? ", more" : ""))"
        case .subscribe(let t): return "subscribe(\(Vectors.show(t)))"
        case .cancel(let t): return "cancel(\(Vectors.show(t)))"
        case .join(let g): return "join(\(Vectors.show(g)))"
        case .leave(let g): return "leave(\(Vectors.show(g)))"
        case .command(let c): return "command(\(Vectors.commandJSON(c).compact))"
        case .authenticationRequest(let r): return "authenticationRequest(\(r.mechanism.rawValue), domain \(r.domain), credentials \(r.credentials.map { Vectors.hexString($0) }))"
        case .failed(let e): return "failed(\(e))"
        }
    }

    /// Whether the event hands something to the application (or says the handshake completed).
    static func delivers(_ event: ConnectionEvent) -> Bool {
        switch event {
        case .handshakeCompleted, .message, .subscribe, .cancel, .join, .leave, .command: return true
        case .authenticationRequest, .failed: return false
        }
    }
}
