import Synchronization
import ZMTP

/// Names a pipe end in the wakeups its sink receives (``PipeEnd/id``).
///
/// A pipe never holds a reference to its ends, weak or strong: a weak reference would give every
/// end a side table, and each retain of an end on the message path (several per message) would
/// take the runtime's slow, side-table path. Owners find the end from its id.
public struct PipeID: Hashable, Sendable {
    /// The end's object identity (its owner may key a table with it).
    public let object: ObjectIdentifier
    /// A number no other end of this process has had. A wakeup can still be queued when its end
    /// is freed and a new end takes the same address: the serial tells them apart, so a stale
    /// "peer closed" never closes a newer connection.
    public let serial: UInt64
}

/// The serials of ``PipeID``.
private let pipeSerials = Atomic<UInt64>(0)

/// Where a pipe end's wakeups go. Called from the thread of the *other* end (an I/O thread for a
/// socket's end, the socket's thread for a session's end), so implementations hand the news to
/// their own thread: a socket through its mailbox, a session through `Reactor.post(_:)`.
public protocol PipeEventSink: AnyObject, Sendable {
    /// Messages arrived after the end was found empty (its reader had gone to sleep).
    func pipeBecameReadable(_ pipe: PipeID)
    /// The peer read enough for a writer that was at its high-water mark to go on.
    func pipeBecameWritable(_ pipe: PipeID)
    /// The peer closed its end: read what is left (``PipeEnd/readState()`` ends in `.closed`),
    /// then close this end too.
    func pipePeerClosed(_ pipe: PipeID)
}

extension PipeEventSink {
    /// By default a closing peer wakes the reader, which finds the pipe closed once it is drained.
    public func pipePeerClosed(_ pipe: PipeID) { pipeBecameReadable(pipe) }
}

/// What a read finds (``PipeEnd/readState()``).
public enum PipeRead: Sendable {
    /// The next message part.
    case message(Message)
    /// Nothing published yet; the reader is asleep until the peer's next flush wakes it.
    case empty
    /// The peer closed its end and everything it wrote has been read.
    case closed
}

/// One end of a bidirectional message pipe between a socket and a session (or, for inproc,
/// between two sockets): libzmq's `pipe_t`.
///
/// Each direction is an ``SPSCQueue`` of ``/ZMTP/Message`` parts. A multipart message is published
/// with its last part, so a reader never sees part of one. The high-water mark counts whole
/// messages, as libzmq does: an end may start a message while `written - peer's read < hwm`, and
/// the reader reports its progress every low-water mark, `(hwm + 1) / 2` messages, waking a
/// writer that was waiting for room. A high-water mark of 0 means no limit.
public final class PipeEnd: @unchecked Sendable {
    /// One direction: its queue, the reader's progress, and who to wake on either side.
    final class Direction: @unchecked Sendable {
        let queue = SPSCQueue<Message>()
        /// Whole messages the reader has consumed, reported every low-water mark.
        let read = Atomic<Int>(0)
        /// The writer found the direction full and waits for ``PipeEventSink/pipeBecameWritable(_:)``.
        let writerWaiting = Atomic<Bool>(false)
        /// Atomic because an inproc pipe created before its binder existed learns the binder's
        /// receive HWM later (libzmq adds the two).
        let highWaterMarkValue: Atomic<Int>
        var highWaterMark: Int { highWaterMarkValue.load(ordering: .relaxed) }
        var lowWaterMark: Int { max(1, (highWaterMark + 1) / 2) }
        /// The writer closed this direction after publishing its last message.
        let writerClosed = Atomic<Bool>(false)
        /// The reader closed its end: whatever is written from now on is dropped.
        let readerClosed = Atomic<Bool>(false)
        /// An end's id and the sink it reports to, held weakly: sinks are owned by their
        /// sockets and sessions, never by the pipe, so nothing here keeps them alive in a cycle.
        struct Binding {
            var end: PipeID?
            weak var sink: PipeEventSink?
        }

        /// The reader's end and sink, and the writer's, set when each side attaches.
        let ends = Mutex<(reader: Binding, writer: Binding)>((Binding(), Binding()))

        init(highWaterMark: Int) {
            self.highWaterMarkValue = Atomic(max(0, highWaterMark))
        }

        func wakeReaderClosed() {
            let binding = ends.withLock { $0.reader }
            if let end = binding.end, let sink = binding.sink { sink.pipePeerClosed(end) }
        }

        func wakeReader() {
            let binding = ends.withLock { $0.reader }
            if let end = binding.end, let sink = binding.sink { sink.pipeBecameReadable(end) }
        }

        func wakeWriter() {
            let binding = ends.withLock { $0.writer }
            if let end = binding.end, let sink = binding.sink { sink.pipeBecameWritable(end) }
        }
    }

    private let incoming: Direction
    private let outgoing: Direction
    /// `incoming.queue` and `outgoing.queue`, held by the end itself: a `let` of `self` is
    /// borrowed for the length of a call, but a `let` reached through another object
    /// (`outgoing.queue`) is retained and released around every use of it (callgrind: one
    /// pair, about 40 instructions, per write, flush and read).
    private let incomingQueue: SPSCQueue<Message>
    private let outgoingQueue: SPSCQueue<Message>

    /// This end's name in its sink's wakeups.
    public var id: PipeID { PipeID(object: ObjectIdentifier(self), serial: serial) }
    private let serial = pipeSerials.add(1, ordering: .relaxed).newValue

    /// This end's own state, its owner's thread only.
    struct EndState {
        // Writer state.
        var messagesWritten = 0
        /// The peer's progress as last loaded: reloaded only when it says the pipe is full.
        var peerRead = 0
        var writingMultipart = false
        var unpublished = false
        /// The parts of a multipart message being written: they enter the queue together with
        /// its last part, so the queue only ever holds whole messages and a message cut short by
        /// a failed connection can be taken back (``rollback()``).
        var partial: [Message] = []
        // Reader state.
        var messagesRead = 0
        /// Whole messages left to read before the next progress report (a countdown from the
        /// low-water mark, so no division per message).
        var readsUntilReport: Int
        var isClosed = false
    }

    /// Reached through a pointer: as a stored property it costs a run-time exclusivity check per
    /// access (the compiler does not prove them; measured with callgrind, about 76 instructions each).
    private let state: Unchecked<EndState>

    /// Creates a connected pair. `hwmAB` limits what end A writes to B, `hwmBA` the reverse
    /// (for inproc, libzmq adds the sender's SNDHWM and the receiver's RCVHWM).
    public static func makePair(hwmAB: Int, hwmBA: Int) -> (a: PipeEnd, b: PipeEnd) {
        let ab = Direction(highWaterMark: hwmAB)
        let ba = Direction(highWaterMark: hwmBA)
        return (PipeEnd(incoming: ba, outgoing: ab), PipeEnd(incoming: ab, outgoing: ba))
    }

    private init(incoming: Direction, outgoing: Direction) {
        self.incoming = incoming
        self.outgoing = outgoing
        incomingQueue = incoming.queue
        outgoingQueue = outgoing.queue
        state = Unchecked(EndState(readsUntilReport: incoming.lowWaterMark))
    }

    /// The high-water mark of what this end writes (0: none).
    public var sendHighWaterMark: Int { outgoing.highWaterMark }

    /// Changes both high-water marks (an inproc pipe made before its binder existed learns the
    /// binder's HWMs when it binds). Safe from either end's thread.
    public func setHighWaterMarks(send: Int, receive: Int) {
        outgoing.highWaterMarkValue.store(max(0, send), ordering: .relaxed)
        incoming.highWaterMarkValue.store(max(0, receive), ordering: .relaxed)
    }

    /// Whether this end was closed by its owner.
    public var isClosed: Bool { state.value.isClosed }

    /// Whether the peer closed its end (there may still be messages to read).
    public var peerClosed: Bool { incoming.writerClosed.load(ordering: .acquiring) }

    /// Whether the peer stopped reading: what this end writes is dropped.
    public var peerStoppedReading: Bool { outgoing.readerClosed.load(ordering: .acquiring) }

    /// Closes this end: publishes what was written (a message left half-written is dropped by
    /// the reader, which never sees its unpublished parts), stops reading, and tells the peer,
    /// which reads what is left and then finds the pipe closed (libzmq's pipe termination with
    /// its delimiter).
    public func close() {
        guard !state.value.isClosed else { return }
        state.value.isClosed = true
        state.value.partial.removeAll()
        flush()
        incoming.readerClosed.store(true, ordering: .releasing)
        outgoing.writerClosed.store(true, ordering: .sequentiallyConsistent)
        outgoing.wakeReaderClosed()
        // A writer on the other side waiting for room would wait forever.
        if incoming.writerWaiting.exchange(false, ordering: .sequentiallyConsistent) {
            incoming.wakeWriter()
        }
    }

    /// Tells this end where its wakeups go (its owner calls this when it attaches the pipe).
    /// The pipe holds the sink weakly: the owner keeps it alive.
    public func setSink(_ sink: PipeEventSink) {
        let id = self.id
        incoming.ends.withLock { $0.reader = Direction.Binding(end: id, sink: sink) }
        outgoing.ends.withLock { $0.writer = Direction.Binding(end: id, sink: sink) }
    }

    // MARK: Writing

    /// Whether a new message may be started now. When it may not, the end is marked as waiting
    /// and its sink's ``PipeEventSink/pipeBecameWritable(_:)`` is called once the peer makes room.
    public func checkWrite() -> Bool {
        if state.value.writingMultipart || state.value.isClosed { return true }
        let hwm = outgoing.highWaterMark
        if hwm == 0 || state.value.messagesWritten - state.value.peerRead < hwm { return true }
        if outgoing.readerClosed.load(ordering: .relaxed) { return true }
        state.value.peerRead = outgoing.read.load(ordering: .acquiring)
        if state.value.messagesWritten - state.value.peerRead < hwm { return true }
        outgoing.writerWaiting.store(true, ordering: .sequentiallyConsistent)
        // The reader may have reported progress between the check and the flag: look again.
        state.value.peerRead = outgoing.read.load(ordering: .sequentiallyConsistent)
        if state.value.messagesWritten - state.value.peerRead < hwm {
            outgoing.writerWaiting.store(false, ordering: .relaxed)
            return true
        }
        return false
    }

    /// Writes one part. The message becomes visible to the peer at the first ``flush()`` after
    /// its last part. Call ``checkWrite()`` before a message's first part; later parts are always
    /// accepted, so the high-water mark never cuts a message in two.
    public func write(_ message: consuming Message) {
        let more = message.more
        if state.value.isClosed || outgoing.readerClosed.load(ordering: .relaxed) {
            // Nobody will read it: drop it rather than let it pile up.
            state.value.writingMultipart = more
            state.value.partial.removeAll()
            return
        }
        state.value.writingMultipart = more
        if more {
            state.value.partial.append(message)
            return
        }
        if !state.value.partial.isEmpty { publishPartial() }
        outgoingQueue.write(message)
        state.value.messagesWritten += 1
        state.value.unpublished = true
    }

    /// Moves the held parts of a multipart message into the queue, ahead of its last part.
    private func publishPartial() {
        var parts: [Message] = []
        swap(&parts, &state.value.partial)
        for part in parts { outgoingQueue.write(part) }
        parts.removeAll(keepingCapacity: true)
        swap(&parts, &state.value.partial)
    }

    /// Drops the parts of a message whose last part was never written (libzmq's
    /// `pipe_t::rollback`): an engine whose connection failed mid-message calls this, so the
    /// reader never sees a message cut short.
    public func rollback() {
        state.value.partial.removeAll(keepingCapacity: true)
        state.value.writingMultipart = false
    }

    /// Whether the last part written had MORE set (a message is being written).
    public var isWritingMultipart: Bool { state.value.writingMultipart }

    /// Publishes every complete message written so far and wakes the peer if it was asleep.
    /// Writers call it at the end of a batch, not per message.
    public func flush() {
        guard state.value.unpublished else { return }
        state.value.unpublished = false
        if !outgoingQueue.flush() {
            outgoing.wakeReader()
        }
    }

    // MARK: Reading

    /// The next part, or nil when none is published (the end is then asleep until the peer's
    /// next flush wakes it through its sink).
    public func read() -> Message? {
        guard let message = incomingQueue.read() else { return nil }
        if !message.more {
            state.value.messagesRead += 1
            state.value.readsUntilReport -= 1
            if state.value.readsUntilReport <= 0 { reportProgress() }
        }
        return message
    }

    /// Whether a part can be read (marks the end asleep when none can).
    public func checkRead() -> Bool { incomingQueue.checkRead() }

    /// The next part, or whether the pipe is merely empty or closed for good. The peer's closing
    /// flag is read before looking again, so nothing published before it is missed.
    public func readState() -> PipeRead {
        if let message = read() { return .message(message) }
        guard incoming.writerClosed.load(ordering: .acquiring) else { return .empty }
        if let message = read() { return .message(message) }
        return .closed
    }

    /// Tells the writer how far we have read, waking it if it waits for room.
    private func reportProgress() {
        state.value.readsUntilReport = incoming.lowWaterMark
        incoming.read.store(state.value.messagesRead, ordering: .sequentiallyConsistent)
        if incoming.writerWaiting.exchange(false, ordering: .sequentiallyConsistent) {
            incoming.wakeWriter()
        }
    }
}
