/// A JSON value that keeps the order of object members, so the generator can write files whose
/// keys read in a sensible order ("name", "description", "source" first) and a parsed file can be
/// written back unchanged. Integers stay integers (no detour through Double), and true/false
/// never turn into 1/0, both of which Foundation's `JSONSerialization` does on Linux.
public enum JSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSON])
    case object([(key: String, value: JSON)])

    public static func == (lhs: JSON, rhs: JSON) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b
        case (.double(let a), .double(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    // MARK: Access

    /// The member `key` of an object (the first, if repeated), or nil.
    public subscript(key: String) -> JSON? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    public var objectMembers: [(key: String, value: JSON)]? {
        if case .object(let m) = self { return m }
        return nil
    }

    public var keys: [String] { objectMembers?.map(\.key) ?? [] }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var intValue: Int? {
        if case .int(let i) = self { return i }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var arrayValue: [JSON]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The value as compact JSON text (for messages).
    public var compact: String {
        var out = ""
        JSON.write(self, into: &out, indent: nil, level: 0)
        return out
    }

    // MARK: Parsing

    public struct ParseError: Error, CustomStringConvertible {
        public var offset: Int
        public var message: String
        public var description: String { "JSON error at byte \(offset): \(message)" }
    }

    /// Parses a complete JSON text (RFC 8259).
    public static func parse(_ text: String) throws -> JSON {
        var parser = Parser(bytes: Array(text.utf8))
        parser.skipWhitespace()
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.index == parser.bytes.count else { throw parser.error("trailing characters") }
        return value
    }

    private struct Parser {
        let bytes: [UInt8]
        var index = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        func error(_ message: String) -> ParseError { ParseError(offset: index, message: message) }

        mutating func skipWhitespace() {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        }

        mutating func expect(_ literal: String) throws {
            let l = Array(literal.utf8)
            guard bytes.count - index >= l.count, Array(bytes[index..<(index + l.count)]) == l else {
                throw error("expected \(literal)")
            }
            index += l.count
        }

        mutating func value(depth: Int) throws -> JSON {
            guard depth < 64 else { throw error("nesting too deep") }
            guard index < bytes.count else { throw error("unexpected end") }
            switch bytes[index] {
            case UInt8(ascii: "{"):
                index += 1
                var members: [(key: String, value: JSON)] = []
                skipWhitespace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
                while true {
                    skipWhitespace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a member name") }
                    let key = try string()
                    skipWhitespace()
                    try expect(":")
                    skipWhitespace()
                    members.append((key, try value(depth: depth + 1)))
                    skipWhitespace()
                    guard index < bytes.count else { throw error("unterminated object") }
                    if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                    if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
                    throw error("expected , or }")
                }
            case UInt8(ascii: "["):
                index += 1
                var items: [JSON] = []
                skipWhitespace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
                while true {
                    skipWhitespace()
                    items.append(try value(depth: depth + 1))
                    skipWhitespace()
                    guard index < bytes.count else { throw error("unterminated array") }
                    if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                    if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
                    throw error("expected , or ]")
                }
            case UInt8(ascii: "\""):
                return .string(try string())
            case UInt8(ascii: "t"):
                try expect("true"); return .bool(true)
            case UInt8(ascii: "f"):
                try expect("false"); return .bool(false)
            case UInt8(ascii: "n"):
                try expect("null"); return .null
            default:
                return try number()
            }
        }

        mutating func number() throws -> JSON {
            let start = index
            var integral = true
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
            while index < bytes.count {
                let c = bytes[index]
                if c >= 0x30 && c <= 0x39 { index += 1; continue }
                if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") || c == UInt8(ascii: "+")
                    || (c == UInt8(ascii: "-") && index > start) {
                    integral = false
                    index += 1
                    continue
                }
                break
            }
            let text = String(decoding: bytes[start..<index], as: UTF8.self)
            guard !text.isEmpty, text != "-" else { throw error("unexpected character") }
            if integral, let i = Int(text) { return .int(i) }
            guard let d = Double(text) else { throw error("bad number \(text)") }
            return .double(d)
        }

        mutating func hex4() throws -> UInt32 {
            guard bytes.count - index >= 4 else { throw error("short \\u escape") }
            guard let v = UInt32(String(decoding: bytes[index..<(index + 4)], as: UTF8.self), radix: 16) else {
                throw error("bad \\u escape")
            }
            index += 4
            return v
        }

        mutating func string() throws -> String {
            index += 1  // opening quote
            var out: [UInt8] = []
            while true {
                guard index < bytes.count else { throw error("unterminated string") }
                let c = bytes[index]
                index += 1
                switch c {
                case UInt8(ascii: "\""):
                    return String(decoding: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard index < bytes.count else { throw error("unterminated escape") }
                    let e = bytes[index]
                    index += 1
                    switch e {
                    case UInt8(ascii: "\""): out.append(0x22)
                    case UInt8(ascii: "\\"): out.append(0x5C)
                    case UInt8(ascii: "/"): out.append(0x2F)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        var scalar = try hex4()
                        if scalar >= 0xD800 && scalar < 0xDC00 {
                            try expect("\\u")
                            let low = try hex4()
                            guard low >= 0xDC00 && low < 0xE000 else { throw error("bad surrogate pair") }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let u = Unicode.Scalar(scalar) else { throw error("bad scalar") }
                        out.append(contentsOf: Array(String(Character(u)).utf8))
                    default:
                        throw error("bad escape")
                    }
                default:
                    guard c >= 0x20 else { throw error("control character in string") }
                    out.append(c)
                }
            }
        }
    }

    // MARK: Writing

    /// Pretty JSON text: two-space indentation, and a container on one line when that line is
    /// short, so that step lists and transcript entries stay readable.
    public func pretty() -> String {
        var out = ""
        JSON.write(self, into: &out, indent: "  ", level: 0)
        out.append("\n")
        return out
    }

    private static let inlineLimit = 100

    private static func write(_ value: JSON, into out: inout String, indent: String?, level: Int) {
        switch value {
        case .null: out.append("null")
        case .bool(let b): out.append(b ? "true" : "false")
        case .int(let i): out.append(String(i))
        case .double(let d): out.append(String(d))
        case .string(let s): writeString(s, into: &out)
        case .array(let items):
            if items.isEmpty { out.append("[]"); return }
            if let indent {
                let inline = value.compact
                if inline.count + level * indent.count <= inlineLimit || items.allSatisfy(\.isScalar) && items.count == 1 {
                    out.append(inline)
                    return
                }
                out.append("[\n")
                for (i, item) in items.enumerated() {
                    out.append(String(repeating: indent, count: level + 1))
                    write(item, into: &out, indent: indent, level: level + 1)
                    out.append(i == items.count - 1 ? "\n" : ",\n")
                }
                out.append(String(repeating: indent, count: level))
                out.append("]")
            } else {
                out.append("[")
                for (i, item) in items.enumerated() {
                    if i > 0 { out.append(", ") }
                    write(item, into: &out, indent: nil, level: level)
                }
                out.append("]")
            }
        case .object(let members):
            if members.isEmpty { out.append("{}"); return }
            if let indent {
                let inline = value.compact
                let nested = members.contains { !$0.value.isScalar }
                // A vector case (it has a "source") always gets one line per member.
                let isCase = members.contains { $0.key == "source" }
                if !isCase, inline.count + level * indent.count <= inlineLimit, !nested || level > 1 {
                    out.append(inline)
                    return
                }
                out.append("{\n")
                for (i, member) in members.enumerated() {
                    out.append(String(repeating: indent, count: level + 1))
                    writeString(member.key, into: &out)
                    out.append(": ")
                    write(member.value, into: &out, indent: indent, level: level + 1)
                    out.append(i == members.count - 1 ? "\n" : ",\n")
                }
                out.append(String(repeating: indent, count: level))
                out.append("}")
            } else {
                out.append("{")
                for (i, member) in members.enumerated() {
                    if i > 0 { out.append(", ") }
                    writeString(member.key, into: &out)
                    out.append(": ")
                    write(member.value, into: &out, indent: nil, level: level)
                }
                out.append("}")
            }
        }
    }

    private var isScalar: Bool {
        switch self {
        case .array, .object: return false
        default: return true
        }
    }

    private static func writeString(_ s: String, into out: inout String) {
        out.append("\"")
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out.append("\\\"")
            case "\\": out.append("\\\\")
            case "\n": out.append("\\n")
            case "\r": out.append("\\r")
            case "\t": out.append("\\t")
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let h = String(scalar.value, radix: 16)
                    out.append("\\u" + String(repeating: "0", count: 4 - h.count) + h)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out.append("\"")
    }
}

extension JSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(nilLiteral: ()) { self = .null }
}
