/// The operating system's cryptographically secure generator, through the standard library's
/// `SystemRandomNumberGenerator` (on Linux `getrandom(2)`, which blocks only until the kernel's
/// pool is first seeded; elsewhere the platform's equivalent, such as `arc4random_buf`).
///
/// Good for every mechanism, CURVE included, and needs no libsodium: a NULL or PLAIN connection
/// can be made with the core alone. Stateless, so one instance may serve any number of
/// connections on any threads.
public final class SystemRandom: RandomSource, Sendable {
    /// The system generator; it holds no state, so any number of these are the same source.
    public init() {}

    public func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        var generator = SystemRandomNumberGenerator()
        var offset = 0
        while offset < buffer.count {
            var word = generator.next()
            let count = min(8, buffer.count - offset)
            withUnsafeBytes(of: &word) { bytes in
                buffer.baseAddress!.advanced(by: offset).copyMemory(from: bytes.baseAddress!, byteCount: count)
            }
            offset += count
        }
    }
}
