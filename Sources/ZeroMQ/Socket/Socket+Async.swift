import ZMTP
import ZeroMQTransport

/// async/await: the calls suspend the task, never a thread, while the socket waits; they run on
/// the caller's executor (`nonisolated(nonsending)`), so a socket owned by an actor stays there.
/// Cancelling a waiting call makes it throw Swift's `CancellationError` having sent or received
/// nothing: no message is lost. Everything else fails with a ``ZeroMQError``, so these calls throw
/// untyped errors (`catch is CancellationError` and `catch let error as ZeroMQError` both work).
extension Socket {
    /// Sends one part, suspending while no peer has room (up to ``SocketOptions/sendTimeout``).
    nonisolated(nonsending)
    public func send(_ message: Message) async throws {
        let deadline = options.sendTimeout.map { IOClock.now().adding(milliseconds: SessionConfiguration.milliseconds($0)) }
        while true {
            if try trySend(message) { return }
            try await waitAsync(deadline: deadline)
        }
    }

    /// Sends a multipart message.
    nonisolated(nonsending)
    public func send(_ parts: [Message]) async throws {
        guard !parts.isEmpty else { throw ZeroMQError(.invalidArgument, "a message has at least one part") }
        for (index, part) in parts.enumerated() {
            var part = part
            part.more = index < parts.count - 1
            try await send(part)
        }
    }

    /// Sends UTF-8 text as one part.
    nonisolated(nonsending)
    public func send(_ string: String, more: Bool = false) async throws {
        try await send(Message(string: string, more: more))
    }

    /// Receives one part, suspending until one arrives (up to ``SocketOptions/receiveTimeout``).
    nonisolated(nonsending)
    public func receive() async throws -> Message {
        let deadline = options.receiveTimeout.map { IOClock.now().adding(milliseconds: SessionConfiguration.milliseconds($0)) }
        while true {
            if let message = try receiveMessageNow() { return message }
            try await waitAsync(deadline: deadline)
        }
    }

    /// Receives a whole multipart message with its peer's properties.
    nonisolated(nonsending)
    public func receiveMultipart() async throws -> Multipart {
        let deadline = options.receiveTimeout.map { IOClock.now().adding(milliseconds: SessionConfiguration.milliseconds($0)) }
        while true {
            if let first = try receiveNow(wantsSource: true) {
                var parts = [first.message]
                while parts[parts.count - 1].more, let next = try receiveNow() { parts.append(next.message) }
                return Multipart(parts: parts, properties: first.from?.properties ?? Metadata())
            }
            try await waitAsync(deadline: deadline)
        }
    }

    /// Receives one part as UTF-8 text.
    nonisolated(nonsending)
    public func receiveString() async throws -> String {
        let message = try await receive()
        return message.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
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
    func waitAsync(deadline: ZMTPInstant?) async throws {
        if Task.isCancelled { throw CancellationError() }
        if let deadline, IOClock.now() >= deadline { throw ZeroMQError.wouldBlock }
        if mailbox.callerDriver != nil {
            // Caller mode: no I/O thread would wake a suspended task, so the waiting task runs
            // the I/O itself, holding its thread (as a blocking call does).
            _ = mailbox.wait(until: deadline)
            return
        }
        await mailbox.waitAsync(deadline: deadline, reactor: context.reactors[0])
        if Task.isCancelled { throw CancellationError() }
    }
}

/// The messages of a socket as an `AsyncSequence` (``Socket/messages``).
public struct MessageSequence: AsyncSequence {
    public typealias Element = Multipart
    public typealias Failure = any Error
    let socket: Socket

    public func makeAsyncIterator() -> Iterator { Iterator(socket: socket) }

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
