import ZMTP
import ZeroMQTransport

/// async/await: the calls suspend the task, never a thread, while the socket waits; they run on
/// the caller's executor (`nonisolated(nonsending)`), so a socket owned by an actor stays there.
/// Cancelling a waiting call makes it throw Swift's `CancellationError` having sent or received
/// nothing: no message is lost. Everything else fails with a ``ZeroMQError``, so these calls throw
/// untyped errors (`catch is CancellationError` and `catch let error as ZeroMQError` both work).
extension Socket {
    // MARK: Sending

    /// Sends one part, suspending while no peer has room (up to ``SocketOptions/sendTimeout``).
    nonisolated(nonsending)
    public func send(_ message: Message) async throws {
        if try trySend(message) { return }
        try await send(message, timeout: options.sendTimeout)
    }

    /// Sends one part, suspending at most `timeout` (nil: forever; `.zero`: not at all).
    nonisolated(nonsending)
    public func send(_ message: Message, timeout: Duration?) async throws {
        // Nothing to compute while a message (or room) is there already.
        if try trySend(message) { return }
        let deadline = Self.deadline(after: timeout)
        while true {
            try await waitAsync(deadline: deadline, timeout: timeout, sending: true)
            if try trySend(message) { return }
        }
    }

    /// Sends a multipart message: every part but the last gets MORE.
    nonisolated(nonsending)
    public func send(_ parts: [Message]) async throws {
        guard !parts.isEmpty else { throw ZeroMQError(.invalidArgument, "a message has at least one part") }
        for (index, part) in parts.enumerated() {
            var part = part
            part.more = index < parts.count - 1
            try await send(part)
        }
    }

    /// Sends a multipart message: every part but the last gets MORE.
    nonisolated(nonsending)
    public func send(_ multipart: Multipart) async throws {
        try await send(multipart.parts)
    }

    /// Sends a multipart message of byte arrays, one part each.
    nonisolated(nonsending)
    public func send(_ parts: [[UInt8]]) async throws {
        try await send(parts.map { Message($0) })
    }

    /// Sends bytes as one part.
    nonisolated(nonsending)
    public func send(_ bytes: [UInt8], more: Bool = false) async throws {
        try await send(Message(bytes, more: more))
    }

    /// Sends UTF-8 text as one part.
    nonisolated(nonsending)
    public func send(_ string: String, more: Bool = false) async throws {
        try await send(Message(string: string, more: more))
    }

    // MARK: Receiving

    /// Receives one part, suspending until one arrives (up to ``SocketOptions/receiveTimeout``).
    nonisolated(nonsending)
    public func receive() async throws -> Message {
        if let message = try receiveMessageNow() { return message }
        return try await receive(timeout: options.receiveTimeout)
    }

    /// Receives one part, suspending at most `timeout` (nil: forever; `.zero`: not at all).
    nonisolated(nonsending)
    public func receive(timeout: Duration?) async throws -> Message {
        // Nothing to compute while a message (or room) is there already.
        if let message = try receiveMessageNow() { return message }
        let deadline = Self.deadline(after: timeout)
        while true {
            try await waitAsync(deadline: deadline, timeout: timeout, sending: false)
            if let message = try receiveMessageNow() { return message }
        }
    }

    /// Receives a whole multipart message with its peer's properties (up to
    /// ``SocketOptions/receiveTimeout``).
    nonisolated(nonsending)
    public func receiveMultipart() async throws -> Multipart {
        try await receiveMultipart(timeout: options.receiveTimeout)
    }

    /// Receives a whole multipart message with its peer's properties, suspending at most
    /// `timeout` (nil: forever; `.zero`: not at all).
    nonisolated(nonsending)
    public func receiveMultipart(timeout: Duration?) async throws -> Multipart {
        // Nothing to compute while a message (or room) is there already.
        if let first = try receiveNow(wantsSource: true) { return try rest(of: first) }
        let deadline = Self.deadline(after: timeout)
        while true {
            try await waitAsync(deadline: deadline, timeout: timeout, sending: false)
            if let first = try receiveNow(wantsSource: true) { return try rest(of: first) }
        }
    }

    /// Receives one part as UTF-8 text.
    nonisolated(nonsending)
    public func receiveString() async throws -> String {
        try await receive().string
    }

    /// Receives one part as UTF-8 text, suspending at most `timeout` (nil: forever).
    nonisolated(nonsending)
    public func receiveString(timeout: Duration?) async throws -> String {
        try await receive(timeout: timeout).string
    }

    /// Receives one part as bytes.
    nonisolated(nonsending)
    public func receiveBytes() async throws -> [UInt8] {
        try await receive().bytes
    }

    /// Receives one part as bytes, suspending at most `timeout` (nil: forever).
    nonisolated(nonsending)
    public func receiveBytes(timeout: Duration?) async throws -> [UInt8] {
        try await receive(timeout: timeout).bytes
    }

    /// Every message the socket receives, as an `AsyncSequence` of ``Multipart``s. Iteration
    /// ends when the socket or context closes; it throws `CancellationError` when the task is
    /// cancelled.
    ///
    /// ```swift
    /// for try await message in socket.messages { … }
    /// ```
    public var messages: MessageSequence { MessageSequence(socket: self) }

    nonisolated(nonsending)
    func waitAsync(deadline: ZMTPInstant?, timeout: Duration?, sending: Bool) async throws {
        if Task.isCancelled { throw CancellationError() }
        if let deadline, IOClock.now() >= deadline { throw ZeroMQError.expired(timeout, sending: sending) }
        if mailbox.callerDriver != nil {
            // Caller mode: no I/O thread would wake a suspended task, so the waiting task runs
            // the I/O itself, holding its thread (as a blocking call does).
            _ = mailbox.wait(until: deadline)
            return
        }
        await mailbox.waitAsync(deadline: deadline, reactor: context.drivers[0])
        if Task.isCancelled { throw CancellationError() }
    }
}

/// The messages of a socket as an `AsyncSequence` (``Socket/messages``).
public struct MessageSequence: AsyncSequence {
    public typealias Element = Multipart
    public typealias Failure = any Error
    let socket: Socket

    public func makeAsyncIterator() -> Iterator { Iterator(socket: socket) }

    /// Receives the socket's next message on each call to `next`, suspending until one arrives.
    public struct Iterator: AsyncIteratorProtocol {
        let socket: Socket

        public mutating func next(isolation actor: isolated (any Actor)?) async throws -> Multipart? {
            do {
                return try await socket.receiveMultipart()
            } catch let error as ZeroMQError where error.code == .closed || error.code == .terminated {
                return nil
            }
        }

        public mutating func next() async throws -> Multipart? {
            try await next(isolation: nil)
        }
    }
}
