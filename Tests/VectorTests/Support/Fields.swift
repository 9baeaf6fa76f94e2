import ZMTPConformance
import ZMTP

/// A vector that does not follow the format in Vectors/README.md.
struct VectorFormatError: Error, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { "malformed vector: \(message)" }
}

/// Reads the members of one JSON object and remembers which were read, so that a misspelt
/// member ("expectEvnt") is reported instead of silently ignored.
struct Fields {
    let json: JSON
    let context: String
    private(set) var used: Set<String> = []

    init(_ json: JSON?, _ context: String) throws {
        guard let json, json.objectMembers != nil else { throw VectorFormatError("\(context) must be an object") }
        self.json = json
        self.context = context
    }

    func has(_ key: String) -> Bool { json[key] != nil }

    mutating func optional(_ key: String) -> JSON? {
        used.insert(key)
        return json[key]
    }

    mutating func required(_ key: String) throws -> JSON {
        guard let v = optional(key) else { throw VectorFormatError("\(context) needs \"\(key)\"") }
        return v
    }

    mutating func string(_ key: String) throws -> String {
        guard let s = try required(key).stringValue else { throw VectorFormatError("\(context).\(key) must be a string") }
        return s
    }

    mutating func optionalString(_ key: String) throws -> String? {
        guard let v = optional(key), !v.isNull else { return nil }
        guard let s = v.stringValue else { throw VectorFormatError("\(context).\(key) must be a string") }
        return s
    }

    mutating func int(_ key: String) throws -> Int {
        guard let i = try required(key).intValue else { throw VectorFormatError("\(context).\(key) must be an integer") }
        return i
    }

    mutating func optionalInt(_ key: String) throws -> Int? {
        guard let v = optional(key), !v.isNull else { return nil }
        guard let i = v.intValue else { throw VectorFormatError("\(context).\(key) must be an integer") }
        return i
    }

    mutating func bool(_ key: String, default value: Bool) throws -> Bool {
        guard let v = optional(key) else { return value }
        guard let b = v.boolValue else { throw VectorFormatError("\(context).\(key) must be true or false") }
        return b
    }

    mutating func bytes(_ key: String) throws -> [UInt8] {
        try Vectors.bytes(try required(key), "\(context).\(key)")
    }

    mutating func optionalBytes(_ key: String) throws -> [UInt8]? {
        guard let v = optional(key), !v.isNull else { return nil }
        return try Vectors.bytes(v, "\(context).\(key)")
    }

    mutating func array(_ key: String) throws -> [JSON] {
        guard let a = try required(key).arrayValue else { throw VectorFormatError("\(context).\(key) must be an array") }
        return a
    }

    /// Throws when the object has members that were never read.
    func finish() throws {
        let unknown = json.keys.filter { !used.contains($0) }
        guard unknown.isEmpty else { throw VectorFormatError("\(context) has unknown members \(unknown)") }
    }
}

/// Decoders for the value formats shared by every kind (Vectors/README.md, "Common values").
enum Vectors {
    // MARK: Bytes

    /// A byte string: a hex string (whitespace ignored), or an array of parts, each a hex string,
    /// `{"ascii": text}` or `{"repeat": hex, "count": n}`.
    static func bytes(_ json: JSON, _ context: String) throws -> [UInt8] {
        switch json {
        case .string(let s):
            return try hex(s, context)
        case .array(let parts):
            var out: [UInt8] = []
            for (i, part) in parts.enumerated() {
                switch part {
                case .string(let s):
                    out += try hex(s, "\(context)[\(i)]")
                case .object:
                    var f = try Fields(part, "\(context)[\(i)]")
                    if f.has("ascii") {
                        let text = try f.string("ascii")
                        guard text.unicodeScalars.allSatisfy({ $0.isASCII }) else {
                            throw VectorFormatError("\(context)[\(i)].ascii must be ASCII")
                        }
                        out += Array(text.utf8)
                    } else {
                        let unit = try hex(try f.string("repeat"), "\(context)[\(i)].repeat")
                        let count = try f.int("count")
                        guard count >= 0, !unit.isEmpty else { throw VectorFormatError("\(context)[\(i)]: bad repeat") }
                        for _ in 0..<count { out += unit }
                    }
                    try f.finish()
                default:
                    throw VectorFormatError("\(context)[\(i)] must be a hex string or an object")
                }
            }
            return out
        default:
            throw VectorFormatError("\(context) must be a hex string or an array of parts")
        }
    }

    static func hex(_ text: String, _ context: String) throws -> [UInt8] {
        var out: [UInt8] = []
        var high: UInt8?
        for c in text.utf8 {
            if c == 0x20 || c == 0x0A || c == 0x09 || c == 0x0D { continue }
            let v: UInt8
            switch c {
            case 0x30...0x39: v = c - 0x30
            case 0x61...0x66: v = c - 0x61 + 10
            case 0x41...0x46: v = c - 0x41 + 10
            default: throw VectorFormatError("\(context): \"\(Character(Unicode.Scalar(c)))\" is not a hex digit")
            }
            if let h = high {
                out.append(h << 4 | v)
                high = nil
            } else {
                high = v
            }
        }
        guard high == nil else { throw VectorFormatError("\(context): odd number of hex digits") }
        return out
    }

    static func hexString(_ bytes: some Collection<UInt8>) -> String {
        var s = ""
        s.reserveCapacity(bytes.count * 2)
        for b in bytes {
            s.append(b < 16 ? "0" : "")
            s.append(String(b, radix: 16))
        }
        return s
    }

    /// Hex for messages, shortened in the middle when long.
    static func show(_ bytes: some Collection<UInt8>) -> String {
        let all = Array(bytes)
        if all.count <= 96 { return "\(hexString(all)) (\(all.count) B)" }
        return "\(hexString(all.prefix(64)))…\(hexString(all.suffix(16))) (\(all.count) B)"
    }

    /// Where two byte strings first differ, for failure messages.
    static func difference(_ actual: [UInt8], _ expected: [UInt8]) -> String {
        let i = zip(actual, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            ?? min(actual.count, expected.count)
        let a = i < actual.count ? hexString([actual[i]]) : "end"
        let e = i < expected.count ? hexString([expected[i]]) : "end"
        return "first difference at octet \(i): \(a) instead of \(e)"
    }

    // MARK: Names

    static func errorCode(_ name: String, _ context: String) throws -> ZMTPError.Code {
        guard let code = ZMTPError.Code(name: name) else { throw VectorFormatError("\(context): unknown error code \(name)") }
        return code
    }

    static func blame(_ name: String, _ context: String) throws -> ZMTPError.Blame {
        guard let blame = ZMTPError.Blame(rawValue: name) else { throw VectorFormatError("\(context): unknown blame \(name)") }
        return blame
    }

    static func socketType(_ name: String, _ context: String) throws -> SocketType {
        guard let type = SocketType(name: Array(name.utf8)) else { throw VectorFormatError("\(context): unknown socket type \(name)") }
        return type
    }

    static func mechanism(_ name: String, _ context: String) throws -> MechanismName {
        guard let m = MechanismName(rawValue: name) else { throw VectorFormatError("\(context): unknown mechanism \(name)") }
        return m
    }

    // MARK: Metadata

    /// `[{"name": text, "value": bytes}, ...]`, in wire order.
    static func properties(_ json: JSON, _ context: String) throws -> [(name: String, value: [UInt8])] {
        guard let items = json.arrayValue else { throw VectorFormatError("\(context) must be an array of properties") }
        return try items.enumerated().map { i, item in
            var f = try Fields(item, "\(context)[\(i)]")
            let p = (name: try f.string("name"), value: try f.bytes("value"))
            try f.finish()
            return p
        }
    }

    static func metadata(_ json: JSON, _ context: String) throws -> Metadata {
        var m = Metadata()
        for p in try properties(json, context) { m.append(name: p.name, value: p.value) }
        return m
    }

    static func metadataJSON(_ m: Metadata) -> JSON {
        .array(m.properties.map { .object([("name", .string($0.name)), ("value", .string(hexString($0.value)))]) })
    }

    /// Exact comparison: names byte for byte (not case-folded), values, order.
    static func sameProperties(_ m: Metadata, _ expected: [(name: String, value: [UInt8])]) -> Bool {
        m.properties.count == expected.count
            && zip(m.properties, expected).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    static func showProperties(_ m: Metadata) -> String { metadataJSON(m).compact }

    // MARK: Commands

    /// A command: `{"name": "READY", "metadata": [...]}`, `{"name": "ERROR", "reason": text}`,
    /// `{"name": "PING", "ttl": n, "context": bytes}`, `{"name": "PONG", "context": bytes}`,
    /// `{"name": "SUBSCRIBE"|"CANCEL", "topic": bytes}`, `{"name": "JOIN"|"LEAVE", "group": bytes}`,
    /// or any other name with `"data": bytes`.
    static func command(_ json: JSON, _ context: String) throws -> Command {
        var f = try Fields(json, context)
        let name = try f.string("name")
        let command: Command
        switch name {
        case "READY": command = .ready(try metadata(try f.required("metadata"), "\(context).metadata"))
        case "ERROR": command = .error(reason: try f.string("reason"))
        case "PING":
            let ttl = try f.int("ttl")
            guard let t = UInt16(exactly: ttl) else { throw VectorFormatError("\(context).ttl out of range") }
            command = .ping(ttl: t, context: try f.optionalBytes("context") ?? [])
        case "PONG": command = .pong(context: try f.optionalBytes("context") ?? [])
        case "SUBSCRIBE": command = .subscribe(topic: try f.bytes("topic"))
        case "CANCEL": command = .cancel(topic: try f.bytes("topic"))
        case "JOIN": command = .join(group: try f.bytes("group"))
        case "LEAVE": command = .leave(group: try f.bytes("group"))
        default: command = .other(name: name, data: try f.optionalBytes("data") ?? [])
        }
        try f.finish()
        return command
    }

    static func commandJSON(_ c: Command) -> JSON {
        switch c {
        case .ready(let m): return .object([("name", "READY"), ("metadata", metadataJSON(m))])
        case .error(let r): return .object([("name", "ERROR"), ("reason", .string(r))])
        case .ping(let ttl, let ctx): return .object([("name", "PING"), ("ttl", .int(Int(ttl))), ("context", .string(hexString(ctx)))])
        case .pong(let ctx): return .object([("name", "PONG"), ("context", .string(hexString(ctx)))])
        case .subscribe(let t): return .object([("name", "SUBSCRIBE"), ("topic", .string(hexString(t)))])
        case .cancel(let t): return .object([("name", "CANCEL"), ("topic", .string(hexString(t)))])
        case .join(let g): return .object([("name", "JOIN"), ("group", .string(hexString(g)))])
        case .leave(let g): return .object([("name", "LEAVE"), ("group", .string(hexString(g)))])
        case .other(let n, let d): return .object([("name", .string(n)), ("data", .string(hexString(d)))])
        }
    }

    /// Command equality that also compares metadata names exactly.
    static func sameCommand(_ a: Command, _ b: Command) -> Bool {
        if case .ready(let ma) = a, case .ready(let mb) = b {
            return sameProperties(ma, mb.properties)
        }
        return a == b
    }

    // MARK: Security and authentication

    static func authenticationReply(_ json: JSON, _ context: String) throws -> AuthenticationReply {
        var f = try Fields(json, context)
        let reply = AuthenticationReply(
            statusCode: try f.string("status"),
            statusText: try f.optionalString("statusText") ?? "",
            userID: try f.optionalString("userId") ?? "",
            metadata: try f.optional("metadata").map { try metadata($0, "\(context).metadata") } ?? Metadata())
        try f.finish()
        return reply
    }
}
