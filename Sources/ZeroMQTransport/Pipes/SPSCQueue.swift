import Synchronization

/// An unbounded single-producer, single-consumer queue with batched publication and a
/// reader-asleep handshake: libzmq's `ypipe_t` design, as measured in
/// `shared/reference/swift-notes.md` (§3: a padded ring publishing in batches reaches about 30 M
/// messages/s where a lock per message manages 3).
///
/// - The writer ``write(_:)``s items that stay invisible until ``flush()`` publishes them all
///   with one compare-and-swap. `flush()` returns `false` when the reader had gone to sleep: only then
///   must the writer wake it (an eventfd write costs about 0.8 µs, so waking per message would cap
///   throughput near 1 M/s).
/// - The reader ``read()``s until it returns nil; ``checkRead()`` tells whether an item is there
///   and, when none is, marks the reader asleep so that the next flush reports it.
///
/// Items live in chunks of ``chunkSize``; drained chunks are kept as spares for the writer, so a
/// queue in steady state allocates nothing. Exactly one thread may write and one may read.
public final class SPSCQueue<Element>: @unchecked Sendable {
    /// Items per chunk (libzmq's `message_pipe_granularity`).
    public static var chunkSize: Int { 256 }

    /// A block of item slots. Slots are initialised by the writer and moved out by the reader.
    final class Chunk: @unchecked Sendable {
        let slots: UnsafeMutablePointer<Element>
        /// Set by the writer before any slot of the next chunk is published.
        var next: Chunk?

        init() {
            slots = .allocate(capacity: SPSCQueue.chunkSize)
        }

        deinit {
            slots.deallocate()
        }
    }

    // MARK: The writer's state, the one shared word, the reader's state: each on its own cache line

    /// The writer thread only.
    struct WriterState {
        var chunk: Chunk
        /// `chunk.slots`, kept here so that a write reaches the slot without loading (and
        /// retaining) the chunk.
        var slots: UnsafeMutablePointer<Element>
        var index = 0
        var written = 0
        /// What the last ``flush()`` published: the value `published` holds unless the reader
        /// has since marked itself asleep.
        var flushed = 0
    }

    /// The reader thread only.
    struct ReaderState {
        var chunk: Chunk
        /// `chunk.slots`, as the writer's.
        var slots: UnsafeMutablePointer<Element>
        var index = 0
        var consumed = 0
        /// How many items the reader knows to be published: it touches `published` only when
        /// it catches up.
        var visible = 0
    }

    /// The two sides' states are reached through pointers, each on its own cache lines: as stored
    /// properties they would cost a run-time exclusivity check per access (measured: about 76
    /// instructions each), and would share a line.
    private let writer: Unchecked<WriterState>
    private let _padding0: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    /// How many items the writer has published, or ``asleep`` when the reader caught up and
    /// waits to be woken (libzmq's `ypipe_t::_c`). Each side changes it with one
    /// compare-and-swap: the writer per flush, the reader when it catches up.
    private let published = Atomic<Int>(0)
    private static var asleep: Int { -1 }
    private let _padding1: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    private let reader: Unchecked<ReaderState>
    private let _padding2: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    /// Drained chunks the reader hands back for the writer to reuse, linked through their
    /// `next`, at most ``spareChunkLimit``.
    private let spares = Mutex<(first: Chunk?, count: Int)>((nil, 0))

    /// How many drained chunks wait for reuse. libzmq's `ypipe_t` keeps one; here the writer
    /// and the reader change chunks out of step (a reader that drains two chunks while the
    /// writer fills none has one to free, and the writer then allocates one), so with one
    /// spare most chunk changes found none: 518 allocations of 14 KiB per 781
    /// chunk changes in a tcp send of 200,000 messages, each freed again by the reader, and
    /// each costing glibc a consolidation of the small blocks the other thread had freed
    /// (about 12,000 instructions). With four, 4 allocations. A spare is memory the queue
    /// held at its last peak, so at most four chunks (56 KiB) stay allocated beyond it.
    static var spareChunkLimit: Int { 4 }

    /// An empty queue; the reader starts awake.
    public init() {
        let first = Chunk()
        writer = Unchecked(WriterState(chunk: first, slots: first.slots))
        reader = Unchecked(ReaderState(chunk: first, slots: first.slots))
    }

    deinit {
        // Nobody else can touch the queue now: destroy what was written and never read.
        var chunk = reader.value.chunk
        var index = reader.value.index
        for _ in reader.value.consumed..<writer.value.written {
            if index == Self.chunkSize {
                guard let next = chunk.next else { break }
                chunk = next
                index = 0
            }
            (chunk.slots + index).deinitialize(count: 1)
            index += 1
        }
    }

    // MARK: Writer

    /// Appends an item, invisible to the reader until the next ``flush()``. Inlined into the
    /// pipe end's write, as ``read()`` into its read: as calls, each moved the item through
    /// memory once more and cost 10 to 50 instructions per message (callgrind).
    @inline(__always)
    public func write(_ item: consuming Element) {
        if writer.value.index == Self.chunkSize {
            let reused: Chunk? = spares.withLock { spares in
                guard let first = spares.first else { return nil }
                spares.first = first.next
                spares.count -= 1
                return first
            }
            let next = reused ?? Chunk()
            next.next = nil
            writer.value.chunk.next = next
            writer.value.chunk = next
            writer.value.slots = next.slots
            writer.value.index = 0
        }
        (writer.value.slots + writer.value.index).initialize(to: item)
        writer.value.index += 1
        writer.value.written += 1
    }

    /// Publishes everything written so far. Returns `false` when the reader was asleep and must
    /// be woken (libzmq's `ypipe_t::flush`).
    @discardableResult
    public func flush() -> Bool {
        let written = writer.value.written
        let flushed = writer.value.flushed
        guard written != flushed else { return true }
        writer.value.flushed = written
        // Sequentially consistent on both sides of the handshake: the reader marks itself asleep
        // only while `published` still holds what we flushed last, so either it sees this
        // publication first, or this exchange fails and we wake it.
        if published.compareExchange(expected: flushed, desired: written, ordering: .sequentiallyConsistent).exchanged {
            return true
        }
        published.store(written, ordering: .sequentiallyConsistent)
        return false
    }

    /// How many items were written and not yet published (the writer thread only).
    public var unflushedCount: Int { writer.value.written - writer.value.flushed }

    // MARK: Reader

    /// Whether an item can be read. When none can, the reader is marked asleep, and the writer's
    /// next ``flush()`` returns `false` so that it wakes the reader.
    public func checkRead() -> Bool {
        let consumed = reader.value.consumed
        if consumed < reader.value.visible { return true }
        // Caught up: asleep if nothing more was published, else take what was.
        let (exchanged, current) = published.compareExchange(expected: consumed, desired: Self.asleep,
                                                             ordering: .sequentiallyConsistent)
        if exchanged || current == Self.asleep { return false }
        reader.value.visible = current
        return true
    }

    /// The next published item, or nil (and the reader marked asleep) when there is none.
    @inline(__always)
    public func read() -> Element? {
        guard checkRead() else { return nil }
        if reader.value.index == Self.chunkSize {
            // The writer linked the next chunk before publishing anything in it.
            guard let next = reader.value.chunk.next else { return nil }
            let drained = reader.value.chunk
            reader.value.chunk = next
            reader.value.slots = next.slots
            reader.value.index = 0
            spares.withLock { spares in
                if spares.count < Self.spareChunkLimit {
                    drained.next = spares.first
                    spares.first = drained
                    spares.count += 1
                } else {
                    drained.next = nil
                }
            }
        }
        let item = (reader.value.slots + reader.value.index).move()
        reader.value.index += 1
        reader.value.consumed += 1
        return item
    }
}
