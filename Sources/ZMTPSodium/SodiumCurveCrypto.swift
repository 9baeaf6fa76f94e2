import CSodium
import ZMTP

/// The real CURVE crypto: ``/ZMTP/CurveCrypto`` over libsodium (X25519, XSalsa20-Poly1305), the
/// primitives libzmq uses.
///
/// Every length is checked before calling C, so no peer input can make libsodium read or
/// write out of bounds: an `open` of a box shorter than its MAC, or with a key or nonce of the
/// wrong size, returns nil. Functions the protocol declares non-optional return an **empty
/// array** when libsodium refuses (a key of the wrong size, or a low-order public key, which
/// `crypto_box_beforenm` rejects); the CURVE machines treat that as a cryptographic failure.
public struct SodiumCurveCrypto: CurveCrypto {
    /// `crypto_box_PUBLICKEYBYTES`, `crypto_box_SECRETKEYBYTES`, `crypto_box_BEFORENMBYTES`,
    /// `crypto_secretbox_KEYBYTES`.
    public static let keyLength = 32
    /// `crypto_box_NONCEBYTES`, `crypto_secretbox_NONCEBYTES`.
    public static let nonceLength = 24
    /// `crypto_box_MACBYTES`, `crypto_secretbox_MACBYTES`.
    public static let macLength = 16

    /// Initialises libsodium (once per process).
    public init() {
        precondition(sodiumReady, "libsodium failed to initialise (sodium_init)")
    }

    /// `crypto_scalarmult_base`.
    public func publicKey(forSecretKey secretKey: [UInt8]) -> [UInt8] {
        guard secretKey.count == Self.keyLength else { return [] }
        return Self.output(count: Self.keyLength) { out in
            secretKey.withUnsafeBufferPointer { sk in crypto_scalarmult_base(out, sk.baseAddress!) }
        } ?? []
    }

    /// `crypto_box_easy`.
    public func box(_ plaintext: [UInt8], nonce: [UInt8], publicKey: [UInt8], secretKey: [UInt8]) -> [UInt8] {
        guard nonce.count == Self.nonceLength, publicKey.count == Self.keyLength, secretKey.count == Self.keyLength
        else { return [] }
        return Self.output(count: plaintext.count + Self.macLength) { out in
            Self.withBytes(plaintext[...]) { m in
                crypto_box_easy(out, m, UInt64(plaintext.count), nonce, publicKey, secretKey)
            }
        } ?? []
    }

    /// `crypto_box_open_easy`; nil when the box is too short or does not verify.
    public func openBox(_ box: ArraySlice<UInt8>, nonce: [UInt8], publicKey: [UInt8], secretKey: [UInt8]) -> [UInt8]? {
        guard box.count >= Self.macLength, nonce.count == Self.nonceLength, publicKey.count == Self.keyLength,
            secretKey.count == Self.keyLength
        else { return nil }
        return Self.output(count: box.count - Self.macLength) { out in
            Self.withBytes(box) { c in
                crypto_box_open_easy(out, c, UInt64(box.count), nonce, publicKey, secretKey)
            }
        }
    }

    /// `crypto_box_beforenm`.
    public func sharedKey(publicKey: [UInt8], secretKey: [UInt8]) -> [UInt8] {
        guard publicKey.count == Self.keyLength, secretKey.count == Self.keyLength else { return [] }
        return Self.output(count: Self.keyLength) { out in
            crypto_box_beforenm(out, publicKey, secretKey)
        } ?? []
    }

    /// `crypto_box_easy_afternm`.
    public func box(_ plaintext: [UInt8], nonce: [UInt8], sharedKey: [UInt8]) -> [UInt8] {
        guard nonce.count == Self.nonceLength, sharedKey.count == Self.keyLength else { return [] }
        return Self.output(count: plaintext.count + Self.macLength) { out in
            Self.withBytes(plaintext[...]) { m in
                crypto_box_easy_afternm(out, m, UInt64(plaintext.count), nonce, sharedKey)
            }
        } ?? []
    }

    /// `crypto_box_open_easy_afternm`; nil when the box is too short or does not verify.
    public func openBox(_ box: ArraySlice<UInt8>, nonce: [UInt8], sharedKey: [UInt8]) -> [UInt8]? {
        guard box.count >= Self.macLength, nonce.count == Self.nonceLength, sharedKey.count == Self.keyLength
        else { return nil }
        return Self.output(count: box.count - Self.macLength) { out in
            Self.withBytes(box) { c in
                crypto_box_open_easy_afternm(out, c, UInt64(box.count), nonce, sharedKey)
            }
        }
    }

    /// `crypto_secretbox_easy`.
    public func secretBox(_ plaintext: [UInt8], nonce: [UInt8], key: [UInt8]) -> [UInt8] {
        guard nonce.count == Self.nonceLength, key.count == Self.keyLength else { return [] }
        return Self.output(count: plaintext.count + Self.macLength) { out in
            Self.withBytes(plaintext[...]) { m in
                crypto_secretbox_easy(out, m, UInt64(plaintext.count), nonce, key)
            }
        } ?? []
    }

    /// `crypto_secretbox_open_easy`; nil when the box is too short or does not verify.
    public func openSecretBox(_ box: ArraySlice<UInt8>, nonce: [UInt8], key: [UInt8]) -> [UInt8]? {
        guard box.count >= Self.macLength, nonce.count == Self.nonceLength, key.count == Self.keyLength
        else { return nil }
        return Self.output(count: box.count - Self.macLength) { out in
            Self.withBytes(box) { c in
                crypto_secretbox_open_easy(out, c, UInt64(box.count), nonce, key)
            }
        }
    }

    // MARK: Buffers

    /// Runs a libsodium call writing `count` bytes; nil when it returns non-zero.
    private static func output(count: Int, _ call: (UnsafeMutablePointer<UInt8>) -> Int32) -> [UInt8]? {
        var status: Int32 = -1
        // Capacity of at least 1 so the pointer is never nil, even for an empty result.
        let bytes = [UInt8](unsafeUninitializedCapacity: max(count, 1)) { buffer, initialized in
            status = call(buffer.baseAddress!)
            initialized = status == 0 ? count : 0
        }
        return status == 0 ? bytes : nil
    }

    /// A pointer to `bytes`, never nil (libsodium takes a pointer even for zero-length input).
    private static func withBytes<R>(_ bytes: ArraySlice<UInt8>, _ body: (UnsafePointer<UInt8>) -> R) -> R {
        bytes.withUnsafeBufferPointer { buffer in
            if let base = buffer.baseAddress { return body(base) }
            var zero: UInt8 = 0
            return withUnsafePointer(to: &zero) { body($0) }
        }
    }
}

/// Long-term CURVE keys for applications (libzmq's `zmq_curve_keypair`, `zmq_curve_public`).
public enum CurveKeys {
    /// A fresh key pair from libsodium's secure random generator (as `crypto_box_keypair`).
    public static func generate() -> CurveKeyPair {
        do {
            return try CurveKeyPair.generate(crypto: SodiumCurveCrypto(), random: SodiumRandom())
        } catch {
            // libsodium's randombytes and X25519 never produce 16 unusable keys in a row.
            preconditionFailure("libsodium produced no usable CURVE key pair: \(error)")
        }
    }

    /// The public key for a 32-byte secret key.
    /// - Throws: ``/ZMTP/ZMTPError/Code/invalidArgument`` unless the secret key is 32 bytes, not all zero.
    public static func publicKey(secretKey: [UInt8]) throws(ZMTPError) -> [UInt8] {
        try CurveKeyPair.from(secretKey: secretKey, crypto: SodiumCurveCrypto()).publicKey
    }

    // MARK: Z85 (RFC 32), the text form libzmq's CURVE options accept

    /// The 40-character Z85 text of a 32-byte key.
    /// - Throws: ``/ZMTP/ZMTPError/Code/invalidArgument`` unless `key` is 32 bytes.
    public static func z85(_ key: [UInt8]) throws(ZMTPError) -> String {
        guard key.count == CurveKeyPair.keyLength else {
            throw ZMTPError(.invalidArgument, blame: .apiMisuse, "a CURVE key is 32 bytes, got \(key.count)")
        }
        return try Z85.encode(key)
    }

    /// The 32-byte key in a 40-character Z85 text.
    /// - Throws: ``/ZMTP/ZMTPError/Code/invalidArgument`` unless `text` is 40 characters;
    ///   ``/ZMTP/ZMTPError/Code/invalidZ85`` for characters outside the Z85 alphabet.
    public static func key(z85 text: String) throws(ZMTPError) -> [UInt8] {
        guard text.utf8.count == 40 else {
            throw ZMTPError(.invalidArgument, blame: .apiMisuse, "a Z85 CURVE key is 40 characters, got \(text.utf8.count)")
        }
        return try Z85.decode(text)
    }

    /// A fresh key pair as Z85 text (`zmq_curve_keypair`).
    public static func generateZ85() -> (publicKey: String, secretKey: String) {
        let pair = generate()
        // Both keys are 32 bytes, which Z85 always encodes.
        guard let publicText = try? Z85.encode(pair.publicKey), let secretText = try? Z85.encode(pair.secretKey) else {
            preconditionFailure("Z85 refused a 32-byte key")
        }
        return (publicText, secretText)
    }

    /// The Z85 public key for a Z85 secret key (`zmq_curve_public`).
    public static func publicKey(z85SecretKey: String) throws(ZMTPError) -> String {
        try z85(publicKey(secretKey: key(z85: z85SecretKey)))
    }
}
