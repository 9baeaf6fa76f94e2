/// A peer that is already running: the runner connects to it instead of starting a shim, and
/// plays only the cases whose set-up is the one that peer was started with. Its configuration
/// is given in the words a shim would get (`--type REP --mechanism plain-server ...`), so one
/// vocabulary describes both kinds of target.
public struct RunningEndpoint: Equatable, Sendable {
    /// An IPv4 address and port, from `tcp://HOST:PORT`.
    public var host: [UInt8]
    public var port: UInt16
    /// What the peer's socket is, as the shim contract's arguments describe it.
    public var setup: TargetSetup

    /// Parses `tcp://A.B.C.D:PORT` (or `localhost`) and the peer's set-up words.
    public init(endpoint: String, describedBy words: [String]) throws(FormatError) {
        (host, port) = try Self.address(endpoint)
        setup = try TargetSetup(parsingArguments: words)
    }

    static func address(_ endpoint: String) throws(FormatError) -> ([UInt8], UInt16) {
        guard endpoint.hasPrefix("tcp://") else { throw FormatError("--endpoint takes tcp://HOST:PORT, got \"\(ShimLine.abbreviate(endpoint))\"") }
        let rest = endpoint.dropFirst("tcp://".count)
        guard let colon = rest.lastIndex(of: ":"), let port = UInt16(rest[rest.index(after: colon)...]), port > 0 else {
            throw FormatError("--endpoint needs a port from 1 to 65535 (tcp://HOST:PORT)")
        }
        let host = rest[..<colon]
        if host == "localhost" { return ([127, 0, 0, 1], port) }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        var octets: [UInt8] = []
        for part in parts {
            guard part.count <= 3, let octet = UInt8(part) else { break }
            octets.append(octet)
        }
        guard parts.count == 4, octets.count == 4 else {
            throw FormatError("--endpoint takes an IPv4 address or localhost, got \"\(ShimLine.abbreviate(String(host)))\"")
        }
        return (octets, port)
    }

    /// Why a case cannot be played against this peer (the first set-up difference), or nil.
    public func mismatch(_ needed: TargetSetup) -> String? {
        guard let difference = setup.difference(needed) else { return nil }
        return "the running endpoint's set-up differs: \(difference)"
    }

    /// The plan with the steps that need the target's application taken out: a running peer's
    /// application is not the runner's to drive or to watch. The wire alone is judged; a case
    /// ends (skipped, if all before passed) at the first step that only the application could
    /// make or see happen.
    public static func adapt(_ plan: LiveCase.Plan) -> LiveCase.Plan {
        var out = LiveCase.Plan(setup: plan.setup, steps: [], labels: [], curve: plan.curve)
        for (step, label) in zip(plan.steps, plan.labels) {
            switch step {
            case .appSends, .appSubscribes:
                out.steps.append(.horizon("the running endpoint's application acts here (sends or subscribes), and the runner does not drive it"))
            case .expectDelivery:
                out.steps.append(.horizon("the case checks what the running endpoint's application receives, which the runner cannot see"))
            case .expectAuthenticationFailure:
                out.steps.append(.horizon("the case checks the failure the target reports, which a running endpoint does not tell the runner"))
            case .expectNoDelivery, .expectNothingDelivered, .expectAuthenticationRequest, .expectHandshake:
                // Unobservable without a shim; what follows on the wire still tells.
                continue
            case .expectClosed(let code):
                out.steps.append(.expectClosedOrUnknown(code))
            case .peerSends, .expectBytes, .expectQuiet, .discardBytes, .expectClosedOrUnknown, .wait, .horizon, .curveSends, .curveExpects:
                out.steps.append(step)
            }
            out.labels.append(label)
            if case .horizon = out.steps.last { break }
        }
        return out
    }
}

extension TargetSetup {
    /// Reads the shim contract's arguments (Vectors/README.md, "The shim contract"), without
    /// `--connect`: the inverse of `arguments(endpoint:)`.
    public init(parsingArguments words: [String]) throws(FormatError) {
        var values: [String: String] = [:]
        var index = 0
        let known = ["--type", "--identity", "--mechanism", "--plain-username", "--plain-password", "--curve-serverkey",
                     "--curve-public", "--curve-secret", "--zap-domain", "--zap-reply", "--zap-user-id", "--heartbeat-ivl",
                     "--heartbeat-ttl", "--heartbeat-timeout", "--handshake-ivl", "--maxmsgsize"]
        while index < words.count {
            let word = words[index]
            guard known.contains(word) else {
                throw FormatError("unknown set-up word \"\(ShimLine.abbreviate(word))\" (the shim contract's: \(known.joined(separator: " ")))")
            }
            guard index + 1 < words.count else { throw FormatError("\(word) needs a value") }
            guard values.updateValue(words[index + 1], forKey: word) == nil else { throw FormatError("\(word) given twice") }
            index += 2
        }
        guard let type = values["--type"] else { throw FormatError("the set-up needs --type") }
        guard !type.isEmpty, type.utf8.allSatisfy({ (0x41...0x5A).contains($0) }) else {
            throw FormatError("--type takes an upper-case socket type (DEALER, REP, ...)")
        }
        self.init(socketType: type)
        func hexWord(_ option: String) throws(FormatError) -> [UInt8]? {
            guard let word = values[option] else { return nil }
            return try ShimLine.bytes(Substring(word), "\(option) \(word)")
        }
        func key(_ option: String) throws(FormatError) -> [UInt8] {
            guard let text = values[option] else { throw FormatError("this mechanism needs \(option)") }
            guard let bytes = VectorValues.z85Decode(text), bytes.count == 32 else { throw FormatError("\(option) takes a 40-character Z85 key") }
            return bytes
        }
        func number(_ option: String) throws(FormatError) -> Int? {
            guard let text = values[option] else { return nil }
            guard let n = Int(text), (-1...86_400_000).contains(n) else { throw FormatError("\(option) takes a number (-1 to 86400000)") }
            return n
        }
        identity = try hexWord("--identity") ?? []
        switch values["--mechanism"] ?? "null" {
        case "null": mechanism = .null
        case "plain-client":
            mechanism = .plainClient(username: try hexWord("--plain-username") ?? [], password: try hexWord("--plain-password") ?? [])
        case "plain-server": mechanism = .plainServer
        case "curve-client":
            mechanism = .curveClient(serverKey: try key("--curve-serverkey"), publicKey: try key("--curve-public"), secretKey: try key("--curve-secret"))
        case "curve-server":
            mechanism = .curveServer(publicKey: try key("--curve-public"), secretKey: try key("--curve-secret"))
        case let other:
            throw FormatError("unknown --mechanism \"\(ShimLine.abbreviate(other))\" (null, plain-client, plain-server, curve-client, curve-server)")
        }
        if let domain = try hexWord("--zap-domain") { zapDomain = String(decoding: domain, as: UTF8.self) }
        switch values["--zap-reply"] {
        case nil: zapReply = nil
        case "hold": zapReply = .hold
        case let status?:
            guard status.utf8.count == 3, status.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
                throw FormatError("--zap-reply takes a 3-digit status or hold")
            }
            zapReply = .answer(status: status, userId: values["--zap-user-id"] ?? "")
        }
        heartbeatIntervalMs = try number("--heartbeat-ivl")
        heartbeatTTLMs = try number("--heartbeat-ttl")
        heartbeatTimeoutMs = try number("--heartbeat-timeout")
        handshakeIntervalMs = try number("--handshake-ivl")
        maxMessageSize = try number("--maxmsgsize")
    }

    /// The first way `needed` differs from this set-up, in words; nil when the same. An empty
    /// ZAP domain and none are the same (the sockets' default).
    public func difference(_ needed: TargetSetup) -> String? {
        func describe(_ m: Mechanism) -> String {
            switch m {
            case .null: return "NULL"
            case .plainClient(let user, let password): return "a PLAIN client (username \(ShimLine.word(user)), password \(ShimLine.word(password)))"
            case .plainServer: return "a PLAIN server"
            case .curveClient(let server, let key, _):
                return "a CURVE client (public key \(VectorValues.z85(key) ?? "?"), server key \(VectorValues.z85(server) ?? "?"))"
            case .curveServer(let key, _): return "a CURVE server (public key \(VectorValues.z85(key) ?? "?"))"
            }
        }
        func zap(_ reply: ZAPReply?) -> String {
            switch reply {
            case nil: return "no ZAP handler"
            case .hold: return "a ZAP handler that never answers"
            case .answer(let status, let userId): return "a ZAP handler answering \(status)" + (userId.isEmpty ? "" : " (user id \(userId))")
            }
        }
        func number(_ n: Int?) -> String { n.map(String.init) ?? "unset" }
        if socketType != needed.socketType { return "it is a \(socketType) socket, the case needs \(needed.socketType)" }
        if mechanism != needed.mechanism { return "it is \(describe(mechanism)), the case needs \(describe(needed.mechanism))" }
        if identity != needed.identity { return "its routing id is \(ShimLine.word(identity)), the case needs \(ShimLine.word(needed.identity))" }
        if (zapDomain ?? "") != (needed.zapDomain ?? "") {
            return "its ZAP domain is \"\(zapDomain ?? "")\", the case needs \"\(needed.zapDomain ?? "")\""
        }
        if zapReply != needed.zapReply { return "it has \(zap(zapReply)), the case needs \(zap(needed.zapReply))" }
        for (name, mine, theirs) in [("ZMQ_HEARTBEAT_IVL", heartbeatIntervalMs, needed.heartbeatIntervalMs),
                                     ("ZMQ_HEARTBEAT_TTL", heartbeatTTLMs, needed.heartbeatTTLMs),
                                     ("ZMQ_HEARTBEAT_TIMEOUT", heartbeatTimeoutMs, needed.heartbeatTimeoutMs),
                                     ("ZMQ_HANDSHAKE_IVL", handshakeIntervalMs, needed.handshakeIntervalMs),
                                     ("ZMQ_MAXMSGSIZE", maxMessageSize, needed.maxMessageSize)] where mine != theirs {
            return "its \(name) is \(number(mine)), the case needs \(number(theirs))"
        }
        return nil
    }
}

extension VectorValues {
    /// The octets of a Z85 text (RFC 32) whose length is a multiple of 5; nil when it is not Z85.
    public static func z85Decode(_ text: String) -> [UInt8]? {
        let digits = Array("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#".utf8)
        var values = [UInt8?](repeating: nil, count: 128)
        for (index, digit) in digits.enumerated() { values[Int(digit)] = UInt8(index) }
        let utf8 = Array(text.utf8)
        guard utf8.count % 5 == 0 else { return nil }
        var out: [UInt8] = []
        var index = 0
        while index < utf8.count {
            var value: UInt64 = 0
            for character in utf8[index..<index + 5] {
                guard character < 128, let digit = values[Int(character)] else { return nil }
                value = value * 85 + UInt64(digit)
            }
            guard value <= UInt64(UInt32.max) else { return nil }
            out += [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
            index += 5
        }
        return out
    }
}
