import Testing
@testable import ZMTP

private func decodeResult(_ text: String) -> Result<[UInt8], ZMTPError> {
    Result { () throws(ZMTPError) in try Z85.decode(text) }
}

@Suite("Z85")
struct Z85Tests {
    @Test("RFC 32 test vector: 86 4F D2 6F B5 59 F7 5B <-> HelloWorld")
    func rfcVector() throws {
        let bytes: [UInt8] = [0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B]
        #expect(try Z85.encode(bytes) == "HelloWorld")
        #expect(try Z85.decode("HelloWorld") == bytes)
    }

    @Test("the alphabet has 85 distinct characters")
    func alphabet() {
        #expect(Z85.alphabet.count == 85)
        #expect(Set(Z85.alphabet).count == 85)
    }

    @Test("group boundaries: 0, 1 and 0xFFFFFFFF")
    func boundaries() throws {
        #expect(try Z85.encode([0, 0, 0, 0]) == "00000")
        #expect(try Z85.encode([0, 0, 0, 1]) == "00001")
        #expect(try Z85.encode([0xFF, 0xFF, 0xFF, 0xFF]) == "%nSc0")
        #expect(try Z85.decode("%nSc0") == [0xFF, 0xFF, 0xFF, 0xFF])
    }

    @Test("empty input encodes and decodes to empty")
    func empty() throws {
        #expect(try Z85.encode([UInt8]()) == "")
        #expect(try Z85.decode("") == [])
    }

    @Test("every byte value round-trips, and so does a 32-byte CURVE key")
    func roundTrip() throws {
        let all = (0...255).map { UInt8($0) }
        let text = try Z85.encode(all)
        #expect(text.utf8.count == 320)
        #expect(text.hasPrefix("009c61o!#m2NH?C3>iWS5d]J*6CRx17-skh9337x"))
        #expect(try Z85.decode(text) == all)
        let key = body(32)
        let keyText = try Z85.encode(key)
        #expect(keyText.utf8.count == 40)
        #expect(try Z85.decode(keyText) == key)
    }

    @Test("decode accepts any StringProtocol, such as a Substring")
    func substring() throws {
        let text = "xxHelloWorldyy"
        #expect(try Z85.decode(text.dropFirst(2).dropLast(2)) == [0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B])
    }

    @Test("encoding a length that is not a multiple of 4 is API misuse", arguments: [1, 2, 3, 5, 31])
    func encodeLength(_ count: Int) {
        let result = Result { () throws(ZMTPError) in try Z85.encode(body(count)) }
        #expect(result.failure?.code == .invalidZ85)
        #expect(result.failure?.blame == .apiMisuse)
    }

    @Test("decoding a length that is not a multiple of 5 fails", arguments: ["H", "Hell", "HelloW", "HelloWorl"])
    func decodeLength(_ text: String) {
        let result = decodeResult(text)
        #expect(result.failure?.code == .invalidZ85)
        #expect(result.failure?.blame == .peerMisbehaved)
    }

    @Test("characters outside 32...127 or outside the alphabet fail",
          arguments: [" 0000", "\"0000", "'0000", ",0000", ";0000", "\\0000", "_0000", "`0000", "|0000", "~0000",
                      "\u{7F}0000", "\u{1F}0000", "\t0000", "\u{0}0000", "é000", "000\u{80}"])
    func badCharacters(_ text: String) {
        #expect(text.utf8.count % 5 == 0)
        let result = decodeResult(text)
        #expect(result.failure?.code == .invalidZ85)
        #expect(result.failure?.blame == .peerMisbehaved)
    }

    @Test("a group worth more than 0xFFFFFFFF fails", arguments: ["%nSc1", "#####", "$0000", "00000%nSc1"])
    func overflowingGroup(_ text: String) {
        #expect(decodeResult(text).failure?.code == .invalidZ85)
    }
}
