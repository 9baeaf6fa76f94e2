import ZMTPConformance
import Foundation
import Testing

/// Regenerates the bytes in Vectors/ that this implementation produces (run it once after a
/// deliberate change to what goes on the wire, then review the diff):
///
/// ```
/// ZMTP_WRITE_VECTORS=1 swift test --filter VectorGenerator
/// ```
///
/// 1. `handshakes.json`: every case's `transcript`, by driving the two configured connections.
///    Everything else in a case (configurations, keys, randomness, expected events) is written by
///    hand and kept as it is.
/// 2. Every `connection` file: each step with a `"from"` gets its `receive` / `expectSend` bytes
///    recomputed from the (new) transcript it names.
///
/// Files are rewritten only when something changed. Without the variable the same generation runs
/// as a check: every committed transcript and derived byte string must be exactly what this
/// implementation produces now.
@Suite("Vector generator")
struct VectorGenerator {
    static let enabled = ProcessInfo.processInfo.environment["ZMTP_WRITE_VECTORS"] == "1"

    @Test("the transcripts and derived bytes in Vectors/ are what this implementation produces")
    func regenerate() throws {
        let directory = VectorCatalog.directory
        var transcripts: [String: [String: [JSON]]] = [:]
        var outOfDate: [String] = []

        // 1. Handshake transcripts.
        for path in VectorCatalog.files() {
            let root = try load(directory, path)
            guard root["kind"]?.stringValue == "handshake", let cases = root["cases"]?.arrayValue else { continue }
            var updated: [JSON] = []
            for item in cases {
                let name = item["name"]?.stringValue ?? "?"
                let client = try HandshakeVectors.Side(item["client"] ?? .null, role: "client", "\(name).client")
                let server = try HandshakeVectors.Side(item["server"] ?? .null, role: "server", "\(name).server")
                let (entries, _, _) = try HandshakeVectors.drivePair(client: client, server: server, name)
                let transcript = HandshakeVectors.transcriptJSON(entries)
                transcripts[path, default: [:]][name] = transcript.arrayValue
                updated.append(item.setting("transcript", transcript))
            }
            if try save(root.setting("cases", .array(updated)), original: root, directory, path) { outOfDate.append(path) }
        }

        // 2. Bytes derived from transcripts.
        func lookup(_ file: String, _ name: String) -> [JSON]? {
            transcripts[file]?[name] ?? Derivation.catalogTranscript(file: file, name: name)
        }
        for path in VectorCatalog.files() {
            let root = try load(directory, path)
            guard root["kind"]?.stringValue == "connection", let cases = root["cases"]?.arrayValue else { continue }
            var updated: [JSON] = []
            for item in cases {
                let name = item["name"]?.stringValue ?? "?"
                guard let steps = item["steps"]?.arrayValue else { updated.append(item); continue }
                var newSteps: [JSON] = []
                for (i, step) in steps.enumerated() {
                    guard let from = step["from"] else { newSteps.append(step); continue }
                    let bytes = try Derivation.resolve(from, "\(name).steps[\(i)]", transcripts: lookup)
                    let key = step["receive"] != nil ? "receive" : "expectSend"
                    newSteps.append(step.setting(key, .string(Vectors.hexString(bytes))))
                }
                updated.append(item.setting("steps", .array(newSteps)))
            }
            if try save(root.setting("cases", .array(updated)), original: root, directory, path) { outOfDate.append(path) }
        }
        #expect(outOfDate.isEmpty, "not what this implementation produces: \(outOfDate); run ZMTP_WRITE_VECTORS=1 swift test --filter VectorGenerator and review the diff")
    }

    func load(_ directory: URL, _ path: String) throws -> JSON {
        let url = directory.appendingPathComponent(path)
        guard let data = FileManager.default.contents(atPath: url.path) else { throw VectorFormatError("cannot read \(url.path)") }
        return try JSON.parse(String(decoding: data, as: UTF8.self))
    }

    /// Writes the file when asked to; returns whether the committed file differs (and was not
    /// rewritten).
    func save(_ json: JSON, original: JSON, _ directory: URL, _ path: String) throws -> Bool {
        guard json != original else { return false }
        guard Self.enabled else { return true }
        let url = directory.appendingPathComponent(path)
        try json.pretty().write(to: url, atomically: true, encoding: .utf8)
        print("VectorGenerator: wrote \(path)")
        return false
    }
}

extension JSON {
    /// This object with member `key` set to `value` (in place when present, else appended).
    func setting(_ key: String, _ value: JSON) -> JSON {
        guard case .object(var members) = self else { return self }
        if let i = members.firstIndex(where: { $0.key == key }) {
            members[i].value = value
        } else {
            members.append((key, value))
        }
        return .object(members)
    }
}
