import ZMTP

/// The one error type of the PGM layer: an endpoint libzmq would refuse, an option value libzmq
/// would refuse, or an APDU that breaks libzmq's PGM payload format.
///
/// Like ``/ZMTP/ZMTPError`` it carries an extensible ``Code`` and a ``/ZMTP/ZMTPError/Blame``. Framing codes
/// share ``/ZMTP/ZMTPError``'s raw values (``Code/malformedFrame``, ``Code/messageTooLarge``), so a
/// socket layer can report both through the same monitor events; ``zmtpError`` converts.
public struct PGMError: Error, Hashable, Sendable, CustomStringConvertible {
    /// An extensible error code. Framing codes reuse ``/ZMTP/ZMTPError/Code`` raw values; codes of the
    /// PGM layer live in the `0x5A00_01xx` range.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The number (monitor events carry it).
        public var rawValue: UInt32
        /// A code from its number.
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        // MARK: Framing (same raw values as ZMTPError.Code)
        /// A ZMTP/1.0 frame header inside the APDU stream is invalid (length 0).
        public static let malformedFrame = Code(rawValue: ZMTPError.Code.malformedFrame.rawValue)
        /// A frame is larger than the configured maximum message size (libzmq: EMSGSIZE).
        public static let messageTooLarge = Code(rawValue: ZMTPError.Code.messageTooLarge.rawValue)

        // MARK: Endpoints (libzmq: EINVAL, EPROTONOSUPPORT, or a stale errno)
        /// The text is not `scheme://address` with a non-empty address (libzmq `parse_uri`: EINVAL).
        public static let malformedEndpoint = Code(rawValue: 0x5A00_0101)
        /// The scheme is not exactly `pgm` or `epgm` (libzmq: EPROTONOSUPPORT).
        public static let unsupportedScheme = Code(rawValue: 0x5A00_0102)
        /// No `:` separates the port (libzmq `pgm_socket_t::init_address`: EINVAL).
        public static let missingPort = Code(rawValue: 0x5A00_0103)
        /// The port is not a decimal number in 1...65535 (libzmq refuses 0 with a stale errno and
        /// reads the rest with `atoi`; see ``PGMEndpoint``).
        public static let invalidPort = Code(rawValue: 0x5A00_0104)
        /// The network part (before the port) has 255 or more bytes (libzmq copies it into a
        /// 256-byte buffer and refuses longer ones: EINVAL).
        public static let networkTooLong = Code(rawValue: 0x5A00_0105)
        /// The network part contains a byte libpgm cannot take (NUL).
        public static let invalidNetwork = Code(rawValue: 0x5A00_0106)

        // MARK: Options
        /// An option value outside what libzmq or libpgm accept (ZMQ_RATE, ZMQ_RECOVERY_IVL,
        /// ZMQ_MULTICAST_MAXTPDU, ZMQ_MULTICAST_HOPS; libzmq: EINVAL).
        public static let invalidOption = Code(rawValue: 0x5A00_0110)

        // MARK: APDUs (libzmq asserts on these: pgm_receiver.cpp)
        /// The APDU is shorter than its 2-octet offset.
        public static let truncatedAPDU = Code(rawValue: 0x5A00_0120)
        /// The offset points past the end of the payload (and is not 0xFFFF).
        public static let offsetOutOfRange = Code(rawValue: 0x5A00_0121)
        /// The offset disagrees with where the framing says the first message starts.
        public static let offsetMismatch = Code(rawValue: 0x5A00_0122)
        /// A multipart message has more parts than ``PGMDecoder/Limits/maxPartsPerMessage``.
        public static let tooManyParts = Code(rawValue: 0x5A00_0123)

        public var description: String {
            switch self {
            case .malformedFrame: return "MALFORMED_FRAME"
            case .messageTooLarge: return "MESSAGE_TOO_LARGE"
            case .malformedEndpoint: return "MALFORMED_ENDPOINT"
            case .unsupportedScheme: return "UNSUPPORTED_SCHEME"
            case .missingPort: return "MISSING_PORT"
            case .invalidPort: return "INVALID_PORT"
            case .networkTooLong: return "NETWORK_TOO_LONG"
            case .invalidNetwork: return "INVALID_NETWORK"
            case .invalidOption: return "INVALID_OPTION"
            case .truncatedAPDU: return "TRUNCATED_APDU"
            case .offsetOutOfRange: return "OFFSET_OUT_OF_RANGE"
            case .offsetMismatch: return "OFFSET_MISMATCH"
            case .tooManyParts: return "TOO_MANY_PARTS"
            default: return "0x" + String(rawValue, radix: 16)
            }
        }
    }

    /// What went wrong.
    public var code: Code
    /// Whose fault it was: ``/ZMTP/ZMTPError/Blame/apiMisuse`` for endpoints and options,
    /// ``/ZMTP/ZMTPError/Blame/peerMisbehaved`` for APDUs.
    public var blame: ZMTPError.Blame
    /// Human-readable detail.
    public var detail: String

    /// Creates an error.
    public init(_ code: Code, blame: ZMTPError.Blame, _ detail: String = "") {
        self.code = code
        self.blame = blame
        self.detail = detail
    }

    /// The same failure as a ``/ZMTP/ZMTPError`` (same raw code, blame and detail), for layers that
    /// report every protocol failure through one type.
    public var zmtpError: ZMTPError {
        ZMTPError(ZMTPError.Code(rawValue: code.rawValue), blame: blame, detail.isEmpty ? code.description : detail)
    }

    public var description: String {
        detail.isEmpty ? "\(code) (\(blame.rawValue))" : "\(code) (\(blame.rawValue)): \(detail)"
    }

    static func misuse(_ code: Code, _ detail: String) -> PGMError {
        PGMError(code, blame: .apiMisuse, detail)
    }

    static func peer(_ code: Code, _ detail: String) -> PGMError {
        PGMError(code, blame: .peerMisbehaved, detail)
    }

    /// A framing error from the core's decoder, kept with its code.
    init(framing error: ZMTPError) {
        self.init(Code(rawValue: error.code.rawValue), blame: error.blame, error.detail)
    }
}
