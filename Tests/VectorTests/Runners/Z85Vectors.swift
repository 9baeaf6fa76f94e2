import ZMTPConformance
import ZMTP
import ZMTPSodium

/// Kinds "z85" (``Z85/encode(_:)`` and ``Z85/decode(_:)``) and "curve-key" (a Z85 key pair whose
/// public key must be the X25519 public key of its secret key, checked with libsodium).
enum Z85Vectors {
    static func run(_ vector: VectorCase) throws {
        var f = try Fields(case: vector)
        let text = try f.optionalString("text")
        let data = try f.optionalBytes("data")
        let decodeError = try f.optionalString("decodeError")
        let encodeError = try f.optionalString("encodeError")
        try f.finish()

        switch (text, data, decodeError, encodeError) {
        case (let text?, let data?, nil, nil):
            do throws(ZMTPError) {
                let encoded = try Z85.encode(data)
                if encoded != text { fail("encode(\(Vectors.show(data))) = \"\(encoded)\", expected \"\(text)\"") }
            } catch {
                fail("encode(\(Vectors.show(data))) failed with \(error)")
            }
            do throws(ZMTPError) {
                let decoded = try Z85.decode(text)
                if decoded != data { fail("decode(\"\(text)\") = \(Vectors.show(decoded)), expected \(Vectors.show(data))") }
            } catch {
                fail("decode(\"\(text)\") failed with \(error)")
            }
        case (let text?, nil, let name?, nil):
            let code = try Vectors.errorCode(name, "\(vector.name).decodeError")
            do throws(ZMTPError) {
                let decoded = try Z85.decode(text)
                fail("decode accepted the text: \(Vectors.show(decoded)), expected \(name)")
            } catch {
                if error.code != code { fail("decode error \(error), expected \(name)") }
            }
        case (nil, let data?, nil, let name?):
            let code = try Vectors.errorCode(name, "\(vector.name).encodeError")
            do throws(ZMTPError) {
                let encoded = try Z85.encode(data)
                fail("encode accepted the data: \"\(encoded)\", expected \(name)")
            } catch {
                if error.code != code { fail("encode error \(error), expected \(name)") }
            }
        default:
            throw VectorFormatError("\(vector.name): give text and data, text and decodeError, or data and encodeError")
        }
    }

    static func runCurveKey(_ vector: VectorCase) throws {
        var f = try Fields(case: vector)
        let publicText = try f.string("publicZ85")
        let secretText = try f.string("secretZ85")
        let publicKey = try f.bytes("public")
        let secretKey = try f.bytes("secret")
        try f.finish()
        guard publicKey.count == 32, secretKey.count == 32 else { throw VectorFormatError("\(vector.name): keys are 32 bytes") }

        for (text, key, what) in [(publicText, publicKey, "public"), (secretText, secretKey, "secret")] {
            do throws(ZMTPError) {
                let decoded = try Z85.decode(text)
                if decoded != key { fail("\(what) key: decode(\"\(text)\") = \(Vectors.show(decoded)), expected \(Vectors.show(key))") }
                let encoded = try Z85.encode(key)
                if encoded != text { fail("\(what) key: encode = \"\(encoded)\", expected \"\(text)\"") }
            } catch {
                fail("\(what) key: \(error)")
            }
        }
        let derived = SodiumCurveCrypto().publicKey(forSecretKey: secretKey)
        if derived != publicKey {
            fail("X25519 public key of the secret is \(Vectors.show(derived)), the vector says \(Vectors.show(publicKey))")
        }
    }
}
