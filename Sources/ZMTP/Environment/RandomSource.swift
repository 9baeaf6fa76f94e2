/// Where the core gets its randomness (CURVE transient keys, nonces, cookie keys).
///
/// The core has no global random generator. Production drivers pass a cryptographically secure
/// source: ``SystemRandom`` (the operating system's, no dependency) or `ZMTPSodium.SodiumRandom`;
/// tests pass `SeededRandom` (`@_spi(Testing) import ZMTP`) so that every handshake transcript can be reproduced byte for byte.
public protocol RandomSource: AnyObject {
    /// Fills `buffer` with random bytes.
    func fill(_ buffer: UnsafeMutableRawBufferPointer)
}

extension RandomSource {
    /// `count` random bytes.
    public func bytes(_ count: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            fill(UnsafeMutableRawBufferPointer(buffer))
            initialized = count
        }
    }
}

/// A deterministic generator (SplitMix64) for tests, vectors and fuzzing.
///
/// Available only through `@_spi(Testing) import ZMTP`, so that production code cannot pick it
/// up by accident.
///
/// - Warning: Not cryptographically secure. Never use it for a real connection: anyone who
///   knows the seed knows every transient key and nonce.
@_spi(Testing) public final class SeededRandom: RandomSource {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    private func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        var i = 0
        while i < buffer.count {
            var word = next()
            for _ in 0..<8 where i < buffer.count {
                buffer[i] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                i += 1
            }
        }
    }
}

/// Replays a fixed byte string, then fails loudly: for vectors that pin every random byte.
///
/// - Warning: Not random at all. For tests and conformance vectors only.
@_spi(Testing) public final class ScriptedRandom: RandomSource {
    private var bytes: [UInt8]
    private var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// How many scripted bytes have not been used yet.
    public var remaining: Int { bytes.count - offset }

    public func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        precondition(offset + buffer.count <= bytes.count, "ScriptedRandom ran out of bytes")
        for i in 0..<buffer.count { buffer[i] = bytes[offset + i] }
        offset += buffer.count
    }
}
