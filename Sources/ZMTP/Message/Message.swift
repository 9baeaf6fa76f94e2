/// One ZeroMQ message part: a body and the MORE flag (libzmq's `zmq_msg_t`).
///
/// A multipart message is a sequence of `Message`s, all but the last with ``more`` set.
/// Bodies of up to ``Message/inlineCapacity`` bytes are stored inline, with no heap
/// allocation; larger bodies are a reference-counted slice that copies of the message share.
public struct Message: Sendable, Hashable, CustomStringConvertible {
    /// Bodies up to this size live inside the struct (libzmq's VSM limit is 33 on 64-bit).
    public static let inlineCapacity = 32

    @usableFromInline
    enum Storage: Sendable {
        case inline(InlineBytes)
        case shared(ArraySlice<UInt8>)
    }

    @usableFromInline var storage: Storage

    /// More parts of the same multipart message follow this one.
    public var more: Bool

    /// Creates a message part by copying `bytes`.
    @inlinable
    public init(_ bytes: some Sequence<UInt8>, more: Bool = false) {
        self.more = more
        if let small = InlineBytes(bytes) {
            storage = .inline(small)
        } else {
            storage = .shared(ArraySlice(bytes))
        }
    }

    /// Creates a message part that shares `slice` (no copy for large bodies).
    @inlinable
    public init(sharing slice: ArraySlice<UInt8>, more: Bool = false) {
        self.more = more
        if slice.count <= Message.inlineCapacity, let small = InlineBytes(slice) {
            storage = .inline(small)
        } else {
            storage = .shared(slice)
        }
    }

    /// Creates a message part from UTF-8 text.
    @inlinable
    public init(string: String, more: Bool = false) {
        self.init(string.utf8, more: more)
    }

    /// Creates a message part by copying raw bytes (the driver's fast path).
    @inlinable
    public init(copying buffer: UnsafeRawBufferPointer, more: Bool = false) {
        self.more = more
        if buffer.count <= Message.inlineCapacity {
            storage = .inline(InlineBytes(copying: buffer))
        } else {
            storage = .shared(ArraySlice(buffer))
        }
    }

    /// An empty message part.
    public static let empty = Message([UInt8](), more: false)

    /// The number of body bytes.
    @inlinable
    public var count: Int {
        switch storage {
        case .inline(let b): return Int(b.count)
        case .shared(let s): return s.count
        }
    }

    /// The body, copied into an array.
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    /// The body as a slice: shared (no copy) for large bodies, a small copy for inline ones.
    var slice: ArraySlice<UInt8> {
        switch storage {
        case .inline: return bytes[...]
        case .shared(let s): return s
        }
    }

    /// Calls `body` with the message bytes.
    @inlinable
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch storage {
        case .inline(let b): return try b.withUnsafeBytes(body)
        case .shared(let s): return try s.withUnsafeBytes(body)
        }
    }

    /// The body as UTF-8 text (invalid sequences repaired).
    public var string: String { withUnsafeBytes { String(decoding: $0, as: UTF8.self) } }

    public var description: String {
        let hex = withUnsafeBytes { raw in
            raw.prefix(32).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        }
        return "Message(\(count) B\(more ? ", more" : ""): \(hex)\(count > 32 ? "…" : ""))"
    }

    public static func == (lhs: Message, rhs: Message) -> Bool {
        guard lhs.more == rhs.more, lhs.count == rhs.count else { return false }
        return lhs.withUnsafeBytes { a in rhs.withUnsafeBytes { b in a.elementsEqual(b) } }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(more)
        withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}

/// Up to 32 bytes stored inline (four words and a count): no heap allocation.
@usableFromInline
struct InlineBytes: Sendable {
    @usableFromInline var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    @usableFromInline var count: UInt8 = 0

    @inlinable
    init?(_ bytes: some Sequence<UInt8>) {
        var iterator = bytes.makeIterator()
        var n = 0
        let ok: Bool = withUnsafeMutableBytes(of: &words) { raw in
            while let byte = iterator.next() {
                if n == Message.inlineCapacity { return false }
                raw[n] = byte
                n += 1
            }
            return true
        }
        guard ok else { return nil }
        count = UInt8(n)
    }

    @inlinable
    init(copying buffer: UnsafeRawBufferPointer) {
        precondition(buffer.count <= Message.inlineCapacity)
        withUnsafeMutableBytes(of: &words) { raw in
            if let base = buffer.baseAddress, let dst = raw.baseAddress {
                dst.copyMemory(from: base, byteCount: buffer.count)
            }
        }
        count = UInt8(buffer.count)
    }

    @inlinable
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let n = Int(count)
        return try Swift.withUnsafeBytes(of: words) { raw in
            try body(UnsafeRawBufferPointer(rebasing: raw.prefix(n)))
        }
    }
}
