#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ZMTP

/// What a ``FrameDecoder`` made of a byte stream.
public struct DecodeOutcome: Equatable, Sendable, CustomStringConvertible {
    public var frames: [Frame] = []
    public var error: ZMTPError? = nil

    public var description: String {
        "\(frames.count) frames \(frames.prefix(8))\(frames.count > 8 ? "…" : ""), error \(error.map { "\($0)" } ?? "none")"
    }
}

/// Decodes `stream` read by read as `plan` cuts it, checking the decoder's contract on every call:
/// progress, `consumed` within bounds, every byte used when no frame comes back, errors blamed on
/// the peer and sticky. Each read sits alone in a fenced buffer (``ReadBuffer``).
///
/// Without `expected`, every frame is checked (within the limit, of the right kind for the
/// version, encode → decode unchanged) and kept. With `expected` (the outcome of another plan on
/// the same stream), each frame is compared with the expected one as it comes, nothing is kept,
/// and any difference, or a different ending, is a finding: the frames equal checked ones.
///
/// With `room`, the decoder plays a driver that budgets memory: its ``FrameDecoder/bodyRoomLimit``
/// starts at `room.start` and grows by `room.step` whenever a body waits for room, which must
/// change nothing but how the bytes are taken; a body's room over the limit is a finding.
@discardableResult
///
/// With `inPlace`, each step first tries ``FrameDecoder/decodeWholeMessage(_:at:)`` (the
/// drivers' fast path) and calls `decode` only when it declines, which must not change the frames.
public func decode(_ stream: [UInt8], version: FramingVersion, maxMessageSize: Int?, plan: ChunkPlan,
                   expected: DecodeOutcome? = nil, room: (start: Int, step: Int)? = nil, inPlace: Bool = false) -> DecodeOutcome {
    var decoder = FrameDecoder(version: version, maxMessageSize: maxMessageSize)
    if let room { decoder.bodyRoomLimit = room.start }
    var outcome = DecodeOutcome()
    var count = 0
    var checked = 0
    func disagree(_ what: String) -> Never {
        finding("""
            chunkings disagree (\(version), limit \(maxMessageSize.map(String.init) ?? "none")): \(what)
              expected: \(expected.map { "\($0)" } ?? "?")
              \(plan)
            """)
    }
    // The reference's buffer also serves the frames' encode → decode checks, which may need the
    // whole stream (a re-encoded frame is never longer than the one decoded from the input).
    let buffer = ReadBuffer(capacity: expected == nil ? stream.count : plan.largest)
    var scratch: [UInt8] = []
    var offset = 0
    for size in plan.sizes {
        let chunk = stream[offset..<(offset + size)]
        offset += size
        let failed: ZMTPError? = buffer.withRead(chunk) { raw in
            if raw.isEmpty {
                // An empty read must be harmless: nothing decoded, nothing used.
                do throws(ZMTPError) {
                    let (frame, used) = try decoder.decode(raw)
                    require(frame == nil && used == 0, "empty read gave \(String(describing: frame)), consumed \(used)")
                } catch {
                    finding("empty read threw \(error) before any error")
                }
                return nil
            }
            var position = 0
            while position < raw.count {
                let rest = UnsafeRawBufferPointer(rebasing: raw[position...])
                do throws(ZMTPError) {
                    var whole = 0
                    let inPlaceMessage = inPlace ? try decoder.decodeWholeMessage(rest, at: &whole) : nil
                    require(inPlaceMessage != nil || whole == 0, "decodeWholeMessage declined but moved the offset to \(whole)")
                    let (frame, used): (Frame?, Int)
                    if let inPlaceMessage {
                        (frame, used) = (.message(inPlaceMessage), whole)
                    } else {
                        (frame, used) = try decoder.decode(rest)
                    }
                    require(used >= 0 && used <= rest.count, "consumed \(used) of \(rest.count) bytes (plan \(plan))")
                    require(decoder.bodyRoom <= decoder.bodyRoomLimit,
                            "a body holds \(decoder.bodyRoom) bytes of room over the \(decoder.bodyRoomLimit)-byte limit")
                    position += used
                    guard let frame else {
                        if used < rest.count, let room, let awaiting = decoder.bodyAwaitingRoom {
                            require(awaiting > decoder.bodyRoomLimit, "waits for room for \(awaiting) bytes under the limit \(decoder.bodyRoomLimit)")
                            decoder.bodyRoomLimit += room.step
                            continue
                        }
                        require(used > 0 || rest.isEmpty, "no progress: nothing consumed of \(rest.count) bytes (plan \(plan))")
                        require(used == rest.count, "no frame but only \(used) of \(rest.count) bytes consumed")
                        break
                    }
                    require(used > 0, "a frame from no bytes (plan \(plan))")
                    if let expected {
                        guard count < expected.frames.count else { disagree("frame \(count) \(frame) is one too many") }
                        if !sameFrame(frame, expected.frames[count]) { disagree("frame \(count) is \(frame)") }
                    } else {
                        outcome.frames.append(frame)
                    }
                    count += 1
                } catch {
                    return error
                }
            }
            return nil
        }
        // The read is over, so its buffer may carry the checks' re-encoded frames.
        while checked < outcome.frames.count {
            check(outcome.frames[checked], version: version, maxMessageSize: maxMessageSize, scratch: &scratch, buffer: buffer)
            checked += 1
        }
        if let failed {
            checkDecoderError(failed, decoder: &decoder)
            outcome.error = failed
            break
        }
    }
    if let expected, count != expected.frames.count || outcome.error != expected.error {
        disagree("\(count) frames, error \(outcome.error.map { "\($0)" } ?? "none")")
    }
    return outcome
}

/// One `decode` call on `bytes` (in an exactly sized copy), as a Result.
public func decodeOnce(_ decoder: inout FrameDecoder, _ bytes: some Collection<UInt8>) -> Result<(frame: Frame?, consumed: Int), ZMTPError> {
    withExactCopy(ArraySlice(bytes)) { raw in
        do throws(ZMTPError) {
            return .success(try decoder.decode(raw))
        } catch {
            return .failure(error)
        }
    }
}

/// A decoded frame is valid for its version and limit, and survives encode → decode unchanged.
/// `scratch` and `buffer` are reused across frames (the decode reads from `buffer`, fenced).
func check(_ frame: Frame, version: FramingVersion, maxMessageSize: Int?, scratch encoded: inout [UInt8],
           buffer: borrowing ReadBuffer) {
    encoded.removeAll(keepingCapacity: true)
    switch frame {
    case .message(let message):
        if let limit = maxMessageSize {
            require(message.count <= limit, "message of \(message.count) bytes over the \(limit)-byte limit")
        }
        FrameEncoder.encode(message, version: version, into: &encoded)
    case .command(let body):
        require(version == .zmtp3, "command frame decoded in \(version) framing")
        if let limit = maxMessageSize {
            require(body.count <= limit, "command of \(body.count) bytes over the \(limit)-byte limit")
        }
        FrameEncoder.encodeCommand(body, into: &encoded)
    }
    var fresh = FrameDecoder(version: version, maxMessageSize: maxMessageSize)
    let result: Result<(frame: Frame?, consumed: Int), ZMTPError> = buffer.withRead(encoded[...]) { raw in
        do throws(ZMTPError) {
            return .success(try fresh.decode(raw))
        } catch {
            return .failure(error)
        }
    }
    switch result {
    case .success(let (again, used)):
        require(again.map { sameFrame($0, frame) } == true && used == encoded.count,
                "re-encoded frame \(hex(encoded)) decodes to \(String(describing: again)) using \(used) bytes, not \(frame)")
    case .failure(let error):
        finding("re-encoded frame \(hex(encoded)) does not decode: \(error)")
    }
}

/// `a == b`, comparing payloads with one memcmp: the derived `==` compares byte by byte, and
/// under the fuzzer's comparison tracing that cost more than decoding.
public func sameFrame(_ a: Frame, _ b: Frame) -> Bool {
    switch (a, b) {
    case (.message(let x), .message(let y)):
        return x.more == y.more && x.count == y.count
            && x.withUnsafeBytes { p in y.withUnsafeBytes { q in sameBytes(p, q) } }
    case (.command(let x), .command(let y)):
        return x.count == y.count && x.withUnsafeBytes { p in y.withUnsafeBytes { q in sameBytes(p, q) } }
    default:
        return false
    }
}

/// Equal buffers of equal length.
func sameBytes(_ p: UnsafeRawBufferPointer, _ q: UnsafeRawBufferPointer) -> Bool {
    guard p.count == q.count else { return false }
    guard let pa = p.baseAddress, let qa = q.baseAddress, p.count > 0 else { return true }
    return memcmp(pa, qa, p.count) == 0
}

/// Errors from peer bytes are malformedFrame or messageTooLarge, blamed on the peer, and sticky.
func checkDecoderError(_ error: ZMTPError, decoder: inout FrameDecoder) {
    requirePeerBlame(error, .peer, "from FrameDecoder")
    require(error.blame == .peerMisbehaved, "FrameDecoder blamed \(error.blame) for \(error)")
    require(error.code == .malformedFrame || error.code == .messageTooLarge, "unexpected FrameDecoder error code \(error)")
    for probe in [[], [0x00], [0xFF, 0x01, 0x02]] as [[UInt8]] {
        switch decodeOnce(&decoder, probe) {
        case .success(let result):
            finding("error \(error) not sticky: decoding \(hex(probe)) afterwards gave \(result)")
        case .failure(let again):
            require(again == error, "sticky error changed from \(error) to \(again)")
        }
    }
}

/// The whole decoder check: every chunking gives the same outcome, and a limit only cuts the
/// unlimited outcome short at the first frame that exceeds it.
///
/// Without a limit the input is decoded whole (the reference, whose frames are checked), byte by
/// byte and in one pseudo-random chunking derived from the input; with each limit (`limits`,
/// plus one derived from the input so the fuzzer can move it) whole and in the same random
/// chunking, which keeps the byte-by-byte pass (the slow one) to one per input. The other plans
/// are compared with their reference frame by frame as they decode.
public func fuzzDecoder(_ input: [UInt8], version: FramingVersion, limits: [Int]) {
    let whole = ChunkPlan.whole(input.count)
    let random = ChunkPlan.random(input.count, seed: fnv1a(input))
    func outcome(_ limit: Int?) -> DecodeOutcome {
        let reference = decode(input, version: version, maxMessageSize: limit, plan: whole)
        if limit == nil {
            decode(input, version: version, maxMessageSize: limit, plan: .bytewise(input.count), expected: reference)
            // A driver's memory budget changes when bytes are taken, never what they decode to.
            let hash = fnv1a(input)
            decode(input, version: version, maxMessageSize: limit, plan: random, expected: reference,
                   room: (start: Int(hash % 80), step: 16 + Int((hash >> 8) % 200)))
        }
        decode(input, version: version, maxMessageSize: limit, plan: random, expected: reference)
        decode(input, version: version, maxMessageSize: limit, plan: random, expected: reference, inPlace: true)
        if limit == nil {
            decode(input, version: version, maxMessageSize: limit, plan: whole, expected: reference, inPlace: true)
        }
        return reference
    }
    let unlimited = outcome(nil)
    for limit in limits + [Int(fnv1a(input) % 300)] {
        let limited = outcome(limit)
        let n = limited.frames.count
        require(n <= unlimited.frames.count && unlimited.frames.prefix(n).elementsEqual(limited.frames, by: sameFrame),
                "limit \(limit) changed the frames before the cut: \(limited) vs \(unlimited)")
        // With the frames before the cut equal, the outcomes are equal when they end alike.
        let sameOutcome = n == unlimited.frames.count && limited.error == unlimited.error
        switch limited.error?.code {
        case nil:
            require(sameOutcome, "limit \(limit) changed a clean outcome: \(limited) vs \(unlimited)")
        case .messageTooLarge?:
            if n < unlimited.frames.count {
                let size: Int
                switch unlimited.frames[n] {
                case .message(let m): size = m.count
                case .command(let c): size = c.count
                }
                require(size > limit, "limit \(limit) refused frame \(n) of \(size) bytes")
            } else {
                // The unlimited decoder accepted the same header and waits for the big body.
                require(unlimited.error == nil, "limit \(limit) cut at frame \(n), but unlimited: \(unlimited)")
            }
        case .some:
            require(sameOutcome, "limit \(limit) changed a malformed-frame outcome: \(limited) vs \(unlimited)")
        }
    }
}

/// Seeds for a decoder: frames at every size boundary (0, 32/33 around the inline capacity,
/// 255/256 around the short size), MORE, the long form used for small sizes, commands (ZMTP 3.x),
/// several frames in a row, and truncated ones.
public func decoderSeeds(_ version: FramingVersion) -> [[UInt8]] {
    var seeds: [[UInt8]] = []
    var stream: [UInt8] = []
    for size in [0, 1, 5, 31, 32, 33, 200, 253, 254, 255, 256, 300] {
        for more in [false, true] {
            let frame = Wire.message((0..<size).map { UInt8(truncatingIfNeeded: $0) }, more: more, version: version)
            seeds.append(frame)
            seeds.append(Array(frame.dropLast()))
            stream += frame
        }
    }
    seeds.append(stream)
    // Long form for a short body.
    switch version {
    case .zmtp3, .zmtp2:
        seeds.append([0x02, 0, 0, 0, 0, 0, 0, 0, 3, 0x61, 0x62, 0x63])
        seeds.append([0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x00])
        seeds.append([0x02, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
    case .zmtp1:
        seeds.append([0xFF, 0, 0, 0, 0, 0, 0, 0, 4, 0x00, 0x61, 0x62, 0x63])
        seeds.append([0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
        seeds.append([0x01, 0x01, 0x01, 0x00])
    }
    if version == .zmtp3 {
        var commands: [UInt8] = []
        for body in [Wire.commandBody("READY", Wire.metadata([("Socket-Type", Array(utf8: "DEALER"))])),
                     Wire.commandBody("PING", [0, 10]), Wire.commandBody("SUBSCRIBE", Array(utf8: "topic")),
                     Array(repeating: 0x5A, count: 300)] {
            commands += Wire.command(body)
            seeds.append(Wire.command(body))
        }
        seeds.append(commands + stream)
        seeds.append([0x05, 0x00])        // COMMAND with MORE
        seeds.append([0x08, 0x00])        // a reserved bit
    }
    return seeds
}
