import ZMTPConformance

/// A step's `"from"`: where its bytes come from, when they are a (possibly altered) part of a
/// handshake transcript. The generator writes the bytes; the runner checks they still match.
///
/// ```
/// "from": {"handshake": "handshakes.json", "case": "<name>", "entries": [2],
///          "patches": [{"offset": 8, "set": "02"}, {"offset": 30, "xor": "01"}], "truncate": 11}
/// ```
/// The entries' bytes are concatenated, then patched (offsets into that concatenation), then cut
/// to `truncate` bytes when given.
enum Derivation {
    static func resolve(_ from: JSON, _ context: String, transcripts: (String, String) -> [JSON]?) throws -> [UInt8] {
        var f = try Fields(from, "\(context).from")
        let file = try f.string("handshake")
        let name = try f.string("case")
        let entriesJSON = try f.array("entries")
        guard !entriesJSON.isEmpty else {
            throw VectorFormatError("\(context).from.entries must not be empty")
        }
        guard let transcript = transcripts(file, name) else {
            throw VectorFormatError("\(context).from: no handshake case \"\(name)\" in \(file)")
        }
        var bytes: [UInt8] = []
        for e in entriesJSON {
            guard let i = e.intValue, transcript.indices.contains(i) else {
                throw VectorFormatError("\(context).from: entry \(e.compact) is not in the transcript of \(name)")
            }
            bytes += try Vectors.bytes(transcript[i]["bytes"] ?? .null, "\(name).transcript[\(i)].bytes")
        }
        for (i, patch) in (f.optional("patches")?.arrayValue ?? []).enumerated() {
            var p = try Fields(patch, "\(context).from.patches[\(i)]")
            let offset = try p.int("offset")
            guard bytes.indices.contains(offset) else { throw VectorFormatError("\(context).from.patches[\(i)]: offset out of range") }
            if p.has("set") {
                let v = try p.bytes("set")
                guard v.count == 1 else { throw VectorFormatError("\(context).from.patches[\(i)].set is one octet") }
                bytes[offset] = v[0]
            } else {
                let v = try p.bytes("xor")
                guard v.count == 1 else { throw VectorFormatError("\(context).from.patches[\(i)].xor is one octet") }
                bytes[offset] ^= v[0]
            }
            try p.finish()
        }
        if let n = try f.optionalInt("truncate") {
            guard n >= 0, n <= bytes.count else { throw VectorFormatError("\(context).from.truncate out of range") }
            bytes = Array(bytes.prefix(n))
        }
        try f.finish()
        return bytes
    }

    /// The transcript of a handshake case among the loaded vectors.
    static func catalogTranscript(file: String, name: String) -> [JSON]? {
        VectorCatalog.all.first { $0.file == file && $0.name == name && $0.kind == "handshake" }?.json["transcript"]?.arrayValue
    }

    /// Checks that a step's bytes equal what its `from` derives.
    static func check(_ step: JSON, _ context: String) throws {
        guard let from = step["from"] else { return }
        let derived = try resolve(from, context, transcripts: catalogTranscript)
        let key = step["receive"] != nil ? "receive" : "expectSend"
        guard let stated = step[key] else { throw VectorFormatError("\(context): from needs receive or expectSend") }
        let bytes = try Vectors.bytes(stated, "\(context).\(key)")
        if bytes != derived {
            fail("\(context): the \(key) bytes no longer match their \"from\" (\(Vectors.difference(bytes, derived))); run the generator (Vectors/README.md)")
        }
    }
}
