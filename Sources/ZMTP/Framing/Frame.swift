/// A decoded frame: one message part, or the body of one command.
///
/// RFC 23/37 §Framing: a frame is a flags octet, a size and a body. The COMMAND flag (ZMTP 3.x
/// only) says whether the body is a command (`name-len name data`, see ``Command``) or a part of
/// an application message.
public enum Frame: Hashable, Sendable {
    /// A message part; ``Message/more`` carries the frame's MORE flag.
    case message(Message)
    /// A command frame's body, `name-len(1) name(1..255) data` (RFC 23 §Commands). MORE is never
    /// set on a command frame.
    case command([UInt8])
}

/// Which framing syntax a peer speaks. The greeting decides it (RFC 37 §Backwards
/// Interoperability; libzmq `zmtp_engine_t::select_handshake_fun`), and a PGM stream always uses
/// ``zmtp1`` with no greeting at all.
public enum FramingVersion: Hashable, Sendable {
    /// ZMTP 3.0 and 3.1 (RFC 23 §Framing, RFC 37 §Framing):
    /// ```
    /// frame = flags size body
    /// flags = OCTET   ; bit0 MORE, bit1 LONG, bit2 COMMAND, bits 7-3 reserved (zero)
    /// size  = OCTET   ; LONG = 0: body of 0..255 octets
    ///       / 8OCTET  ; LONG = 1: body of 0..2^63-1 octets, network byte order
    /// ```
    /// libzmq uses the same framing for 3.0 peers (`v2_decoder`), so this case serves both.
    case zmtp3
    /// ZMTP 2.0 (RFC 15 §Framing): as ``zmtp3`` but with no COMMAND bit; flags bits 7-2 are
    /// reserved, and a frame with any of them set is malformed.
    case zmtp2
    /// ZMTP 1.0 (RFC 13 §Framing), used by unversioned and revision-0 peers and by PGM:
    /// ```
    /// frame  = length flags body
    /// length = OCTET          ; 1..254: flags + body octets
    ///        / %xFF 8OCTET    ; escape, then a 64-bit length in network byte order
    /// flags  = OCTET          ; bit0 MORE, other bits ignored
    /// ```
    /// The length counts the flags octet, so a length of 0 is malformed (libzmq `v1_decoder`:
    /// EPROTO).
    case zmtp1
}

/// The flag bits and size limits of the frame header (RFC 23/37 §Framing, RFC 15, RFC 13).
enum FrameFlags {
    /// Bit 0, MORE: more frames of the same message follow (all versions).
    static let more: UInt8 = 0x01
    /// Bit 1, LONG: the size is 8 octets (ZMTP 2.0 and 3.x).
    static let long: UInt8 = 0x02
    /// Bit 2, COMMAND: the frame is a command (ZMTP 3.x).
    static let command: UInt8 = 0x04
    /// Bits 7-3: reserved in ZMTP 3.x and MUST be zero (RFC 37 §Framing).
    static let reservedZMTP3: UInt8 = 0xF8
    /// Bits 7-2: reserved in ZMTP 2.0 (RFC 15 §Framing), where bit 2 has no meaning.
    static let reservedZMTP2: UInt8 = 0xFC
    /// The largest body a short (1-octet) size can carry in ZMTP 2.0/3.x.
    static let maxShortSize = 255
    /// ZMTP 1.0: the octet that announces an 8-octet length (RFC 13).
    static let zmtp1LongEscape: UInt8 = 0xFF
    /// ZMTP 1.0: the largest length (flags + body) a 1-octet length can carry; 0xFF is the escape.
    static let zmtp1MaxShortLength = 254
    /// The largest header any version uses: ZMTP 1.0's `%xFF 8OCTET flags`.
    static let maxHeaderSize = 10
}
