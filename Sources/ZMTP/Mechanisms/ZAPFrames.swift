/// The ZAP wire form (RFC 27 §Request, §Reply): how an ``AuthenticationRequest`` travels to a
/// ZAP handler and how its ``AuthenticationReply`` comes back, as libzmq's `zap_client` frames
/// them. Pure functions over frames, so drivers, handlers and the fuzzer share one parser.
///
/// ```
/// request = "" "1.0" request-id domain address identity mechanism *credential
/// reply   = "" "1.0" request-id status-code status-text user-id metadata
/// ```
/// The empty first frame is the REQ envelope's delimiter: a REP handler never sees it, a ROUTER
/// handler sees it after the routing id.
public enum ZAPFrames {
    /// The protocol version a request carries and a reply must echo.
    public static let version: [UInt8] = Array("1.0".utf8)
    /// libzmq sends every request with id "1" (one request in flight per connection).
    public static let requestID: [UInt8] = Array("1".utf8)
    /// A reply has exactly this many frames (libzmq's `zap_reply_frame_count`).
    public static let replyFrameCount = 7
    /// A request has at most this many frames: 7 and up to two credentials (PLAIN).
    public static let maxRequestFrameCount = 9
    /// The longest field a request or reply may carry in any frame but metadata: the RFC does
    /// not bound them, but ZMTP limits what they came from (a 255-byte PLAIN username) and a
    /// handler has no use for more.
    public static let maxFieldLength = 65_536
    /// The longest metadata frame a reply may carry.
    public static let maxMetadataLength = 1 << 20

    /// The frames of `request` with `id`, delimiter first.
    public static func request(_ request: AuthenticationRequest, id: [UInt8] = requestID) -> [[UInt8]] {
        [[], version, id, Array(request.domain.utf8), Array(request.address.utf8), request.identity,
         Array(request.mechanism.rawValue.utf8)] + request.credentials
    }

    /// Parses a request as a handler receives it: with the delimiter first (`delimited`, a ROUTER
    /// after stripping the routing id) or without (a REP). Returns the request and its id.
    /// - Throws: ``ZMTPError/Code/zapMalformedReply`` style codes do not apply to requests; a
    ///   malformed request throws ``ZMTPError/Code/zapUnspecified`` (the handler answers nothing,
    ///   as RFC 27 says for a request it cannot parse), ``ZMTPError/Code/zapBadVersion`` for
    ///   another version.
    public static func parseRequest(_ frames: [[UInt8]], delimited: Bool) throws(ZMTPError) -> (request: AuthenticationRequest, id: [UInt8]) {
        var index = 0
        if delimited {
            guard frames.first?.isEmpty == true else { throw malformedRequest("no empty delimiter") }
            index = 1
        }
        let fields = frames[index...]
        guard fields.count >= 6, fields.count <= maxRequestFrameCount - 1 else {
            throw malformedRequest("\(fields.count) frames")
        }
        guard fields.allSatisfy({ $0.count <= maxFieldLength }) else { throw malformedRequest("a field is too long") }
        let f = Array(fields)
        guard f[0] == version else { throw ZMTPError(.zapBadVersion, blame: .peerMisbehaved, "ZAP request version") }
        guard let mechanism = MechanismName(rawValue: String(decoding: f[5], as: UTF8.self)) else {
            throw malformedRequest("unknown mechanism")
        }
        let credentials = Array(f[6...])
        let expected: Int
        switch mechanism {
        case .null: expected = 0
        case .plain: expected = 2
        case .curve: expected = 1
        }
        guard credentials.count == expected else { throw malformedRequest("\(credentials.count) credentials for \(mechanism.rawValue)") }
        if mechanism == .curve, credentials[0].count != CurveKeyPair.keyLength {
            throw malformedRequest("CURVE key of \(credentials[0].count) bytes")
        }
        let request = AuthenticationRequest(mechanism: mechanism, domain: String(decoding: f[2], as: UTF8.self),
                                            address: String(decoding: f[3], as: UTF8.self), identity: f[4],
                                            credentials: credentials)
        return (request, f[1])
    }

    /// The frames of `reply` to the request with `id`, delimiter first.
    /// - Throws: ``ZMTPError/Code/invalidArgument`` when the metadata cannot be encoded.
    public static func reply(_ reply: AuthenticationReply, id: [UInt8] = requestID) throws(ZMTPError) -> [[UInt8]] {
        var metadata: [UInt8] = []
        try reply.metadata.encode(into: &metadata)
        return [[], version, id, Array(reply.statusCode.utf8), Array(reply.statusText.utf8), Array(reply.userID.utf8), metadata]
    }

    /// Validates a handler's reply exactly as libzmq's `zap_client_t::receive_and_process_zap_reply`:
    /// seven frames (`more` set on all but the last), an empty delimiter, version "1.0", the
    /// request id echoed, a status of the form `[2-5]00`, and well-formed metadata.
    ///
    /// - Parameters:
    ///   - frames: each frame's bytes and whether its MORE flag was set.
    ///   - id: the request id the reply must echo: the one the request was sent with.
    /// - Throws: ``ZMTPError/Code/zapMalformedReply``, ``ZMTPError/Code/zapBadVersion``,
    ///   ``ZMTPError/Code/zapBadRequestID``, ``ZMTPError/Code/zapInvalidStatusCode`` or
    ///   ``ZMTPError/Code/zapInvalidMetadata``, blamed on the application (the handler is ours).
    public static func parseReply(_ frames: [(bytes: [UInt8], more: Bool)], id: [UInt8] = requestID) throws(ZMTPError) -> AuthenticationReply {
        guard frames.count == replyFrameCount else { throw malformedReply("\(frames.count) frames, not \(replyFrameCount)") }
        for (index, frame) in frames.enumerated() where frame.more != (index < replyFrameCount - 1) {
            throw malformedReply("frame \(index) has MORE \(frame.more ? "set" : "clear")")
        }
        guard frames[0].bytes.isEmpty else { throw malformedReply("the first frame is not an empty delimiter") }
        guard frames[1].bytes == version else {
            throw ZMTPError(.zapBadVersion, blame: .apiMisuse, "ZAP reply version is not 1.0")
        }
        guard frames[2].bytes == id else { throw ZMTPError(.zapBadRequestID, blame: .apiMisuse, "ZAP reply request id") }
        let status = frames[3].bytes
        guard status.count == 3, (UInt8(ascii: "2")...UInt8(ascii: "5")).contains(status[0]),
              status[1] == UInt8(ascii: "0"), status[2] == UInt8(ascii: "0") else {
            throw ZMTPError(.zapInvalidStatusCode, blame: .apiMisuse, "ZAP status code")
        }
        for index in 4...5 where frames[index].bytes.count > maxFieldLength {
            throw malformedReply("frame \(index) is too long")
        }
        guard frames[6].bytes.count <= maxMetadataLength else {
            throw ZMTPError(.zapInvalidMetadata, blame: .apiMisuse, "ZAP metadata is too long")
        }
        let metadata = try Metadata.parse(frames[6].bytes[...], errorCode: .zapInvalidMetadata)
        return AuthenticationReply(statusCode: String(decoding: status, as: UTF8.self),
                                   statusText: String(decoding: frames[4].bytes, as: UTF8.self),
                                   userID: String(decoding: frames[5].bytes, as: UTF8.self), metadata: metadata)
    }

    private static func malformedReply(_ detail: String) -> ZMTPError {
        ZMTPError(.zapMalformedReply, blame: .apiMisuse, "ZAP reply: " + detail)
    }

    private static func malformedRequest(_ detail: String) -> ZMTPError {
        ZMTPError(.zapUnspecified, blame: .peerMisbehaved, "ZAP request: " + detail)
    }
}
