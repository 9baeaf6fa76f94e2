import FuzzSupport
import ZMTP

func decodeZ85(_ text: some StringProtocol) -> Result<[UInt8], ZMTPError> {
    do throws(ZMTPError) { return .success(try Z85.decode(text)) } catch { return .failure(error) }
}

func fuzzZ85(_ input: [UInt8]) {
    let text = String(decoding: input, as: UTF8.self)
    let decoded = decodeZ85(text)
    // The same text as a Substring that starts 2 UTF-8 bytes into its string (by UTF-8 offset:
    // a combining character in the text would merge with the padding into one Character).
    let padded = "#." + text
    let substring = padded[padded.utf8.index(padded.utf8.startIndex, offsetBy: 2)...]
    require(substring.utf8.elementsEqual(text.utf8), "substring construction")
    require(decoded == decodeZ85(substring), "Z85.decode differs on a Substring: \(decoded) vs \(decodeZ85(substring))")

    switch decoded {
    case .failure(let error):
        requirePeerBlame(error, .peer, "from Z85.decode")
        require(error.code == .invalidZ85, "Z85.decode threw \(error)")
    case .success(let bytes):
        let characters = text.utf8.count
        require(characters % 5 == 0 && bytes.count == characters / 5 * 4, "\(characters) characters decoded to \(bytes.count) bytes")
        do throws(ZMTPError) {
            let again = try Z85.encode(bytes)
            require(again == text, "Z85 \"\(text)\" decodes to \(hex(bytes)), which encodes to \"\(again)\"")
        } catch {
            finding("decoded Z85 (\(bytes.count) bytes) does not encode: \(error)")
        }
    }

    // Binary → text → binary.
    do throws(ZMTPError) {
        let encoded = try Z85.encode(input)
        require(input.count % 4 == 0, "Z85.encode accepted \(input.count) bytes")
        require(encoded.utf8.count == input.count / 4 * 5, "\(input.count) bytes encoded to \(encoded.utf8.count) characters")
        switch decodeZ85(encoded) {
        case .success(let back): require(back == input, "encode/decode round trip changed \(hex(input)) to \(hex(back))")
        case .failure(let error): finding("Z85 of \(hex(input)) (\"\(encoded)\") does not decode: \(error)")
        }
    } catch {
        require(input.count % 4 != 0 && error.blame == .apiMisuse && error.code == .invalidZ85,
                "Z85.encode of \(input.count) bytes threw \(error)")
    }
}

func z85Seeds() -> [[UInt8]] {
    [
        Array(utf8: "HelloWorld"),                                     // RFC 32's example
        Array(utf8: "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"),       // a CURVE public key (RFC 32 / libzmq tests)
        Array(utf8: "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"),
        Array(utf8: "%nSc0%nSc0"),                                     // 0xFFFFFFFF twice
        Array(utf8: "%nSc1"),                                          // above 0xFFFFFFFF
        Array(utf8: "0000000000"),
        Array(utf8: "abc"),
        [0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B],              // binary: "HelloWorld"
        [0xFF, 0xFF, 0xFF, 0xFF],
    ]
}
