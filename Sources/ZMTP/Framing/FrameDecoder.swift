/// An incremental frame decoder for ZMTP 3.x, 2.0 and 1.0 framing (RFC 23/37 §Framing, RFC 15,
/// RFC 13).
///
/// Feed it whatever bytes arrived; it returns at most one frame per call and says how many input
/// bytes it used. A header or body split across reads is kept inside the decoder, so:
///
/// ```swift
/// var rest = received[...]                        // bytes from one read
/// while !rest.isEmpty {
///     let (frame, used) = try rest.withUnsafeBytes { try decoder.decode($0) }
///     rest = rest.dropFirst(used)
///     guard let frame else { break }              // nil: every byte was taken, read more
///     handle(frame)
/// }
/// ```
///
/// The result is the same however the stream is cut into reads. Small bodies (up to
/// ``Message/inlineCapacity``) are stored inline, with no heap allocation; bodies up to
/// ``chunkedBodyLimit`` that arrive whole are copied into a receive chunk they share; a larger
/// body is copied once, into memory allocated when its header is complete (or read into it
/// directly, ``readLargeBody(_:)``). A driver's fast path takes whole data frames straight from
/// its input with ``decodeWholeMessage(_:at:)``. Errors are sticky: after a throw, every later
/// call throws the same error.
///
/// The memory a body being received may occupy is capped by ``bodyRoomLimit``, which the driver
/// sets from its memory budget: a body that needs more room than that stops the decoder
/// (``bodyAwaitingRoom`` says how large the body is) until the driver raises the limit, so a
/// peer's declared sizes never decide on their own how much is allocated.
public struct FrameDecoder: Sendable {
    /// Bodies up to this size are allocated in full as soon as their header arrives. A larger
    /// body (only possible when ``maxMessageSize`` is nil or above this) grows with the bytes that
    /// actually arrive, so a forged 8-octet size can make the decoder reserve at most this much
    /// before the peer has sent it. 256 KiB. Past that, the room grows by ``growthFactor`` as
    /// octets arrive, or at once to ``bodyRoomLimit`` when a driver sets one.
    public static let preallocationCeiling = 1 << 18

    /// The framing the peer speaks. The connection switches it once the greeting is known.
    /// Changing it in the middle of a frame is API misuse: the next ``decode(_:)`` throws
    /// ``ZMTPError/Code/invalidState``.
    public var version: FramingVersion {
        didSet {
            guard version != oldValue else { return }
            switch phase {
            case .header where header.count == 0, .failed:
                break
            case .header, .body:
                fail(.misuse(.invalidState, "framing version changed in the middle of a frame"))
            }
        }
    }

    /// The largest frame body accepted, or nil for no limit (libzmq `ZMQ_MAXMSGSIZE`, which also
    /// applies per frame). Checked from the header, before any body byte is stored. It may be
    /// changed between frames (the connection uses a tighter limit during the handshake).
    public var maxMessageSize: Int? {
        didSet { if let limit = maxMessageSize, limit < 0 { maxMessageSize = nil } }
    }

    /// The most memory, in octets, that the body being received may occupy (unlimited by
    /// default). A body whose room is full at this limit takes no more octets:
    /// ``decode(_:)`` returns no frame and leaves the rest of its input unused, and
    /// ``bodyAwaitingRoom`` reports the body's size. Raising the limit resumes it; lowering it
    /// never takes back room already given.
    public var bodyRoomLimit: Int = .max {
        didSet { if bodyRoomLimit < 0 { bodyRoomLimit = 0 } }
    }

    /// What the next input byte belongs to. Kept free of references (the error lives in
    /// `failure`) so that switching on it in the hot path costs no retain or release.
    private enum Phase: Sendable {
        /// A frame header; `header` holds the octets received so far.
        case header
        /// The body of a frame whose header is `FrameHead`; its octets go to `small` (bodies up
        /// to ``Message/inlineCapacity``) or `large`.
        case body(FrameHead)
        /// A fatal error, `failure`, was reported; it is reported again on every call.
        case failed
    }

    private var phase: Phase = .header
    /// The sticky error; meaningful only while `phase` is `.failed`.
    private var failure = ZMTPError(.unspecified, blame: .peerMisbehaved)
    private var header = HeaderBuffer()
    private var small = SmallBody()
    /// A large body being filled: allocated ahead (its octets past `filled` are not yet
    /// written), so that a driver can read straight into it (``readLargeBody(_:)``).
    private var large: [UInt8] = []
    /// How many octets of `large` hold the body so far.
    private var filled = 0
    /// The receive chunk that bodies arriving whole are copied into (see ``chunkedBodyLimit``).
    private var chunk = ReceiveChunk()

    /// Bodies over ``Message/inlineCapacity`` and up to this size that arrive whole are copied
    /// into a receive chunk that several messages share, as libzmq keeps bodies in its receive
    /// buffer: a 64 B or 1 KiB message then costs a reference, not an allocation of its own.
    public static let chunkedBodyLimit = 8_192
    /// The most a receive chunk holds. A chunk is as large as the input still to decode when it
    /// is made (so a peer sending one small message per read gets chunks of that size, not of
    /// this one), and lives until the last message in it is released: what a queued message
    /// keeps alive is bounded by the bodies sharing its chunk.
    public static let chunkCapacity = 65_536

    /// - Parameters:
    ///   - version: the framing to decode.
    ///   - maxMessageSize: the largest body accepted; nil (or, as in libzmq, a negative value)
    ///     means no limit.
    public init(version: FramingVersion, maxMessageSize: Int? = nil) {
        self.version = version
        if let limit = maxMessageSize, limit >= 0 {
            self.maxMessageSize = limit
        } else {
            self.maxMessageSize = nil
        }
    }

    /// Decodes at most one frame from the front of `input`.
    ///
    /// - Returns: the frame, or nil when more bytes are needed, and how many bytes of `input`
    ///   were used. When the frame is nil, every byte of `input` was used (partial headers and
    ///   bodies are kept inside the decoder), so the caller can discard its buffer, unless the
    ///   body is waiting for room (``bodyAwaitingRoom``): then the unused rest must be given
    ///   again once the limit is raised.
    /// - Throws: ``ZMTPError/Code/malformedFrame`` or ``ZMTPError/Code/messageTooLarge``, blamed
    ///   on the peer; the error is sticky.
    public mutating func decode(_ input: UnsafeRawBufferPointer) throws(ZMTPError) -> (frame: Frame?, consumed: Int) {
        do throws(ZMTPError) {
            switch phase {
            case .header:
                return try decodeHeader(input)
            case .body(let head):
                return continueBody(head, input)
            case .failed:
                throw failure
            }
        } catch {
            fail(error)
            throw error
        }
    }

    /// Enters the sticky failed state.
    private mutating func fail(_ error: ZMTPError) {
        failure = error
        phase = .failed
    }

    // MARK: Header

    /// Reads a header from the front of `input`: straight from `input` when the whole header is
    /// there (the hot path), else gathered in `header` across calls.
    private mutating func decodeHeader(_ input: UnsafeRawBufferPointer) throws(ZMTPError) -> (frame: Frame?, consumed: Int) {
        guard !input.isEmpty else { return (nil, 0) }
        if header.count == 0 {
            let length = try Self.headerLength(firstOctet: input[0], version: version)
            if input.count >= length {
                let head = try parseHeader(UnsafeRawBufferPointer(rebasing: input[0..<length]))
                return startBody(head, input, offset: length)
            }
        }
        var offset = 0
        while offset < input.count {
            if header.count == 0 {
                header.append(input[offset])
                offset += 1
            }
            let length = try Self.headerLength(firstOctet: header.first, version: version)
            let take = min(length - header.count, input.count - offset)
            header.append(UnsafeRawBufferPointer(rebasing: input[offset..<(offset + take)]))
            offset += take
            // A ZMTP 1.0 escaped length of 0 is refused as soon as its 8 octets are in, before
            // the flags octet, as libzmq's v1_decoder does.
            if version == .zmtp1, header.count == 9, header.first == FrameFlags.zmtp1LongEscape,
               header.withUnsafeBytes({ raw in raw[1..<9].allSatisfy { $0 == 0 } }) {
                throw Failure.malformed("ZMTP 1.0 frame length 0")
            }
            if header.count == length {
                let buffered = header
                header.count = 0
                let head = try buffered.withUnsafeBytes { raw throws(ZMTPError) in try parseHeader(raw) }
                return startBody(head, input, offset: offset)
            }
        }
        return (nil, offset)
    }

    /// The header length implied by its first octet, after checking everything that octet alone
    /// decides (reserved bits, COMMAND with MORE, a zero ZMTP 1.0 length).
    @inline(__always)
    private static func headerLength(firstOctet first: UInt8, version: FramingVersion) throws(ZMTPError) -> Int {
        switch version {
        case .zmtp3:
            // flags: bits 7-3 reserved = 0 (RFC 37 §Framing; libzmq does not check, we do).
            guard first & FrameFlags.reservedZMTP3 == 0 else {
                throw Failure.reservedBits(first, version: "3.x")
            }
            // "This bit SHALL be zero on command frames" (RFC 37 §Framing).
            guard first & (FrameFlags.command | FrameFlags.more) != (FrameFlags.command | FrameFlags.more) else {
                throw Failure.malformed("MORE set on a command frame")
            }
            return first & FrameFlags.long != 0 ? 9 : 2
        case .zmtp2:
            // flags: bit0 MORE, bit1 LONG, bits 7-2 reserved (RFC 15 §Framing).
            guard first & FrameFlags.reservedZMTP2 == 0 else {
                throw Failure.reservedBits(first, version: "2.0")
            }
            return first & FrameFlags.long != 0 ? 9 : 2
        case .zmtp1:
            // length = OCTET (1..254) / %xFF 8OCTET; the flags octet follows (RFC 13).
            guard first != 0 else { throw Failure.malformed("ZMTP 1.0 frame length 0") }
            return first == FrameFlags.zmtp1LongEscape ? 10 : 2
        }
    }

    /// Parses a complete header whose first octet ``headerLength(firstOctet:version:)`` accepted,
    /// and checks the size against the limit before anything is allocated.
    @inline(__always)
    private func parseHeader(_ h: UnsafeRawBufferPointer) throws(ZMTPError) -> FrameHead {
        let size64: UInt64
        let flags: UInt8
        switch version {
        case .zmtp3, .zmtp2:
            // flags(1) size(1) / flags(1) size(8, network order)
            flags = h[0]
            size64 = flags & FrameFlags.long != 0 ? UInt64(bigEndian: h.loadUnaligned(fromByteOffset: 1, as: UInt64.self)) : UInt64(h[1])
        case .zmtp1:
            // length(1) flags(1) / %xFF length(8, network order) flags(1); length counts flags.
            let length: UInt64
            if h[0] == FrameFlags.zmtp1LongEscape {
                length = UInt64(bigEndian: h.loadUnaligned(fromByteOffset: 1, as: UInt64.self))
                flags = h[9]
            } else {
                length = UInt64(h[0])
                flags = h[1]
            }
            guard length != 0 else { throw Failure.malformed("ZMTP 1.0 frame length 0") }
            guard length >> 63 == 0 else { throw Failure.sizeOverflow(length) }
            size64 = length - 1
        }
        // Sizes run to 2^63-1 (RFC 23 long-size); the top bit set is not a size.
        guard size64 >> 63 == 0 else { throw Failure.sizeOverflow(size64) }
        guard let size = Int(exactly: size64) else { throw Failure.tooLarge(size64, limit: maxMessageSize) }
        if let limit = maxMessageSize, size > limit {
            throw Failure.tooLarge(size64, limit: limit)
        }
        let command = version == .zmtp3 && flags & FrameFlags.command != 0
        return FrameHead(size: size, more: flags & FrameFlags.more != 0, command: command)
    }

    // MARK: Whole frames, decoded in place

    /// Decodes the data frame at `input[offset...]` when it is all there, advancing `offset`
    /// past it: the driver's fast path, which takes messages straight from its read buffer
    /// with no intermediate buffer and no ``Frame`` built per frame.
    ///
    /// Returns nil, with `offset` unchanged, when the front of the input is not a whole data
    /// frame (a header or body cut by the end of the input, a command) or when the decoder is
    /// in the middle of a frame: ``decode(_:)`` takes it from there. Malformed headers throw
    /// as ``decode(_:)`` does, and the error is sticky.
    @inline(__always)
    public mutating func decodeWholeMessage(_ input: UnsafeRawBufferPointer, at offset: inout Int) throws(ZMTPError) -> Message? {
        guard case .header = phase, header.count == 0, offset < input.count else { return nil }
        do throws(ZMTPError) {
            let first = input[offset]
            if version == .zmtp3, first & FrameFlags.command != 0 { return nil }
            let length = try Self.headerLength(firstOctet: first, version: version)
            let available = input.count - offset
            guard available >= length else { return nil }
            let head = try parseHeader(UnsafeRawBufferPointer(rebasing: input[offset..<(offset + length)]))
            guard head.size <= available - length else { return nil }
            let start = offset + length
            offset = start + head.size
            return message(UnsafeRawBufferPointer(rebasing: input[start..<offset]), more: head.more,
                           available: available - length)
        } catch {
            fail(error)
            throw error
        }
    }

    /// A message part for a body that arrived whole: inline when small, in the receive chunk up
    /// to ``chunkedBodyLimit``, else in memory of its own. `available` is how much input is left
    /// from the body on, which sizes a new chunk.
    @inline(__always)
    private mutating func message(_ body: UnsafeRawBufferPointer, more: Bool, available: Int) -> Message {
        let size = body.count
        if size <= Message.inlineCapacity { return Message(inline: body, more: more) }
        guard size <= Self.chunkedBodyLimit else { return Message(copying: body, more: more) }
        if chunk.size - chunk.used < size || chunk.buffer == nil {
            let capacity = min(max(available, size), Self.chunkCapacity)
            chunk = ReceiveChunk(buffer: MessageBuffer.make(capacity: capacity), used: 0, size: capacity)
        }
        let owner = chunk.buffer.unsafelyUnwrapped
        let destination = owner.base + chunk.used
        destination.copyMemory(from: body.baseAddress.unsafelyUnwrapped, byteCount: size)
        chunk.used += size
        return Message(owner: owner, base: UnsafeRawPointer(destination), count: size, more: more)
    }

    // MARK: Body

    /// Starts the body of `head`, whose first octet is `input[offset]`: builds the frame straight
    /// from `input` when the body is all there, else stores what there is.
    private mutating func startBody(_ head: FrameHead, _ input: UnsafeRawBufferPointer, offset: Int) -> (frame: Frame?, consumed: Int) {
        let available = input.count - offset
        if head.size <= available {
            let body = UnsafeRawBufferPointer(rebasing: input[offset..<(offset + head.size)])
            if head.command { return (.command(Array(body)), offset + head.size) }
            return (.message(message(body, more: head.more, available: available)), offset + head.size)
        }
        let rest = UnsafeRawBufferPointer(rebasing: input[offset...])
        if head.size <= Message.inlineCapacity {
            small.count = 0
            small.append(rest)
        } else {
            // The first allocation of a large body, after the size passed the limit check; a body
            // over the preallocation ceiling gets more room as its octets arrive (grow).
            large = Self.uninitialized(count: min(head.size, Self.preallocationCeiling, bodyRoomLimit))
            filled = 0
            phase = .body(head)
            let taken = appendToLarge(head, rest)
            return (nil, offset + taken)
        }
        phase = .body(head)
        return (nil, input.count)
    }

    /// How many octets of a large body (over ``Message/inlineCapacity``) are still to come while
    /// one is being filled; 0 otherwise.
    public var largeBodyRemaining: Int {
        guard case .body(let head) = phase, head.size > Message.inlineCapacity else { return 0 }
        return head.size - filled
    }

    /// The declared size of the body being received when it cannot go on: its room is full and
    /// ``bodyRoomLimit`` allows no more. Nil while the decoder can take octets.
    public var bodyAwaitingRoom: Int? {
        guard case .body(let head) = phase, head.size > Message.inlineCapacity,
              filled < head.size, filled == large.count, large.count >= bodyRoomLimit else { return nil }
        return head.size
    }

    /// The memory held for the body being received (its room, filled or not); 0 when none is.
    public var bodyRoom: Int {
        guard case .body(let head) = phase, head.size > Message.inlineCapacity else { return 0 }
        return large.count
    }

    /// Adds the front of `input` to the large body being filled, short of its last octet (which
    /// comes through ``decode(_:)`` and completes the frame). Returns how many octets it took.
    ///
    /// A driver that holds no unparsed bytes gives a large body's bytes here straight from its
    /// read, so they are copied once (read buffer to body) instead of twice (read buffer to the
    /// connection's input, input to body).
    public mutating func fillLargeBody(_ input: UnsafeRawBufferPointer) -> Int {
        guard case .body(let head) = phase else { return 0 }
        let take = min(largeBodyRemaining - 1, input.count)
        guard take > 0 else { return 0 }
        return appendToLarge(head, UnsafeRawBufferPointer(rebasing: input[0..<take]))
    }

    /// Lets a driver read a large body's next octets straight into it, with no copy: `read`
    /// gets the free room of the body (never its last octet, which comes through ``decode(_:)``
    /// and completes the frame) and returns how many octets it wrote there (0 or less: none).
    /// Returns what `read` returned; nil, without calling it, when no large body wants octets.
    public mutating func readLargeBody(_ read: (UnsafeMutableRawBufferPointer) -> Int) -> Int? {
        guard case .body(let head) = phase, head.size > Message.inlineCapacity else { return nil }
        let wanted = head.size - filled - 1
        guard wanted > 0 else { return nil }
        if filled == large.count { grow(head, toHold: filled + 1) }
        let room = min(wanted, large.count - filled)
        guard room > 0 else { return nil }
        let start = filled
        let n = large.withUnsafeMutableBytes { raw in
            read(UnsafeMutableRawBufferPointer(rebasing: raw[start..<(start + room)]))
        }
        if n > 0 { filled += min(n, room) }
        return n
    }

    /// An array of `count` octets whose contents are written before they are read.
    private static func uninitialized(count: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    }

    /// How much a large body's room grows at a time once it is full: the declared size is the
    /// peer's word, so room is given in proportion to what has arrived (at most this factor
    /// ahead), never all at once. A peer declaring 2^50 octets gets 1 MiB after sending 256 KiB,
    /// not a 1 PiB allocation that would end the process. A 1 MiB body still grows once.
    public static let growthFactor = 4

    /// Moves the body so far into room for `needed` octets, or as many as ``bodyRoomLimit``
    /// allows. Without a limit the room grows by ``growthFactor``, capped at the body's size; a
    /// driver that sets a limit has accounted for that much room, so the body gets it at once
    /// (one move instead of a chain of them).
    private mutating func grow(_ head: FrameHead, toHold needed: Int) {
        let (multiplied, overflow) = large.count.multipliedReportingOverflow(by: Self.growthFactor)
        let proportional = max(needed, overflow ? head.size : multiplied)
        let size = min(head.size, bodyRoomLimit == .max ? proportional : bodyRoomLimit)
        guard size > large.count else { return }
        var bigger = Self.uninitialized(count: size)
        let count = filled
        large.withUnsafeBytes { old in
            bigger.withUnsafeMutableBytes { new in
                if let from = old.baseAddress, let to = new.baseAddress { to.copyMemory(from: from, byteCount: count) }
            }
        }
        large = bigger
    }

    /// Appends octets of the large body, which never exceed what is still to come, as far as
    /// its room can grow; returns how many it took.
    @discardableResult
    private mutating func appendToLarge(_ head: FrameHead, _ bytes: UnsafeRawBufferPointer) -> Int {
        guard bytes.count > 0 else { return 0 }
        if filled + bytes.count > large.count { grow(head, toHold: filled + bytes.count) }
        let take = min(bytes.count, large.count - filled)
        guard take > 0 else { return 0 }
        let start = filled
        large.withUnsafeMutableBytes { raw in
            UnsafeMutableRawBufferPointer(rebasing: raw[start..<(start + take)])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[0..<take]))
        }
        filled += take
        return take
    }

    /// Adds the front of `input` to a body already started, and completes the frame when the
    /// last octet arrives.
    private mutating func continueBody(_ head: FrameHead, _ input: UnsafeRawBufferPointer) -> (frame: Frame?, consumed: Int) {
        if head.size <= Message.inlineCapacity {
            let take = min(head.size - small.count, input.count)
            small.append(UnsafeRawBufferPointer(rebasing: input[0..<take]))
            guard small.count == head.size else { return (nil, take) }
            phase = .header
            let frame = small.withUnsafeBytes { Self.frame(head, $0) }
            return (frame, take)
        }
        let take = appendToLarge(head, UnsafeRawBufferPointer(rebasing: input[0..<min(head.size - filled, input.count)]))
        guard filled == head.size else { return (nil, take) }
        phase = .header
        let body = large
        large = []
        filled = 0
        let frame: Frame = head.command ? .command(body) : .message(Message(sharing: body[...], more: head.more))
        return (frame, take)
    }

    /// The frame for a complete body in `body`.
    private static func frame(_ head: FrameHead, _ body: UnsafeRawBufferPointer) -> Frame {
        head.command ? .command(Array(body)) : .message(Message(copying: body, more: head.more))
    }
}

// MARK: - Storage

/// A receive chunk and how much of it messages use.
///
/// Sendable although its buffer is shared with messages on other threads: the decoder writes
/// only the part past `used`, which no message refers to yet, and never changes a byte a
/// message refers to.
private struct ReceiveChunk: @unchecked Sendable {
    var buffer: MessageBuffer?
    var used = 0
    var size = 0
}

/// A parsed frame header.
private struct FrameHead: Sendable {
    /// Body octets, already checked against the limit.
    var size: Int
    /// MORE (always false on a command).
    var more: Bool
    /// COMMAND (ZMTP 3.x only).
    var command: Bool
}

/// Up to 16 header octets, inline (the longest header is ZMTP 1.0's 10).
private struct HeaderBuffer: Sendable {
    var storage: (UInt64, UInt64) = (0, 0)
    var count = 0

    var first: UInt8 { Swift.withUnsafeBytes(of: storage) { $0[0] } }

    mutating func append(_ octet: UInt8) {
        let i = count
        Swift.withUnsafeMutableBytes(of: &storage) { $0[i] = octet }
        count += 1
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        let start = count
        precondition(start + bytes.count <= MemoryLayout<(UInt64, UInt64)>.size)
        Swift.withUnsafeMutableBytes(of: &storage) { raw in
            guard let source = bytes.baseAddress, let destination = raw.baseAddress else { return }
            (destination + start).copyMemory(from: source, byteCount: bytes.count)
        }
        count += bytes.count
    }

    func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        let n = count
        return try Swift.withUnsafeBytes(of: storage) { raw throws(E) in try body(UnsafeRawBufferPointer(rebasing: raw[0..<n])) }
    }
}

/// A body of up to ``Message/inlineCapacity`` octets being received, inline.
private struct SmallBody: Sendable {
    var storage: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    var count = 0

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        let start = count
        precondition(start + bytes.count <= Message.inlineCapacity)
        Swift.withUnsafeMutableBytes(of: &storage) { raw in
            guard let source = bytes.baseAddress, let destination = raw.baseAddress else { return }
            (destination + start).copyMemory(from: source, byteCount: bytes.count)
        }
        count += bytes.count
    }

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        let n = count
        return Swift.withUnsafeBytes(of: storage) { body(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
    }
}

/// The decoder's errors, built out of line so the hot path carries no string formatting.
private enum Failure {
    @inline(never)
    static func malformed(_ detail: StaticString) -> ZMTPError {
        .peer(.malformedFrame, detail.description)
    }

    @inline(never)
    static func reservedBits(_ flags: UInt8, version: StaticString) -> ZMTPError {
        .peer(.malformedFrame, "reserved ZMTP \(version) flag bits set: flags 0x\(flags < 16 ? "0" : "")\(String(flags, radix: 16))")
    }

    @inline(never)
    static func sizeOverflow(_ size: UInt64) -> ZMTPError {
        .peer(.malformedFrame, "frame size or length \(size) over 2^63-1")
    }

    @inline(never)
    static func tooLarge(_ size: UInt64, limit: Int?) -> ZMTPError {
        guard let limit else { return .peer(.messageTooLarge, "frame of \(size) bytes cannot be addressed") }
        return .peer(.messageTooLarge, "frame of \(size) bytes over the \(limit)-byte limit")
    }
}
