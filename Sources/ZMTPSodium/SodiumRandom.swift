import CSodium
import ZMTP

/// A cryptographically secure ``/ZMTP/RandomSource`` over libsodium's `randombytes_buf`.
public final class SodiumRandom: RandomSource, @unchecked Sendable {
    /// Initialises libsodium on first use; stops the process if it cannot, since there is no
    /// secure fallback to hand out instead.
    public init() {
        // Without libsodium there is no secure randomness at all: refuse to run rather than
        // hand out predictable bytes (libzmq asserts here too).
        precondition(sodiumReady, "libsodium failed to initialise (sodium_init)")
    }

    public func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        randombytes_buf(base, buffer.count)
    }
}

/// `sodium_init` runs once, before the first use of any libsodium function.
let sodiumReady: Bool = {
    sodium_init() >= 0
}()
