import ZMTP

/// A 32-byte CURVE key as the CURVE_* socket options take it (`zmq_setsockopt(3)`): 32 raw
/// bytes or 40 characters of Z85 (RFC 32). Validated when made, as libzmq's setsockopt does.
///
/// ```swift
/// socket.options.curveServerKey = try CurveKey(z85: "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7")
/// ```
public struct CurveKey: Hashable, Sendable, CustomStringConvertible {
    /// The key's 32 bytes.
    public let bytes: [UInt8]

    /// - Throws: ``ZeroMQError/Code/invalidArgument`` unless `bytes` is 32 bytes, not all zero.
    public init(_ bytes: [UInt8]) throws(ZeroMQError) {
        guard bytes.count == CurveKeyPair.keyLength else {
            throw ZeroMQError(.invalidArgument, "a CURVE key is 32 bytes, not \(bytes.count)")
        }
        guard bytes.contains(where: { $0 != 0 }) else { throw ZeroMQError(.invalidArgument, "a CURVE key must not be all zero") }
        self.bytes = bytes
    }

    /// - Throws: ``ZeroMQError/Code/invalidArgument`` unless `text` is 40 characters of valid
    ///   Z85 encoding a usable key.
    public init(z85 text: String) throws(ZeroMQError) {
        guard text.utf8.count == 40 else {
            throw ZeroMQError(.invalidArgument, "a Z85 CURVE key is 40 characters, not \(text.utf8.count)")
        }
        let decoded: [UInt8]
        do throws(ZMTPError) {
            decoded = try Z85.decode(text)
        } catch {
            throw ZeroMQError(.invalidArgument, error.description)
        }
        try self.init(decoded)
    }

    /// The key's 40-character Z85 text.
    public var z85: String {
        // 32 bytes always encode (a multiple of 4).
        (try? Z85.encode(bytes)) ?? ""
    }

    /// The Z85 text. Secret keys are printed too: do not log a secret key.
    public var description: String { z85 }
}
