#if Tools  // zmqcat is built with the package trait "Tools" only (Package.swift)
import ArgumentParser
import ZeroMQ

/// How received messages (and keys, and events) are printed: one line each.
public enum OutputFormat: String, CaseIterable, Sendable, ExpressibleByArgument {
    /// The frames' bytes as they are, joined by the separator.
    case text
    /// Each frame in lowercase hex, joined by the separator; an empty frame is
    /// ``MessageCodec/emptyHexFrame`` (`-`).
    case hex
    /// A JSON object per line: `{"encoding":"utf-8"|"hex","parts":[…],"properties":{…}}`.
    case json
}

/// How messages to send are read from -m and standard input.
public enum InputFormat: String, CaseIterable, Sendable, ExpressibleByArgument {
    /// Each line (or -m) is a message; --separator splits it into frames.
    case text
    /// Each line (or -m) is hex frames, split at --separator or else at spaces and tabs; `-`
    /// is an empty frame.
    case hex
    /// All of standard input is one single-frame message.
    case raw
}

/// Turns messages into output lines and input lines into messages.
struct MessageCodec {
    var output: OutputFormat
    var input: InputFormat
    /// Joins printed frames; splits input lines (only when given, for text).
    var separator: [UInt8]?

    static let defaultOutputSeparator: [UInt8] = [UInt8(ascii: "\t")]
    /// An empty frame in hex output and input: never a hex digit, so a line of frames reads
    /// back without guessing where an empty one was (a lone empty frame would otherwise be an
    /// empty line).
    static let emptyHexFrame = UInt8(ascii: "-")

    // MARK: Printing

    /// One output line (with its newline) for `message`.
    func line(for message: Multipart) -> [UInt8] {
        let join = separator ?? Self.defaultOutputSeparator
        var out: [UInt8] = []
        switch output {
        case .text:
            for (index, part) in message.parts.enumerated() {
                if index > 0 { out += join }
                part.withUnsafeBytes { out.append(contentsOf: $0) }
            }
        case .hex:
            for (index, part) in message.parts.enumerated() {
                if index > 0 { out += join }
                if part.count == 0 {
                    out.append(Self.emptyHexFrame)
                } else {
                    part.withUnsafeBytes { appendHex($0, to: &out) }
                }
            }
        case .json:
            out = jsonLine(message)
        }
        out.append(UInt8(ascii: "\n"))
        return out
    }

    /// `{"encoding":"utf-8","parts":["…"],"properties":{"Socket-Type":"PUSH"}}`. The parts
    /// have one encoding: UTF-8 text when every frame is valid UTF-8, else lowercase hex for all
    /// of them, so that a reader never guesses. Properties are text; the rare value that is not
    /// UTF-8 (a binary Identity) goes in hex under `"hex_properties"`.
    private func jsonLine(_ message: Multipart) -> [UInt8] {
        let parts = message.parts.map(\.bytes)
        let textual = parts.allSatisfy(isUTF8)
        var out = Array(#"{"encoding":""#.utf8) + Array((textual ? "utf-8" : "hex").utf8) + Array(#"","parts":["#.utf8)
        for (index, part) in parts.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            if textual {
                appendJSONString(part, to: &out)
            } else {
                out.append(UInt8(ascii: "\""))
                part.withUnsafeBytes { appendHex($0, to: &out) }
                out.append(UInt8(ascii: "\""))
            }
        }
        out.append(UInt8(ascii: "]"))
        let properties = message.properties.properties
        let text = properties.filter { isUTF8($0.value) }
        let binary = properties.filter { !isUTF8($0.value) }
        for (key, group, hex) in [("properties", text, false), ("hex_properties", binary, true)] where !group.isEmpty || !hex {
            out += Array(",\"\(key)\":{".utf8)
            for (index, property) in group.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                appendJSONString(Array(property.name.utf8), to: &out)
                out.append(UInt8(ascii: ":"))
                if hex {
                    out.append(UInt8(ascii: "\""))
                    property.value.withUnsafeBytes { appendHex($0, to: &out) }
                    out.append(UInt8(ascii: "\""))
                } else {
                    appendJSONString(property.value, to: &out)
                }
            }
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    // MARK: Reading

    /// The frames of one input line (or -m value).
    /// - Throws: ``ZmqcatFailure`` (``ExitStatus/failure``) for bad hex.
    func frames(_ line: ArraySlice<UInt8>) throws(ZmqcatFailure) -> [[UInt8]] {
        switch input {
        case .text, .raw:
            guard let separator else { return [Array(line)] }
            return split(line, at: separator)
        case .hex:
            let fields: [ArraySlice<UInt8>]
            if let separator {
                fields = split(line, at: separator).map { $0[...] }
            } else {
                fields = line.split(whereSeparator: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") })
            }
            if fields.isEmpty { return [[]] }
            var frames: [[UInt8]] = []
            for field in fields {
                if field.count == 1 && field.first == Self.emptyHexFrame {
                    frames.append([])
                    continue
                }
                guard let frame = decodeHex(field) else {
                    throw ZmqcatFailure(.failure, "not hex: \(String(decoding: field.prefix(40), as: UTF8.self))")
                }
                frames.append(frame)
            }
            return frames
        }
    }

    /// `line` cut at every occurrence of `separator` (empty fields kept).
    private func split(_ line: ArraySlice<UInt8>, at separator: [UInt8]) -> [[UInt8]] {
        guard !separator.isEmpty else { return [Array(line)] }
        var fields: [[UInt8]] = []
        var fieldStart = line.startIndex
        var index = line.startIndex
        while index <= line.endIndex - separator.count {
            if line[index..<(index + separator.count)].elementsEqual(separator) {
                fields.append(Array(line[fieldStart..<index]))
                index += separator.count
                fieldStart = index
            } else {
                index += 1
            }
        }
        fields.append(Array(line[fieldStart...]))
        return fields
    }
}

// MARK: Encodings

private let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

/// Appends the lowercase hex of `bytes`.
func appendHex(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
    out.reserveCapacity(out.count + bytes.count * 2)
    for byte in bytes {
        out.append(hexDigits[Int(byte >> 4)])
        out.append(hexDigits[Int(byte & 0x0F)])
    }
}

/// Lowercase hex text.
func hexString(_ bytes: [UInt8]) -> String {
    var out: [UInt8] = []
    bytes.withUnsafeBytes { appendHex($0, to: &out) }
    return String(decoding: out, as: UTF8.self)
}

/// The bytes of hex text (either case), or nil when it is not an even number of hex digits.
func decodeHex(_ text: some Collection<UInt8>) -> [UInt8]? {
    guard text.count % 2 == 0 else { return nil }
    func value(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
    var out: [UInt8] = []
    out.reserveCapacity(text.count / 2)
    var high: UInt8?
    for digit in text {
        guard let nibble = value(digit) else { return nil }
        if let first = high {
            out.append(first << 4 | nibble)
            high = nil
        } else {
            high = nibble
        }
    }
    return out
}

/// Whether `bytes` are valid UTF-8.
func isUTF8(_ bytes: [UInt8]) -> Bool {
    var iterator = bytes.makeIterator()
    var decoder = UTF8()
    while true {
        switch decoder.decode(&iterator) {
        case .scalarValue: continue
        case .emptyInput: return true
        case .error: return false
        }
    }
}

/// Appends `bytes` (valid UTF-8) as a JSON string literal (RFC 8259 §7: quote, backslash and
/// control characters escaped).
func appendJSONString(_ bytes: [UInt8], to out: inout [UInt8]) {
    out.append(UInt8(ascii: "\""))
    for byte in bytes {
        switch byte {
        case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
        case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
        case UInt8(ascii: "\n"): out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
        case UInt8(ascii: "\r"): out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
        case UInt8(ascii: "\t"): out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
        case 0..<0x20, 0x7F:
            out += Array("\\u00".utf8)
            out.append(hexDigits[Int(byte >> 4)])
            out.append(hexDigits[Int(byte & 0x0F)])
        default: out.append(byte)
        }
    }
    out.append(UInt8(ascii: "\""))
}

/// A JSON string literal.
func jsonString(_ text: String) -> String {
    var out: [UInt8] = []
    appendJSONString(Array(text.utf8), to: &out)
    return String(decoding: out, as: UTF8.self)
}

/// The bytes of a separator given on the command line, with `\t`, `\n`, `\0` and `\\` escapes
/// (so that `--separator '\t'` works without the shell's `$'\t'`).
func unescapeSeparator(_ text: String) -> [UInt8] {
    var out: [UInt8] = []
    var escaped = false
    for byte in text.utf8 {
        if escaped {
            switch byte {
            case UInt8(ascii: "t"): out.append(UInt8(ascii: "\t"))
            case UInt8(ascii: "n"): out.append(UInt8(ascii: "\n"))
            case UInt8(ascii: "0"): out.append(0)
            default: out.append(byte)
            }
            escaped = false
        } else if byte == UInt8(ascii: "\\") {
            escaped = true
        } else {
            out.append(byte)
        }
    }
    if escaped { out.append(UInt8(ascii: "\\")) }
    return out
}
#endif  // Tools
