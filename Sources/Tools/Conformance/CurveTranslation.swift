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
    /// target's; with `deferTargetMessages` the target's MESSAGE frames are left for the caller.
    static func handshake(_ builder: inout StepBuilder, entries: [(ours: Bool, bytes: [UInt8])], peer: PeerSide,
                          targetSends: [(flags: UInt8, body: [UInt8])], deferTargetMessages: Bool = false,
                          _ context: String) throws(FormatError) {
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
                        if !deferTargetMessages {
                            builder.emit(.curveExpects(.message(flags: message.flags, body: message.body)), label + " (MESSAGE)")
                        }
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

// MARK: Connection cases

extension CurveTranslation {
    /// The handshake case a connection case's CURVE steps come from ("from": handshake, case):
    /// its transcript and its two sides.
    struct Reference {
        var transcript: [(from: String, bytes: [UInt8])]
        var sides: [String: JSON]
    }

    /// Handshake cases by "file" and case name, for connection cases that cite them.
    typealias References = [String: JSON]

    static func key(file: String, name: String) -> String { file + "\n" + name }

    /// The handshake cases of one parsed vector file, keyed for `References`.
    static func references(file: String, json: JSON) -> References {
        guard json["kind"]?.stringValue == "handshake", let cases = json["cases"]?.arrayValue else { return [:] }
        var out: References = [:]
        for item in cases { if let name = item["name"]?.stringValue { out[key(file: file, name: name)] = item } }
        return out
    }

    static func reference(_ item: JSON, _ context: String) throws(FormatError) -> Reference {
        var transcript: [(from: String, bytes: [UInt8])] = []
        for (index, entry) in (item["transcript"]?.arrayValue ?? []).enumerated() {
            guard let from = entry["from"]?.stringValue, let bytes = entry["bytes"] else { throw FormatError("\(context).transcript[\(index)] needs from and bytes") }
            transcript.append((from, try VectorValues.bytes(bytes, "\(context).transcript[\(index)].bytes")))
        }
        var sides: [String: JSON] = [:]
        for side in ["client", "server"] { if let json = item[side] { sides[side] = json } }
        return Reference(transcript: transcript, sides: sides)
    }

    /// Plays a connection case's CURVE steps that cite a handshake transcript.
    struct ConnectionTranslator {
        let reference: Reference
        let targetSide: String
        let peer: PeerSide
        let targetSends: [(flags: UInt8, body: [UInt8])]
        /// For each transcript entry the runner has played, the positions of its CURVE frames
        /// among those it built (for a replay).
        var played: [Int: [Int]] = [:]
        var built = 0

        init(reference: Reference, targetSide: String, _ context: String) throws(FormatError) {
            self.reference = reference
            self.targetSide = targetSide
            let peerSide = targetSide == "server" ? "client" : "server"
            guard let peerJSON = reference.sides[peerSide], let targetJSON = reference.sides[targetSide] else {
                throw FormatError("\(context): the cited handshake case lacks a side")
            }
            peer = try CurveTranslation.peerSide(peerJSON, "\(context) (cited \(peerSide))")
            targetSends = try CurveTranslation.peerSide(targetJSON, "\(context) (cited \(targetSide))").sends
        }

        /// The index, among one side's MESSAGE frames in the transcript, of the first frame of `entry`.
        func messageIndex(before entry: Int, side: String) -> Int {
            reference.transcript.prefix(entry).filter { $0.from == side }.reduce(0) { count, item in
                count + (CurveTranslation.frames(item.bytes.first == 0xff ? Array(item.bytes.dropFirst(64)) : item.bytes) ?? []).filter { $0.name == "MESSAGE" }.count
            }
        }

        mutating func translate(_ builder: inout StepBuilder, action: String, from: JSON, _ label: String) throws(FormatError) {
            var fields = try Members(from, "\(label).from")
            _ = try fields.string("handshake"); _ = try fields.string("case")
            let entries = try fields.array("entries").map { entry throws(FormatError) -> Int in
                guard let n = entry.intValue, n >= 0, n < reference.transcript.count else { throw FormatError("\(label).from.entries: no such entry") }
                return n
            }
            var patches: [(offset: Int, alteration: CurveAlteration)] = []
            for (index, patch) in (fields.optional("patches")?.arrayValue ?? []).enumerated() {
                var p = try Members(patch, "\(label).from.patches[\(index)]")
                let offset = try p.int("offset")
                guard offset >= 0 else { throw FormatError("\(label).from.patches[\(index)].offset must be 0 or more") }
                if let set = try p.optionalBytes("set"), set.count == 1 {
                    patches.append((offset, .set(offset: 0, value: set[0])))
                } else if let xor = try p.optionalBytes("xor"), xor.count == 1 {
                    patches.append((offset, .xor(offset: 0, value: xor[0])))
                } else {
                    throw FormatError("\(label).from.patches[\(index)] needs one octet to set or xor")
                }
                try p.finish()
            }
            let truncate = try fields.optionalInt("truncate")
            if let truncate, truncate < 0 { throw FormatError("\(label).from.truncate must be 0 or more") }
            try fields.finish()
            let ours = action == "expectSend"
            let side = ours ? targetSide : (targetSide == "server" ? "client" : "server")
            if ours && (!patches.isEmpty || truncate != nil) {
                throw FormatError("\(label): the target's octets cannot be patched")
            }
            if !ours, let first = entries.first, reference.transcript[first].from == targetSide {
                // The vector's peer sends what the target's side sent in the transcript (a
                // HELLO from the server side): a command out of place, whatever its boxes hold.
                var bytes = entries.flatMap { reference.transcript[$0].bytes }
                if let truncate { bytes = Array(bytes.prefix(truncate)) }
                for patch in patches { bytes = Self.apply([patch.alteration.at(patch.offset)], to: bytes) }
                builder.notePeerBytes(bytes)
                builder.emit(.peerSends(bytes), label)
                return
            }
            var offset = 0
            for entry in entries {
                let item = reference.transcript[entry]
                guard item.from == side else { throw FormatError("\(label).from: entry \(entry) is the \(item.from)'s, not the \(side)'s") }
                var bytes = item.bytes
                var frames: [(bytes: [UInt8], frame: Frame?)] = []
                if bytes.first == 0xff {
                    frames.append((Array(bytes.prefix(64)), nil))
                    bytes.removeFirst(min(64, bytes.count))
                }
                guard let split = CurveTranslation.frames(bytes) else { throw FormatError("\(label): entry \(entry) is not whole ZMTP frames") }
                frames += split.map { ($0.bytes, $0) }
                var message = messageIndex(before: entry, side: side)
                var curveFrame = 0
                for (bytes, frame) in frames {
                    let start = offset
                    offset += bytes.count
                    var alterations = patches.filter { $0.offset >= start && $0.offset < offset }.map { $0.alteration.at($0.offset - start) }
                    if let truncate, truncate < offset { alterations.append(.truncate(max(0, truncate - start))) }
                    let isCurve = ["HELLO", "WELCOME", "INITIATE", "READY", "MESSAGE"].contains(frame?.name ?? "")
                    if ours {
                        guard let frame, isCurve else { builder.emit(.expectBytes(bytes), label); continue }
                        let target = builder.setup
                        let identity = target.identity.isEmpty ? nil : target.identity
                        switch frame.name {
                        case "HELLO": builder.emit(.curveExpects(.hello), label + " (HELLO)")
                        case "WELCOME": builder.emit(.curveExpects(.welcome), label + " (WELCOME)")
                        case "INITIATE": builder.emit(.curveExpects(.initiate(socketType: target.socketType, identity: identity)), label + " (INITIATE)")
                        case "READY": builder.emit(.curveExpects(.ready(socketType: target.socketType, identity: identity)), label + " (READY)")
                        default:
                            guard message < targetSends.count else { throw FormatError("\(label): more MESSAGE frames than the cited side sends") }
                            let m = targetSends[message]
                            message += 1
                            builder.emit(.curveExpects(.message(flags: m.flags, body: m.body)), label + " (MESSAGE)")
                        }
                        continue
                    }
                    guard let frame, isCurve else {
                        builder.notePeerBytes(bytes)
                        builder.emit(.peerSends(Self.apply(alterations, to: bytes)), label)
                        continue
                    }
                    if let positions = played[entry], curveFrame < positions.count {
                        builder.emit(.curveSends(.replay(framesBack: built - positions[curveFrame]), alterations), label + " (a replay)")
                        curveFrame += 1
                        if frame.name == "MESSAGE" { message += 1 }
                        continue
                    }
                    let metadata = CurveTranslation.metadata(socketType: peer.socketType, identity: peer.identity, properties: peer.properties)
                    let command: CurveCommand
                    switch frame.name {
                    case "HELLO": command = .hello
                    case "WELCOME": command = .welcome
                    case "INITIATE": command = .initiate(metadata: metadata, vouchSecret: nil)
                    case "READY": command = .ready(metadata: metadata)
                    default:
                        guard message < peer.sends.count else { throw FormatError("\(label): more MESSAGE frames than the cited side sends") }
                        let m = peer.sends[message]
                        message += 1
                        command = .message(flags: m.flags, body: m.body, asCommand: false)
                    }
                    builder.emit(.curveSends(command, alterations), label + " (\(frame.name ?? ""))")
                    played[entry, default: []].append(built)
                    built += 1
                    curveFrame += 1
                }
            }
        }

        static func apply(_ alterations: [CurveAlteration], to bytes: [UInt8]) -> [UInt8] {
            var out = bytes
            for alteration in alterations {
                switch alteration {
                case .set(let offset, let value) where offset < out.count: out[offset] = value
                case .xor(let offset, let value) where offset < out.count: out[offset] ^= value
                case .truncate(let count): out = Array(out.prefix(count))
                case .set, .xor: break
                }
            }
            return out
        }
    }
}

extension CurveAlteration {
    /// The same alteration of one octet, at `offset`.
    func at(_ offset: Int) -> CurveAlteration {
        switch self {
        case .set(_, let value): return .set(offset: offset, value: value)
        case .xor(_, let value): return .xor(offset: offset, value: value)
        case .truncate: return self
        }
    }
}
