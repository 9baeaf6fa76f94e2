/// The one error type of the ZMTP core.
///
/// Every failure carries a ``Code`` (mirroring libzmq's `ZMQ_PROTOCOL_ERROR_*` numbers where one
/// exists, so monitor events line up with libzmq's) and a ``Blame`` saying whose fault it was.
/// Errors raised by a ``Connection`` are sticky: once one is reported, every later call reports it.
public struct ZMTPError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Who caused the failure.
    public enum Blame: String, Hashable, Sendable {
        /// The peer sent bytes that break the protocol (malformed frame, bad box, wrong order).
        case peerMisbehaved
        /// The peer is well-formed but cannot talk to us (mechanism or socket-type mismatch,
        /// a ZMTP 1.0/2.0 peer when security is configured, an authentication refusal).
        case peerIncompatible
        /// The local application called the API wrongly (bad key length, send before ready).
        case apiMisuse
        /// The byte stream itself failed (timeouts reported by the core, closed transport).
        case transport
    }

    /// An extensible error code. Values mirror libzmq's `ZMQ_PROTOCOL_ERROR_*` where one exists;
    /// codes libzmq does not have live in the `0x5A00_0000` range.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        // MARK: ZMTP (libzmq ZMQ_PROTOCOL_ERROR_ZMTP_*)
        /// The peer broke the protocol in a way no other code names (ZMTP_UNSPECIFIED).
        public static let unspecified = Code(rawValue: 0x1000_0000)
        /// The peer sent a command not valid in this state: not the one its mechanism expects next (ZMTP_UNEXPECTED_COMMAND).
        public static let unexpectedCommand = Code(rawValue: 0x1000_0001)
        /// A CURVE nonce is not above the last one: a replay or a reordering (ZMTP_INVALID_SEQUENCE).
        public static let invalidSequence = Code(rawValue: 0x1000_0002)
        /// A CURVE client's vouch does not vouch for this connection's keys (ZMTP_KEY_EXCHANGE).
        public static let keyExchange = Code(rawValue: 0x1000_0003)
        /// A command's body is malformed in a way no other code names (ZMTP_MALFORMED_COMMAND_UNSPECIFIED).
        public static let malformedCommandUnspecified = Code(rawValue: 0x1000_0011)
        /// A CURVE MESSAGE command is malformed (ZMTP_MALFORMED_COMMAND_MESSAGE).
        public static let malformedCommandMessage = Code(rawValue: 0x1000_0012)
        /// A CURVE or PLAIN HELLO command is malformed (ZMTP_MALFORMED_COMMAND_HELLO).
        public static let malformedCommandHello = Code(rawValue: 0x1000_0013)
        /// A CURVE or PLAIN INITIATE command is malformed (ZMTP_MALFORMED_COMMAND_INITIATE).
        public static let malformedCommandInitiate = Code(rawValue: 0x1000_0014)
        /// An ERROR command is malformed: its reason does not fit its body (ZMTP_MALFORMED_COMMAND_ERROR).
        public static let malformedCommandError = Code(rawValue: 0x1000_0015)
        /// A READY command is malformed (ZMTP_MALFORMED_COMMAND_READY).
        public static let malformedCommandReady = Code(rawValue: 0x1000_0016)
        /// A CURVE WELCOME command is malformed (ZMTP_MALFORMED_COMMAND_WELCOME).
        public static let malformedCommandWelcome = Code(rawValue: 0x1000_0017)
        /// A metadata property is malformed: a bad name, or a length past the command's end (ZMTP_INVALID_METADATA).
        public static let invalidMetadata = Code(rawValue: 0x1000_0018)
        /// A CURVE box failed to open or seal: a wrong key or a tampered message (ZMTP_CRYPTOGRAPHIC).
        public static let cryptographic = Code(rawValue: 0x1100_0001)
        /// The peer's greeting names a different security mechanism from ours (ZMTP_MECHANISM_MISMATCH).
        public static let mechanismMismatch = Code(rawValue: 0x1100_0002)

        // MARK: ZAP (libzmq ZMQ_PROTOCOL_ERROR_ZAP_*)
        /// The authentication handler failed in a way no other code names (ZAP_UNSPECIFIED).
        public static let zapUnspecified = Code(rawValue: 0x2000_0000)
        /// The authentication handler's reply is not a well-formed ZAP reply (ZAP_MALFORMED_REPLY).
        public static let zapMalformedReply = Code(rawValue: 0x2000_0001)
        /// The authentication handler's reply answers another request id (ZAP_BAD_REQUEST_ID).
        public static let zapBadRequestID = Code(rawValue: 0x2000_0002)
        /// The authentication handler's reply has a version other than 1.0 (ZAP_BAD_VERSION).
        public static let zapBadVersion = Code(rawValue: 0x2000_0003)
        /// The authentication handler's status code is not 200, 300, 400 or 500 (ZAP_INVALID_STATUS_CODE).
        public static let zapInvalidStatusCode = Code(rawValue: 0x2000_0004)
        /// The authentication handler's metadata frame is malformed (ZAP_INVALID_METADATA).
        public static let zapInvalidMetadata = Code(rawValue: 0x2000_0005)

        // MARK: Codes of our own (no libzmq equivalent)
        /// The greeting's signature or version bytes are invalid.
        public static let malformedGreeting = Code(rawValue: 0x5A00_0001)
        /// A frame header is invalid (reserved flag bits, MORE on a command, zero ZMTP/1.0 length).
        public static let malformedFrame = Code(rawValue: 0x5A00_0002)
        /// A frame is larger than the configured maximum message size (libzmq: EMSGSIZE).
        public static let messageTooLarge = Code(rawValue: 0x5A00_0003)
        /// The peer's socket type is not a valid partner for ours (RFC 23 table; libzmq: EINVAL).
        public static let incompatibleSocketType = Code(rawValue: 0x5A00_0004)
        /// The peer speaks ZMTP 1.0/2.0 but a security mechanism or ZAP domain is configured.
        public static let legacyPeerRefused = Code(rawValue: 0x5A00_0005)
        /// The peer sent an ERROR command; the reason is in ``ZMTPError/detail``.
        public static let peerSentError = Code(rawValue: 0x5A00_0006)
        /// Authentication refused the peer (ZAP status 300, 400 or 500 in ``ZMTPError/detail``).
        public static let authenticationFailed = Code(rawValue: 0x5A00_0007)
        /// The greeting and handshake did not finish within the handshake interval.
        public static let handshakeTimeout = Code(rawValue: 0x5A00_0008)
        /// Nothing arrived from the peer within the heartbeat timeout or the peer's TTL.
        public static let heartbeatTimeout = Code(rawValue: 0x5A00_0009)
        /// A Z85 string or buffer is invalid (RFC 32).
        public static let invalidZ85 = Code(rawValue: 0x5A00_000A)
        /// A key or other argument given by the application is invalid.
        public static let invalidArgument = Code(rawValue: 0x5A00_000B)
        /// The operation is not valid in the connection's current state.
        public static let invalidState = Code(rawValue: 0x5A00_000C)
        /// The peer closed the byte stream.
        public static let closedByPeer = Code(rawValue: 0x5A00_000D)
        /// Authentication needs a handler and none is bound (PLAIN without a ZAP handler, or
        /// ZAP_ENFORCE_DOMAIN; libzmq: EFAULT, HANDSHAKE_FAILED_NO_DETAIL).
        public static let noAuthenticationHandler = Code(rawValue: 0x5A00_000E)

        public var description: String {
            switch self {
            case .unspecified: return "ZMTP_UNSPECIFIED"
            case .unexpectedCommand: return "ZMTP_UNEXPECTED_COMMAND"
            case .invalidSequence: return "ZMTP_INVALID_SEQUENCE"
            case .keyExchange: return "ZMTP_KEY_EXCHANGE"
            case .malformedCommandUnspecified: return "ZMTP_MALFORMED_COMMAND_UNSPECIFIED"
            case .malformedCommandMessage: return "ZMTP_MALFORMED_COMMAND_MESSAGE"
            case .malformedCommandHello: return "ZMTP_MALFORMED_COMMAND_HELLO"
            case .malformedCommandInitiate: return "ZMTP_MALFORMED_COMMAND_INITIATE"
            case .malformedCommandError: return "ZMTP_MALFORMED_COMMAND_ERROR"
            case .malformedCommandReady: return "ZMTP_MALFORMED_COMMAND_READY"
            case .malformedCommandWelcome: return "ZMTP_MALFORMED_COMMAND_WELCOME"
            case .invalidMetadata: return "ZMTP_INVALID_METADATA"
            case .cryptographic: return "ZMTP_CRYPTOGRAPHIC"
            case .mechanismMismatch: return "ZMTP_MECHANISM_MISMATCH"
            case .zapUnspecified: return "ZAP_UNSPECIFIED"
            case .zapMalformedReply: return "ZAP_MALFORMED_REPLY"
            case .zapBadRequestID: return "ZAP_BAD_REQUEST_ID"
            case .zapBadVersion: return "ZAP_BAD_VERSION"
            case .zapInvalidStatusCode: return "ZAP_INVALID_STATUS_CODE"
            case .zapInvalidMetadata: return "ZAP_INVALID_METADATA"
            case .malformedGreeting: return "MALFORMED_GREETING"
            case .malformedFrame: return "MALFORMED_FRAME"
            case .messageTooLarge: return "MESSAGE_TOO_LARGE"
            case .incompatibleSocketType: return "INCOMPATIBLE_SOCKET_TYPE"
            case .legacyPeerRefused: return "LEGACY_PEER_REFUSED"
            case .peerSentError: return "PEER_SENT_ERROR"
            case .authenticationFailed: return "AUTHENTICATION_FAILED"
            case .handshakeTimeout: return "HANDSHAKE_TIMEOUT"
            case .heartbeatTimeout: return "HEARTBEAT_TIMEOUT"
            case .invalidZ85: return "INVALID_Z85"
            case .invalidArgument: return "INVALID_ARGUMENT"
            case .invalidState: return "INVALID_STATE"
            case .closedByPeer: return "CLOSED_BY_PEER"
            case .noAuthenticationHandler: return "NO_AUTHENTICATION_HANDLER"
            default: return "0x" + String(rawValue, radix: 16)
            }
        }

        /// Looks a code up by its ``description`` (used by the conformance vectors).
        public init?(name: String) {
            for code in Code.allKnown where code.description == name {
                self = code
                return
            }
            return nil
        }

        /// Every code this module defines.
        public static let allKnown: [Code] = [
            .unspecified, .unexpectedCommand, .invalidSequence, .keyExchange,
            .malformedCommandUnspecified, .malformedCommandMessage, .malformedCommandHello,
            .malformedCommandInitiate, .malformedCommandError, .malformedCommandReady,
            .malformedCommandWelcome, .invalidMetadata, .cryptographic, .mechanismMismatch,
            .zapUnspecified, .zapMalformedReply, .zapBadRequestID, .zapBadVersion,
            .zapInvalidStatusCode, .zapInvalidMetadata, .malformedGreeting, .malformedFrame,
            .messageTooLarge, .incompatibleSocketType, .legacyPeerRefused, .peerSentError,
            .authenticationFailed, .handshakeTimeout, .heartbeatTimeout, .invalidZ85,
            .invalidArgument, .invalidState, .closedByPeer, .noAuthenticationHandler,
        ]
    }

    /// What went wrong, as a libzmq-compatible code.
    public var code: Code
    /// Whose fault it was.
    public var blame: Blame
    /// Human-readable detail (for ``Code/peerSentError`` and ``Code/authenticationFailed``,
    /// the peer's reason or the ZAP status code).
    public var detail: String

    /// An error with a code, whom to blame, and a detail for people (a reason, a status, a limit).
    public init(_ code: Code, blame: Blame, _ detail: String = "") {
        self.code = code
        self.blame = blame
        self.detail = detail
    }

    public var description: String {
        detail.isEmpty ? "\(code) (\(blame.rawValue))" : "\(code) (\(blame.rawValue)): \(detail)"
    }

    // MARK: Shorthands used throughout the core

    static func peer(_ code: Code, _ detail: String = "") -> ZMTPError {
        ZMTPError(code, blame: .peerMisbehaved, detail)
    }

    static func incompatible(_ code: Code, _ detail: String = "") -> ZMTPError {
        ZMTPError(code, blame: .peerIncompatible, detail)
    }

    static func misuse(_ code: Code, _ detail: String = "") -> ZMTPError {
        ZMTPError(code, blame: .apiMisuse, detail)
    }
}
