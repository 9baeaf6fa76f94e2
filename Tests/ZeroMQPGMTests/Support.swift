import Foundation
import Testing
import ZMTP
@testable import ZeroMQPGM

/// Octets from hex text; spaces are ignored.
func hexBytes(_ text: String) -> [UInt8] {
    let digits = Array(text.utf8.filter { $0 != UInt8(ascii: " ") })
    var out: [UInt8] = []
    var index = 0
    while index + 1 < digits.count {
        let pair = String(decoding: digits[index..<(index + 2)], as: UTF8.self)
        out.append(UInt8(pair, radix: 16) ?? 0)
        index += 2
    }
    return out
}

/// A message part from text.
func part(_ text: String, more: Bool = false) -> Message { Message(string: text, more: more) }

/// A part of `count` copies of `byte`.
func filled(_ byte: UInt8, _ count: Int, more: Bool = false) -> Message {
    Message([UInt8](repeating: byte, count: count), more: more)
}

/// Enqueues `parts` and drains every APDU.
func encode(_ parts: [Message], into encoder: inout PGMEncoder) -> [[UInt8]] {
    for p in parts { encoder.enqueue(p) }
    var apdus: [[UInt8]] = []
    var buffer: [UInt8] = []
    while encoder.nextAPDU(into: &buffer) { apdus.append(buffer) }
    return apdus
}

/// Encodes `parts` with a fresh encoder.
func encode(_ parts: [Message], tsdu: Int) throws -> [[UInt8]] {
    var encoder = try PGMEncoder(maxTSDUSize: tsdu)
    return encode(parts, into: &encoder)
}

/// Feeds `apdus` with consecutive sequence numbers from `first`, collecting whole messages and
/// errors.
@discardableResult
func feed(_ apdus: [[UInt8]], to decoder: inout PGMDecoder, firstSequence first: UInt32 = 0,
          errors: inout [PGMError]) -> [[Message]] {
    var messages: [[Message]] = []
    for (index, apdu) in apdus.enumerated() {
        do throws(PGMError) {
            try decoder.receive(apdu, sequence: first &+ UInt32(truncatingIfNeeded: index))
        } catch {
            errors.append(error)
        }
        while let message = decoder.nextMessage() { messages.append(message) }
    }
    return messages
}

/// Feeds `apdus` expecting no error.
func decodeAll(_ apdus: [[UInt8]], decoder: inout PGMDecoder, firstSequence: UInt32 = 0) -> [[Message]] {
    var errors: [PGMError] = []
    let messages = feed(apdus, to: &decoder, firstSequence: firstSequence, errors: &errors)
    #expect(errors.isEmpty, "unexpected errors \(errors)")
    return messages
}

/// Splits a flat part list into messages at the parts without MORE.
func messages(_ parts: [Message]) -> [[Message]] {
    var out: [[Message]] = []
    var current: [Message] = []
    for p in parts {
        current.append(p)
        if !p.more {
            out.append(current)
            current = []
        }
    }
    return out
}

// MARK: Vectors

/// Tests/ZeroMQPGMTests/Vectors, found from this file.
let vectorDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors")

/// A byte string in a vector: hex strings and {"fill": octet, "count": n} runs, concatenated.
func vectorBytes(_ segments: Any?) -> [UInt8] {
    guard let list = segments as? [Any] else { return [] }
    var out: [UInt8] = []
    for segment in list {
        if let text = segment as? String {
            out += hexBytes(text)
        } else if let run = segment as? [String: Any], let fill = run["fill"] as? String, let count = run["count"] as? Int {
            out += [UInt8](repeating: hexBytes(fill).first ?? 0, count: count)
        }
    }
    return out
}

/// One captured batch: parts sent together, and the APDUs libzmq produced.
struct APDUVector: CustomTestStringConvertible, Sendable {
    var name: String
    var parts: [Message]
    var apdus: [[UInt8]]
    var testDescription: String { name }
}

/// The cases of Vectors/pgm-apdus.json, in order, and the TSDU size they were captured at.
func loadAPDUVectors() throws -> (tsdu: Int, cases: [APDUVector]) {
    let data = try Data(contentsOf: vectorDirectory.appendingPathComponent("pgm-apdus.json"))
    let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    let tsdu = try #require(root["tsdu"] as? Int)
    let cases = try #require(root["cases"] as? [[String: Any]])
    return (tsdu, cases.map { item in
        let parts = (item["parts"] as? [[String: Any]] ?? []).map {
            Message(vectorBytes($0["body"]), more: $0["more"] as? Bool ?? false)
        }
        let apdus = (item["apdus"] as? [Any] ?? []).map { vectorBytes($0) }
        return APDUVector(name: item["name"] as? String ?? "?", parts: parts, apdus: apdus)
    })
}
