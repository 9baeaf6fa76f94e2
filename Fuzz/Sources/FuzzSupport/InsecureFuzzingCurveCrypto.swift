import ZMTP

/// A ``CurveCrypto`` that provides **NO SECURITY WHATSOEVER**. For fuzzers and tests only.
///
/// - Warning: **NEVER USE THIS FOR A REAL CONNECTION.** Anyone who sees the public keys can
///   compute every "shared key"; the "MAC" is a fixed constant that proves nothing; the
///   "cipher" is an XOR with a keystream anyone can compute. A connection built on it is a
///   plaintext connection that merely looks like CURVE on the wire. Use
///   `ZMTPSodium.SodiumCurveCrypto` for anything that leaves a test.
///
/// It lives here, in FuzzSupport, which is no product of the package: no application can link
/// it, by accident or otherwise. The fuzzers, the vector runner and the core's tests can.
///
/// Why it exists: a fuzzer feeding random bytes to a CURVE server with real crypto never gets
/// past HELLO, because it cannot forge a Poly1305 tag. With this provider (as rustls does with
/// its fuzzing provider) a fuzzer can reach INITIATE, READY and MESSAGE and exercise the parsers
/// behind them. It is deterministic, total (never traps, whatever the lengths) and cheap.
///
/// The construction, so that fuzz harnesses and test vectors can build inputs by hand:
/// ```
/// publicKey(sk)        = sk[i] XOR 0x5A                                  (32 octets)
/// sharedKey(pk, sk)    = pk[i] XOR publicKey(sk)[i]                      (symmetric, 32 octets)
/// box(m, n, k)         = "INSECURE-FUZZING" || m[i] XOR k[i mod 32] XOR n[i mod 24] XOR (i mod 256)
/// box(m, n, pk, sk)    = box(m, n, sharedKey(pk, sk))
/// secretBox(m, n, k)   = box(m, n, k)
/// open(b, n, k)        = nil unless b starts with "INSECURE-FUZZING" and k, n have the right sizes
/// ```
/// Keys of the wrong length give an empty result (``publicKey(forSecretKey:)``, ``sharedKey(publicKey:secretKey:)``,
/// the `box` functions) or nil (the `open` functions), like a provider refusing a key.
public struct InsecureFuzzingCurveCrypto: CurveCrypto {
    /// The fake 16-octet "MAC" in front of every box: readable in a hex dump, so a transcript
    /// made with this provider cannot be mistaken for a real one.
    public static let fakeMAC: [UInt8] = Array("INSECURE-FUZZING".utf8)

    private static let keyLength = 32
    private static let nonceLength = 24
    private static let publicKeyMask: UInt8 = 0x5A

    /// Creates the provider. It has no state.
    public init() {}

    /// `sk XOR 0x5A…`: deterministic, and non-zero for every secret except `0x5A…5A`
    /// (which ``CurveKeyPair`` then rejects as an all-zero public key).
    public func publicKey(forSecretKey secretKey: [UInt8]) -> [UInt8] {
        guard secretKey.count == Self.keyLength else { return [] }
        return secretKey.map { $0 ^ Self.publicKeyMask }
    }

    /// Fake `crypto_box_easy`.
    public func box(_ plaintext: [UInt8], nonce: [UInt8], publicKey: [UInt8], secretKey: [UInt8]) -> [UInt8] {
        box(plaintext, nonce: nonce, sharedKey: sharedKey(publicKey: publicKey, secretKey: secretKey))
    }

    /// Fake `crypto_box_open_easy`.
    public func openBox(_ box: ArraySlice<UInt8>, nonce: [UInt8], publicKey: [UInt8], secretKey: [UInt8]) -> [UInt8]? {
        openBox(box, nonce: nonce, sharedKey: sharedKey(publicKey: publicKey, secretKey: secretKey))
    }

    /// Fake `crypto_box_beforenm`: `pk XOR publicKey(sk)`, the same from either side.
    public func sharedKey(publicKey: [UInt8], secretKey: [UInt8]) -> [UInt8] {
        let ownPublic = self.publicKey(forSecretKey: secretKey)
        guard publicKey.count == Self.keyLength, ownPublic.count == Self.keyLength else { return [] }
        return zip(publicKey, ownPublic).map { $0 ^ $1 }
    }

    /// Fake `crypto_box_easy_afternm`.
    public func box(_ plaintext: [UInt8], nonce: [UInt8], sharedKey: [UInt8]) -> [UInt8] {
        Self.seal(plaintext[...], nonce: nonce, key: sharedKey)
    }

    /// Fake `crypto_box_open_easy_afternm`.
    public func openBox(_ box: ArraySlice<UInt8>, nonce: [UInt8], sharedKey: [UInt8]) -> [UInt8]? {
        Self.open(box, nonce: nonce, key: sharedKey)
    }

    /// Fake `crypto_secretbox_easy`.
    public func secretBox(_ plaintext: [UInt8], nonce: [UInt8], key: [UInt8]) -> [UInt8] {
        Self.seal(plaintext[...], nonce: nonce, key: key)
    }

    /// Fake `crypto_secretbox_open_easy`.
    public func openSecretBox(_ box: ArraySlice<UInt8>, nonce: [UInt8], key: [UInt8]) -> [UInt8]? {
        Self.open(box, nonce: nonce, key: key)
    }

    // MARK: The "cipher"

    private static func seal(_ plaintext: ArraySlice<UInt8>, nonce: [UInt8], key: [UInt8]) -> [UInt8] {
        guard key.count == keyLength, nonce.count == nonceLength else { return [] }
        var out = fakeMAC
        out.reserveCapacity(fakeMAC.count + plaintext.count)
        out.append(contentsOf: xored(plaintext, nonce: nonce, key: key))
        return out
    }

    private static func open(_ box: ArraySlice<UInt8>, nonce: [UInt8], key: [UInt8]) -> [UInt8]? {
        guard key.count == keyLength, nonce.count == nonceLength, box.count >= fakeMAC.count,
            box.prefix(fakeMAC.count).elementsEqual(fakeMAC)
        else { return nil }
        return xored(box.dropFirst(fakeMAC.count), nonce: nonce, key: key)
    }

    /// XOR with a keystream anyone can compute (its own inverse).
    private static func xored(_ input: ArraySlice<UInt8>, nonce: [UInt8], key: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(input.count)
        for (i, byte) in input.enumerated() {
            out.append(byte ^ key[i % keyLength] ^ nonce[i % nonceLength] ^ UInt8(truncatingIfNeeded: i))
        }
        return out
    }
}
