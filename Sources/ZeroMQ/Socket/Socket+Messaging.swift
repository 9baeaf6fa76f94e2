import ZMTP
import ZeroMQTransport

extension Socket {
    // MARK: Sending

    /// Sends one part, blocking up to ``SocketOptions/sendTimeout`` while no peer has room
    /// (`zmq_msg_send`). Set ``/ZMTP/Message/more`` on every part but the last of a multipart message;
    /// the message goes out whole, once its last part is sent.
    /// - Throws: ``ZeroMQError/Code/timedOut`` when the timeout passes (``ZeroMQError/Code/wouldBlock``
    ///   when it is zero); ``ZeroMQError/Code/wrongState``,
    ///   ``ZeroMQError/Code/hostUnreachable``, ``ZeroMQError/Code/notSupported`` as the pattern says.
    public func send(_ message: consuming Message) throws(ZeroMQError) {
        // The common case, room at a peer, needs neither the options nor a deadline.
        guard case .wouldBlock(let message) = try sendNow(message) else { return }
        try send(blocked: message, timeout: options.sendTimeout)
    }

    /// Sends one part, waiting at most `timeout` (nil: forever; `.zero`: not at all).
    public func send(_ message: consuming Message, timeout: Duration?) throws(ZeroMQError) {
        guard case .wouldBlock(let message) = try sendNow(message) else { return }
        try send(blocked: message, timeout: timeout)
    }

    /// Waits for room and retries a part the pattern gave back, moving it rather than copying it.
    private func send(blocked message: consuming Message, timeout: Duration?) throws(ZeroMQError) {
        let deadline = Self.deadline(after: timeout)
        var message = message
        while true {
            guard mailbox.wait(until: deadline) else { throw .expired(timeout, sending: true) }
            switch try sendNow(message) {
            case .sent: return
            case .wouldBlock(let back): message = back
            }
        }
    }

    /// Sends one part if it can go now; false (nothing sent) when it would block
    /// (`ZMQ_DONTWAIT`).
    public func trySend(_ message: consuming Message) throws(ZeroMQError) -> Bool {
        try sendNow(message).wasSent
    }

    /// Hands one part to the pattern, which takes it over, or gives it back when it would block.
    /// Inlined into the public sends, as ``receiveMessageNow()`` into the receives: as calls,
    /// each added a frame and a move of the message per part (callgrind: 30 to 70
    /// instructions per message over both).
    @inline(__always)
    func sendNow(_ message: consuming Message) throws(ZeroMQError) -> SendOutcome {
        try checkUsable()
        let more = message.more
        let count = message.count
        let outcome = try pattern.send(message)
        guard outcome.wasSent else { return outcome }
        messaging.value.sendingMore = more
        messaging.value.traffic.bytesSent &+= UInt64(count)
        if !more {
            messaging.value.traffic.messagesSent &+= 1
            // Caller mode: the message goes out on this thread, now (or with its burst).
            if mailbox.isCallerDriven { callerSent(count) }
        }
        return outcome
    }

    /// Sends a multipart message: every part but the last gets MORE.
    public func send(_ multipart: Multipart) throws(ZeroMQError) {
        try send(multipart.parts)
    }

    /// Sends a multipart message: every part but the last gets MORE.
    public func send(_ parts: [Message]) throws(ZeroMQError) {
        guard !parts.isEmpty else { throw ZeroMQError(.invalidArgument, "a message has at least one part") }
        for (index, part) in parts.enumerated() {
            var part = part
            part.more = index < parts.count - 1
            try send(part)
        }
    }

    /// Sends bytes as one part.
    public func send(_ bytes: [UInt8], more: Bool = false) throws(ZeroMQError) {
        try send(Message(bytes, more: more))
    }

    /// Sends UTF-8 text as one part.
    public func send(_ string: String, more: Bool = false) throws(ZeroMQError) {
        try send(Message(string: string, more: more))
    }

    /// Sends raw memory as one part (copied).
    public func send(_ buffer: UnsafeRawBufferPointer, more: Bool = false) throws(ZeroMQError) {
        try send(Message(copying: buffer, more: more))
    }

    /// Sends a multipart message of byte arrays, one part each.
    public func send(_ parts: [[UInt8]]) throws(ZeroMQError) {
        try send(parts.map { Message($0) })
    }

    // MARK: Receiving

    /// Receives one part, blocking up to ``SocketOptions/receiveTimeout`` (`zmq_msg_recv`).
    /// ``hasMore`` tells whether parts of the same message follow.
    /// - Throws: ``ZeroMQError/Code/timedOut`` when the receive timeout passes.
    public func receive() throws(ZeroMQError) -> Message {
        // The fast path reads no option: each access to `options` costs an exclusivity check.
        if let message = try receiveMessageNow() { return message }
        return try receive(timeout: options.receiveTimeout)
    }

    /// Receives one part, waiting at most `timeout` (nil: forever; `.zero`: not at all).
    /// `receiveMultipart(timeout:)` gives the whole message with its peer's properties.
    /// - Throws: ``ZeroMQError/Code/timedOut`` when `timeout` passes (``ZeroMQError/Code/wouldBlock``
    ///   when it is zero).
    public func receive(timeout: Duration?) throws(ZeroMQError) -> Message {
        // Nothing to compute while a message (or room) is there already.
        if let message = try receiveMessageNow() { return message }
        let deadline = Self.deadline(after: timeout)
        while true {
            guard mailbox.wait(until: deadline) else { throw .expired(timeout, sending: false) }
            if let message = try receiveMessageNow() { return message }
        }
    }

    /// One part if one is waiting, else nil (`ZMQ_DONTWAIT`).
    public func tryReceive() throws(ZeroMQError) -> Message? {
        if let message = try receiveMessageNow() { return message }
        guard mailbox.isCallerDriven else { return nil }
        // Caller mode: what arrived since the last call is read now.
        driveOnce()
        return try receiveMessageNow()
    }

    /// One part if one is waiting, without its pipe (the path of ``receive()``).
    @inline(__always)
    func receiveMessageNow() throws(ZeroMQError) -> Message? {
        try checkUsable()
        endBurst()
        guard let message = try pattern.receiveMessage() else {
            reapClosedPeers()
            return nil
        }
        let more = message.more
        messaging.value.receivingMore = more
        messaging.value.traffic.bytesReceived &+= UInt64(message.count)
        if !more { messaging.value.traffic.messagesReceived &+= 1 }
        return message
    }

    /// One part if one is waiting; with the pipe it came from when `wantsSource` (for its
    /// properties), which otherwise is not retained.
    func receiveNow(wantsSource: Bool = false) throws(ZeroMQError) -> Inbound? {
        try checkUsable()
        endBurst()
        guard let received = try pattern.receive(wantsSource: wantsSource) else {
            reapClosedPeers()
            return nil
        }
        let more = received.message.more
        messaging.value.receivingMore = more
        messaging.value.traffic.bytesReceived &+= UInt64(received.message.count)
        if !more { messaging.value.traffic.messagesReceived &+= 1 }
        return received
    }

    /// Receives a whole multipart message with its peer's properties, blocking up to
    /// ``SocketOptions/receiveTimeout``.
    public func receiveMultipart() throws(ZeroMQError) -> Multipart {
        try receiveMultipart(timeout: options.receiveTimeout)
    }

    /// Receives a whole multipart message with its peer's properties, waiting at most `timeout`
    /// (nil: forever; `.zero`: not at all).
    public func receiveMultipart(timeout: Duration?) throws(ZeroMQError) -> Multipart {
        // Nothing to compute while a message (or room) is there already.
        if let first = try receiveNow(wantsSource: true) { return try rest(of: first) }
        let deadline = Self.deadline(after: timeout)
        while true {
            guard mailbox.wait(until: deadline) else { throw .expired(timeout, sending: false) }
            if let first = try receiveNow(wantsSource: true) { return try rest(of: first) }
        }
    }

    /// The whole message whose first part is `first`. The rest of a message is published with
    /// its first part: it is already here.
    func rest(of first: Inbound) throws(ZeroMQError) -> Multipart {
        var parts = [first.message]
        while parts[parts.count - 1].more {
            guard let next = try receiveNow() else { break }
            parts.append(next.message)
        }
        return Multipart(parts: parts, properties: first.from?.properties ?? Metadata())
    }

    /// Receives one part as UTF-8 text (invalid sequences become U+FFFD).
    public func receiveString() throws(ZeroMQError) -> String {
        try receive().string
    }

    /// Receives one part as UTF-8 text, waiting at most `timeout` (nil: forever).
    public func receiveString(timeout: Duration?) throws(ZeroMQError) -> String {
        try receive(timeout: timeout).string
    }

    /// Receives one part as bytes.
    public func receiveBytes() throws(ZeroMQError) -> [UInt8] {
        try receive().bytes
    }

    /// Receives one part as bytes, waiting at most `timeout` (nil: forever).
    public func receiveBytes(timeout: Duration?) throws(ZeroMQError) -> [UInt8] {
        try receive(timeout: timeout).bytes
    }

    /// The moment a wait of `timeout` from now ends (nil: never).
    static func deadline(after timeout: Duration?) -> ZMTPInstant? {
        timeout.map { IOClock.now().adding($0) }
    }

    // MARK: Readiness

    /// A descriptor for integrating with another event loop (libzmq's ZMQ_FD, with its promise
    /// stated exactly). Watch it for readability; never read, write or close it. It becomes
    /// readable whenever the socket's ``events`` may have changed: a message arrived for a
    /// receiver that had found nothing, a full peer made room, a peer came or went.
    ///
    /// What it guarantees:
    /// - **No lost wake-up.** Once a call has shown that the socket cannot receive (``events``
    ///   without `.receive`, or ``tryReceive()`` returning nil), whatever later makes a receive
    ///   possible also makes the descriptor readable. Likewise for sending, after ``events``
    ///   without `.send` or ``trySend(_:)`` returning false: room at a peer, or a new peer.
    /// - **Readable until you look.** It stays readable until your next call on the socket that
    ///   takes in what the I/O threads reported (``events``, any send or receive, …), so level-
    ///   and edge-triggered loops both work, provided each wake-up is followed by such a call.
    ///
    /// What it does not:
    /// - **Readable is not ready.** A wake-up may change nothing (a message a SUB filters out, a
    ///   peer that came and went): ask ``events``.
    /// - **Only what a call left unavailable is announced.** After a receive that returned a
    ///   message, more may wait without a signal; after your own call changed the socket's state
    ///   (a REP received, so it can send), nothing is signalled either. Before sleeping again,
    ///   receive until ``tryReceive()`` returns nil (or ``events`` lacks `.receive`).
    ///
    /// ```swift
    /// // Once at the start, then each time the loop reports the descriptor readable:
    /// while let message = try socket.tryReceive() { handle(message) }
    /// ```
    ///
    /// It stays open while the socket object lives; stop watching it before ``close()``. ``Poller``
    /// does all of this for you.
    public var fileDescriptor: Int32 { mailbox.fd }

    /// What the socket can do now without blocking (ZMQ_EVENTS).
    public var events: PollEvents {
        guard !isClosed else { return [] }
        // Caller mode: asking is a call, and calls run the I/O.
        driveOnce()
        endBurst()
        try? processCommands()
        var events: PollEvents = []
        if pattern.canReceive { events.insert(.receive) }
        if pattern.canSend { events.insert(.send) }
        return events
    }
}

/// ZMQ_POLLIN / ZMQ_POLLOUT.
public struct PollEvents: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// A message can be received (ZMQ_POLLIN).
    public static let receive = PollEvents(rawValue: 1)
    /// A message can be sent (ZMQ_POLLOUT).
    public static let send = PollEvents(rawValue: 2)
}
