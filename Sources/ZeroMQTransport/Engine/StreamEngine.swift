#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import ZMTP

/// Why an engine stopped.
public enum EngineStop: Sendable, Equatable {
    /// The ZMTP connection failed (handshake refused, protocol error, heartbeat timeout).
    case protocolError(ZMTPError)
    /// The byte stream failed or the peer closed it.
    case transport(TransportError)
    /// The peer closed the stream: an orderly end, not a failure.
    case closedByPeer
    /// The owner stopped the engine.
    case stopped
}

/// What an engine reports to its owner (a session), on the reactor's thread.
public protocol StreamEngineDelegate: AnyObject {
    /// The handshake completed; messages flow between the stream and the pipe from now on.
    func engine(_ engine: StreamEngine, completedHandshakeWith peer: PeerInfo)
    /// The mechanism asks for an authentication decision; answer with
    /// ``StreamEngine/completeAuthentication(_:)``.
    func engine(_ engine: StreamEngine, needsAuthentication request: AuthenticationRequest)
    /// The engine stopped and closed its descriptor; it will not call again.
    func engine(_ engine: StreamEngine, stoppedWith reason: EngineStop)
    /// The socket closed its end of the pipe. The engine goes on sending what the pipe still
    /// holds and stops once it is all written; the delegate bounds that with LINGER (calling
    /// ``StreamEngine/stop()`` when it runs out).
    func engineFoundPipeClosed(_ engine: StreamEngine)
}

extension StreamEngineDelegate {
    /// By default the engine drains the pipe with no time limit.
    public func engineFoundPipeClosed(_ engine: StreamEngine) {}
}

/// Drives one ZMTP ``/ZMTP/Connection`` over a connected stream on an ``IODriver``, moving
/// messages between the byte stream and a ``PipeEnd`` (libzmq's `stream_engine_base_t`). The
/// stream is a non-blocking descriptor the engine reads and writes when the driver reports it
/// ready, or a ``ByteStream`` that pushes its input (a SwiftNIO channel): the same core, limits
/// and back-pressure either way.
///
/// Reads go into one 64 KiB buffer per engine and are handed to the core; the messages the core
/// decodes are written to the pipe and published once per read, not per message. Messages the
/// pipe delivers are framed by the core into one batch and written with one `send` call (large
/// bodies by reference, with `sendmsg`, never copied). When the
/// pipe toward the socket is full, the engine stops taking events from the core and stops reading
/// the descriptor until the socket makes room: back-pressure reaches the TCP window, as in libzmq.
///
/// All methods run on the driver's thread, except the ``PipeEventSink`` callbacks, which the pipe
/// calls from the socket's thread and which only post work to the driver's ``DriverMailbox``
/// (kept as a concrete value, as is the driver's read buffer: the per-message paths make no call
/// through the ``IODriver`` protocol).
public final class StreamEngine: IOHandler, ByteStreamReceiver, PipeEventSink, @unchecked Sendable {
    /// Stop pulling messages from the pipe once this much output is waiting.
    public static let writeBatchSize = 65_536
    /// How many full batches one turn writes before letting other descriptors run.
    static let batchesPerTurn = 16
    /// The most one connection reads in one turn of the loop, whether into the reactor's buffer
    /// or straight into a large body: a peer sending a large frame gets the same share of the
    /// I/O thread as a peer sending small ones.
    public static let readQuantum = 65_536
    /// How much of an unfinished message (the body being received, and the parts of a multipart
    /// message already passed on) a connection holds before it reserves from the socket's
    /// ``ReceiveBudget``: ordinary messages never touch the shared budget, and peers that hold
    /// the budget cannot stall the others' traffic.
    public static let unbudgetedBytes = 65_536
    /// What a part passed to the pipe counts for at least, whatever its size (its descriptor and
    /// queue slot): a multipart message of millions of empty parts is bounded too.
    static let partOverhead = 64
    /// How long a connection waiting for the budget waits before trying again, in ms.
    static let budgetRetryInterval = 10

    /// What carries the bytes.
    private let medium: StreamConnection.Medium
    private let reactor: any IODriver
    /// The driver's mailbox and read buffer, taken once.
    private let mailbox: DriverMailbox
    private let readBuffer: UnsafeMutableRawBufferPointer
    /// What the descriptor is watched for (or the byte stream asked for) now, so that an
    /// unchanged interest costs no call.
    private var interest: IOEvents = .readable
    /// The protocol core, reached through a pointer (no exclusivity check per call; see
    /// ``Unchecked``).
    private let connectionBox: Unchecked<Connection>
    private var connection: Connection {
        unsafeAddress { UnsafePointer(connectionBox.pointer) }
        unsafeMutableAddress { connectionBox.pointer }
    }
    private var pipe: PipeEnd?
    /// SUB/XSUB: single-part messages starting with 1 or 0 are subscriptions, sent as
    /// SUBSCRIBE/CANCEL commands (or as data frames to ZMTP 3.0 peers), as libzmq does.
    private let sendsSubscriptions: Bool
    private var sendingMultipart = false
    private var reportedPipeClosed = false
    /// The socket closed the pipe and everything in it was taken.
    private var pipeDrained = false
    private weak var delegate: StreamEngineDelegate?

    private var registration: IORegistration?
    private var timer: IOTimer?
    private var timerDeadline: ZMTPInstant?
    private let outputBox = Unchecked<OutputBuffer>(OutputBuffer())
    private var output: OutputBuffer {
        unsafeAddress { UnsafePointer(outputBox.pointer) }
        unsafeMutableAddress { outputBox.pointer }
    }
    /// The task every wakeup posts, made once: a closure made per post would be an allocation
    /// per wakeup. Set in `init`, read-only afterwards (any thread may post it).
    private var pumpTask: (@Sendable () -> Void)!
    private var handshakeDone = false
    /// An event the pipe had no room for; delivered first once the socket reads.
    private var stalledEvent: ConnectionEvent?
    /// The last message part passed to the pipe had MORE set.
    private var receivingMultipart = false
    private var stopped = false
    /// The descriptor reported end of stream: no more reads.
    private var inputClosed = false
    /// The socket's budget for unfinished messages (nil: unbounded).
    private let budget: ReceiveBudget?
    /// This connection's share of the unfinished message it is receiving.
    private var held = HeldMessage()
    /// The retry while waiting for the budget; armed only while waiting.
    private var budgetRetry: IOTimer?
    /// Parts passed in place changed what this connection holds: the core's room limit must
    /// follow once it returns.
    private var roomLimitStale = false

    /// - Parameters:
    ///   - fd: a connected stream socket; the engine makes it non-blocking and closes it when it
    ///     stops.
    ///   - reactor: the I/O thread the engine runs on; every later call comes from its thread.
    ///   - connection: the ZMTP core, configured for this side and not yet fed any bytes: the
    ///     engine sends its greeting first.
    ///   - pipe: the session's end of the pipe to the socket, or nil to attach one with
    ///     ``attach(_:)`` when the handshake completes.
    ///   - sendsSubscriptions: the local socket is SUB or XSUB.
    ///   - budget: the socket's budget for unfinished messages, shared by its connections; nil
    ///     leaves them unbounded.
    ///   - delegate: told of the handshake, authentication requests and the engine stopping;
    ///     held weakly, so the session that owns the engine is usually its delegate.
    public convenience init(fd: Int32, reactor: any IODriver, connection: Connection, pipe: PipeEnd?, sendsSubscriptions: Bool = false,
                            budget: ReceiveBudget? = nil, delegate: StreamEngineDelegate) {
        self.init(medium: .descriptor(fd), reactor: reactor, connection: connection, pipe: pipe,
                  sendsSubscriptions: sendsSubscriptions, budget: budget, delegate: delegate)
    }

    /// An engine over what a transport connected: a descriptor or a ``ByteStream`` (whose
    /// thread must be `reactor`'s). The other parameters are those of
    /// ``init(fd:reactor:connection:pipe:sendsSubscriptions:budget:delegate:)``.
    public init(medium: StreamConnection.Medium, reactor: any IODriver, connection: Connection, pipe: PipeEnd?, sendsSubscriptions: Bool = false,
                budget: ReceiveBudget? = nil, delegate: StreamEngineDelegate) {
        self.medium = medium
        self.reactor = reactor
        self.mailbox = reactor.mailbox
        self.readBuffer = reactor.readBuffer
        var connection = connection
        if budget != nil { connection.bodyRoomLimit = Self.unbudgetedBytes }
        self.budget = budget
        self.connectionBox = Unchecked(connection)
        self.pipe = pipe
        self.sendsSubscriptions = sendsSubscriptions
        self.delegate = delegate
        pumpTask = { [weak self] in self?.pump() }
    }

    /// Registers the descriptor (or starts the byte stream) and sends the greeting.
    public func start() {
        pipe?.setSink(self)
        do throws(TransportError) {
            registration = try medium.start(on: reactor, for: self)
        } catch {
            stop(.transport(error))
            return
        }
        pump()
    }

    /// Stops the engine and closes its stream (after trying once to send what is queued).
    public func stop() {
        if !stopped { flushOutput() }
        stop(.stopped)
    }

    /// Gives the engine its pipe (from the delegate's handshake callback, for sessions that make
    /// the pipe only once the peer is known).
    public func attach(_ pipe: PipeEnd) {
        self.pipe = pipe
        pipe.setSink(self)
    }

    /// Whether the engine has stopped (and closed its descriptor).
    public var isStopped: Bool { stopped }

    /// Answers an authentication request the delegate received.
    public func completeAuthentication(_ reply: AuthenticationReply) {
        try? connection.completeAuthentication(reply, now: IOClock.now())
        pump()
    }

    /// Ends a pending authentication request with `error` (a malformed ZAP reply, no handler
    /// where one is required): the connection fails without a word to the peer.
    public func failAuthentication(_ error: ZMTPError) {
        try? connection.failAuthentication(error, now: IOClock.now())
        pump()
    }

    // MARK: any IODriver callbacks

    public func ready(_ events: IOEvents, hangup: Bool) {
        if events.contains(.readable) { readStream() }
        pump()
    }

    // MARK: ByteStream callbacks

    public func stream(received bytes: UnsafeRawBufferPointer) {
        guard !stopped, !inputClosed else { return }
        if wantsInput {
            take(bytes, now: IOClock.now())
        } else {
            // Input the stream had read before it heard to stop: the core keeps it, behind the
            // event or the room it waits for, so that nothing overtakes what waits.
            connection.receive(bytes, now: IOClock.now())
        }
        pump()
    }

    public func streamBecameWritable() {
        pump()
    }

    public func streamEnded(_ failure: TransportError?) {
        guard !stopped else { return }
        if let failure {
            stop(.transport(failure))
        } else {
            inputClosed = true
            pump()
        }
    }

    // MARK: Pipe callbacks (socket thread)

    public func pipeBecameReadable(_ pipe: PipeID) {
        mailbox.post(pumpTask)
    }

    public func pipeBecameWritable(_ pipe: PipeID) {
        mailbox.post(pumpTask)
    }

    public func pipePeerClosed(_ pipe: PipeID) {
        mailbox.post(pumpTask)
    }

    // MARK: The work

    private func readStream() {
        guard !stopped, wantsInput, case .descriptor(let fd) = medium else { return }
        let now = IOClock.now()
        // A large body being received is read straight into its message; anything else goes
        // through the reactor's read buffer.
        var readError: Int32 = 0
        if let n = connection.readLargeBody(now: now, { room in
            let n = read(fd, room.baseAddress, min(room.count, Self.readQuantum))
            if n < 0 { readError = errno }
            return n
        }) {
            guard n > 0 else { return readEnded(n, error: readError) }
            // The body lacks only its last octet: read it (and what follows) now rather than
            // after another turn of the loop, which a request/reply round trip would wait for.
            guard connection.largeBodyRemaining <= 1 else { return }
        }
        let buffer = readBuffer
        let n = read(fd, buffer.baseAddress, buffer.count)
        guard n > 0 else { return readEnded(n, error: n < 0 ? errno : 0) }
        take(UnsafeRawBufferPointer(rebasing: buffer[0..<n]), now: now)
    }

    /// Hands bytes read to the core. Whole message parts go from them straight to the pipe; the
    /// rest (commands, a frame cut by the end of the read, a part the pipe has no room for) is
    /// kept by the core and comes out of `nextEvent()` in `pump()`.
    private func take(_ bytes: UnsafeRawBufferPointer, now: ZMTPInstant) {
        var passed = false
        roomLimitStale = false
        connection.receive(bytes, now: now) { message in
            guard passInPlace(message) else { return false }
            passed = true
            return true
        }
        if roomLimitStale { connection.bodyRoomLimit = max(0, Self.unbudgetedBytes + held.reserved - held.parts) }
        if passed { pipe?.flush() }
    }

    /// Passes the whole parts the core holds in its buffer to the pipe, decoded in place.
    private func takeBufferedParts(wrote: inout Bool) {
        guard connection.bufferedInputCount > 0 else { return }
        var passed = false
        roomLimitStale = false
        connection.deliverBuffered { message in
            guard passInPlace(message) else { return false }
            passed = true
            return true
        }
        if roomLimitStale { connection.bodyRoomLimit = max(0, Self.unbudgetedBytes + held.reserved - held.parts) }
        if passed { wrote = true }
    }

    /// ``pass(_:wrote:)`` for a part the core hands over while it decodes in place, which must
    /// not touch the core: a part that needs more than this connection already holds (a
    /// reservation from the budget) is refused and takes the slow path, and a change to the
    /// core's room limit is left to the caller (``roomLimitStale``).
    private func passInPlace(_ message: Message) -> Bool {
        guard let pipe else { return false }
        if !receivingMultipart {
            guard pipe.checkWrite() else { return false }
        }
        if budget != nil {
            if message.more {
                let cost = max(message.count, Self.partOverhead)
                guard held.parts + cost <= Self.unbudgetedBytes + held.reserved else { return false }
                held.parts += cost
                roomLimitStale = true
            } else if held.parts > 0 || held.reserved > 0 {
                budget?.release(held.reserved)
                held = HeldMessage()
                roomLimitStale = true
            }
        }
        pipe.write(message)
        receivingMultipart = message.more
        return true
    }

    /// Whether the engine reads its descriptor now. Not while an event waits for the pipe, nor
    /// while the core holds unparsed input (it waits for an authentication answer or for
    /// room), so what a connection buffers stays bounded whatever the peer sends.
    private var wantsInput: Bool {
        !inputClosed && stalledEvent == nil && budgetRetry == nil
            && connection.bufferedInputCount < readBuffer.count
    }

    /// A read that returned `n` ≤ 0: the end of the stream, a failure, or nothing yet.
    private func readEnded(_ n: Int, error: Int32) {
        if n == 0 {
            inputClosed = true
        } else if error != EAGAIN && error != EWOULDBLOCK && error != EINTR {
            stop(.transport(TransportError.system("read", error)))
        }
    }

    /// Moves everything that can move: core events to the pipe, pipe messages to the core, the
    /// core's bytes to the descriptor; then re-arms the timer and the descriptor's interest.
    private func pump() {
        guard !stopped else { return }
        if let pipe, pipe.peerClosed, !reportedPipeClosed {
            reportedPipeClosed = true
            delegate?.engineFoundPipeClosed(self)
            guard !stopped else { return }
        }
        deliverEvents()
        guard !stopped else { return }
        // The peer left: stop before taking more from the pipe, whose messages then wait for
        // the next connection instead of being written to a dead one (libzmq's engine stops on
        // end of stream too). With caller-driven I/O the end of stream and a new message can
        // reach one turn together.
        if inputClosed && stalledEvent == nil && budgetRetry == nil {
            flushOutput()
            stop(.closedByPeer)
            return
        }
        // Batches of output while the descriptor takes them. The pipe only wakes a reader that
        // found it empty, so stopping at a full batch with messages left is our job to resume:
        // here while the socket keeps up, from the writable event when it does not, and after
        // other descriptors had their turn when the pipe is long.
        var batches = 0
        while true {
            let full = handshakeDone && takeFromPipe()
            if connection.failure() != nil { break }
            flushOutput()
            guard !stopped else { return }
            guard full, output.isEmpty else { break }
            batches += 1
            if batches == Self.batchesPerTurn {
                mailbox.post(pumpTask)
                break
            }
        }
        if let error = connection.failure() {
            flushOutput()
            stop(.protocolError(error))
            return
        }
        if pipeDrained && output.isEmpty {
            stop(.stopped)
            return
        }
        armTimer()
        updateInterest()
    }

    private func deliverEvents() {
        var wrote = false
        defer { if wrote { pipe?.flush() } }
        if let event = stalledEvent {
            guard deliver(event, wrote: &wrote) else { return }
            stalledEvent = nil
        }
        while true {
            // What the core buffered (the rest of a read the pipe had no room for) goes to the
            // pipe the fast way too; what it cannot take comes out of nextEvent().
            takeBufferedParts(wrote: &wrote)
            guard let event = connection.nextEvent() else {
                // The core stopped for want of room for a large frame: reserve it and go on,
                // or wait for the budget.
                guard connection.bodyAwaitingRoom != nil, makeRoomForBody() else { break }
                continue
            }
            guard deliver(event, wrote: &wrote) else {
                stalledEvent = event
                return
            }
            if stopped { return }
        }
        // Between messages (a handshake command, a subscription) nothing needs the budget.
        if !receivingMultipart, held.reserved > 0, connection.bodyRoom == 0 {
            releaseHeld()
        }
    }

    // MARK: Memory for unfinished messages

    /// Reserves room for the frame the core waits to receive. True when the core can go on;
    /// false when the engine waits for the budget or failed the connection.
    private func makeRoomForBody() -> Bool {
        guard let budget, let size = connection.bodyAwaitingRoom else { return false }
        return hold(atLeast: held.parts, plus: size, budget: budget)
    }

    /// Makes sure this connection may hold `parts + more` octets of its unfinished message,
    /// reserving from the budget beyond ``unbudgetedBytes``; fails the connection when that
    /// can never fit and waits (stops reading, retries on a timer) when others hold the budget.
    private func hold(atLeast parts: Int, plus more: Int, budget: ReceiveBudget) -> Bool {
        let (needed, overflow) = parts.addingReportingOverflow(more)
        guard !overflow, needed <= budget.limit else {
            stop(.protocolError(ZMTPError(.messageTooLarge, blame: .peerMisbehaved,
                                          "a message of over \(overflow ? Int.max : needed) bytes is larger than the socket's receive memory limit of \(budget.limit) bytes")))
            return false
        }
        let extra = needed - Self.unbudgetedBytes - held.reserved
        if extra > 0 {
            guard budget.reserve(extra) else {
                waitForBudget()
                return false
            }
            held.reserved += extra
        }
        connection.bodyRoomLimit = max(0, Self.unbudgetedBytes + held.reserved - parts)
        return true
    }

    /// Stops reading until a timer tries the budget again (the budget is shared across I/O
    /// threads, so its release is not an event here).
    private func waitForBudget() {
        guard budgetRetry == nil else { return }
        budgetRetry = reactor.schedule(afterMilliseconds: Self.budgetRetryInterval) { [weak self] in
            guard let self else { return }
            self.budgetRetry = nil
            self.pump()
        }
    }

    /// The unfinished message is finished (or gone): give back what it reserved.
    private func releaseHeld() {
        budget?.release(held.reserved)
        held = HeldMessage()
        if budget != nil { connection.bodyRoomLimit = Self.unbudgetedBytes }
    }

    /// Hands one core event on; false when the pipe has no room for a new message.
    private func deliver(_ event: ConnectionEvent, wrote: inout Bool) -> Bool {
        switch event {
        case .message(let message):
            return pass(message, wrote: &wrote)
        case .subscribe(let topic):
            // To the socket as libzmq passes them: a message of 1 (or 0) and the topic.
            return pass(Message([1] + topic), wrote: &wrote)
        case .cancel(let topic):
            return pass(Message([0] + topic), wrote: &wrote)
        case .handshakeCompleted(let peer):
            handshakeDone = true
            delegate?.engine(self, completedHandshakeWith: peer)
        case .authenticationRequest(let request):
            delegate?.engine(self, needsAuthentication: request)
        case .join, .leave, .command:
            // RADIO/DISH groups belong to the draft sockets; other commands are dropped, as
            // libzmq drops them.
            break
        case .failed:
            break
        }
        return true
    }

    /// Passes one message part to the socket; false when the pipe has no room for a new message.
    private func pass(_ message: Message, wrote: inout Bool) -> Bool {
        guard let pipe else { return false }
        // The high-water mark is checked at a message's first part only: a message is passed on
        // whole or waits whole.
        if !receivingMultipart {
            guard pipe.checkWrite() else { return false }
        }
        if let budget {
            if message.more {
                // The parts of an open message stay in the pipe until its last one arrives:
                // they count toward what this connection holds.
                let cost = max(message.count, Self.partOverhead)
                if held.parts + cost > Self.unbudgetedBytes + held.reserved {
                    guard hold(atLeast: held.parts, plus: cost, budget: budget) else { return false }
                }
                held.parts += cost
                connection.bodyRoomLimit = max(0, Self.unbudgetedBytes + held.reserved - held.parts)
            } else if held.parts > 0 || held.reserved > 0 {
                releaseHeld()
            }
        }
        pipe.write(message)
        receivingMultipart = message.more
        wrote = true
        return true
    }

    /// Frames messages from the pipe until a batch of output is waiting. Returns true when it
    /// stopped at a full batch (the pipe may hold more), false when the pipe ran dry.
    private func takeFromPipe() -> Bool {
        guard let pipe, !pipeDrained else { return false }
        let room = Self.writeBatchSize - output.pending
        while connection.pendingTransmitCount < room {
            let message: Message
            if let next = pipe.read() {
                message = next
            } else {
                // Empty, or closed for good once everything in it was read (a part published
                // since the read above comes back here, not lost).
                switch pipe.readState() {
                case .message(let next): message = next
                case .empty: return false
                case .closed:
                    pipeDrained = true
                    return false
                }
            }
            do throws(ZMTPError) {
                if sendsSubscriptions && !sendingMultipart && !message.more, let command = Self.subscription(message) {
                    try connection.send(command)
                } else {
                    try connection.send(message)
                }
                sendingMultipart = message.more
            } catch {
                return false  // the connection failed; pump() reports it
            }
        }
        return true
    }

    /// A SUB/XSUB message that is a subscription (1 + topic) or a cancel (0 + topic).
    private static func subscription(_ message: Message) -> Command? {
        guard message.count > 0 else { return nil }
        let first = message.withUnsafeBytes { $0[0] }
        switch first {
        case 1: return .subscribe(topic: Array(message.bytes.dropFirst()))
        case 0: return .cancel(topic: Array(message.bytes.dropFirst()))
        default: return nil
        }
    }

    private func flushOutput() {
        output.take(from: &connection)
        let outcome: OutputBuffer.Outcome
        switch medium {
        case .descriptor(let fd):
            outcome = output.write(to: fd)
        case .byteStream(let stream):
            // Only when there was something to write: a flush is a call into the runtime.
            guard !output.isEmpty else { return }
            outcome = output.write(to: stream)
            stream.flush()
        }
        switch outcome {
        case .done, .wouldBlock:
            break
        case .failed(let code):
            stop(.transport(TransportError.system("send", code)))
        }
    }

    private func armTimer() {
        let deadline = connection.deadline()
        guard deadline != timerDeadline else { return }
        if let timer { reactor.cancel(timer) }
        timer = nil
        timerDeadline = deadline
        if let deadline {
            timer = reactor.schedule(at: deadline) { [weak self] in
                guard let self else { return }
                self.timer = nil
                self.timerDeadline = nil
                self.connection.handleTimeout(now: IOClock.now())
                self.pump()
            }
        }
    }

    private func updateInterest() {
        var interest: IOEvents = []
        if wantsInput { interest.insert(.readable) }
        switch medium {
        case .descriptor:
            guard let registration else { return }
            if !output.isEmpty { interest.insert(.writable) }
            guard interest != self.interest else { return }
            self.interest = interest
            try? reactor.update(registration, events: interest)
        case .byteStream(let stream):
            // A stream says when it takes writes again on its own.
            guard interest != self.interest else { return }
            self.interest = interest
            stream.setReading(wantsInput)
        }
    }

    private func stop(_ reason: EngineStop) {
        guard !stopped else { return }
        stopped = true
        // A connect's pipe outlives this engine. Leave it at a message boundary in both
        // directions: take back the parts of a message we were passing to the socket, and
        // discard the rest of one we were sending (its first parts went to a dead connection;
        // the next engine must not send its tail as a message of its own).
        if let pipe {
            if receivingMultipart { pipe.rollback() }
            while sendingMultipart, let part = pipe.read() { sendingMultipart = part.more }
            pipe.flush()
        }
        if let timer { reactor.cancel(timer) }
        if let budgetRetry { reactor.cancel(budgetRetry) }
        budgetRetry = nil
        budget?.release(held.reserved)
        held = HeldMessage()
        medium.close(on: reactor, registration: registration)
        registration = nil
        delegate?.engine(self, stoppedWith: reason)
    }
}

/// What a connection holds of the message it is receiving, against the socket's budget.
private struct HeldMessage {
    /// Octets reserved from the budget (beyond ``StreamEngine/unbudgetedBytes``).
    var reserved = 0
    /// What the parts already passed to the pipe count for.
    var parts = 0
}

extension Connection {
    // Reads of the core's computed properties, as mutating calls: the engine reaches its
    // connection through a pointer (``Unchecked``), and a computed property read from there
    // copies the whole connection first (callgrind: two copies per message, over 1,000
    // instructions each); a mutating call takes the address.
    fileprivate mutating func failure() -> ZMTPError? { error }
    fileprivate mutating func deadline() -> ZMTPInstant? { nextDeadline }
}
