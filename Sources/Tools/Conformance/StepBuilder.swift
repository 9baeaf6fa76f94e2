/// Translates the steps of a connection script (Vectors/README.md, "connection") into live
/// steps for a socket of the configured type. What a socket's application cannot observe (a
/// timer's deadline, a command libzmq drops, a PUB's subscription) is left unchecked; what a
/// live peer cannot reproduce (a CURVE peer's random keys, hours of real time) ends the plan
/// with a `horizon`.
struct StepBuilder {
    var setup: TargetSetup
    private(set) var steps: [LiveStep] = []
    private(set) var labels: [String] = []
    /// The reply of the first `authenticate` step.
    private(set) var zapReply: TargetSetup.ZAPReply?
    /// The first octets the peer sends (to tell a legacy greeting).
    private(set) var firstPeerBytes: [UInt8]?
    /// The runner plays CURVE with its own side (CurveTranslation): the target's octets after
    /// the greeting are no longer out of reach.
    var curveLive = false

    private var outgoing: [[UInt8]] = []
    private var incoming: [[UInt8]] = []
    private var peerIdentity: [UInt8]?
    private var expectedTotal = 0
    private var realTimeMs = 0
    /// An authentication request is out and the vector's application has not answered: a live
    /// ZAP handler answers at once, so "nothing yet" checks in between cannot hold.
    private var authenticationPending = false
    /// Time passed since the last octet moved: a "nothing sent" check would race the target's
    /// timers, so it is not made.
    private var afterWait = false
    private var ended = false
    /// A ROUTER target has received a message (so its application knows a routing id).
    private var routingIdKnown = false
    /// A REP target has received a request (so its application may answer).
    private var requestDelivered = false
    /// A PUB or XPUB target has a subscriber.
    private var subscribed = false
    /// A SUB target's subscriptions.
    private var subscriptions: Set<[UInt8]> = []

    /// How a vector's application messages relate to the socket's.
    enum Messages {
        /// `connection` cases: the frames a connection carries; the builder adds or takes off
        /// what the socket type puts around them (a ROUTER's routing id, a REQ's delimiter).
        case asOnTheWire
        /// `socket` cases: the frames exactly as the socket's application sends and receives
        /// them (a ROUTER's routing id included, a REQ's delimiter left out).
        case asTheApplicationSeesThem
    }
    let messages: Messages

    init(setup: TargetSetup, messages: Messages = .asOnTheWire) {
        self.setup = setup
        self.messages = messages
    }

    var plan: LiveCase.Plan {
        var out = LiveCase.Plan(setup: setup, steps: steps, labels: labels)
        if !incoming.isEmpty && !ended {
            // The application sees whole messages only: whether the target took the parts
            // the vector delivers cannot be seen.
            out.steps.append(.horizon("the vector's last message has MORE set and never completes, so no application sees a part of it: whether the target accepted it cannot be seen live"))
            out.labels.append("the end of the case")
        }
        return out
    }

    /// The peer's first octets, when a translation sends them rather than `add`.
    mutating func notePeerBytes(_ bytes: [UInt8]) {
        if firstPeerBytes == nil { firstPeerBytes = bytes }
    }

    mutating func emit(_ step: LiveStep, _ label: String) {
        guard !ended else { return }
        if case .horizon = step { ended = true }
        steps.append(step)
        labels.append(label)
    }

    private var isCurve: Bool {
        switch setup.mechanism {
        case .curveClient, .curveServer: return true
        case .null, .plainClient, .plainServer: return false
        }
    }

    /// A CURVE handshake transcript: only the greetings are free of the vector's randomness.
    mutating func curveGreetingsOnly(ours: [UInt8], theirs: [UInt8]) {
        emit(.expectBytes(Array(ours.prefix(64))), "the greeting of the transcript")
        emit(.peerSends(Array(theirs.prefix(64))), "the peer's greeting in the transcript")
        emit(.horizon(Self.curveHorizon), "the CURVE handshake")
    }

    static let curveHorizon = "the rest depends on the random keys and nonces that the vector fixes (CURVE); the greeting and what came before passed"

    /// Reads one step and appends what it means live.
    mutating func add(_ json: JSON, _ context: String) throws(FormatError) {
        var fields = try Members(json, context)
        _ = fields.optional("comment")
        _ = fields.optional("from")
        let actions = ["receive", "expectSend", "expectNoSend", "ignoreSend", "expectEvent", "expectNoEvent", "expectError",
                       "expectNothingDelivered", "send", "advanceMs", "authenticate", "expectDeadlineMs", "expectReady", "expectPeer"]
        let present = actions.filter { fields.has($0) }
        guard present.count == 1, let action = present.first else {
            throw FormatError("\(context): a step has exactly one action (\(actions.joined(separator: ", ")))")
        }
        let label = "\(context) (\(action))"
        switch action {
        case "receive":
            let bytes = try fields.bytes("receive")
            if firstPeerBytes == nil { firstPeerBytes = bytes }
            if afterWait && (setup.heartbeatIntervalMs != nil || setup.heartbeatTimeoutMs != nil) {
                // Liveness inside a window of real time: judging it would assert on time.
                emit(.horizon("the peer must act inside a heartbeat window of real time, which a live run cannot judge without racing the target's timers"), label)
            }
            afterWait = false
            emit(.peerSends(bytes), label)
        case "expectSend":
            let bytes = try fields.bytes("expectSend")
            if isCurve && !curveLive && expectedTotal >= 64 {
                emit(.horizon(Self.curveHorizon), label)
            }
            expectedTotal += bytes.count
            afterWait = false
            emit(.expectBytes(bytes), label)
        case "expectNoSend":
            _ = try fields.bool("expectNoSend", default: true)
            if !authenticationPending && !afterWait { emit(.expectQuiet, label) }
        case "ignoreSend":
            _ = try fields.bool("ignoreSend", default: true)
            emit(.discardBytes, label)
        case "expectNoEvent":
            _ = try fields.bool("expectNoEvent", default: true)
            if !authenticationPending { emit(.expectNoDelivery, label) }
        case "expectNothingDelivered":
            _ = try fields.bool("expectNothingDelivered", default: true)
            emit(.expectNothingDelivered, label)
        case "expectError":
            let code = try fields.string("expectError")
            _ = try fields.optionalString("blame")
            emit(.expectClosed(code), label)
        case "expectEvent":
            try event(try fields.required("expectEvent"), label)
        case "send":
            var send = try Members(try fields.required("send"), "\(context).send")
            if try fields.optionalString("error") != nil {
                // The call fails in the application; nothing crosses the wire.
                _ = send.optional("message"); _ = send.optional("more"); _ = send.optional("command")
                try send.finish()
                try fields.finish()
                return
            }
            if let command = send.optional("command") {
                try send.finish()
                try sendCommand(command, "\(context).send.command", label)
            } else {
                let body = try send.bytes("message")
                let more = try send.bool("more", default: false)
                try send.finish()
                outgoing.append(body)
                if !more {
                    let message = outgoing
                    outgoing = []
                    appSend(message, label)
                }
            }
        case "advanceMs":
            let ms = try fields.int("advanceMs")
            guard ms >= 0 else { throw FormatError("\(context).advanceMs must be 0 or more") }
            realTimeMs += ms
            if realTimeMs > LivePlanner.maxRealTimeMs {
                emit(.horizon("the case needs \(realTimeMs) ms of real time (over \(LivePlanner.maxRealTimeMs) ms)"), label)
            } else {
                afterWait = true
                emit(.wait(milliseconds: ms), label)
            }
        case "authenticate":
            var reply = try Members(try fields.required("authenticate"), "\(context).authenticate")
            if try fields.optionalString("error") == nil {
                let status = try reply.string("status")
                let userId = try reply.optionalString("userId") ?? ""
                for key in ["statusText", "metadata"] { _ = reply.optional(key) }
                if zapReply == nil { zapReply = .answer(status: status, userId: userId) }
            } else {
                // An answer the application's API refuses: nothing reaches the connection.
                for key in ["status", "statusText", "userId", "metadata"] { _ = reply.optional(key) }
            }
            try reply.finish()
            authenticationPending = false
        case "expectReady":
            if try fields.bool("expectReady", default: false) { emit(.expectHandshake, label) }
        case "expectDeadlineMs":
            // A timer's deadline is not on the wire.
            _ = fields.optional("expectDeadlineMs")
        case "expectPeer":
            _ = fields.optional("expectPeer")
        default:
            break
        }
        try fields.finish()
    }

    private mutating func appSend(_ message: [[UInt8]], _ label: String) {
        if case .asTheApplicationSeesThem = messages {
            emit(.appSends(message, .none), label)
            return
        }
        switch setup.socketType {
        case "ROUTER" where !routingIdKnown:
            emit(.horizon("a ROUTER's application can only address a peer whose message it has received"), label)
        case "ROUTER":
            emit(.appSends(message, .routingId(nil)), label)
        case let type where (type == "PUB" || type == "XPUB") && !subscribed:
            emit(.horizon("a \(setup.socketType) socket drops what its application sends before a subscription arrives"), label)
        case "REQ":
            // The REQ socket adds the empty delimiter itself.
            if message.first == [] {
                emit(.appSends(Array(message.dropFirst()), .none), label)
            } else {
                emit(.horizon("a REQ socket cannot send a message without its empty delimiter"), label)
            }
        case "REP" where requestDelivered && message.first == []:
            // The REP socket puts the request's envelope (a REQ's empty delimiter) back on.
            requestDelivered = false
            emit(.appSends(Array(message.dropFirst()), .none), label)
        case "SUB", "PULL", "REP":
            emit(.horizon("a \(setup.socketType) socket's application cannot send this message"), label)
        default:
            emit(.appSends(message, .none), label)
        }
    }

    private mutating func sendCommand(_ json: JSON, _ context: String, _ label: String) throws(FormatError) {
        var command = try Members(json, context)
        let name = try command.string("name")
        switch name {
        case "SUBSCRIBE", "CANCEL":
            let topic = try command.bytes("topic")
            try command.finish()
            switch setup.socketType {
            case "SUB" where name == "CANCEL" && !subscriptions.contains(topic):
                emit(.horizon("a SUB socket cancels only a topic its application subscribed"), label)
            case "SUB":
                if name == "SUBSCRIBE" { subscriptions.insert(topic) } else { subscriptions.remove(topic) }
                emit(.appSubscribes(topic, name == "SUBSCRIBE"), label)
            case "XSUB": emit(.appSends([[name == "SUBSCRIBE" ? 1 : 0] + topic], .none), label)
            default: emit(.horizon("a \(setup.socketType) socket's application cannot send \(name)"), label)
            }
        default:
            for key in ["group", "ttl", "context", "data", "metadata", "reason", "topic"] { _ = command.optional(key) }
            try command.finish()
            emit(.horizon("a socket's application cannot send a \(name) command"), label)
        }
    }

    private mutating func event(_ json: JSON, _ label: String) throws(FormatError) {
        var event = try Members(json, label)
        let type = try event.string("type")
        switch type {
        case "handshakeCompleted":
            if let peer = event.optional("peer"), let identity = peer["identity"], !identity.isNull {
                let bytes = try VectorValues.bytes(identity, "\(label).peer.identity")
                peerIdentity = bytes.isEmpty ? nil : bytes
            }
            emit(.expectHandshake, label)
        case "message":
            let body = try event.bytes("body")
            let more = try event.bool("more", default: false)
            incoming.append(body)
            if !more {
                let message = incoming
                incoming = []
                deliver(message, label)
            }
        case "subscribe", "cancel":
            let topic = try event.bytes("topic")
            subscribed = true
            if setup.socketType == "XPUB" {
                emit(.expectDelivery([[type == "subscribe" ? 1 : 0] + topic], .none), label)
            }
        case "authenticationRequest":
            let mechanism = try event.string("mechanism")
            var credentials: [[UInt8]]?
            if let list = event.optional("credentials") {
                guard let items = list.arrayValue else { throw FormatError("\(label).credentials must be an array") }
                credentials = []
                for (index, credential) in items.enumerated() {
                    credentials?.append(try VectorValues.bytes(credential, "\(label).credentials[\(index)]"))
                }
            }
            _ = event.optional("address")
            var domain: [UInt8]?
            var identity: [UInt8]?
            if case .asTheApplicationSeesThem = messages {
                domain = try event.optionalString("domain").map { Array($0.utf8) }
                identity = try event.optionalBytes("identity")
            } else {
                for key in ["domain", "identity"] { _ = event.optional(key) }
            }
            authenticationPending = true
            emit(.expectAuthenticationRequest(mechanism: mechanism, credentials: credentials, domain: domain, identity: identity), label)
        case "failed":
            let code = try event.string("error")
            _ = event.optional("blame")
            if let status = try event.optionalInt("status") {
                guard (100...599).contains(status) else { throw FormatError("\(label).status must be a ZAP status code (100 to 599)") }
                emit(.expectAuthenticationFailure(status), label)
            }
            emit(.expectClosed(code), label)
        case "join", "leave", "command":
            // A socket's application does not see these (libzmq drops unknown commands).
            for key in ["group", "command"] { _ = event.optional(key) }
        default:
            throw FormatError("\(label): unknown event type \(type)")
        }
        try event.finish()
    }

    private mutating func deliver(_ message: [[UInt8]], _ label: String) {
        if case .asTheApplicationSeesThem = messages {
            emit(.expectDelivery(message, .none), label)
            return
        }
        switch setup.socketType {
        case "ROUTER":
            routingIdKnown = true
            emit(.expectDelivery(message, .routingId(peerIdentity)), label)
        case "REQ":
            if message.first == [] {
                emit(.expectDelivery(Array(message.dropFirst()), .none), label)
            } else {
                emit(.horizon("a REQ socket drops a reply without its empty delimiter"), label)
            }
        case "REP" where message.first == []:
            // A REQ peer's envelope is the empty delimiter, which the REP socket keeps.
            requestDelivered = true
            emit(.expectDelivery(Array(message.dropFirst()), .none), label)
        case "PUB", "PUSH", "REP":
            emit(.horizon("a \(setup.socketType) socket's application does not receive this message"), label)
        default:
            emit(.expectDelivery(message, .none), label)
        }
    }

    /// Whether a peer's first octets are a ZMTP 1.0 or 2.0 greeting (RFC 37, "Detecting ZMTP
    /// 1.0 and 2.0 Peers"): no `ff` signature, a signature without the `7f` marker, or a
    /// revision below 3.
    static func isLegacyGreeting(_ bytes: [UInt8]) -> Bool {
        guard let first = bytes.first else { return false }
        if first != 0xFF { return true }
        if bytes.count > 9 && bytes[9] & 1 == 0 { return true }
        if bytes.count > 10 && bytes[10] < 3 { return true }
        return false
    }
}
