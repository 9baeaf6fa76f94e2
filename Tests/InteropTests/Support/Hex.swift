/// Lowercase hex, as the peer script prints it ("" for no bytes).
func hex(_ bytes: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var text: [UInt8] = []
    for byte in bytes {
        text.append(digits[Int(byte >> 4)])
        text.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: text, as: UTF8.self)
}

/// The bytes of a hex string; whitespace is ignored (as in Vectors/), invalid digits count as 0
/// (the peer prints only valid hex).
func bytes(hex text: some StringProtocol) -> [UInt8] {
    func value(_ c: UInt8) -> UInt8 {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x61...0x66: return c - 0x61 + 10
        case 0x41...0x46: return c - 0x41 + 10
        default: return 0
        }
    }
    let digits = text.utf8.filter { $0 != 0x20 && $0 != 0x0A && $0 != 0x09 && $0 != 0x0D }
    return stride(from: 0, to: digits.count - 1, by: 2).map { value(digits[$0]) << 4 | value(digits[$0 + 1]) }
}

/// UTF-8 bytes of a string literal.
func utf8(_ text: String) -> [UInt8] { Array(text.utf8) }

extension Collection where Element == UInt8 {
    /// Whether `needle` occurs somewhere in these bytes.
    func contains(bytes needle: [UInt8]) -> Bool {
        occurrences(of: needle) > 0
    }

    /// How many (possibly overlapping) times `needle` occurs.
    func occurrences(of needle: [UInt8]) -> Int {
        let haystack = Array(self)
        guard !needle.isEmpty, haystack.count >= needle.count else { return 0 }
        var count = 0
        for start in 0...(haystack.count - needle.count) where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            count += 1
        }
        return count
    }
}

/// A ZMTP 3 frame as seen on the wire (flags, body), for inspecting plaintext byte logs.
struct WireFrame: Equatable {
    var flags: UInt8
    var body: [UInt8]
    var isCommand: Bool { flags & 0x04 != 0 }
}

/// Splits a plaintext ZMTP 3 byte stream (after the 64-byte greeting) into frames; stops at a
/// truncated frame.
func wireFrames(_ stream: some Collection<UInt8>) -> [WireFrame] {
    let bytes = Array(stream)
    var frames: [WireFrame] = []
    var i = 0
    while i + 2 <= bytes.count {
        let flags = bytes[i]
        var size = 0
        var header = 2
        if flags & 0x02 != 0 {
            guard i + 9 <= bytes.count else { break }
            size = bytes[(i + 1)..<(i + 9)].reduce(0) { $0 << 8 | Int($1) }
            header = 9
        } else {
            size = Int(bytes[i + 1])
        }
        guard size >= 0, i + header + size <= bytes.count else { break }
        frames.append(WireFrame(flags: flags, body: Array(bytes[(i + header)..<(i + header + size)])))
        i += header + size
    }
    return frames
}
