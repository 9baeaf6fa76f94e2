/// Z85, the ZeroMQ base-85 encoding of binary data as printable text (RFC 32/Z85), used for CURVE
/// keys in configuration and ZAP.
///
/// ```
/// 4 octets, a big-endian uint32  <->  5 characters, most significant digit first
/// alphabet (index 0-84): 0-9 a-z A-Z . - : + = ^ ! / * ? & < > ( ) [ ] { } @ % $ #
/// ```
/// Binary length must be a multiple of 4 and text length a multiple of 5; padding is the
/// application's business (RFC 32 §Formal Specification).
public enum Z85 {
    /// The 85 characters, by digit value (RFC 32).
    static let alphabet: [UInt8] = Array("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#".utf8)

    /// Digit values of the characters 32...127, indexed by character - 32; `invalidDigit` for
    /// characters outside the alphabet (libzmq `zmq_z85_decode` uses the same 96-entry range).
    static let digits: [UInt8] = {
        var table = [UInt8](repeating: invalidDigit, count: 96)
        for (value, character) in alphabet.enumerated() {
            table[Int(character) - 32] = UInt8(value)
        }
        return table
    }()

    static let invalidDigit: UInt8 = 0xFF

    /// Encodes `data` (RFC 32 §Formal Specification).
    /// - Throws: ``ZMTPError/Code/invalidZ85`` (API misuse) unless the length is a multiple of 4.
    public static func encode(_ data: some Collection<UInt8>) throws(ZMTPError) -> String {
        guard data.count % 4 == 0 else {
            throw .misuse(.invalidZ85, "Z85 input of \(data.count) bytes is not a multiple of 4")
        }
        var text: [UInt8] = []
        text.reserveCapacity(data.count / 4 * 5)
        var value: UInt32 = 0
        var filled = 0
        for octet in data {
            value = value << 8 | UInt32(octet)
            filled += 1
            guard filled == 4 else { continue }
            // 5 digits, most significant first: value / 85^4 ... value % 85.
            var divisor: UInt32 = 85 * 85 * 85 * 85
            while divisor > 0 {
                text.append(alphabet[Int(value / divisor % 85)])
                divisor /= 85
            }
            value = 0
            filled = 0
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Decodes Z85 `text` (RFC 32 §Formal Specification), with libzmq's checks.
    /// - Throws: ``ZMTPError/Code/invalidZ85`` (blamed on the peer: Z85 arrives from
    ///   configuration files and ZAP) when the length is not a multiple of 5, a character is
    ///   outside 32...127 or not in the alphabet, or a 5-character group exceeds 0xFFFFFFFF.
    public static func decode(_ text: some StringProtocol) throws(ZMTPError) -> [UInt8] {
        let characters = text.utf8
        guard characters.count % 5 == 0 else {
            throw .peer(.invalidZ85, "Z85 text of \(characters.count) characters is not a multiple of 5")
        }
        var out: [UInt8] = []
        out.reserveCapacity(characters.count / 5 * 4)
        // 85^5 - 1 fits 64 bits, so a group is summed first and range-checked once.
        var value: UInt64 = 0
        var filled = 0
        for character in characters {
            let index = Int(character) - 32
            guard index >= 0, index < digits.count, digits[index] != invalidDigit else {
                throw .peer(.invalidZ85, "character 0x\(String(character, radix: 16)) is not Z85")
            }
            value = value * 85 + UInt64(digits[index])
            filled += 1
            guard filled == 5 else { continue }
            guard value <= UInt64(UInt32.max) else {
                throw .peer(.invalidZ85, "Z85 group value \(value) exceeds 0xFFFFFFFF")
            }
            out.append(UInt8(truncatingIfNeeded: value >> 24))
            out.append(UInt8(truncatingIfNeeded: value >> 16))
            out.append(UInt8(truncatingIfNeeded: value >> 8))
            out.append(UInt8(truncatingIfNeeded: value))
            value = 0
            filled = 0
        }
        return out
    }
}
