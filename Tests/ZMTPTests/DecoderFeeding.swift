import Testing
@testable import ZMTP

// Feeds a decoder the same bytes in every way a transport might deliver them, and checks that
// the results agree (h11's `tr()`): whole, one byte at a time, split in two at every position,
// and followed by trailing bytes that must be left alone.

/// What a ``FrameDecoder`` made of an input.
struct DecodeOutcome: Equatable, CustomStringConvertible {
    /// The frames, in order.
    var frames: [Frame] = []
    /// The error thrown, if any (decoding stops there).
    var error: ZMTPError? = nil
    /// The input ended inside a frame: the decoder holds a partial header or body (false once an
    /// error ended decoding).
    var pending = false

    var description: String {
        "\(frames.count) frame(s)\(pending ? ", pending" : "")\(error.map { ", error \($0)" } ?? "")"
    }
}

/// A way of delivering bytes to a decoder.
enum Feeding: CustomStringConvertible {
    /// The whole input in one buffer, decoded until it is used up.
    case whole
    /// One byte per call.
    case byteByByte
    /// Two buffers, the first ending before `index`.
    case split(at: Int)
    /// The input followed by bytes of the next read, which the decoder must not touch.
    case withTrailingBytes

    var description: String {
        switch self {
        case .whole: return "whole"
        case .byteByByte: return "byte by byte"
        case .split(let i): return "split at \(i)"
        case .withTrailingBytes: return "with trailing bytes"
        }
    }
}

/// Bytes appended by ``Feeding/withTrailingBytes``: a plausible start of another frame.
let trailingBytes: [UInt8] = [0x00, 0x03, 0x41]

/// Decodes `chunks` in order with `decoder`, checking the decoder's contract along the way: a
/// nil frame uses the whole buffer, a frame uses at least one byte, a thrown error is sticky.
func decode(_ chunks: [ArraySlice<UInt8>], with decoder: inout FrameDecoder, sourceLocation: SourceLocation = #_sourceLocation) -> DecodeOutcome {
    var outcome = DecodeOutcome()
    for chunk in chunks {
        var rest = chunk
        while !rest.isEmpty {
            let step: (frame: Frame?, consumed: Int)
            do throws(ZMTPError) {
                step = try decoder.decode(rest)
            } catch {
                outcome.error = error
                outcome.pending = false
                // Sticky: the same error again, whatever comes next.
                let again = Result { () throws(ZMTPError) in try decoder.decode([0x00]) }
                #expect(again.failure == error, "error is not sticky", sourceLocation: sourceLocation)
                return outcome
            }
            #expect(step.consumed >= 0 && step.consumed <= rest.count, sourceLocation: sourceLocation)
            rest = rest.dropFirst(step.consumed)
            if let frame = step.frame {
                outcome.frames.append(frame)
                outcome.pending = false
                #expect(step.consumed > 0, "a frame from no bytes", sourceLocation: sourceLocation)
            } else {
                #expect(rest.isEmpty, "nil frame left \(rest.count) bytes unconsumed", sourceLocation: sourceLocation)
                outcome.pending = true
            }
        }
    }
    return outcome
}

/// Decodes `wire` once with `feeding`.
func decode(_ wire: [UInt8], version: FramingVersion, maxMessageSize: Int? = nil, feeding: Feeding, sourceLocation: SourceLocation = #_sourceLocation) -> DecodeOutcome {
    var decoder = FrameDecoder(version: version, maxMessageSize: maxMessageSize)
    switch feeding {
    case .whole:
        return decode([wire[...]], with: &decoder, sourceLocation: sourceLocation)
    case .byteByByte:
        return decode(wire.indices.map { wire[$0...$0] }, with: &decoder, sourceLocation: sourceLocation)
    case .split(let i):
        return decode([wire[..<i], wire[i...]], with: &decoder, sourceLocation: sourceLocation)
    case .withTrailingBytes:
        // Decode only while the input's own bytes remain; each frame must end inside them.
        let combined = wire + trailingBytes
        var outcome = DecodeOutcome()
        var offset = 0
        while offset < wire.count {
            do throws(ZMTPError) {
                let (frame, used) = try decoder.decode(combined[offset...])
                offset += used
                guard let frame else {
                    outcome.pending = true
                    break
                }
                #expect(offset <= wire.count, "a frame ran into the trailing bytes", sourceLocation: sourceLocation)
                outcome.frames.append(frame)
            } catch {
                outcome.error = error
                break
            }
        }
        return outcome
    }
}

/// Decodes `wire` every way and expects the same outcome each time; returns it.
@discardableResult
func decodeEveryWay(_ wire: [UInt8], version: FramingVersion, maxMessageSize: Int? = nil, sourceLocation: SourceLocation = #_sourceLocation) -> DecodeOutcome {
    let reference = decode(wire, version: version, maxMessageSize: maxMessageSize, feeding: .whole, sourceLocation: sourceLocation)
    var feedings: [Feeding] = [.byteByByte]
    // The trailing bytes could complete a truncated frame, so only whole inputs get them.
    if !reference.pending { feedings.append(.withTrailingBytes) }
    if wire.count <= 600 { feedings += (1..<max(wire.count, 1)).map { Feeding.split(at: $0) } }
    for feeding in feedings {
        let outcome = decode(wire, version: version, maxMessageSize: maxMessageSize, feeding: feeding, sourceLocation: sourceLocation)
        #expect(outcome == reference, "fed \(feeding): \(outcome), fed whole: \(reference)", sourceLocation: sourceLocation)
    }
    return reference
}

// MARK: Assertions that read like sentences

/// Expects `wire` to decode to exactly `frames`, every way it is fed.
func assertDecodes(_ wire: [UInt8], version: FramingVersion, maxMessageSize: Int? = nil, to frames: [Frame], sourceLocation: SourceLocation = #_sourceLocation) {
    let outcome = decodeEveryWay(wire, version: version, maxMessageSize: maxMessageSize, sourceLocation: sourceLocation)
    #expect(outcome == DecodeOutcome(frames: frames), sourceLocation: sourceLocation)
}

/// Expects `wire` to yield `frames` and then a peer error with `code`, every way it is fed.
func assertDecodeFails(_ wire: [UInt8], version: FramingVersion, maxMessageSize: Int? = nil, with code: ZMTPError.Code, after frames: [Frame] = [], sourceLocation: SourceLocation = #_sourceLocation) {
    let outcome = decodeEveryWay(wire, version: version, maxMessageSize: maxMessageSize, sourceLocation: sourceLocation)
    #expect(outcome.frames == frames, sourceLocation: sourceLocation)
    #expect(outcome.error?.code == code, "expected \(code), got \(outcome)", sourceLocation: sourceLocation)
    #expect(outcome.error?.blame == .peerMisbehaved, sourceLocation: sourceLocation)
}

/// Expects `wire` to yield `frames` and then wait for more bytes, every way it is fed.
func assertNeedsMore(_ wire: [UInt8], version: FramingVersion, maxMessageSize: Int? = nil, after frames: [Frame] = [], sourceLocation: SourceLocation = #_sourceLocation) {
    let outcome = decodeEveryWay(wire, version: version, maxMessageSize: maxMessageSize, sourceLocation: sourceLocation)
    #expect(outcome == DecodeOutcome(frames: frames, pending: !wire.isEmpty), sourceLocation: sourceLocation)
}

// MARK: Byte builders

/// A body of `count` bytes whose values vary, so misplaced or reordered bytes show.
func body(_ count: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 8) }
}

/// `value` as 8 bytes in network order.
func be64(_ value: UInt64) -> [UInt8] {
    (0..<8).reversed().map { UInt8(truncatingIfNeeded: value >> (UInt64($0) * 8)) }
}

/// The UTF-8 bytes of `text`.
func ascii(_ text: String) -> [UInt8] { Array(text.utf8) }

extension FrameDecoder {
    /// ``decode(_:)`` over array bytes, keeping the typed error (`Array.withUnsafeBytes` is an
    /// untyped `rethrows`).
    mutating func decode(_ bytes: ArraySlice<UInt8>) throws(ZMTPError) -> (frame: Frame?, consumed: Int) {
        try bytes.withUnsafeBytes { raw in Result { () throws(ZMTPError) in try self.decode(raw) } }.get()
    }

    mutating func decode(_ bytes: [UInt8]) throws(ZMTPError) -> (frame: Frame?, consumed: Int) {
        try decode(bytes[...])
    }
}

extension Result {
    /// The error, if this is a failure.
    var failure: Failure? {
        switch self {
        case .success: return nil
        case .failure(let error): return error
        }
    }
}
