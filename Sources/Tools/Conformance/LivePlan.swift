/// How the socket under test is set up: what its shim is told on the command line
/// (Vectors/README.md, "Live runs").
public struct TargetSetup: Equatable, Sendable {
    /// The security mechanism and role, with the keys in the form sockets take them.
    public enum Mechanism: Equatable, Sendable {
        case null
        case plainClient(username: [UInt8], password: [UInt8])
        case plainServer
        case curveClient(serverKey: [UInt8], publicKey: [UInt8], secretKey: [UInt8])
        case curveServer(publicKey: [UInt8], secretKey: [UInt8])
    }

    /// What the target's ZAP handler answers (RFC 27).
    public enum ZAPReply: Equatable, Sendable {
        /// Answer every request with this status code and user id.
        case answer(status: String, userId: String)
        /// Report requests, answer none (the vector ends before its application answers).
        case hold
    }

    public var socketType: String
    public var identity: [UInt8] = []
    public var mechanism: Mechanism = .null
    public var zapDomain: String?
    /// nil: no ZAP handler (the socket's own rules apply).
    public var zapReply: ZAPReply?
    public var heartbeatIntervalMs: Int?
    public var heartbeatTTLMs: Int?
    public var heartbeatTimeoutMs: Int?
    public var handshakeIntervalMs: Int?
    public var maxMessageSize: Int?

    public init(socketType: String) { self.socketType = socketType }

    /// The shim's arguments, after its command.
    public func arguments(endpoint: String) -> [String] {
        var words = ["--type", socketType, "--connect", endpoint]
        if !identity.isEmpty { words += ["--identity", VectorValues.hexString(identity)] }
        func key(_ bytes: [UInt8]) -> String { VectorValues.z85(bytes) ?? "" }
        switch mechanism {
        case .null:
            break
        case .plainClient(let username, let password):
            words += ["--mechanism", "plain-client", "--plain-username", ShimLine.word(username), "--plain-password", ShimLine.word(password)]
        case .plainServer:
            words += ["--mechanism", "plain-server"]
        case .curveClient(let serverKey, let publicKey, let secretKey):
            words += ["--mechanism", "curve-client", "--curve-serverkey", key(serverKey), "--curve-public", key(publicKey), "--curve-secret", key(secretKey)]
        case .curveServer(let publicKey, let secretKey):
            words += ["--mechanism", "curve-server", "--curve-public", key(publicKey), "--curve-secret", key(secretKey)]
        }
        if let zapDomain { words += ["--zap-domain", ShimLine.word(Array(zapDomain.utf8))] }
        switch zapReply {
        case nil: break
        case .hold: words += ["--zap-reply", "hold"]
        case .answer(let status, let userId):
            words += ["--zap-reply", status]
            if !userId.isEmpty { words += ["--zap-user-id", userId] }
        }
        for (option, value) in [("--heartbeat-ivl", heartbeatIntervalMs), ("--heartbeat-ttl", heartbeatTTLMs),
                                ("--heartbeat-timeout", heartbeatTimeoutMs), ("--handshake-ivl", handshakeIntervalMs),
                                ("--maxmsgsize", maxMessageSize)] {
            if let value { words += [option, String(value)] }
        }
        return words
    }
}

/// One thing the runner does or checks, in terms of a live socket rather than a bare
/// connection: the peer's bytes, the target's bytes, and what the target's application sends
/// and receives.
public enum LiveStep: Equatable, Sendable {
    /// The runner, as the peer, writes these octets.
    case peerSends([UInt8])
    /// The target's next octets on the wire are these.
    case expectBytes([UInt8])
    /// The target sends nothing more for now.
    case expectQuiet
    /// Whatever the target has sent by now is dropped unchecked.
    case discardBytes
    /// The target's application sends this message (frames).
    case appSends([[UInt8]], Envelope)
    /// The target's application subscribes (true) or unsubscribes (a SUB socket).
    case appSubscribes([UInt8], Bool)
    /// The target's application receives this message.
    case expectDelivery([[UInt8]], Envelope)
    /// The target's application has received nothing more.
    case expectNoDelivery
    /// The target reports a completed handshake (when its shim reports events at all).
    case expectHandshake
    /// The target's ZAP handler was asked about this peer (domain and identity: checked when
    /// given, in socket cases).
    case expectAuthenticationRequest(mechanism: String, credentials: [[UInt8]]?, domain: [UInt8]? = nil, identity: [UInt8]? = nil)
    /// The target reports that the peer refused it with this ZAP/PLAIN status (its
    /// `handshake-failed-auth` event; a shim without events is not judged on it).
    case expectAuthenticationFailure(Int)
    /// The target closes the connection (the vector's error, for the report).
    case expectClosed(String)
    /// A running endpoint closes the connection; if it stays open, the case ends here, skipped:
    /// without its events the runner cannot tell a failure it reported (libzmq reports some
    /// and waits for the peer to close) from one it missed.
    case expectClosedOrUnknown(String)
    /// The target's application has seen neither a message nor a handshake.
    case expectNothingDelivered
    /// Real time passes (the vector's advanceMs).
    case wait(milliseconds: Int)
    /// The vector goes on, but not in a way a live peer can follow: the case ends here, skipped
    /// for this reason if everything before passed.
    case horizon(String)
    /// The runner's own CURVE side sends this command, built fresh (its transient keys and
    /// nonces), then altered as the vector alters its bytes.
    case curveSends(CurveCommand, [CurveAlteration])
    /// The target's next frame is this CURVE command, judged on what it opens to.
    case curveExpects(CurveExpectation)
}

/// A CURVE command the runner builds (RFC 26).
public enum CurveCommand: Equatable, Sendable {
    case hello
    case welcome
    /// INITIATE with the runner's metadata; `vouchSecret` signs the vouch with another key.
    case initiate(metadata: [CurveProperty], vouchSecret: [UInt8]?)
    case ready(metadata: [CurveProperty])
    /// MESSAGE carrying this flags octet and body, in a data frame (as command frame when `asCommand`).
    case message(flags: UInt8, body: [UInt8], asCommand: Bool)
    /// The frame the runner sent `framesBack` CURVE frames ago, sent again (a replay).
    case replay(framesBack: Int)
}

/// One metadata property (RFC 23 §3.4).
public struct CurveProperty: Equatable, Sendable {
    public var name: String
    public var value: [UInt8]
    public init(name: String, value: [UInt8]) { self.name = name; self.value = value }
}

/// How the vector alters a frame it sends: offsets count from the frame's first octet.
public enum CurveAlteration: Equatable, Sendable {
    case set(offset: Int, value: UInt8)
    case xor(offset: Int, value: UInt8)
    case truncate(Int)
}

/// A CURVE command the target must send, judged after opening it.
public enum CurveExpectation: Equatable, Sendable {
    case hello
    case welcome
    /// INITIATE or READY whose metadata names this socket type (and identity, when given).
    case initiate(socketType: String, identity: [UInt8]?)
    case ready(socketType: String, identity: [UInt8]?)
    /// MESSAGE whose box opens to this flags octet and body.
    case message(flags: UInt8, body: [UInt8])
}

extension LiveStep {
    /// A step of the runner's own CURVE side.
    var isCurve: Bool {
        switch self {
        case .curveSends, .curveExpects: return true
        default: return false
        }
    }
}

/// The runner's long-term CURVE keys for a case, and its role.
public struct CurveKeys: Equatable, Sendable {
    public var asServer: Bool
    public var publicKey: [UInt8]
    public var secretKey: [UInt8]
    /// The target's long-term public key (for a runner playing the client).
    public var serverKey: [UInt8]?
}

/// What a socket adds to the frames a connection carries.
public enum Envelope: Equatable, Sendable {
    /// Nothing (DEALER, PAIR, SUB, PUSH, PULL, XPUB, XSUB).
    case none
    /// ROUTER: a routing id frame first; when known (the peer sent an Identity), its value.
    case routingId([UInt8]?)
}

/// A case ready to be played live, or the reason it cannot be.
public struct LiveCase: Sendable {
    /// The plan of a case that can be played.
    public struct Plan: Equatable, Sendable {
        public var setup: TargetSetup
        public var steps: [LiveStep]
        /// For each step, where it comes from ("step 4 (expectSend)").
        public var labels: [String]
        /// The runner's CURVE side, when it plays one.
        public var curve: CurveKeys? = nil
    }

    public enum Content: Sendable {
        case live(Plan)
        case skip(String)
        case invalid(FormatError)
    }

    public var file: String
    public var name: String
    /// Implementations known to differ from the case, and why (the case's `differs`).
    public var differences: [String: String]
    public var content: Content
}

/// Turns `connection` and `handshake` cases into live plans.
public enum LivePlanner {
    /// The most real time one case may wait in all (advanceMs steps): more is skipped.
    public static let maxRealTimeMs = 6_000

    /// The live cases of one parsed vector file (none for kinds that are not played live).
    /// `references` holds the handshake cases that CURVE connection cases cite ("from").
    public static func cases(file: String, json: JSON, references: [String: JSON] = [:]) -> [LiveCase] {
        guard let kind = json["kind"]?.stringValue, ["connection", "handshake", "socket"].contains(kind) else { return [] }
        guard let cases = json["cases"]?.arrayValue else {
            return [LiveCase(file: file, name: "(file)", differences: [:], content: .invalid(FormatError("\(file): \"cases\" must be an array")))]
        }
        var out: [LiveCase] = []
        for (index, item) in cases.enumerated() {
            let name = item["name"]?.stringValue ?? "case \(index + 1)"
            let differences: [String: String]
            do throws(FormatError) {
                differences = try readDifferences(item["differs"], "\(file): \(name).differs")
            } catch {
                out.append(LiveCase(file: file, name: name, differences: [:], content: .invalid(error)))
                continue
            }
            if kind == "connection" || kind == "socket" {
                let content = connection(item, "\(file): \(name)", messages: kind == "socket" ? .asTheApplicationSeesThem : .asOnTheWire,
                                         references: references)
                out.append(LiveCase(file: file, name: name, differences: differences, content: content))
            } else {
                for side in ["client", "server"] {
                    // A note keyed "<implementation> as <side>" holds for that side only.
                    var sided = differences.filter { !$0.key.hasSuffix(" as client") && !$0.key.hasSuffix(" as server") }
                    for (key, note) in differences where key.hasSuffix(" as \(side)") {
                        sided[String(key.dropLast(" as \(side)".count))] = note
                    }
                    out.append(LiveCase(file: file, name: "\(name) [target as \(side)]", differences: sided,
                                        content: handshake(item, side: side, "\(file): \(name)")))
                }
            }
        }
        return out
    }

    static func readDifferences(_ json: JSON?, _ context: String) throws(FormatError) -> [String: String] {
        guard let json else { return [:] }
        guard let members = json.objectMembers else { throw FormatError("\(context) must be an object of texts") }
        var out: [String: String] = [:]
        for member in members {
            guard let text = member.value.stringValue, !text.isEmpty else { throw FormatError("\(context).\(member.key) must be a text") }
            out[member.key] = text
        }
        return out
    }

    // MARK: Configuration

    /// The socket set-up for a vector configuration, or why a socket cannot have it.
    static func setup(_ json: JSON?, _ context: String) throws(FormatError) -> Result<(TargetSetup, needsAuthentication: Bool, acceptsLegacy: Bool), Skip> {
        var fields = try Members(json, context)
        var setup = TargetSetup(socketType: try fields.string("socketType"))
        setup.identity = try fields.optionalBytes("identity") ?? []
        var skip: String?
        if let properties = fields.optional("properties"), properties.arrayValue?.isEmpty != true {
            skip = "application properties (ZMQ_METADATA) are not in the shim contract"
        }
        var needsAuthentication = false
        if let security = fields.optional("security") {
            var s = try Members(security, "\(context).security")
            let mechanism = try s.string("mechanism")
            let role = try s.optionalString("role")
            let domain = try s.optionalString("zapDomain")
            switch (mechanism, role) {
            case ("NULL", nil):
                setup.zapDomain = domain
                needsAuthentication = !(domain ?? "").isEmpty
            case ("PLAIN", "client"):
                setup.mechanism = .plainClient(username: try s.bytes("username"), password: try s.bytes("password"))
            case ("PLAIN", "server"):
                setup.mechanism = .plainServer
                setup.zapDomain = domain ?? ""
                needsAuthentication = true
            case ("CURVE", "client"):
                setup.mechanism = .curveClient(serverKey: try s.bytes("serverPublicKey"), publicKey: try s.bytes("publicKey"),
                                               secretKey: try s.bytes("secretKey"))
            case ("CURVE", "server"):
                setup.mechanism = .curveServer(publicKey: try s.bytes("publicKey"), secretKey: try s.bytes("secretKey"))
                setup.zapDomain = domain
                needsAuthentication = try s.bool("authenticate", default: false)
            default:
                throw FormatError("\(context).security: unknown mechanism and role \(mechanism) \(role ?? "(none)")")
            }
            try s.finish()
        }
        setup.maxMessageSize = try fields.optionalInt("maxMessageSize")
        setup.handshakeIntervalMs = try fields.optionalInt("handshakeTimeoutMs")
        setup.heartbeatIntervalMs = try fields.optionalInt("heartbeatIntervalMs")
        setup.heartbeatTimeoutMs = try fields.optionalInt("heartbeatTimeoutMs")
        setup.heartbeatTTLMs = try fields.optionalInt("heartbeatTTLMs")
        let acceptsLegacy = try fields.bool("acceptLegacyPeers", default: false)
        if let minor = try fields.optionalInt("greetingMinorVersion"), minor != 1 {
            skip = skip ?? "a socket always advertises ZMTP 3.1 (the case advertises 3.\(minor))"
        }
        _ = try fields.optionalString("peerAddress")
        if let crypto = try fields.optionalString("crypto"), crypto != "sodium" {
            skip = skip ?? "the case uses the \(crypto) CURVE provider"
        }
        try fields.finish()
        if let skip { return .failure(Skip(skip)) }
        return .success((setup, needsAuthentication, acceptsLegacy))
    }

    /// A reason to skip, as an error value.
    struct Skip: Error { var reason: String; init(_ reason: String) { self.reason = reason } }

    // MARK: Connection cases

    static func connection(_ item: JSON, _ context: String, messages: StepBuilder.Messages, references: [String: JSON] = [:]) -> LiveCase.Content {
        do throws(FormatError) {
            return try connectionPlan(item, context, messages: messages, references: references)
        } catch {
            return .invalid(error)
        }
    }

    static func connectionPlan(_ item: JSON, _ context: String, messages: StepBuilder.Messages,
                               references: [String: JSON] = [:]) throws(FormatError) -> LiveCase.Content {
        var fields = try Members(item, context)
        for key in ["name", "description", "source", "knownFailure", "differs", "random"] { _ = fields.optional(key) }
        let configured = try setup(try fields.required("configuration"), "\(context).configuration")
        let steps = try fields.array("steps")
        try fields.finish()
        var builder: StepBuilder
        switch configured {
        case .failure(let skip):
            // The steps are still read, so that a malformed file is reported even when skipped.
            builder = StepBuilder(setup: TargetSetup(socketType: "PAIR"), messages: messages)
            for (index, step) in steps.enumerated() { try builder.add(step, "\(context) step \(index + 1)") }
            return .skip(skip.reason)
        case .success(let (setup, needsAuthentication, acceptsLegacy)):
            builder = StepBuilder(setup: setup, messages: messages)
            var translator: CurveTranslation.ConnectionTranslator?
            for (index, step) in steps.enumerated() {
                let label = "\(context) step \(index + 1)"
                // A CURVE step citing a handshake transcript is played by the runner's own CURVE side.
                if let from = step["from"], let file = from["handshake"]?.stringValue, let name = from["case"]?.stringValue,
                   let cited = references[CurveTranslation.key(file: file, name: name)] {
                    let targetSide: String
                    switch setup.mechanism {
                    case .curveServer: targetSide = "server"
                    case .curveClient: targetSide = "client"
                    case .null, .plainClient, .plainServer: targetSide = ""
                    }
                    if !targetSide.isEmpty {
                        if translator == nil {
                            translator = try CurveTranslation.ConnectionTranslator(
                                reference: try CurveTranslation.reference(cited, "\(file): \(name)"), targetSide: targetSide, label)
                            builder.curveLive = true
                        }
                        let action = step["expectSend"] != nil ? "expectSend" : "receive"
                        guard step["expectSend"] != nil || step["receive"] != nil else { throw FormatError("\(label): a step with from sends or expects octets") }
                        try translator?.translate(&builder, action: action, from: from, label + " (\(action))")
                        continue
                    }
                }
                try builder.add(step, label)
            }
            if needsAuthentication {
                builder.setup.zapReply = builder.zapReply ?? .hold
            }
            if !acceptsLegacy, let first = builder.firstPeerBytes, StepBuilder.isLegacyGreeting(first) {
                return .skip("sockets accept ZMTP 1.0/2.0 peers (libzmq and this implementation alike); the case needs a connection that refuses them")
            }
            var plan = builder.plan
            // Keys only where the runner's CURVE side has a frame to build or open (a case that
            // ends at the greeting has none).
            if let translator, plan.steps.contains(where: \.isCurve) { plan.curve = translator.peer.keys }
            return .live(plan)
        }
    }

    // MARK: Handshake cases

    static func handshake(_ item: JSON, side: String, _ context: String) -> LiveCase.Content {
        do throws(FormatError) {
            return try handshakePlan(item, side: side, context)
        } catch {
            return .invalid(error)
        }
    }

    static func handshakePlan(_ item: JSON, side: String, _ context: String) throws(FormatError) -> LiveCase.Content {
        var fields = try Members(item, context)
        for key in ["name", "description", "source", "knownFailure", "differs", "client", "server"] { _ = fields.optional(key) }
        let transcript = try fields.array("transcript")
        try fields.finish()
        var sideFields = try Members(try fields.required(side), "\(context).\(side)")
        _ = sideFields.optional("random")
        let configured = try setup(try sideFields.required("configuration"), "\(context).\(side).configuration")
        let sends = sideFields.optional("send")?.arrayValue ?? []
        let reply = sideFields.optional("authenticationReply")
        let events = sideFields.optional("expectEvents")?.arrayValue ?? []
        try sideFields.finish()
        var entries: [(ours: Bool, bytes: [UInt8])] = []
        for (index, entry) in transcript.enumerated() {
            var e = try Members(entry, "\(context).transcript[\(index)]")
            let from = try e.string("from")
            guard from == "client" || from == "server" else { throw FormatError("\(context).transcript[\(index)].from must be client or server") }
            let bytes = try e.bytes("bytes")
            _ = e.optional("comment")
            try e.finish()
            entries.append((from == side, bytes))
        }
        guard case .success(let (setup, needsAuthentication, _)) = configured else {
            if case .failure(let skip) = configured { return .skip(skip.reason) }
            return .skip("")
        }
        var builder = StepBuilder(setup: setup)
        func addSends(_ builder: inout StepBuilder) throws(FormatError) {
            for (index, send) in sends.enumerated() {
                try builder.add(.object([("send", send)]), "\(context).\(side).send[\(index)]")
            }
        }
        func addEvents(_ builder: inout StepBuilder) throws(FormatError) {
            for (index, event) in events.enumerated() {
                try builder.add(.object([("expectEvent", event)]), "\(context).\(side).expectEvents[\(index)]")
            }
        }
        var curve: CurveKeys?
        switch setup.mechanism {
        case .curveClient, .curveServer:
            // The runner plays the other side with that side's long-term keys, fresh transient ones.
            let other = side == "client" ? "server" : "client"
            let peer = try CurveTranslation.peerSide(try fields.required(other), "\(context).\(other)")
            var targetSends: [(flags: UInt8, body: [UInt8])] = []
            for (index, send) in sends.enumerated() {
                targetSends.append(try CurveTranslation.plaintext(send, "\(context).\(side).send[\(index)]"))
            }
            // A socket whose application answers (REP) or publishes to a subscriber (PUB, XPUB)
            // sends only after what it receives, where the vector's connection-level transcript
            // may send at once: its MESSAGE frames are then expected after the events.
            if ["REP", "PUB", "XPUB"].contains(setup.socketType) {
                try CurveTranslation.handshake(&builder, entries: entries, peer: peer, targetSends: targetSends, deferTargetMessages: true, context)
                try addEvents(&builder)
                try addSends(&builder)
                for (index, message) in targetSends.enumerated() {
                    builder.emit(.curveExpects(.message(flags: message.flags, body: message.body)), "\(context).\(side).send[\(index)] (MESSAGE)")
                }
            } else {
                try addSends(&builder)
                try CurveTranslation.handshake(&builder, entries: entries, peer: peer, targetSends: targetSends, context)
                try addEvents(&builder)
            }
            curve = peer.keys
        case .null, .plainClient, .plainServer:
            try addSends(&builder)
            for (index, entry) in entries.enumerated() {
                let label = "\(context).transcript[\(index)]"
                try builder.add(.object([(entry.ours ? "expectSend" : "receive", .string(VectorValues.hexString(entry.bytes)))]), label)
            }
            try addEvents(&builder)
        }
        if needsAuthentication {
            if let reply {
                var r = try Members(reply, "\(context).\(side).authenticationReply")
                let status = try r.string("status")
                let userId = try r.optionalString("userId") ?? ""
                for key in ["statusText", "metadata"] { _ = r.optional(key) }
                try r.finish()
                builder.setup.zapReply = .answer(status: status, userId: userId)
            } else {
                builder.setup.zapReply = .hold
            }
        }
        var plan = builder.plan
        plan.curve = curve
        return .live(plan)
    }
}
