import ZMTPConformance
import ZMTP

/// Kinds "frame" and "frame-error": ``FrameDecoder`` fed the whole input, one byte at a time, and
/// with trailing bytes; ``FrameEncoder`` for canonical frames.
enum FrameVectors {
    /// How the bytes reach the decoder.
    enum Feed: CaseIterable, CustomStringConvertible {
        case whole, byteByByte, withTrailingBytes
        var description: String {
            switch self {
            case .whole: return "whole"
            case .byteByByte: return "byte by byte"
            case .withTrailingBytes: return "with trailing bytes"
            }
        }
    }

    /// Bytes that follow the input in the trailing-bytes feed. They must never be consumed.
    static let trailer: [UInt8] = [0xDE, 0xAD, 0xBE, 0xEF]

    /// What decoding produced.
    struct Outcome {
        var frames: [Frame] = []
        var consumed = 0
        var error: ZMTPError?
    }

    static func framingVersion(_ n: Int, _ context: String) throws -> FramingVersion {
        switch n {
        case 3: return .zmtp3
        case 2: return .zmtp2
        case 1: return .zmtp1
        default: throw VectorFormatError("\(context).version must be 3, 2 or 1")
        }
    }

    /// Decodes `input`, stopping after `limit` frames (if given), at the first error, or when the
    /// decoder needs more bytes.
    static func decode(_ input: [UInt8], version: FramingVersion, maxMessageSize: Int?, feed: Feed, limit: Int?) -> Outcome {
        var decoder = FrameDecoder(version: version, maxMessageSize: maxMessageSize)
        var outcome = Outcome()
        let data = feed == .withTrailingBytes ? input + trailer : input
        let chunk = feed == .byteByByte ? 1 : max(data.count, 1)
        var offset = 0
        outer: while offset < data.count {
            let end = min(offset + chunk, data.count)
            var position = offset
            while position < end {
                if let limit, outcome.frames.count >= limit { break outer }
                let slice = Array(data[position..<end])
                let result: (frame: Frame?, consumed: Int)
                switch decodeOnce(&decoder, slice) {
                case .success(let r):
                    result = r
                case .failure(let error):
                    outcome.error = error
                    // Errors are sticky.
                    switch decodeOnce(&decoder, [0]) {
                    case .success: fail("\(feed): the decoder accepted input after reporting \(error)")
                    case .failure(let again): if again != error { fail("\(feed): error not sticky: \(error) then \(again)") }
                    }
                    break outer
                }
                if result.consumed < 0 || result.consumed > slice.count {
                    fail("\(feed): decoder reported \(result.consumed) bytes used of \(slice.count)")
                    break outer
                }
                position += result.consumed
                outcome.consumed += result.consumed
                guard let frame = result.frame else {
                    if result.consumed != slice.count { fail("\(feed): nil frame but only \(result.consumed) of \(slice.count) bytes used") }
                    break
                }
                outcome.frames.append(frame)
            }
            offset = end
        }
        return outcome
    }

    /// One call of ``FrameDecoder/decode(_:)`` on `bytes`.
    static func decodeOnce(_ decoder: inout FrameDecoder, _ bytes: [UInt8]) -> Result<(frame: Frame?, consumed: Int), ZMTPError> {
        var result: Result<(frame: Frame?, consumed: Int), ZMTPError> = .success((nil, 0))
        bytes.withUnsafeBytes { raw in
            do throws(ZMTPError) {
                result = .success(try decoder.decode(raw))
            } catch {
                result = .failure(error)
            }
        }
        return result
    }

    static func frames(_ json: JSON, _ context: String) throws -> [Frame] {
        guard let items = json.arrayValue else { throw VectorFormatError("\(context) must be an array") }
        return try items.enumerated().map { i, item in
            var f = try Fields(item, "\(context)[\(i)]")
            let frame: Frame
            switch try f.string("type") {
            case "message": frame = .message(Message(try f.bytes("body"), more: try f.bool("more", default: false)))
            case "command": frame = .command(try f.bytes("body"))
            case let t: throw VectorFormatError("\(context)[\(i)].type: \(t)")
            }
            try f.finish()
            return frame
        }
    }

    static func show(_ frames: [Frame]) -> String {
        "[" + frames.map { frame in
            switch frame {
            case .message(let m): return "message\(m.more ? "+more" : "") \(Vectors.show(m.bytes))"
            case .command(let b): return "command \(Vectors.show(b))"
            }
        }.joined(separator: ", ") + "]"
    }

    // MARK: frame

    static func run(_ vector: VectorCase) throws {
        var f = try Fields(case: vector)
        let version = try framingVersion(try f.int("version"), vector.name)
        let bytes = try f.bytes("bytes")
        let expected = try frames(try f.required("frames"), "\(vector.name).frames")
        let canonical = try f.bool("canonical", default: false)
        let maxMessageSize = try f.optionalInt("maxMessageSize")
        try f.finish()
        guard !expected.isEmpty else { throw VectorFormatError("\(vector.name): frames must not be empty") }

        for feed in Feed.allCases {
            let outcome = decode(bytes, version: version, maxMessageSize: maxMessageSize, feed: feed, limit: expected.count)
            if let error = outcome.error { fail("\(feed): decoding failed with \(error)"); continue }
            if outcome.frames != expected { fail("\(feed): decoded \(show(outcome.frames)), expected \(show(expected))") }
            if outcome.consumed != bytes.count { fail("\(feed): used \(outcome.consumed) bytes, the frames are \(bytes.count)") }
        }

        if canonical {
            var encoded: [UInt8] = []
            for frame in expected {
                switch frame {
                case .message(let m): FrameEncoder.encode(m, version: version, into: &encoded)
                case .command(let body): FrameEncoder.encodeCommand(body, into: &encoded)
                }
            }
            if encoded != bytes { fail("encoded \(Vectors.show(encoded)), expected \(Vectors.show(bytes))") }
            // The header-size helper agrees with what was written (single-frame cases).
            if expected.count == 1, case .message(let m) = expected[0] {
                let header = FrameEncoder.headerSize(bodySize: m.count, version: version)
                if header + m.count != bytes.count { fail("headerSize(bodySize: \(m.count)) = \(header), frame is \(bytes.count - m.count)") }
            }
        }
    }

    // MARK: frame-error

    static func runError(_ vector: VectorCase) throws {
        var f = try Fields(case: vector)
        let version = try framingVersion(try f.int("version"), vector.name)
        let bytes = try f.bytes("bytes")
        let maxMessageSize = try f.optionalInt("maxMessageSize")
        let before = try f.optional("framesBefore").map { try frames($0, "\(vector.name).framesBefore") } ?? []
        let errorName = try f.optionalString("error")
        let incomplete = try f.bool("incomplete", default: false)
        let blameName = try f.optionalString("blame")
        try f.finish()
        guard (errorName != nil) != incomplete else {
            throw VectorFormatError("\(vector.name): give exactly one of \"error\" and \"incomplete\": true")
        }
        let code = try errorName.map { try Vectors.errorCode($0, "\(vector.name).error") }
        let blame = try blameName.map { try Vectors.blame($0, "\(vector.name).blame") }

        for feed in [Feed.whole, .byteByByte] {
            let outcome = decode(bytes, version: version, maxMessageSize: maxMessageSize, feed: feed, limit: nil)
            if outcome.frames != before { fail("\(feed): decoded \(show(outcome.frames)) before the end, expected \(show(before))") }
            if let code {
                guard let error = outcome.error else {
                    fail("\(feed): no error, expected \(code) (decoded \(show(outcome.frames)), used \(outcome.consumed) B)")
                    continue
                }
                if error.code != code { fail("\(feed): error \(error), expected \(code)") }
                let expectedBlame = blame ?? .peerMisbehaved
                if error.blame != expectedBlame { fail("\(feed): blame \(error.blame), expected \(expectedBlame)") }
            } else {
                if let error = outcome.error { fail("\(feed): error \(error), expected the decoder to wait for more bytes") }
                if outcome.consumed != bytes.count { fail("\(feed): used \(outcome.consumed) of \(bytes.count) bytes while incomplete") }
            }
        }
    }
}
