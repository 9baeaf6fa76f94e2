import ZMTP

/// How FuzzZAP (and its regression vectors) turn input bytes into ZAP frames: each frame is a
/// length octet (low 7 bits; its top bit is the frame's MORE flag) and that many bytes, the
/// last frame taking what is left; at most 16 frames.
public enum ZAPHarness {
    /// The codes a ZAP parse may throw.
    public static let codes: Set<ZMTPError.Code> = [.zapUnspecified, .zapMalformedReply, .zapBadRequestID,
                                                    .zapBadVersion, .zapInvalidStatusCode, .zapInvalidMetadata]

    public static func frames(_ input: [UInt8]) -> [(bytes: [UInt8], more: Bool)] {
        var result: [(bytes: [UInt8], more: Bool)] = []
        var index = 0
        while index < input.count, result.count < 16 {
            let header = input[index]
            index += 1
            let length = min(Int(header & 0x7F), input.count - index)
            result.append((Array(input[index..<index + length]), header & 0x80 != 0))
            index += length
        }
        return result
    }

    /// The input bytes of `frames` (every frame but the last with MORE; frames cut at 127 bytes).
    public static func encode(_ frames: [[UInt8]]) -> [UInt8] {
        frames.enumerated().flatMap { index, frame -> [UInt8] in
            [UInt8(min(frame.count, 0x7F)) | (index < frames.count - 1 ? 0x80 : 0)] + frame.prefix(0x7F)
        }
    }

    /// Requests of each mechanism, with and without the delimiter, and replies of every status.
    public static func seeds() -> [[UInt8]] {
        let plain = AuthenticationRequest(mechanism: .plain, domain: "global", address: "127.0.0.1", identity: [],
                                          credentials: [[UInt8](utf8: "admin"), [UInt8](utf8: "secret")])
        let curve = AuthenticationRequest(mechanism: .curve, domain: "", address: "10.0.0.1", identity: [1, 2],
                                          credentials: [[UInt8](repeating: 7, count: 32)])
        let null = AuthenticationRequest(mechanism: .null, domain: "d", address: "::1", identity: [], credentials: [])
        var seeds = [encode(ZAPFrames.request(plain)), encode(ZAPFrames.request(curve)), encode(ZAPFrames.request(null)),
                     encode(Array(ZAPFrames.request(plain).dropFirst()))]
        let metadata = Wire.metadata([("X-Role", [UInt8](utf8: "ops"))])
        for status in ["200", "300", "400", "500", "600"] {
            seeds.append(encode([[], [UInt8](utf8: "1.0"), [UInt8](utf8: "1"), [UInt8](utf8: status), [UInt8](utf8: "OK"),
                                 [UInt8](utf8: "user"), metadata]))
        }
        return seeds
    }
}
