import Testing
import ZMTP
import ZMTPSodium

/// `SodiumCurveCrypto` against known X25519 / NaCl values and libsodium's own behaviour,
/// and `CurveKeys` against libzmq's documented key pairs.
@Suite struct SodiumCurveCryptoTests {
    let crypto = SodiumCurveCrypto()

    static func hex(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            out.append(UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)!)
        }
        return out
    }

    // RFC 7748 §6.1 (X25519 Diffie-Hellman).
    static let aliceSecret = hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
    static let alicePublic = hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
    static let bobSecret = hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
    static let bobPublic = hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
    /// NaCl's `firstkey`: HSalsa20 of the X25519 shared secret, i.e. `crypto_box_beforenm`.
    static let firstKey = hex("1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389")

    let nonce = [UInt8](repeating: 0x42, count: 24)

    @Test func publicKeyIsX25519BaseMultiplication() {
        #expect(crypto.publicKey(forSecretKey: Self.aliceSecret) == Self.alicePublic)
        #expect(crypto.publicKey(forSecretKey: Self.bobSecret) == Self.bobPublic)
    }

    @Test func sharedKeyIsNaClBeforenmFromEitherSide() {
        #expect(crypto.sharedKey(publicKey: Self.bobPublic, secretKey: Self.aliceSecret) == Self.firstKey)
        #expect(crypto.sharedKey(publicKey: Self.alicePublic, secretKey: Self.bobSecret) == Self.firstKey)
    }

    @Test(arguments: [0, 1, 64, 1000])
    func boxEasyAndAfternmAgree(_ length: Int) throws {
        let message = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let easy = crypto.box(message, nonce: nonce, publicKey: Self.bobPublic, secretKey: Self.aliceSecret)
        let afternm = crypto.box(message, nonce: nonce, sharedKey: Self.firstKey)
        #expect(easy.count == length + 16)
        #expect(easy == afternm)
        #expect(crypto.openBox(easy[...], nonce: nonce, publicKey: Self.alicePublic, secretKey: Self.bobSecret) == message)
        #expect(crypto.openBox(easy[...], nonce: nonce, sharedKey: Self.firstKey) == message)
    }

    @Test func openRejectsTamperingAndWrongInputs() {
        let box = crypto.box(Array("hello".utf8), nonce: nonce, sharedKey: Self.firstKey)
        for index in box.indices {
            var tampered = box
            tampered[index] ^= 1
            #expect(crypto.openBox(tampered[...], nonce: nonce, sharedKey: Self.firstKey) == nil)
        }
        var otherNonce = nonce
        otherNonce[23] ^= 1
        #expect(crypto.openBox(box[...], nonce: otherNonce, sharedKey: Self.firstKey) == nil)
        // Lengths from a peer never trap.
        for short in 0..<16 {
            #expect(crypto.openBox(box.prefix(short), nonce: nonce, sharedKey: Self.firstKey) == nil)
            #expect(crypto.openBox(box.prefix(short), nonce: nonce, publicKey: Self.bobPublic, secretKey: Self.aliceSecret) == nil)
            #expect(crypto.openSecretBox(box.prefix(short), nonce: nonce, key: Self.firstKey) == nil)
        }
        #expect(crypto.openBox(box[...], nonce: Array(nonce.prefix(23)), sharedKey: Self.firstKey) == nil)
        #expect(crypto.openBox(box[...], nonce: nonce, sharedKey: Array(Self.firstKey.prefix(31))) == nil)
        #expect(crypto.openBox(box[...], nonce: nonce, publicKey: [], secretKey: Self.aliceSecret) == nil)
    }

    @Test func emptyBoxOpensToEmptyPlaintext() {
        let box = crypto.box([], nonce: nonce, sharedKey: Self.firstKey)
        #expect(box.count == 16)
        #expect(crypto.openBox(box[...], nonce: nonce, sharedKey: Self.firstKey) == [])
        // Also from inside a larger buffer.
        let framed = [1, 2, 3] + box + [4]
        #expect(crypto.openBox(framed[3..<19], nonce: nonce, sharedKey: Self.firstKey) == [])
    }

    @Test func secretBoxRoundTripsAndRejectsTheWrongKey() {
        let key = [UInt8](repeating: 7, count: 32)
        let box = crypto.secretBox(Array(0..<64), nonce: nonce, key: key)
        #expect(box.count == 80)
        #expect(crypto.openSecretBox(box[...], nonce: nonce, key: key) == Array(0..<64))
        #expect(crypto.openSecretBox(box[...], nonce: nonce, key: [UInt8](repeating: 8, count: 32)) == nil)
    }

    @Test func refusedInputsGiveEmptyResults() {
        #expect(crypto.publicKey(forSecretKey: Array(Self.aliceSecret.prefix(31))) == [])
        #expect(crypto.sharedKey(publicKey: Array(Self.bobPublic.prefix(31)), secretKey: Self.aliceSecret) == [])
        #expect(crypto.box([1], nonce: Array(nonce.prefix(8)), sharedKey: Self.firstKey) == [])
        #expect(crypto.secretBox([1], nonce: nonce, key: []) == [])
        // libsodium refuses low-order points (here the all-zero key) in crypto_box_beforenm.
        let zero = [UInt8](repeating: 0, count: 32)
        #expect(crypto.sharedKey(publicKey: zero, secretKey: Self.aliceSecret) == [])
        #expect(crypto.box([1], nonce: nonce, publicKey: zero, secretKey: Self.aliceSecret) == [])
    }

    // MARK: CurveKeys

    @Test func generatedKeyPairsAreValidAndDistinct() throws {
        let first = CurveKeys.generate()
        let second = CurveKeys.generate()
        #expect(first != second)
        #expect(try CurveKeys.publicKey(secretKey: first.secretKey) == first.publicKey)
    }

    @Test func publicKeyRejectsBadSecretKeys() {
        expectError(.invalidArgument, blame: .apiMisuse) { _ = try CurveKeys.publicKey(secretKey: [1, 2, 3]) }
        expectError(.invalidArgument, blame: .apiMisuse) { _ = try CurveKeys.publicKey(secretKey: [UInt8](repeating: 0, count: 32)) }
    }

    /// The key pairs libzmq's tests and the zguide use (`testutil_security`), public from secret
    /// as `zmq_curve_public` computes it.
    @Test(arguments: [
        ("JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6", "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"),
        ("D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs", "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"),
    ])
    func z85PublicKeyMatchesLibzmq(_ secret: String, _ expectedPublic: String) throws {
        #expect(try CurveKeys.publicKey(z85SecretKey: secret) == expectedPublic)
    }

    @Test func z85RoundTripsAndChecksLengths() throws {
        let (publicText, secretText) = CurveKeys.generateZ85()
        #expect(publicText.utf8.count == 40)
        #expect(try CurveKeys.publicKey(z85SecretKey: secretText) == publicText)
        let key = try CurveKeys.key(z85: publicText)
        #expect(try CurveKeys.z85(key) == publicText)
        expectError(.invalidArgument, blame: .apiMisuse) { _ = try CurveKeys.key(z85: String(publicText.dropLast(5))) }
        expectError(.invalidArgument, blame: .apiMisuse) { _ = try CurveKeys.z85([1, 2, 3, 4]) }
    }
}
