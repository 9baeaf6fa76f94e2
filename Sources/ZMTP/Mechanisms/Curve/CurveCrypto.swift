/// The NaCl primitives CURVE needs (RFC 26), supplied by a provider outside the core.
///
/// The core stays free of C dependencies: `ZMTPSodium.SodiumCurveCrypto` implements this over
/// libsodium. The fuzzers' `InsecureFuzzingCurveCrypto` (in Fuzz/Sources/FuzzSupport, which is
/// no product of the package) implements it without any security so that they can reach the
/// later handshake commands.
///
/// Boxes use the "easy" layout: a 16-byte Poly1305 MAC followed by the ciphertext
/// (libsodium's `crypto_box_easy`, equal to the legacy zero-padded form minus its 16 zero bytes).
///
/// Key agreement can refuse a key (libsodium rejects low-order points in `crypto_box_beforenm`).
/// A provider reports that by returning an **empty array** from the boxing and shared-key
/// functions; the mechanisms check every result's length and fail the handshake with
/// ``ZMTPError/Code/cryptographic``.
public protocol CurveCrypto: Sendable {
    /// The public key for a 32-byte secret key (`crypto_scalarmult_base`).
    func publicKey(forSecretKey secretKey: [UInt8]) -> [UInt8]

    /// `crypto_box_easy`: MAC + ciphertext of `plaintext` from `secretKey` to `publicKey`.
    func box(_ plaintext: [UInt8], nonce: [UInt8], publicKey: [UInt8], secretKey: [UInt8]) -> [UInt8]

    /// `crypto_box_open_easy`; nil when the MAC does not verify.
    func openBox(_ box: ArraySlice<UInt8>, nonce: [UInt8], publicKey: [UInt8], secretKey: [UInt8]) -> [UInt8]?

    /// `crypto_box_beforenm`: the precomputed shared key for a session.
    func sharedKey(publicKey: [UInt8], secretKey: [UInt8]) -> [UInt8]

    /// `crypto_box_easy_afternm` with a precomputed key.
    func box(_ plaintext: [UInt8], nonce: [UInt8], sharedKey: [UInt8]) -> [UInt8]

    /// `crypto_box_open_easy_afternm`; nil when the MAC does not verify.
    func openBox(_ box: ArraySlice<UInt8>, nonce: [UInt8], sharedKey: [UInt8]) -> [UInt8]?

    /// `crypto_secretbox_easy` (the cookie).
    func secretBox(_ plaintext: [UInt8], nonce: [UInt8], key: [UInt8]) -> [UInt8]

    /// `crypto_secretbox_open_easy`; nil when the MAC does not verify.
    func openSecretBox(_ box: ArraySlice<UInt8>, nonce: [UInt8], key: [UInt8]) -> [UInt8]?
}
