import ZMTP

/// Packs outgoing message parts into PGM APDUs byte for byte as libzmq's `pgm_sender_t` does
/// (`pgm_sender.cpp` `out_event`), so a libzmq SUB reads them and vice versa.
///
/// ```
/// APDU    = offset stream                 ; at most `maxTSDUSize` octets (PGM_MSS: 1428 for epgm at MTU 1500)
/// offset  = 2OCTET                        ; network order: where the first message starts in `stream`,
///                                         ; %xFFFF when none does
/// stream  = *OCTET                        ; ZMTP/1.0 frames (RFC 13), cut anywhere: headers and
///                                         ; bodies continue in the next APDU
/// ```
/// libzmq's offset rule, kept exactly: the offset is set at the first point in the APDU where
/// the previous part had no MORE flag and everything loaded so far is written. So when the APDU
/// ends just after a message and nothing else is queued, the offset equals the stream length
/// (NOTES.md §3, packet #11), and when a message ends exactly at the APDU's end the offset is
/// %xFFFF. OpenPGM never fragments these APDUs: each is at most one TSDU.
///
/// Call order: ``enqueue(_:)`` parts (``/ZMTP/Message/more`` set on all but the last of a message),
/// then ``nextAPDU(into:)`` until it returns false; each APDU goes to one `pgm_send`. An APDU
/// that `pgm_send` refused (RATE_LIMITED, WOULD_BLOCK) must be retried as is, not re-encoded.
/// Parts are held by reference (large bodies are shared, not copied) until written; the part
/// queue and the caller's APDU buffer are reused, so steady sending allocates nothing.
public struct PGMEncoder: Sendable {
    /// The smallest TSDU that carries the 2-octet offset and one stream octet.
    public static let minTSDUSize = 3
    /// The largest TSDU: the PGM header's TSDU length is 16 bits (RFC 3208 §8), and a stream of
    /// up to 65533 octets keeps every real offset below the %xFFFF marker.
    public static let maxTSDUSize = Int(UInt16.max)
    /// The offset value meaning "no message starts in this APDU".
    public static let noMessageStart: UInt16 = 0xFFFF

    /// The largest APDU produced (the socket's `PGM_MSS`).
    public let maxTSDUSize: Int

    /// Parts not yet started, oldest first, from `queueHead` on.
    private var queue: [Message] = []
    private var queueHead = 0
    /// The part being written and how far.
    private var current: CurrentPart?
    /// The MORE flag of the last part loaded (libzmq's `more_flag`), which decides whether a
    /// message can start after it.
    private var lastLoadedMore = false

    /// The current part's ZMTP/1.0 header (2 or 10 octets), rebuilt in place for each part.
    private var header: [UInt8] = []

    /// A part being written: its header (in `header`) then its body.
    private struct CurrentPart: Sendable {
        var headerCount: Int
        var part: Message
        /// Octets of header + body already written.
        var written: Int
        var total: Int { headerCount + part.count }
    }

    /// - Parameter maxTSDUSize: the socket's maximum TSDU (`pgm_getsockopt(PGM_MSS)`).
    /// - Throws: ``PGMError/Code/invalidOption`` when it is outside
    ///   ``minTSDUSize``...``maxTSDUSize-swift.type.property``.
    public init(maxTSDUSize: Int) throws(PGMError) {
        guard (Self.minTSDUSize...Self.maxTSDUSize).contains(maxTSDUSize) else {
            throw .misuse(.invalidOption, "TSDU size \(maxTSDUSize) outside \(Self.minTSDUSize)...\(Self.maxTSDUSize)")
        }
        self.maxTSDUSize = maxTSDUSize
    }

    /// Queues one message part; ``/ZMTP/Message/more`` says whether the message continues.
    public mutating func enqueue(_ part: Message) {
        queue.append(part)
    }

    /// Parts queued and not yet fully written, counting the one in progress.
    public var pendingParts: Int { queue.count - queueHead + (current == nil ? 0 : 1) }

    /// Whether ``nextAPDU(into:)`` has anything to write.
    public var hasPendingData: Bool { pendingParts > 0 }

    /// Writes the next APDU into `apdu` (cleared first, its capacity kept): the offset, then as
    /// many queued frame octets as fit in ``maxTSDUSize-swift.property``.
    /// - Returns: false, leaving `apdu` empty, when nothing is queued.
    public mutating func nextAPDU(into apdu: inout [UInt8]) -> Bool {
        apdu.removeAll(keepingCapacity: true)
        apdu.reserveCapacity(maxTSDUSize)
        apdu.append(0xFF)
        apdu.append(0xFF)
        let room = maxTSDUSize - 2
        var offset = Self.noMessageStart
        var written = writeCurrent(into: &apdu, room: room)
        while written < room {
            if !lastLoadedMore, offset == Self.noMessageStart {
                offset = UInt16(truncatingIfNeeded: written)
            }
            guard let part = dequeue() else { break }
            lastLoadedMore = part.more
            // RFC 13: length(1, or %xFF + 8 octets; counts the flags) flags(bit0 MORE) body
            header.removeAll(keepingCapacity: true)
            FrameEncoder.encodeHeader(size: part.count, more: part.more, command: false, version: .zmtp1, into: &header)
            current = CurrentPart(headerCount: header.count, part: part, written: 0)
            written += writeCurrent(into: &apdu, room: room - written)
        }
        guard written > 0 else {
            apdu.removeAll(keepingCapacity: true)
            return false
        }
        apdu[0] = UInt8(truncatingIfNeeded: offset >> 8)
        apdu[1] = UInt8(truncatingIfNeeded: offset)
        return true
    }

    /// Writes up to `room` octets of the current part; clears it when done.
    private mutating func writeCurrent(into apdu: inout [UInt8], room: Int) -> Int {
        guard var state = current, room > 0 else { return 0 }
        current = nil
        var used = 0
        if state.written < state.headerCount {
            let take = min(state.headerCount - state.written, room)
            apdu.append(contentsOf: header[state.written..<(state.written + take)])
            state.written += take
            used += take
        }
        if used < room, state.written >= state.headerCount {
            let bodyStart = state.written - state.headerCount
            let take = min(state.part.count - bodyStart, room - used)
            if take > 0 {
                state.part.withUnsafeBytes { body in
                    apdu.append(contentsOf: UnsafeRawBufferPointer(rebasing: body[bodyStart..<(bodyStart + take)]))
                }
                state.written += take
                used += take
            }
        }
        if state.written < state.total { current = state }
        return used
    }

    private mutating func dequeue() -> Message? {
        guard queueHead < queue.count else { return nil }
        let part = queue[queueHead]
        queueHead += 1
        if queueHead == queue.count {
            queue.removeAll(keepingCapacity: true)
            queueHead = 0
        } else if queueHead >= 64, queueHead * 2 >= queue.count {
            queue.removeFirst(queueHead)
            queueHead = 0
        }
        return part
    }
}
