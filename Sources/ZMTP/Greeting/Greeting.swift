/// The 64-octet ZMTP 3.x greeting (RFC 23 §Greeting, RFC 37 §Formal Grammar):
///
/// ```
/// greeting  = signature version mechanism as-server filler
/// signature = %xFF padding %x7F        ; offsets 0, 1-8, 9; padding = 8OCTET, not significant
/// version   = version-major version-minor   ; offsets 10, 11: %x03 %x01
/// mechanism = 20mechanism-char         ; offsets 12-31, NUL-padded ASCII
/// as-server = %x00 / %x01              ; offset 32
/// filler    = 31%x00                   ; offsets 33-63
/// ```
///
/// Parsing goes through ``detect(_:)``, which also recognises ZMTP 1.0 and 2.0 peers.
public struct Greeting: Hashable, Sendable {
    /// The greeting's length (RFC 23 §Greeting).
    public static let size = 64
    /// The signature's length: `%xFF padding(8) %x7F`.
    public static let signatureSize = 10
    /// The length of a ZMTP 2.0 greeting: signature, revision, socket type (RFC 15 §Greeting).
    public static let zmtp2GreetingSize = 12
    /// The mechanism field's length (RFC 23: `20mechanism-char`).
    public static let mechanismFieldSize = 20

    /// Offsets within the greeting (RFC 23 §Greeting).
    enum Offset {
        static let revision = 10
        static let minor = 11
        static let mechanism = 12
        static let asServer = 32
    }

    /// The major version (revision): 3 for ZMTP 3.x; anything above 3 is a later version.
    public var major: UInt8
    /// The minor version: 1 for ZMTP 3.1 (what we send), 0 for ZMTP 3.0.
    public var minor: UInt8
    /// The raw 20-octet mechanism field, NUL-padded. Compared as 20 octets, as libzmq does.
    public var mechanism: [UInt8]
    /// The as-server octet is non-zero. libzmq always sends 0 and never reads it: roles come from
    /// local configuration (see ``Security``).
    public var asServer: Bool

    /// A ZMTP 3.`minor` greeting announcing `mechanism`.
    public init(minor: UInt8 = 1, mechanism: MechanismName, asServer: Bool = false) {
        self.major = 3
        self.minor = minor
        self.mechanism = mechanism.greetingField
        self.asServer = asServer
    }

    /// Reads octets 10-32 of a full greeting. The padding (1-8) and filler (33-63) are not
    /// looked at (RFC 37 §Version Negotiation: the padding MUST NOT be validated).
    init(parsing bytes: [UInt8]) {
        precondition(bytes.count >= Greeting.size)
        major = bytes[Offset.revision]
        minor = bytes[Offset.minor]
        mechanism = Array(bytes[Offset.mechanism..<(Offset.mechanism + Greeting.mechanismFieldSize)])
        asServer = bytes[Offset.asServer] != 0
    }

    /// The mechanism, when the field is exactly one we know NUL-padded to 20 octets; else nil.
    public var mechanismName: MechanismName? {
        MechanismName.allCases.first { $0.greetingField == mechanism }
    }

    /// Whether the peer speaks ZMTP 3.0 exactly (major 3, minor 0), which libzmq answers with
    /// 3.0 behaviour (`handshake_v3_0`: subscriptions as data frames). Any other ZMTP 3.x
    /// greeting, including majors above 3, is treated as 3.1.
    public var isZMTP30: Bool { major == 3 && minor == 0 }

    /// The 64 octets to send:
    /// ```
    /// FF 00 00 00 00 00 00 00 01 7F  major minor  mechanism(20)  as-server  00 x 31
    /// ```
    /// The padding is libzmq's, `signature(identityLength: 0)`, so a ZMTP 1.0 peer reads the
    /// signature as the header of an empty identity frame (RFC 37 §Detecting ZMTP 1.0 and 2.0
    /// Peers); all-zero padding would read as the invalid length 0.
    public func encoded() -> [UInt8] {
        var out = Greeting.signature(identityLength: 0)
        out.reserveCapacity(Greeting.size)
        out.append(major)
        out.append(minor)
        // Always exactly 20 octets, whatever was stored in `mechanism`.
        out.append(contentsOf: mechanism.prefix(Greeting.mechanismFieldSize))
        out.append(contentsOf: repeatElement(0, count: Greeting.mechanismFieldSize - min(mechanism.count, Greeting.mechanismFieldSize)))
        out.append(asServer ? 1 : 0)
        out.append(contentsOf: repeatElement(0, count: Greeting.size - out.count))
        return out
    }

    /// libzmq's 10-octet signature, `%xFF size(8, network order) %x7F` with size = identity
    /// length + 1. To a ZMTP 1.0 peer it is the header of an identity frame whose body (the
    /// identity) follows (RFC 37 §Detecting ZMTP 1.0 and 2.0 Peers; libzmq `zmtp_engine`).
    /// - Precondition: `identityLength >= 0`.
    public static func signature(identityLength: Int) -> [UInt8] {
        precondition(identityLength >= 0, "identity length must not be negative")
        var out: [UInt8] = [0xFF]
        out.reserveCapacity(signatureSize)
        appendBigEndian(UInt64(identityLength) &+ 1, to: &out)
        out.append(0x7F)
        return out
    }

    // MARK: Detection

    /// Looks at the first octets a peer sent and decides what it speaks (RFC 37 §Detecting ZMTP
    /// 1.0 and 2.0 Peers; libzmq `zmtp_engine_t::receive_greeting` and `select_handshake_fun`).
    ///
    /// Stateless: call it again with the whole accumulated prefix whenever more bytes arrive.
    /// The stages are 1 octet (a first octet other than `FF` is a ZMTP 1.0 length), 10 (the
    /// signature), 11 (the revision), then 12 or 64.
    ///
    /// Revision 2 is refused: RFC 37 calls a peer with version "1 or 2" ZMTP 2.0, while libzmq's
    /// `select_handshake_fun` hands anything but 0, 1 and 3 to its 3.1 handshake. No
    /// implementation sends 2 (ZMTP 2.0 sends 1), and either reading could mis-frame the
    /// stream, so the ambiguity ends the connection instead of guessing.
    ///
    /// - Throws: ``ZMTPError/Code/malformedGreeting`` (blamed on the peer) for revision 2.
    public static func detect(_ bytes: some Collection<UInt8>) throws(ZMTPError) -> GreetingDetection {
        let prefix = Array(bytes.prefix(size))
        // Octet 0: a ZMTP 1.0 short length unless it is the signature's FF.
        guard let first = prefix.first else { return .needMore(total: 1) }
        guard first == 0xFF else { return .zmtp1Unversioned }
        // Octet 9, bit 0: 0 is the flags of a ZMTP 1.0 identity frame with a long length.
        guard prefix.count >= signatureSize else { return .needMore(total: signatureSize) }
        guard prefix[signatureSize - 1] & 0x01 != 0 else { return .zmtp1Unversioned }
        // Octet 10: the revision, which decides how much more to read.
        guard prefix.count > Offset.revision else { return .needMore(total: Offset.revision + 1) }
        let revision = prefix[Offset.revision]
        switch revision {
        case 0, 1:
            // ZMTP 1.0 with a signature (revision 0) or ZMTP 2.0 (revision 1): socket type next.
            guard prefix.count >= zmtp2GreetingSize else { return .needMore(total: zmtp2GreetingSize) }
            return .versioned(revision: revision, socketType: prefix[Offset.minor])
        case 2:
            throw .peer(.malformedGreeting, "greeting revision 2 (ZMTP 2.0 per RFC 37, 3.1 per libzmq)")
        default:
            guard prefix.count >= size else { return .needMore(total: size) }
            return .zmtp3(Greeting(parsing: prefix))
        }
    }
}

/// What the first octets from a peer say about its protocol (RFC 37 §Detecting ZMTP 1.0 and 2.0
/// Peers; libzmq `zmtp_engine_t::receive_greeting`). Produced by ``Greeting/detect(_:)``.
public enum GreetingDetection: Hashable, Sendable {
    /// Undecided: call again once at least `total` octets have arrived in all.
    case needMore(total: Int)
    /// An unversioned ZMTP 1.0 peer: octet 0 is not `FF`, or octet 9 has bit 0 clear. Nothing is
    /// consumed; the octets are its identity frame, in ``FramingVersion/zmtp1`` framing.
    case zmtp1Unversioned
    /// A versioned pre-3.0 peer: octets 0-11 are signature, revision (0: ZMTP 1.0 framing after
    /// the signature, libzmq `handshake_v1_0`; 1: ZMTP 2.0, RFC 15) and socket type (libzmq's
    /// `ZMQ_*` number). These 12 octets are consumed; the identity frame follows.
    case versioned(revision: UInt8, socketType: UInt8)
    /// A ZMTP 3.x peer (revision 3 or higher, RFC 23 §Version Negotiation: higher versions are
    /// accepted). The 64 octets are consumed.
    case zmtp3(Greeting)
}
