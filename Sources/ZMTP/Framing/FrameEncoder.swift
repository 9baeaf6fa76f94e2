/// Writes frame headers and frames into a buffer the caller owns (RFC 23/37 §Framing, RFC 15,
/// RFC 13).
///
/// Like libzmq's encoders, it chooses the short size whenever the body fits: LONG only for bodies
/// over 255 octets in ZMTP 2.0/3.x (`v2_encoder`), the `%xFF` escape only for a length (flags +
/// body) of 255 or more in ZMTP 1.0 (`v1_encoder`). Bytes are appended; nothing is cleared.
public enum FrameEncoder {
    /// Appends the header of a frame whose body is `size` octets.
    ///
    /// ```
    /// ZMTP 3.x: flags(MORE | LONG | COMMAND) size(1 octet, or 8 octets when size > 255)
    /// ZMTP 2.0: flags(MORE | LONG)           size(1 octet, or 8 octets when size > 255)
    /// ZMTP 1.0: length(size + 1: 1 octet when < 255, else %xFF + 8 octets) flags(MORE)
    /// ```
    /// - Precondition: `size >= 0`, and `command` only with ``FramingVersion/zmtp3`` (ZMTP 1.0 and
    ///   2.0 have no command frames); both are the caller's own invariants, never peer input.
    public static func encodeHeader(size: Int, more: Bool, command: Bool, version: FramingVersion, into out: inout [UInt8]) {
        precondition(size >= 0, "frame size must not be negative")
        switch version {
        case .zmtp3, .zmtp2:
            precondition(!command || version == .zmtp3, "only ZMTP 3.x has command frames")
            var flags: UInt8 = more ? FrameFlags.more : 0
            if command { flags |= FrameFlags.command }
            if size > FrameFlags.maxShortSize {
                out.append(flags | FrameFlags.long)
                appendBigEndian(UInt64(size), to: &out)
            } else {
                out.append(flags)
                out.append(UInt8(truncatingIfNeeded: size))
            }
        case .zmtp1:
            precondition(!command, "ZMTP 1.0 has no command frames")
            // The length counts the flags octet; Int.max - 1 bodies cannot exist in memory, so
            // size + 1 never overflows for a real body, but stay safe for any Int.
            let length = UInt64(size) &+ 1
            if length <= UInt64(FrameFlags.zmtp1MaxShortLength) {
                out.append(UInt8(truncatingIfNeeded: length))
            } else {
                out.append(FrameFlags.zmtp1LongEscape)
                appendBigEndian(length, to: &out)
            }
            out.append(more ? FrameFlags.more : 0)
        }
    }

    /// Appends a whole message frame: its header (MORE from ``Message/more``) and its body.
    public static func encode(_ message: Message, version: FramingVersion, into out: inout [UInt8]) {
        let size = message.count
        guard version != .zmtp1, size <= stagedBodyCapacity else {
            encodeHeader(size: size, more: message.more, command: false, version: version, into: &out)
            message.withUnsafeBytes { out.append(contentsOf: $0.assumingMemoryBound(to: UInt8.self)) }
            return
        }
        // The common frame, short and small: header and body assembled on the stack and
        // appended at once (one capacity check instead of three), in a buffer sized to the body.
        if size <= Message.inlineCapacity {
            var frame: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)
            stage(message, in: &frame, into: &out)
        } else {
            var frame: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                        UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            stage(message, in: &frame, into: &out)
        }
    }

    /// The largest body ``encode(_:version:into:)`` assembles with its short header on the stack
    /// (a frame of 128 bytes at most).
    static var stagedBodyCapacity: Int { 126 }

    /// Writes a short frame (flags, one-octet size, body) into `frame`, then appends it to `out`.
    /// - Precondition: `frame` holds at least the body's size plus 2 bytes.
    @inline(__always)
    private static func stage<Frame>(_ message: Message, in frame: inout Frame, into out: inout [UInt8]) {
        let size = message.count
        let flags = message.more ? FrameFlags.more : 0
        // The message is read before the closures, which then capture none of it: a message
        // captured by the inner closure was copied (a retain and a release) per frame.
        message.withUnsafeBytes { body in
            withUnsafeMutableBytes(of: &frame) { raw in
                precondition(size + 2 <= raw.count, "a staged frame fits its buffer")
                raw[0] = flags
                raw[1] = UInt8(truncatingIfNeeded: size)
                if let source = body.baseAddress, size > 0 { (raw.baseAddress! + 2).copyMemory(from: source, byteCount: size) }
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[0..<(size + 2)]).assumingMemoryBound(to: UInt8.self))
            }
        }
    }

    /// Appends a ZMTP 3.x command frame (RFC 23 §Commands):
    /// ```
    /// command      = command-size command-body
    /// command-size = %x04 short-size / %x06 long-size   ; long only when the body is over 255
    /// ```
    /// `body` is `name-len name data`, as built by ``Command/encode(into:)``.
    public static func encodeCommand(_ body: [UInt8], into out: inout [UInt8]) {
        encodeHeader(size: body.count, more: false, command: true, version: .zmtp3, into: &out)
        out.append(contentsOf: body)
    }

    /// The number of header octets ``encodeHeader(size:more:command:version:into:)`` writes for a
    /// body of `bodySize` octets: 2 or 9 in ZMTP 2.0/3.x, 2 or 10 in ZMTP 1.0.
    public static func headerSize(bodySize: Int, version: FramingVersion) -> Int {
        switch version {
        case .zmtp3, .zmtp2:
            return bodySize > FrameFlags.maxShortSize ? 9 : 2
        case .zmtp1:
            return bodySize < FrameFlags.zmtp1MaxShortLength ? 2 : 10
        }
    }
}
