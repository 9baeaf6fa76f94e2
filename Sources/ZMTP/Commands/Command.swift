/// The ZMTP commands the connection understands after (and around) the handshake
/// (RFC 23 §Commands, RFC 37 §Connection Heartbeating, §Subscriptions; RFC 48 for JOIN/LEAVE).
///
/// ```
/// command      = command-size command-body
/// command-body = name-len name command-data    ; name-len = OCTET (1..255), name = 1*255ALPHA
/// ready        = %d5 "READY" metadata
/// error        = %d5 "ERROR" reason-len reason  ; reason-len = OCTET, reason = 0*255VCHAR
/// ping         = %d4 "PING" ping-ttl ping-context ; ttl = 2OCTET (deciseconds), context = 0*16OCTET
/// pong         = %d4 "PONG" ping-context
/// subscribe    = %d9 "SUBSCRIBE" topic
/// cancel       = %d6 "CANCEL" topic
/// join         = %d4 "JOIN" group           ; leave = %d5 "LEAVE" group
/// ```
public enum Command: Hashable, Sendable, CustomStringConvertible {
    /// READY with the sender's metadata.
    case ready(Metadata)
    /// ERROR with a reason (libzmq sends the 3-digit ZAP status).
    case error(reason: String)
    /// PING with a TTL in deciseconds and up to 16 bytes of context.
    case ping(ttl: UInt16, context: [UInt8])
    /// PONG echoing the PING's context.
    case pong(context: [UInt8])
    /// SUBSCRIBE to a topic prefix (ZMTP 3.1).
    case subscribe(topic: [UInt8])
    /// CANCEL a subscription (ZMTP 3.1).
    case cancel(topic: [UInt8])
    /// JOIN a group (RADIO/DISH).
    case join(group: [UInt8])
    /// LEAVE a group (RADIO/DISH).
    case leave(group: [UInt8])
    /// Any other command, by name (mechanism commands such as HELLO arrive this way).
    case other(name: String, data: [UInt8])

    /// The maximum PING/PONG context (RFC 37).
    public static let maxPingContext = 16
    /// The maximum ERROR reason (one length octet).
    public static let maxErrorReason = 255
    /// The maximum JOIN/LEAVE group (RFC 48).
    public static let maxGroupLength = 255

    /// The command's name.
    public var name: String {
        switch self {
        case .ready: return "READY"
        case .error: return "ERROR"
        case .ping: return "PING"
        case .pong: return "PONG"
        case .subscribe: return "SUBSCRIBE"
        case .cancel: return "CANCEL"
        case .join: return "JOIN"
        case .leave: return "LEAVE"
        case .other(let name, _): return name
        }
    }

    public var description: String {
        switch self {
        case .ready(let m): return "READY \(m)"
        case .error(let r): return "ERROR \(r)"
        case .ping(let ttl, let c): return "PING ttl=\(ttl) context=\(c.count)B"
        case .pong(let c): return "PONG context=\(c.count)B"
        case .subscribe(let t): return "SUBSCRIBE \(t.count)B"
        case .cancel(let t): return "CANCEL \(t.count)B"
        case .join(let g): return "JOIN \(g.count)B"
        case .leave(let g): return "LEAVE \(g.count)B"
        case .other(let n, let d): return "\(n) \(d.count)B"
        }
    }

    // MARK: Encoding

    /// The command body (name-len, name, data), without the frame header.
    public func encoded() throws(ZMTPError) -> [UInt8] {
        var out: [UInt8] = []
        try encode(into: &out)
        return out
    }

    /// Appends the command body (name-len, name, data) to `out`.
    public func encode(into out: inout [UInt8]) throws(ZMTPError) {
        let nameBytes = Array(name.utf8)
        guard !nameBytes.isEmpty, nameBytes.count <= 255 else {
            throw .misuse(.invalidArgument, "command name must be 1..255 bytes")
        }
        out.append(UInt8(nameBytes.count))
        out.append(contentsOf: nameBytes)
        switch self {
        case .ready(let metadata):
            try metadata.encode(into: &out)
        case .error(let reason):
            let r = Array(reason.utf8)
            guard r.count <= Command.maxErrorReason else { throw .misuse(.invalidArgument, "ERROR reason over 255 bytes") }
            out.append(UInt8(r.count))
            out.append(contentsOf: r)
        case .ping(let ttl, let context):
            guard context.count <= Command.maxPingContext else { throw .misuse(.invalidArgument, "PING context over 16 bytes") }
            appendBigEndian(ttl, to: &out)
            out.append(contentsOf: context)
        case .pong(let context):
            out.append(contentsOf: context.prefix(Command.maxPingContext))
        case .subscribe(let t), .cancel(let t):
            out.append(contentsOf: t)
        case .join(let g), .leave(let g):
            guard g.count <= Command.maxGroupLength else { throw .misuse(.invalidArgument, "group over 255 bytes") }
            out.append(contentsOf: g)
        case .other(_, let data):
            out.append(contentsOf: data)
        }
    }

    // MARK: Parsing

    /// Splits a command body into name and data.
    /// - Throws: ``ZMTPError/Code/malformedCommandUnspecified`` when the name is empty, runs past
    ///   the frame, or has a byte outside the characters of a property name (ALPHA DIGIT - _ . +:
    ///   RFC 23's ALPHA and the punctuation of application names such as `X-CUSTOM`; never bytes
    ///   that are not ASCII, so a name reads and re-encodes the same).
    public static func split(_ body: ArraySlice<UInt8>) throws(ZMTPError) -> (name: ArraySlice<UInt8>, data: ArraySlice<UInt8>) {
        guard let first = body.first else { throw .peer(.malformedCommandUnspecified, "empty command frame") }
        let nameLength = Int(first)
        let start = body.startIndex + 1
        guard nameLength > 0, body.endIndex - start >= nameLength else {
            throw .peer(.malformedCommandUnspecified, "command name length \(nameLength) runs past the frame")
        }
        let name = body[start..<(start + nameLength)]
        guard Metadata.isValidName(name) else {
            throw .peer(.malformedCommandUnspecified, "command name has characters outside ALPHA DIGIT - _ . +")
        }
        return (name, body[(start + nameLength)...])
    }

    /// libzmq 4.3.4's PLAIN server sends ERROR as `5e 'RROR' len reason` (the C literal
    /// `"\x05ERROR"` read as `\x5E` + `RROR`). Recognised so that its refusals are reported.
    static let libzmqBrokenErrorPrefix: [UInt8] = [0x5E, 0x52, 0x52, 0x4F, 0x52]

    /// Whether a command body is an ERROR (in either form), without parsing it.
    public static func isError(_ body: ArraySlice<UInt8>) -> Bool {
        body.starts(with: [5, 0x45, 0x52, 0x52, 0x4F, 0x52]) || body.starts(with: libzmqBrokenErrorPrefix)
    }

    /// Parses a command body.
    ///
    /// Unknown names become ``other(name:data:)``; known names with malformed data throw the
    /// matching `malformedCommand*` code.
    public static func parse(_ body: ArraySlice<UInt8>) throws(ZMTPError) -> Command {
        if body.starts(with: libzmqBrokenErrorPrefix) {
            return .error(reason: try parseErrorReason(body.dropFirst(libzmqBrokenErrorPrefix.count)))
        }
        let (name, data) = try split(body)
        switch String(decoding: name, as: UTF8.self) {
        case "READY":
            return .ready(try Metadata.parse(data, errorCode: .malformedCommandReady))
        case "ERROR":
            return .error(reason: try parseErrorReason(data))
        case "PING":
            // A PING shorter than its TTL field: libzmq reads past the end; we take TTL 0.
            guard data.count >= 2 else { return .ping(ttl: 0, context: []) }
            let ttl = UInt16(data[data.startIndex]) << 8 | UInt16(data[data.startIndex + 1])
            // Contexts over 16 bytes are accepted and truncated, as libzmq does.
            return .ping(ttl: ttl, context: Array(data.dropFirst(2).prefix(maxPingContext)))
        case "PONG":
            return .pong(context: Array(data.prefix(maxPingContext)))
        case "SUBSCRIBE":
            return .subscribe(topic: Array(data))
        case "CANCEL":
            return .cancel(topic: Array(data))
        case "JOIN":
            guard data.count <= maxGroupLength else { throw .peer(.malformedCommandUnspecified, "JOIN group over 255 bytes") }
            return .join(group: Array(data))
        case "LEAVE":
            guard data.count <= maxGroupLength else { throw .peer(.malformedCommandUnspecified, "LEAVE group over 255 bytes") }
            return .leave(group: Array(data))
        case let other:
            return .other(name: other, data: Array(data))
        }
    }

    private static func parseErrorReason(_ data: ArraySlice<UInt8>) throws(ZMTPError) -> String {
        guard let length = data.first, data.count - 1 >= Int(length) else {
            throw .peer(.malformedCommandError, "ERROR reason length runs past the frame")
        }
        return String(decoding: data.dropFirst().prefix(Int(length)), as: UTF8.self)
    }
}
