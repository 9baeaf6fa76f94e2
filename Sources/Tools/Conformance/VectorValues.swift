/// A vector file, a case or an output line that the runner cannot use: the message names where
/// (file, case, member) and what is wrong. The runner reports it and goes on; it never traps.
public struct FormatError: Error, Equatable, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The value formats of Vectors/README.md ("Common values"), read with named limits.
public enum VectorValues {
    /// The largest byte string a vector may spell out (a `repeat` part included): no vector
    /// needs more, and a typo in `count` must not take the runner's memory.
    public static let maxByteStringLength = 1 << 22

    /// A byte string: hex (whitespace ignored), or an array of hex strings, `{"ascii": text}`
    /// and `{"repeat": hex, "count": n}`.
    public static func bytes(_ json: JSON, _ context: String) throws(FormatError) -> [UInt8] {
        switch json {
        case .string(let text):
            return try hex(text, context)
        case .array(let parts):
            var out: [UInt8] = []
            for (index, part) in parts.enumerated() {
                let where_ = "\(context)[\(index)]"
                switch part {
                case .string(let text):
                    out += try hex(text, where_)
                case .object:
                    var fields = try Members(part, where_)
                    if fields.has("ascii") {
                        let text = try fields.string("ascii")
                        guard text.unicodeScalars.allSatisfy(\.isASCII) else { throw FormatError("\(where_).ascii must be ASCII") }
                        out += Array(text.utf8)
                    } else {
                        let unit = try hex(try fields.string("repeat"), "\(where_).repeat")
                        let count = try fields.int("count")
                        guard count >= 0, !unit.isEmpty, count <= maxByteStringLength / unit.count else {
                            throw FormatError("\(where_): a repeat needs a non-empty unit and a count from 0 to \(maxByteStringLength) octets in all")
                        }
                        for _ in 0..<count { out += unit }
                    }
                    try fields.finish()
                default:
                    throw FormatError("\(where_) must be a hex string or an object")
                }
                guard out.count <= maxByteStringLength else { throw FormatError("\(context) is longer than \(maxByteStringLength) octets") }
            }
            return out
        default:
            throw FormatError("\(context) must be a hex string or an array of parts")
        }
    }

    /// Hex digits, upper or lower case; spaces, tabs and newlines ignored.
    public static func hex(_ text: String, _ context: String) throws(FormatError) -> [UInt8] {
        var out: [UInt8] = []
        var high: UInt8?
        for c in text.utf8 {
            if c == 0x20 || c == 0x0A || c == 0x09 || c == 0x0D { continue }
            guard let value = hexDigit(c) else {
                throw FormatError("\(context): \"\(String(decoding: [c], as: UTF8.self))\" is not a hex digit")
            }
            if let h = high {
                out.append(h << 4 | value)
                high = nil
            } else {
                high = value
            }
        }
        guard high == nil else { throw FormatError("\(context): odd number of hex digits") }
        return out
    }

    static func hexDigit(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x61...0x66: return c - 0x61 + 10
        case 0x41...0x46: return c - 0x41 + 10
        default: return nil
        }
    }

    /// Lowercase hex, no separators.
    public static func hexString(_ bytes: some Collection<UInt8>) -> String {
        var text = ""
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            if byte < 16 { text.append("0") }
            text.append(String(byte, radix: 16))
        }
        return text
    }

    /// Octets in hex with spaces, cut after `limit` octets.
    public static func show(_ bytes: some Collection<UInt8>, limit: Int = 24) -> String {
        let shown = bytes.prefix(limit).map { hexString([$0]) }.joined(separator: " ")
        return bytes.count > limit ? shown + " … (\(bytes.count) octets)" : (shown.isEmpty ? "nothing" : shown)
    }

    /// Z85 (RFC 32) of a key whose length is a multiple of 4: how every ZeroMQ API takes keys.
    public static func z85(_ bytes: [UInt8]) -> String? {
        guard bytes.count % 4 == 0 else { return nil }
        let digits = Array("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#".utf8)
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            var value: UInt32 = 0
            for byte in bytes[index..<index + 4] { value = value << 8 | UInt32(byte) }
            var chunk = [UInt8](repeating: 0, count: 5)
            for position in stride(from: 4, through: 0, by: -1) {
                chunk[position] = digits[Int(value % 85)]
                value /= 85
            }
            out += chunk
            index += 4
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// The members of one JSON object, read once each: `finish()` reports any member nobody read,
/// so that a misspelt member is an error rather than a silently disabled check.
public struct Members {
    let members: [(key: String, value: JSON)]
    let context: String
    var read: Set<String> = []

    public init(_ json: JSON?, _ context: String) throws(FormatError) {
        guard let json, let members = json.objectMembers else { throw FormatError("\(context) must be an object") }
        var seen: Set<String> = []
        for member in members where !seen.insert(member.key).inserted {
            throw FormatError("\(context): member \"\(member.key)\" appears twice")
        }
        self.members = members
        self.context = context
    }

    public func has(_ key: String) -> Bool { members.contains { $0.key == key } }

    public mutating func optional(_ key: String) -> JSON? {
        read.insert(key)
        return members.first { $0.key == key }?.value
    }

    public mutating func required(_ key: String) throws(FormatError) -> JSON {
        guard let value = optional(key) else { throw FormatError("\(context): missing \"\(key)\"") }
        return value
    }

    public mutating func string(_ key: String) throws(FormatError) -> String {
        guard let text = try required(key).stringValue else { throw FormatError("\(context).\(key) must be a string") }
        return text
    }

    public mutating func optionalString(_ key: String) throws(FormatError) -> String? {
        guard let value = optional(key), !value.isNull else { return nil }
        guard let text = value.stringValue else { throw FormatError("\(context).\(key) must be a string") }
        return text
    }

    public mutating func int(_ key: String) throws(FormatError) -> Int {
        guard let value = try required(key).intValue else { throw FormatError("\(context).\(key) must be an integer") }
        return value
    }

    public mutating func optionalInt(_ key: String) throws(FormatError) -> Int? {
        guard let value = optional(key), !value.isNull else { return nil }
        guard let number = value.intValue else { throw FormatError("\(context).\(key) must be an integer") }
        return number
    }

    public mutating func bool(_ key: String, default fallback: Bool) throws(FormatError) -> Bool {
        guard let value = optional(key) else { return fallback }
        guard let flag = value.boolValue else { throw FormatError("\(context).\(key) must be true or false") }
        return flag
    }

    public mutating func bytes(_ key: String) throws(FormatError) -> [UInt8] {
        try VectorValues.bytes(try required(key), "\(context).\(key)")
    }

    public mutating func optionalBytes(_ key: String) throws(FormatError) -> [UInt8]? {
        guard let value = optional(key), !value.isNull else { return nil }
        return try VectorValues.bytes(value, "\(context).\(key)")
    }

    public mutating func array(_ key: String) throws(FormatError) -> [JSON] {
        guard let items = try required(key).arrayValue else { throw FormatError("\(context).\(key) must be an array") }
        return items
    }

    /// Throws if a member was never read.
    public func finish() throws(FormatError) {
        if let stray = members.first(where: { !read.contains($0.key) }) {
            throw FormatError("\(context): unknown member \"\(stray.key)\" (see Vectors/README.md)")
        }
    }
}
