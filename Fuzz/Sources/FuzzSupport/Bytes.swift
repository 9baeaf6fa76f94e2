import ZMTP

/// Lowercase hex, for finding messages.
public func hex(_ bytes: some Collection<UInt8>, limit: Int = 256) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    for byte in bytes.prefix(limit) {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: out, as: UTF8.self) + (bytes.count > limit ? "…(\(bytes.count) bytes)" : "")
}

/// FNV-1a, 64 bits: a cheap, deterministic hash of the input (seeds the chunkings).
public func fnv1a(_ bytes: some Sequence<UInt8>) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes {
        hash ^= UInt64(byte)
        hash = hash &* 0x0000_0100_0000_01B3
    }
    return hash
}

/// SplitMix64, for chunk sizes derived from the input.
public struct SplitMix: Sendable {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// How a byte stream is cut into reads. Every harness runs the same stream through several
/// plans and requires identical results.
public struct ChunkPlan: Sendable, CustomStringConvertible {
    public enum Kind: Sendable { case whole, bytewise, random }
    public var kind: Kind
    public var name: String
    /// Sizes of the reads, in order; they add up to the stream's length.
    public var sizes: [Int]

    /// One read with everything.
    public static func whole(_ count: Int) -> ChunkPlan {
        ChunkPlan(kind: .whole, name: "whole", sizes: count == 0 ? [] : [count])
    }

    /// One read per byte.
    public static func bytewise(_ count: Int) -> ChunkPlan {
        ChunkPlan(kind: .bytewise, name: "bytewise", sizes: Array(repeating: 1, count: count))
    }

    /// Reads of pseudo-random sizes (mostly small, sometimes large), derived from `seed`.
    public static func random(_ count: Int, seed: UInt64) -> ChunkPlan {
        var rng = SplitMix(seed: seed)
        var sizes: [Int] = []
        var left = count
        while left > 0 {
            let r = rng.next()
            let size: Int
            switch r % 8 {
            case 0: size = 1 + Int((r >> 8) % 300)      // a large read
            case 1: size = 0                          // an empty read: must be harmless
            default: size = 1 + Int((r >> 8) % 13)    // a small one: headers straddle reads
            }
            let take = min(size, left)
            sizes.append(take)
            left -= take
        }
        return ChunkPlan(kind: .random, name: "random(\(seed))", sizes: sizes)
    }

    /// The plans every harness uses: whole, byte by byte, and one random cutting derived from
    /// the stream (so the fuzzer moves it by changing the input).
    public static func standard(for stream: [UInt8]) -> [ChunkPlan] {
        [.whole(stream.count), .bytewise(stream.count), .random(stream.count, seed: fnv1a(stream))]
    }

    /// The largest read.
    public var largest: Int { sizes.max() ?? 0 }

    public var description: String { "\(name) \(sizes.prefix(40))\(sizes.count > 40 ? "…" : "")" }
}

/// Calls `body` with a copy of `bytes` in its own, exactly sized heap block, so that ASan sees
/// any read past the end of what the parser was given.
public func withExactCopy<R>(_ bytes: ArraySlice<UInt8>, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    let block = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
    defer { block.deallocate() }
    if !bytes.isEmpty {
        bytes.withUnsafeBytes { block.copyMemory(from: $0) }
    }
    return body(UnsafeRawBufferPointer(block))
}

/// The fuzzer's input as an array (nil pointer and zero count are both "empty").
public func inputBytes(_ start: UnsafePointer<UInt8>?, _ count: Int) -> [UInt8] {
    guard let start, count > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: start, count: count))
}

/// Frame encodings for seeds.
public enum Wire {
    /// A ZMTP 3.x command frame around `body` (name-len name data).
    public static func command(_ body: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        FrameEncoder.encodeCommand(body, into: &out)
        return out
    }

    /// A command body: name-len, name, data.
    public static func commandBody(_ name: String, _ data: [UInt8] = []) -> [UInt8] {
        [UInt8(name.utf8.count)] + Array(name.utf8) + data
    }

    /// A message frame in `version`'s framing.
    public static func message(_ bytes: [UInt8], more: Bool = false, version: FramingVersion = .zmtp3) -> [UInt8] {
        var out: [UInt8] = []
        FrameEncoder.encode(Message(bytes, more: more), version: version, into: &out)
        return out
    }

    /// A 64-byte ZMTP 3.`minor` greeting.
    public static func greeting(_ mechanism: MechanismName, minor: UInt8 = 1) -> [UInt8] {
        Greeting(minor: minor, mechanism: mechanism).encoded()
    }

    /// Metadata on the wire (panics on invalid names: seeds only).
    public static func metadata(_ properties: [(String, [UInt8])]) -> [UInt8] {
        var metadata = Metadata()
        for (name, value) in properties { metadata.append(name: name, value: value) }
        var out: [UInt8] = []
        do { try metadata.encode(into: &out) } catch { fatalError("seed metadata: \(error)") }
        return out
    }
}

extension Array where Element == UInt8 {
    /// UTF-8 bytes of `string`.
    public init(utf8 string: String) { self = Array(string.utf8) }
}
