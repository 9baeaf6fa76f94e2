/// One ZeroMQ message part: a body and the MORE flag (libzmq's `zmq_msg_t`).
///
/// A multipart message is a sequence of `Message`s, all but the last with ``more`` set.
/// Bodies of up to ``Message/inlineCapacity`` bytes are stored inline, with no heap
/// allocation; a larger body lives in memory that copies of the message share, counted by
/// reference: a buffer of its own, a slice of an array it was made from, or a slice of a
/// receive chunk that holds the bodies of several messages (libzmq's shared receive buffer).
///
/// The layout is a fixed-size value plus at most one reference, so copying a message is one
/// retain and destroying it one release, with no branch on what kind of body it has.
public struct Message: @unchecked Sendable, Hashable, CustomStringConvertible {
    // Sendable: `owner` is never mutated once the message exists (buffers are written only
    // before the first message refers to them), so sharing it across threads is safe.

    /// Bodies up to this size live inside the struct (libzmq's VSM limit is 33 on 64-bit).
    public static let inlineCapacity = 32

    /// The body when it is inline; when it is shared, the first word is its address.
    @usableFromInline var words: (UInt64, UInt64, UInt64, UInt64)
    /// Keeps a shared body alive; nil for an inline one.
    @usableFromInline var owner: AnyObject?
    /// The number of body bytes.
    @usableFromInline var length: Int
    /// The number of body bytes.
    @inlinable public var count: Int { length }

    /// More parts of the same multipart message follow this one.
    public var more: Bool

    /// Creates a message part by copying `bytes`.
    @inlinable
    public init(_ bytes: some Sequence<UInt8>, more: Bool = false) {
        if let contiguous = bytes.withContiguousStorageIfAvailable({ Message(copying: UnsafeRawBufferPointer($0), more: more) }) {
            self = contiguous
        } else {
            let array = Array(bytes)
            self = array.withUnsafeBytes { Message(copying: $0, more: more) }
        }
    }

    /// Creates a message part that shares `slice` (no copy for large bodies).
    public init(sharing slice: ArraySlice<UInt8>, more: Bool = false) {
        if slice.count <= Message.inlineCapacity {
            self = slice.withUnsafeBytes { Message(copying: $0, more: more) }
            return
        }
        let holder = ArrayHolder(slice)
        self.init(owner: holder, base: holder.base, count: slice.count, more: more)
    }

    /// Creates a message part from UTF-8 text.
    @inlinable
    public init(string: String, more: Bool = false) {
        self.init(string.utf8, more: more)
    }

    /// Creates a message part by copying raw bytes.
    @inlinable
    public init(copying buffer: UnsafeRawBufferPointer, more: Bool = false) {
        if buffer.count <= Message.inlineCapacity {
            self.init(inline: buffer, more: more)
        } else {
            let storage = MessageBuffer.make(capacity: buffer.count)
            let base = storage.base
            base.copyMemory(from: buffer.baseAddress!, byteCount: buffer.count)
            self.init(owner: storage, base: UnsafeRawPointer(base), count: buffer.count, more: more)
        }
    }

    /// Creates a message part of `count` bytes that `initializer` writes in place, with no
    /// copy (libzmq's `zmq_msg_init_size`). The initializer must write every byte: the memory
    /// it gets is not zeroed.
    @inlinable
    public init(unsafeUninitializedCount count: Int, more: Bool = false,
                initializingWith initializer: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        precondition(count >= 0, "a message cannot have a negative size")
        if count <= Message.inlineCapacity {
            var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
            try Swift.withUnsafeMutableBytes(of: &words) { raw in
                try initializer(UnsafeMutableRawBufferPointer(rebasing: raw[0..<count]))
            }
            self.init(words: words, owner: nil, length: count, more: more)
        } else {
            let storage = MessageBuffer.make(capacity: count)
            try initializer(UnsafeMutableRawBufferPointer(start: storage.base, count: count))
            self.init(owner: storage, base: UnsafeRawPointer(storage.base), count: count, more: more)
        }
    }

    /// An inline body (at most ``inlineCapacity`` bytes).
    @inlinable
    init(inline buffer: UnsafeRawBufferPointer, more: Bool) {
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        if let source = buffer.baseAddress, buffer.count > 0 {
            Swift.withUnsafeMutableBytes(of: &words) { raw in
                raw.baseAddress!.copyMemory(from: source, byteCount: buffer.count)
            }
        }
        self.init(words: words, owner: nil, length: buffer.count, more: more)
    }

    /// A body of `count` bytes at `base`, which `owner` keeps alive and never changes again.
    @inlinable
    package init(owner: AnyObject, base: UnsafeRawPointer, count: Int, more: Bool) {
        self.init(words: (UInt64(UInt(bitPattern: base)), 0, 0, 0), owner: owner, length: count, more: more)
    }

    @inlinable
    init(words: (UInt64, UInt64, UInt64, UInt64), owner: AnyObject?, length: Int, more: Bool) {
        self.words = words
        self.owner = owner
        self.length = length
        self.more = more
    }

    /// Whether the body is stored inside the struct (no heap memory).
    var isInline: Bool { owner == nil }

    /// An empty message part.
    public static let empty = Message([UInt8](), more: false)

    /// The body, copied into an array.
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    /// The body as a slice: shared (no copy) when the message was made from an array, a copy
    /// otherwise.
    package var slice: ArraySlice<UInt8> {
        if let holder = owner as? ArrayHolder { return holder.slice }
        return bytes[...]
    }

    /// Calls `body` with the message bytes.
    @inlinable
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if owner != nil {
            // `extendLifetime` rather than `withExtendedLifetime`, whose closure was left as an
            // unspecialized generic call here (about 90 instructions per framed message); of
            // the message itself, borrowed, rather than of an `owner` bound with `if let`,
            // which is a copy of the message (a retain and a release through its value
            // witnesses, about 95 instructions per framed message).
            defer { extendLifetime(self) }
            return try body(UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: UInt(words.0)), count: length))
        }
        let n = length
        return try Swift.withUnsafeBytes(of: words) { raw in
            try body(UnsafeRawBufferPointer(rebasing: raw[0..<n]))
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

/// Memory for message bodies, in one allocation with its header: one message's body, or a
/// receive chunk holding the bodies of several (``FrameDecoder/chunkCapacity``). Written only before any
/// message refers to it.
public final class MessageBuffer: ManagedBuffer<Int, UInt8> {
    /// A buffer of at least `capacity` bytes, uninitialised.
    @inlinable
    static func make(capacity: Int) -> MessageBuffer {
        let buffer = MessageBuffer.create(minimumCapacity: capacity) { _ in capacity }
        return unsafeDowncast(buffer, to: MessageBuffer.self)
    }

    /// Where the bytes start. Stable for the buffer's lifetime: the bytes are allocated with the
    /// object and never move.
    @inlinable
    var base: UnsafeMutableRawPointer {
        withUnsafeMutablePointerToElements { UnsafeMutableRawPointer($0) }
    }
}

/// Keeps an array a message shares alive, with the address of its bytes, which do not move
/// while the holder (the only reference that can reach them) lives and never mutates them.
final class ArrayHolder {
    let slice: ArraySlice<UInt8>
    let base: UnsafeRawPointer

    init(_ slice: ArraySlice<UInt8>) {
        self.slice = slice
        base = slice.withUnsafeBytes { $0.baseAddress! }
    }
}
