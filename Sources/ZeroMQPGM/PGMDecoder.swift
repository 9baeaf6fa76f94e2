import ZMTP

/// The receive state of one PGM source (one TSI): turns its APDUs, in sequence order, into whole
/// messages. libzmq keeps the same state per TSI in `pgm_receiver_t` (`joined` + a `v1_decoder_t`);
/// this one also refuses to decode across lost data.
///
/// ```
/// APDU    = offset stream         ; offset: 2 octets, network order (see PGMEncoder)
/// stream  = *OCTET                ; ZMTP/1.0 frames (RFC 13), continuing across APDUs
/// ```
///
/// Call order, for each APDU `pgm_recvmsgv` hands out (`skb->data`, `skb->len`,
/// `skb->sequence`, with the TSI choosing the decoder):
/// 1. ``receive(_:sequence:)-([UInt8],_)``; then drain ``nextPart()`` (or ``nextMessage()``) until nil.
///    A thrown ``PGMError`` concerns this source only: the decoder has already dropped the
///    broken message and waits for the next message start, so keep feeding it.
/// 2. On `PGM_IO_STATUS_RESET` for this TSI, ``handleReset()``.
///
/// What it guarantees:
/// - **Joining.** A new source, and a source after any loss or error, is joined only at an APDU
///   whose offset names a message start; APDUs with offset %xFFFF or an offset equal to the
///   stream length (nothing starts there: NOTES.md §3, #11) are skipped, and so are the
///   continuation octets before the offset (libzmq `pgm_receiver.cpp` does the same).
/// - **Whole messages.** Parts are held until the last one (no MORE) arrives, so a multipart
///   message is delivered whole or not at all.
/// - **Loss.** libpgm hands out the APDUs after a hole before it reports RESET (NOTES.md §4), and
///   libzmq decodes straight across the hole, delivering misframed messages. Here every
///   sequence number must follow the previous one; a gap drops the partial message, counts the
///   missing APDUs and resynchronises at the next message start.
/// - **Consistency.** While joined, the offset must agree with the framing: it must equal the
///   position where the first message starts in this APDU. A disagreement is an error
///   (``PGMError/Code/offsetMismatch``) instead of silently misframed data.
/// - **Limits.** A frame over ``Limits/maxMessageSize`` is refused from its header, before its
///   body is stored (libzmq `v1_decoder_t` with `ZMQ_MAXMSGSIZE`); a message with more than
///   ``Limits/maxPartsPerMessage`` parts is refused as its parts arrive.
public struct PGMDecoder: Sendable {
    /// What a source may make this decoder hold.
    public struct Limits: Hashable, Sendable {
        /// The default for ``maxPartsPerMessage``.
        public static let defaultMaxPartsPerMessage = 65_536

        /// The largest frame body, or nil for none (libzmq `ZMQ_MAXMSGSIZE`, -1 by default,
        /// which libzmq checks per frame).
        public var maxMessageSize: Int?
        /// The most parts one message may have; held parts cost memory until the last arrives.
        public var maxPartsPerMessage: Int

        /// - Parameters:
        ///   - maxMessageSize: the largest frame body; nil or negative means no limit.
        ///   - maxPartsPerMessage: at least 1.
        public init(maxMessageSize: Int? = nil, maxPartsPerMessage: Int = Limits.defaultMaxPartsPerMessage) {
            self.maxMessageSize = maxMessageSize.flatMap { $0 >= 0 ? $0 : nil }
            self.maxPartsPerMessage = max(1, maxPartsPerMessage)
        }
    }

    /// Counters since the decoder was created.
    public struct Statistics: Hashable, Sendable {
        /// APDUs given to ``receive(_:sequence:)-([UInt8],_)``.
        public var apdus = 0
        /// APDUs passed over whole while waiting for a message start.
        public var skippedAPDUs = 0
        /// Sequence numbers missing between consecutive APDUs (lost to the network for good).
        public var lostAPDUs = 0
        /// Sequence discontinuities seen (each gap, or a sequence number that did not advance).
        public var sequenceGaps = 0
        /// `PGM_IO_STATUS_RESET` reports (``handleReset()`` calls).
        public var resets = 0
        /// APDUs refused as malformed (each one a thrown ``PGMError``).
        public var malformedAPDUs = 0
        /// Partly received messages discarded because of loss, a reset or a malformed APDU.
        public var droppedMessages = 0
        /// Whole messages made available to ``nextPart()``.
        public var deliveredMessages = 0
    }

    /// Where the source's stream stands.
    private enum State: Sendable {
        /// Not joined: the next message start (an APDU offset) is awaited.
        case awaitingMessageStart
        /// Joined: the stream is decoded from the last message start on.
        case joined(Joined)
    }

    /// The state of a joined stream.
    private struct Joined: Sendable {
        /// ZMTP/1.0 frames, which may be split across APDUs.
        var frames: FrameDecoder
        /// Whether `frames` holds part of a frame.
        var midFrame = false
        /// The parts of the message being received, none of them the last.
        var partial: [Message] = []

        init(limits: Limits) {
            frames = FrameDecoder(version: .zmtp1, maxMessageSize: limits.maxMessageSize)
        }

        /// Whether the stream is at a message start: nothing of a message is held.
        var atMessageStart: Bool { !midFrame && partial.isEmpty }
    }

    /// The limits this decoder enforces.
    public let limits: Limits
    /// Counters since creation.
    public private(set) var statistics = Statistics()

    private var state = State.awaitingMessageStart
    /// The sequence number of the last APDU received.
    private var lastSequence: UInt32?
    /// Gaps seen that libpgm has not yet reported with a RESET (see ``handleReset()``).
    private var unreportedGaps = 0
    /// Parts of whole messages, not yet pulled, from `readyHead` on.
    private var ready: [Message] = []
    private var readyHead = 0

    /// Creates the state of a source not yet heard from.
    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Whether the decoder is joined to the source's stream (it has seen a message start since
    /// the last loss).
    public var isJoined: Bool {
        switch state {
        case .awaitingMessageStart: return false
        case .joined: return true
        }
    }

    // MARK: Input

    /// Decodes one APDU (`skb->data`, `skb->len`) whose PGM sequence number is `sequence`.
    /// - Throws: a ``PGMError`` blamed on the peer when the APDU breaks the format:
    ///   ``PGMError/Code/truncatedAPDU``, ``PGMError/Code/offsetOutOfRange``,
    ///   ``PGMError/Code/offsetMismatch``, ``PGMError/Code/malformedFrame``,
    ///   ``PGMError/Code/messageTooLarge`` or ``PGMError/Code/tooManyParts``. The decoder has then
    ///   dropped the partial message and resumes at the next message start; whole messages
    ///   completed before the error remain available.
    public mutating func receive(_ apdu: UnsafeRawBufferPointer, sequence: UInt32) throws(PGMError) {
        statistics.apdus += 1
        trackSequence(sequence)
        do throws(PGMError) {
            try decode(apdu)
        } catch {
            statistics.malformedAPDUs += 1
            loseSync()
            throw error
        }
    }

    /// Decodes one APDU held in an array.
    public mutating func receive(_ apdu: [UInt8], sequence: UInt32) throws(PGMError) {
        var failure: PGMError?
        apdu.withUnsafeBytes { raw in
            do throws(PGMError) {
                try receive(raw, sequence: sequence)
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
    }

    /// Handles libpgm's `PGM_IO_STATUS_RESET` for this source (unrecoverable loss).
    ///
    /// libpgm reports a hole only after handing out the APDUs behind it, so the gap has usually
    /// been seen already in the sequence numbers and acted on; the RESET then only confirms it,
    /// and dropping the message received since would lose good data. A RESET with no gap seen
    /// since the last one drops the partial message and resynchronises, as libzmq does.
    /// - Returns: whether the RESET revealed loss not already seen as a sequence gap (so a
    ///   caller reports each loss once).
    @discardableResult
    public mutating func handleReset() -> Bool {
        statistics.resets += 1
        if unreportedGaps > 0 {
            unreportedGaps -= 1
            return false
        }
        loseSync()
        return true
    }

    // MARK: Output

    /// The next part of a whole message, in order (``/ZMTP/Message/more`` set on all but the last of
    /// each message), or nil when none is ready.
    public mutating func nextPart() -> Message? {
        guard readyHead < ready.count else { return nil }
        let part = ready[readyHead]
        readyHead += 1
        if readyHead == ready.count {
            ready.removeAll(keepingCapacity: true)
            readyHead = 0
        }
        return part
    }

    /// The next whole message as an array of parts, or nil when none is ready. Allocates one
    /// array per message; ``nextPart()`` does not.
    public mutating func nextMessage() -> [Message]? {
        guard var part = nextPart() else { return nil }
        var parts = [part]
        while part.more, let next = nextPart() {
            parts.append(next)
            part = next
        }
        return parts
    }

    /// Whether ``nextPart()`` has something.
    public var hasReadyParts: Bool { readyHead < ready.count }

    // MARK: Sequence and synchronisation

    /// Checks that `sequence` follows the previous APDU's; anything else is a discontinuity.
    private mutating func trackSequence(_ sequence: UInt32) {
        defer { lastSequence = sequence }
        guard let last = lastSequence, sequence != last &+ 1 else { return }
        // RFC 3208 §3: sequence numbers compare in serial arithmetic; a forward distance below
        // 2^31 counts as that many lost APDUs, anything else (a repeat or a step back) as none.
        let missing = sequence &- last &- 1
        if missing < 0x8000_0000 { statistics.lostAPDUs += Int(missing) }
        statistics.sequenceGaps += 1
        unreportedGaps += 1
        loseSync()
    }

    /// Drops anything of a message held and waits for the next message start.
    private mutating func loseSync() {
        switch state {
        case .awaitingMessageStart:
            return
        case .joined(let joined):
            if !joined.atMessageStart { statistics.droppedMessages += 1 }
            state = .awaitingMessageStart
        }
    }

    // MARK: Decoding

    private mutating func decode(_ apdu: UnsafeRawBufferPointer) throws(PGMError) {
        guard apdu.count >= 2 else {
            throw .peer(.truncatedAPDU, "APDU of \(apdu.count) octets has no 2-octet offset")
        }
        let offset = UInt16(apdu[0]) << 8 | UInt16(apdu[1])
        let stream = UnsafeRawBufferPointer(rebasing: apdu[2...])
        guard offset == PGMEncoder.noMessageStart || Int(offset) <= stream.count else {
            throw .peer(.offsetOutOfRange, "offset \(offset) past the \(stream.count)-octet stream")
        }
        switch state {
        case .awaitingMessageStart:
            guard offset != PGMEncoder.noMessageStart, Int(offset) < stream.count else {
                statistics.skippedAPDUs += 1
                return
            }
            // The offset is by definition this APDU's first message start: nothing to verify.
            var joined = Joined(limits: limits)
            defer { state = .joined(joined) }
            try decodeStream(stream, from: Int(offset), offset: offset, verified: true, into: &joined)
        case .joined(var joined):
            // Taken out of `state` so that appending parts does not copy the array; put back
            // even on a throw, so that the caller's clean-up sees (and counts) the partial message.
            state = .awaitingMessageStart
            defer { state = .joined(joined) }
            try decodeStream(stream, from: 0, offset: offset, verified: false, into: &joined)
        }
    }

    /// Decodes `stream` from `start`. Until `verified`, the first message start met must be
    /// where `offset` says; whole messages are released only after that check.
    private mutating func decodeStream(_ stream: UnsafeRawBufferPointer, from start: Int, offset: UInt16,
                                       verified startVerified: Bool, into joined: inout Joined) throws(PGMError) {
        var verified = startVerified
        var position = start
        if !verified, joined.atMessageStart {
            try Self.verify(offset, messageStartAt: position, streamCount: stream.count)
            verified = true
        }
        while position < stream.count {
            let result: (frame: Frame?, consumed: Int)
            do throws(ZMTPError) {
                result = try joined.frames.decode(UnsafeRawBufferPointer(rebasing: stream[position...]))
            } catch {
                throw PGMError(framing: error)
            }
            position += result.consumed
            guard let frame = result.frame else {
                // Every octet was taken and a frame is still incomplete.
                joined.midFrame = true
                break
            }
            joined.midFrame = false
            switch frame {
            case .message(let part):
                guard joined.partial.count < limits.maxPartsPerMessage else {
                    throw .peer(.tooManyParts, "more than \(limits.maxPartsPerMessage) parts in one message")
                }
                joined.partial.append(part)
                guard !part.more else { continue }
                if !verified {
                    try Self.verify(offset, messageStartAt: position, streamCount: stream.count)
                    verified = true
                }
                ready.append(contentsOf: joined.partial)
                joined.partial.removeAll(keepingCapacity: true)
                statistics.deliveredMessages += 1
            case .command:
                // ZMTP/1.0 has no command frames; the core's decoder never returns one for it.
                throw .peer(.malformedFrame, "command frame in a ZMTP/1.0 stream")
            }
        }
        if !verified, offset != PGMEncoder.noMessageStart {
            throw .peer(.offsetMismatch, "offset \(offset) but no message starts in this APDU")
        }
    }

    /// The check behind libzmq's sender rule (`pgm_sender.cpp`): a message starting at
    /// `position` inside the stream must be named by the offset; a message boundary exactly at
    /// the end is written as %xFFFF (the APDU was full) or as the stream length (nothing more
    /// was queued).
    private static func verify(_ offset: UInt16, messageStartAt position: Int, streamCount: Int) throws(PGMError) {
        let agrees = position < streamCount
            ? Int(offset) == position
            : offset == PGMEncoder.noMessageStart || Int(offset) == streamCount
        guard agrees else {
            throw .peer(.offsetMismatch, "offset \(offset), but the framing puts the first message start at \(position)")
        }
    }
}
