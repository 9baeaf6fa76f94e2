import Testing
@testable import ZMTP

/// One encodable stream: frames and the exact bytes that carry them. The same table drives the
/// encoder (frames → bytes) and the decoder (bytes → frames, fed every way).
struct FramingCase: Sendable, CustomTestStringConvertible {
    var name: String
    var version: FramingVersion
    var frames: [Frame]
    var wire: [UInt8]

    var testDescription: String { name }

    init(_ name: String, _ version: FramingVersion, _ frames: [Frame], _ wire: [UInt8]...) {
        self.name = name
        self.version = version
        self.frames = frames
        self.wire = wire.flatMap { $0 }
    }
}

private func part(_ bytes: [UInt8], more: Bool = false) -> Frame { .message(Message(bytes, more: more)) }

/// RFC 23/37 §Framing (ZMTP 3.x), RFC 15 (2.0), RFC 13 (1.0); captures from libzmq.md §2.5, §2.11.
let framingTable: [FramingCase] = [
    // ZMTP 3.x: flags(1) size(1 | 8) body
    FramingCase("3.x empty last part", .zmtp3, [part([])], [0x00, 0x00]),
    FramingCase("3.x 'hello' with MORE", .zmtp3, [part(ascii("hello"), more: true)], [0x01, 0x05], ascii("hello")),
    FramingCase("3.x 32 bytes (inline capacity)", .zmtp3, [part(body(32))], [0x00, 0x20], body(32)),
    FramingCase("3.x 33 bytes (first heap body)", .zmtp3, [part(body(33))], [0x00, 0x21], body(33)),
    FramingCase("3.x 255 bytes, short", .zmtp3, [part(body(255))], [0x00, 0xFF], body(255)),
    FramingCase("3.x 256 bytes, long", .zmtp3, [part(body(256))], [0x02], be64(256), body(256)),
    FramingCase("3.x 256 bytes, long, MORE", .zmtp3, [part(body(256), more: true)], [0x03], be64(256), body(256)),
    FramingCase("3.x libzmq PING ttl 1.5 s", .zmtp3, [.command([0x04] + ascii("PING") + [0x00, 0x0F])], [0x04, 0x07, 0x04], ascii("PING"), [0x00, 0x0F]),
    FramingCase("3.x empty command", .zmtp3, [.command([])], [0x04, 0x00]),
    FramingCase("3.x 255-byte command, short", .zmtp3, [.command(body(255))], [0x04, 0xFF], body(255)),
    FramingCase("3.x 256-byte command, long", .zmtp3, [.command(body(256))], [0x06], be64(256), body(256)),
    FramingCase("3.x multipart [a][][bc] then a command", .zmtp3,
                [part(ascii("a"), more: true), part([], more: true), part(ascii("bc")), .command([0x04] + ascii("PONG"))],
                [0x01, 0x01], ascii("a"), [0x01, 0x00], [0x00, 0x02], ascii("bc"), [0x04, 0x05, 0x04], ascii("PONG")),
    FramingCase("3.x 100 KB part", .zmtp3, [part(body(100_000))], [0x02], be64(100_000), body(100_000)),
    // ZMTP 2.0: the same, with no COMMAND bit
    FramingCase("2.0 empty last part", .zmtp2, [part([])], [0x00, 0x00]),
    FramingCase("2.0 'hi' with MORE", .zmtp2, [part(ascii("hi"), more: true)], [0x01, 0x02], ascii("hi")),
    FramingCase("2.0 255 bytes, short", .zmtp2, [part(body(255))], [0x00, 0xFF], body(255)),
    FramingCase("2.0 256 bytes, long, MORE", .zmtp2, [part(body(256), more: true)], [0x03], be64(256), body(256)),
    FramingCase("2.0 100 KB part", .zmtp2, [part(body(100_000))], [0x02], be64(100_000), body(100_000)),
    // ZMTP 1.0: length (flags + body; 1 octet, or FF + 8) flags body
    FramingCase("1.0 empty last part", .zmtp1, [part([])], [0x01, 0x00]),
    FramingCase("1.0 'hello' with MORE", .zmtp1, [part(ascii("hello"), more: true)], [0x06, 0x01], ascii("hello")),
    FramingCase("1.0 libzmq capture: identity JIM, then ['', 'yo']", .zmtp1,
                [part(ascii("JIM")), part([], more: true), part(ascii("yo"))],
                [0x04, 0x00], ascii("JIM"), [0x01, 0x01], [0x03, 0x00], ascii("yo")),
    FramingCase("1.0 253 bytes, short (length 254)", .zmtp1, [part(body(253))], [0xFE, 0x00], body(253)),
    FramingCase("1.0 254 bytes, long (length 255 is the escape)", .zmtp1, [part(body(254))], [0xFF], be64(255), [0x00], body(254)),
    FramingCase("1.0 255 bytes, long, MORE", .zmtp1, [part(body(255), more: true)], [0xFF], be64(256), [0x01], body(255)),
    FramingCase("1.0 100 KB part", .zmtp1, [part(body(100_000))], [0xFF], be64(100_001), [0x00], body(100_000)),
]

/// Encodes `frames` the way a connection would.
private func encode(_ frames: [Frame], version: FramingVersion) -> [UInt8] {
    var out: [UInt8] = []
    for frame in frames {
        switch frame {
        case .message(let message): FrameEncoder.encode(message, version: version, into: &out)
        case .command(let body): FrameEncoder.encodeCommand(body, into: &out)
        }
    }
    return out
}

private func bodyCount(_ frame: Frame) -> Int {
    switch frame {
    case .message(let message): return message.count
    case .command(let body): return body.count
    }
}

@Suite("Framing")
struct FramingTests {
    // MARK: The table, both ways

    @Test("encoder writes the table's bytes", arguments: framingTable)
    func encoderWritesTable(_ c: FramingCase) {
        #expect(encode(c.frames, version: c.version) == c.wire)
    }

    @Test("decoder reads the table's frames, however fed", arguments: framingTable)
    func decoderReadsTable(_ c: FramingCase) {
        assertDecodes(c.wire, version: c.version, to: c.frames)
    }

    @Test("headerSize matches what the encoder writes", arguments: framingTable)
    func headerSizeMatchesEncoder(_ c: FramingCase) {
        for frame in c.frames {
            let encoded = encode([frame], version: c.version)
            #expect(FrameEncoder.headerSize(bodySize: bodyCount(frame), version: c.version) == encoded.count - bodyCount(frame))
        }
    }

    @Test("a truncated stream yields the complete frames and waits", arguments: framingTable.filter { $0.wire.count <= 600 })
    func truncationWaitsForMore(_ c: FramingCase) {
        var ends: [Int] = []
        var end = 0
        for frame in c.frames {
            end += encode([frame], version: c.version).count
            ends.append(end)
        }
        for cut in 0..<c.wire.count {
            let complete = ends.filter { $0 <= cut }.count
            let outcome = decodeEveryWay(Array(c.wire[..<cut]), version: c.version)
            #expect(outcome.error == nil)
            #expect(outcome.frames == Array(c.frames.prefix(complete)))
            #expect(outcome.pending == (cut > 0 && !ends.contains(cut)))
        }
    }

    @Test("one frame per call: trailing frames stay in the buffer")
    func oneFramePerCall() throws {
        var decoder = FrameDecoder(version: .zmtp3)
        let wire: [UInt8] = [0x01, 0x01, 0x61, 0x00, 0x01, 0x62]
        let (first, used) = try decoder.decode(wire)
        #expect(first == part(ascii("a"), more: true))
        #expect(used == 3)
        let (second, rest) = try decoder.decode(wire[3...])
        #expect(second == part(ascii("b")))
        #expect(rest == 3)
        let (none, zero) = try decoder.decode([UInt8]())
        #expect(none == nil && zero == 0)
    }

    // MARK: Accepted although no encoder writes them

    @Test("LONG flag with a small size is accepted, as libzmq does")
    func longFlagSmallSize() {
        assertDecodes([0x02] + be64(5) + ascii("hello"), version: .zmtp3, to: [part(ascii("hello"))])
        assertDecodes([0x03] + be64(0), version: .zmtp3, to: [part([], more: true)])
        assertDecodes([0x06] + be64(5) + [0x04] + ascii("PONG"), version: .zmtp3, to: [.command([0x04] + ascii("PONG"))])
        assertDecodes([0x02] + be64(2) + ascii("hi"), version: .zmtp2, to: [part(ascii("hi"))])
    }

    @Test("ZMTP 1.0 long length with a small value, and flags bits other than MORE, are accepted")
    func zmtp1Leniency() {
        assertDecodes([0xFF] + be64(6) + [0x00] + ascii("hello"), version: .zmtp1, to: [part(ascii("hello"))])
        // libzmq's signature read as ZMTP 1.0 flags is 0x7F: MORE plus reserved bits (RFC 37).
        assertDecodes([0x03, 0x7F] + ascii("ab") + [0x01, 0xFE], version: .zmtp1, to: [part(ascii("ab"), more: true), part([])])
    }

    @Test("the largest sizes wait for their bodies without allocating them")
    func hugeSizesWait() {
        assertNeedsMore([0x02] + be64(UInt64(Int64.max)), version: .zmtp3)
        assertNeedsMore([0x02] + be64(UInt64(Int64.max)) + body(100), version: .zmtp3)
        assertNeedsMore([0xFF] + be64(UInt64(Int64.max)) + [0x00, 0x01], version: .zmtp1)
    }

    // MARK: Rejected

    @Test("ZMTP 3.x reserved flag bits are malformed", arguments: [UInt8(0x08), 0x10, 0x20, 0x40, 0x80, 0xF8, 0x0A])
    func reservedBits(_ flags: UInt8) {
        assertDecodeFails([flags, 0x00], version: .zmtp3, with: .malformedFrame)
        // Decided from the flags octet alone.
        assertDecodeFails([flags], version: .zmtp3, with: .malformedFrame)
    }

    @Test("COMMAND with MORE is malformed", arguments: [UInt8(0x05), 0x07])
    func commandWithMore(_ flags: UInt8) {
        assertDecodeFails([flags, 0x00], version: .zmtp3, with: .malformedFrame)
    }

    @Test("ZMTP 2.0 flags with bit 2 or higher are malformed", arguments: [UInt8(0x04), 0x06, 0x08, 0x80])
    func zmtp2ReservedBits(_ flags: UInt8) {
        assertDecodeFails([flags, 0x00], version: .zmtp2, with: .malformedFrame)
    }

    @Test("a long size of 2^63 or more is malformed")
    func topBitSize() {
        assertDecodeFails([0x02] + be64(1 << 63), version: .zmtp3, with: .malformedFrame)
        assertDecodeFails([0x06] + be64(.max), version: .zmtp3, with: .malformedFrame)
        assertDecodeFails([0x02] + be64(1 << 63), version: .zmtp2, with: .malformedFrame)
        assertDecodeFails([0xFF] + be64(1 << 63) + [0x00], version: .zmtp1, with: .malformedFrame)
    }

    @Test("a ZMTP 1.0 length of 0 is malformed")
    func zmtp1ZeroLength() {
        assertDecodeFails([0x00], version: .zmtp1, with: .malformedFrame)
        assertDecodeFails([0x00, 0x00, 0x00], version: .zmtp1, with: .malformedFrame)
        assertDecodeFails([0xFF] + be64(0) + [0x00], version: .zmtp1, with: .malformedFrame)
    }

    @Test("an error after good frames keeps the frames before it")
    func errorAfterFrames() {
        assertDecodeFails([0x01, 0x01, 0x61, 0x08, 0x00], version: .zmtp3, with: .malformedFrame, after: [part(ascii("a"), more: true)])
    }

    // MARK: Maximum message size

    @Test("a body over the limit fails from the header, before any body byte")
    func maxSizeFromHeader() {
        assertDecodeFails([0x00, 0x0B], version: .zmtp3, maxMessageSize: 10, with: .messageTooLarge)
        assertDecodeFails([0x02] + be64(256), version: .zmtp3, maxMessageSize: 255, with: .messageTooLarge)
        assertDecodeFails([0x02] + be64(1 << 62), version: .zmtp3, maxMessageSize: 1 << 20, with: .messageTooLarge)
        assertDecodeFails([0x06] + be64(1 << 40), version: .zmtp3, maxMessageSize: 1000, with: .messageTooLarge)
        assertDecodeFails([0x02] + be64(11), version: .zmtp2, maxMessageSize: 10, with: .messageTooLarge)
        // ZMTP 1.0: the limit applies to the body, not the length (which counts flags).
        assertDecodeFails([0x0C, 0x00], version: .zmtp1, maxMessageSize: 10, with: .messageTooLarge)
        assertDecodeFails([0xFF] + be64(1 << 50) + [0x00], version: .zmtp1, maxMessageSize: 10, with: .messageTooLarge)
    }

    @Test("a body exactly at the limit is accepted")
    func maxSizeInclusive() {
        assertDecodes([0x00, 0x0A] + body(10), version: .zmtp3, maxMessageSize: 10, to: [part(body(10))])
        assertDecodes([0x0B, 0x00] + body(10), version: .zmtp1, maxMessageSize: 10, to: [part(body(10))])
        assertDecodes([0x00, 0x00], version: .zmtp3, maxMessageSize: 0, to: [part([])])
    }

    @Test("a negative limit means no limit, as libzmq's -1")
    func negativeLimit() {
        #expect(FrameDecoder(version: .zmtp3, maxMessageSize: -1).maxMessageSize == nil)
        #expect(FrameDecoder(version: .zmtp3, maxMessageSize: 7).maxMessageSize == 7)
    }

    // MARK: Version switching and stickiness

    @Test("the version may change between frames")
    func versionSwitchAtBoundary() throws {
        var decoder = FrameDecoder(version: .zmtp3)
        let (first, _) = try decoder.decode([UInt8]([0x00, 0x01, 0x61]))
        #expect(first == part(ascii("a")))
        decoder.version = .zmtp1
        let (second, _) = try decoder.decode([UInt8]([0x02, 0x00, 0x62]))
        #expect(second == part(ascii("b")))
    }

    @Test("changing the version inside a frame is API misuse, reported on the next call")
    func versionSwitchMidFrame() {
        var decoder = FrameDecoder(version: .zmtp3)
        _ = try? decoder.decode([UInt8]([0x02, 0x00]))
        decoder.version = .zmtp2
        let result = Result { () throws(ZMTPError) in try decoder.decode([UInt8]([0x00])) }
        #expect(result.failure?.code == .invalidState)
        #expect(result.failure?.blame == .apiMisuse)
    }

    @Test("errors are sticky, even when good bytes follow")
    func stickyError() {
        var decoder = FrameDecoder(version: .zmtp3)
        let first = Result { () throws(ZMTPError) in try decoder.decode([UInt8]([0x80])) }
        let second = Result { () throws(ZMTPError) in try decoder.decode([UInt8]([0x00, 0x00])) }
        #expect(first.failure?.code == .malformedFrame)
        #expect(second.failure == first.failure)
    }

    // MARK: Large bodies

    @Test("a 100 KB frame fed one byte at a time arrives intact, shared and not inline")
    func largeFrameByteByByte() {
        let payload = body(100_000)
        let outcome = decode([0x03] + be64(100_000) + payload + [0x00, 0x00], version: .zmtp3, feeding: .byteByByte)
        #expect(outcome == DecodeOutcome(frames: [part(payload, more: true), part([])]))
        guard case .message(let message)? = outcome.frames.first else { return }
        #expect(!message.isInline, "a 100 KB body stored inline")
        #expect(message.count == 100_000)
    }

    @Test("a large body read straight into its storage (readLargeBody), in pieces and across the ceiling, decodes intact", arguments: [40_000, FrameDecoder.preallocationCeiling + 4_096])
    func largeBodyReadDirectly(size: Int) throws {
        let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        var decoder = FrameDecoder(version: .zmtp3)
        // The header and the first 10 octets come through decode, as from a read buffer.
        let start = [0x02] + be64(UInt64(size)) + payload[0..<10]
        let first = try decoder.decode(start[...])
        #expect(first.frame == nil && first.consumed == start.count)
        // Then reads of at most 5,000 octets straight into the body, as a driver's read(2) would.
        var offset = 10
        while let n = decoder.readLargeBody({ room in
            let count = min(5_000, room.count)
            payload[offset..<(offset + count)].withUnsafeBytes { room.copyMemory(from: $0) }
            return count
        }) {
            #expect(n > 0)
            offset += n
        }
        // Every octet but the last went in directly; the last completes the frame through decode.
        #expect(offset == size - 1)
        #expect(decoder.largeBodyRemaining == 1)
        let last = try decoder.decode([payload[size - 1]][...])
        guard case .message(let message)? = last.frame else {
            Issue.record("no frame")
            return
        }
        #expect(message.bytes == payload)
        #expect(decoder.largeBodyRemaining == 0)
        #expect(decoder.readLargeBody { _ in 1 } == nil)
    }

    @Test("a body larger than the preallocation ceiling still decodes")
    func overPreallocationCeiling() {
        let size = FrameDecoder.preallocationCeiling + 5
        let outcome = decode([0x02] + be64(UInt64(size)) + [UInt8](repeating: 0xA5, count: size), version: .zmtp3, feeding: .split(at: 100))
        #expect(outcome.frames.count == 1)
        if case .message(let message)? = outcome.frames.first {
            #expect(message.count == size)
            #expect(message.withUnsafeBytes { $0.allSatisfy { $0 == 0xA5 } })
        }
    }

    @Test("small bodies split across reads come out inline")
    func smallBodySplitIsInline() {
        let outcome = decode([0x00, 0x20] + body(32), version: .zmtp3, feeding: .byteByByte)
        guard case .message(let message)? = outcome.frames.first else {
            Issue.record("no frame")
            return
        }
        #expect(message.isInline, "a 32-byte body stored on the heap")
    }
}
