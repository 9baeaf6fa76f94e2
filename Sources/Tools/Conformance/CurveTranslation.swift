/// Translates a vector's CURVE exchange into live steps. The vector's bytes come from fixed
/// randomness that a live target does not share, so each frame is read for what it is (its
/// command name, its place in the exchange) and the runner's own CURVE side plays it fresh:
/// the vector's long-term keys, the runner's transient keys and nonces. The target's frames are
/// judged by what they open to; plaintext frames (greetings, ERROR) stay byte for byte.
enum CurveTranslation {
    /// One frame of a vector's byte string.
    struct Frame: Equatable {
        var flags: UInt8
        var body: [UInt8]
        /// The octets of the frame, header included.
        var bytes: [UInt8]

        var isCommand: Bool { flags & 0x04 != 0 }

        /// The command name (for a data frame, MESSAGE when the body is one).
        var name: String? {
            guard let length = body.first, length > 0, Int(length) < body.count else { return nil }
            let name = String(decoding: body[1...Int(length)], as: UTF8.self)
            return isCommand || name == "MESSAGE" ? name : nil
        }
    }

    /// Splits octets into ZMTP 3 frames; nil when they do not split exactly.
    static func frames(_ bytes: [UInt8]) -> [Frame]? {
        var out: [Frame] = []
        var index = 0
        while index < bytes.count {
            let flags = bytes[index]
            guard flags & 0xf8 == 0 else { return nil }
            let long = flags & 0x02 != 0
            let header = long ? 9 : 2
            guard bytes.count - index >= header else { return nil }
            let size = long ? CurvePeer.readBigEndian(bytes[(index + 1)..<(index + 9)]) : UInt64(bytes[index + 1])
            guard size <= UInt64(bytes.count - index - header) else { return nil }
            let end = index + header + Int(size)
            out.append(Frame(flags: flags, body: Array(bytes[(index + header)..<end]), bytes: Array(bytes[index..<end])))
            index = end
        }
        return out
    }

    /// The plaintext of a MESSAGE box for one `send` item: the flags octet (0x01 MORE, 0x02
    /// COMMAND, as libzmq puts subscriptions) and the body.
    static func plaintext(_ send: JSON, _ context: String) throws(FormatError) -> (flags: UInt8, body: [UInt8]) {
        var fields = try Members(send, context)
        if let command = fields.optional("command") {
            try fields.finish()
            var c = try Members(command, "\(context).command")
            let name = try c.string("name")
            guard name == "SUBSCRIBE" || name == "CANCEL" else { throw FormatError("\(context).command: only SUBSCRIBE and CANCEL travel in CURVE MESSAGE here") }
            let topic = try c.bytes("topic")
            try c.finish()
            return (0x02, [UInt8(name.utf8.count)] + Array(name.utf8) + topic)
        }
        let body = try fields.bytes("message")
        let more = try fields.bool("more", default: false)
        try fields.finish()
        return (more ? 0x01 : 0x00, body)
    }

    /// The metadata a socket of this set-up puts in INITIATE or READY (RFC 23 §3.4; libzmq
    /// sends Identity for REQ, DEALER and ROUTER only).
    static func metadata(socketType: String, identity: [UInt8], properties: [CurveProperty]) -> [CurveProperty] {
        var out = [CurveProperty(name: "Socket-Type", value: Array(socketType.utf8))]
        if ["REQ", "DEALER", "ROUTER"].contains(socketType) { out.append(CurveProperty(name: "Identity", value: identity)) }
        return out + properties
    }

    /// The runner's side of a handshake case: its socket type, identity, properties and keys.
    struct PeerSide {
        var socketType: String
        var identity: [UInt8]
        var properties: [CurveProperty]
        var keys: CurveKeys
        var sends: [(flags: UInt8, body: [UInt8])]
    }

    static func peerSide(_ json: JSON, _ context: String) throws(FormatError) -> PeerSide {
        var fields = try Members(json, context)
        _ = fields.optional("random"); _ = fields.optional("expectEvents"); _ = fields.optional("authenticationReply")
        var configuration = try Members(try fields.required("configuration"), "\(context).configuration")
        let socketType = try configuration.string("socketType")
        let identity = try configuration.optionalBytes("identity") ?? []
        var properties: [CurveProperty] = []
        for (index, property) in (configuration.optional("properties")?.arrayValue ?? []).enumerated() {
            var p = try Members(property, "\(context).configuration.properties[\(index)]")
            properties.append(CurveProperty(name: try p.string("name"), value: try p.bytes("value")))
            try p.finish()
        }
        var security = try Members(try configuration.required("security"), "\(context).configuration.security")
        let role = try security.string("role")
        let keys = CurveKeys(asServer: role == "server", publicKey: try security.bytes("publicKey"), secretKey: try security.bytes("secretKey"),
                             serverKey: role == "server" ? nil : try security.bytes("serverPublicKey"))
        guard keys.publicKey.count == 32, keys.secretKey.count == 32, keys.serverKey.map({ $0.count == 32 }) ?? true else {
            throw FormatError("\(context).configuration.security: CURVE keys are 32 octets")
        }
        var sends: [(flags: UInt8, body: [UInt8])] = []
        for (index, send) in (fields.optional("send")?.arrayValue ?? []).enumerated() {
            sends.append(try plaintext(send, "\(context).send[\(index)]"))
        }
        return PeerSide(socketType: socketType, identity: identity, properties: properties, keys: keys, sends: sends)
    }

    /// Appends the live steps of a handshake transcript: `entries` in order, `ours` for the
    /// target's. Returns the runner's keys for the plan.
    static func handshake(_ builder: inout StepBuilder, entries: [(ours: Bool, bytes: [UInt8])], peer: PeerSide,
                          targetSends: [(flags: UInt8, body: [UInt8])], _ context: String) throws(FormatError) {
        var peerMessages = peer.sends[...]
        var targetMessages = targetSends[...]
        var greeted: Set<Bool> = []
        let target = builder.setup
        let targetIdentity = target.identity.isEmpty ? nil : target.identity
        for (index, entry) in entries.enumerated() {
            let label = "\(context).transcript[\(index)]"
            var bytes = entry.bytes
            if !greeted.contains(entry.ours) {
                greeted.insert(entry.ours)
                let greeting = Array(bytes.prefix(64))
                builder.emit(entry.ours ? .expectBytes(greeting) : .peerSends(greeting), label + " (greeting)")
                bytes.removeFirst(greeting.count)
            }
            guard let frames = frames(bytes) else { throw FormatError("\(label): the bytes are not whole ZMTP frames") }
            for frame in frames {
                let name = frame.name
                if entry.ours {
                    switch name {
                    case "HELLO": builder.emit(.curveExpects(.hello), label + " (HELLO)")
                    case "WELCOME": builder.emit(.curveExpects(.welcome), label + " (WELCOME)")
                    case "INITIATE": builder.emit(.curveExpects(.initiate(socketType: target.socketType, identity: targetIdentity)), label + " (INITIATE)")
                    case "READY": builder.emit(.curveExpects(.ready(socketType: target.socketType, identity: targetIdentity)), label + " (READY)")
                    case "MESSAGE":
                        guard let message = targetMessages.popFirst() else { throw FormatError("\(label): more MESSAGE frames than the side sends") }
                        builder.emit(.curveExpects(.message(flags: message.flags, body: message.body)), label + " (MESSAGE)")
                    default: builder.emit(.expectBytes(frame.bytes), label)
                    }
                } else {
                    switch name {
                    case "HELLO": builder.emit(.curveSends(.hello, []), label + " (HELLO)")
                    case "WELCOME": builder.emit(.curveSends(.welcome, []), label + " (WELCOME)")
                    case "INITIATE":
                        let metadata = metadata(socketType: peer.socketType, identity: peer.identity, properties: peer.properties)
                        builder.emit(.curveSends(.initiate(metadata: metadata, vouchSecret: nil), []), label + " (INITIATE)")
                    case "READY":
                        let metadata = metadata(socketType: peer.socketType, identity: peer.identity, properties: peer.properties)
                        builder.emit(.curveSends(.ready(metadata: metadata), []), label + " (READY)")
                    case "MESSAGE":
                        guard let message = peerMessages.popFirst() else { throw FormatError("\(label): more MESSAGE frames than the side sends") }
                        builder.emit(.curveSends(.message(flags: message.flags, body: message.body, asCommand: false), []), label + " (MESSAGE)")
                    default: builder.emit(.peerSends(frame.bytes), label)
                    }
                }
            }
        }
    }
}
