import ZMTP
import ZeroMQTransport

/// One socket's readiness with a timeout (pyzmq's `socket.poll(timeout, flags)`): what
/// ``Poller`` does for many sockets, without building one.
extension Socket {
    /// Waits at most `timeout` (nil: forever; `.zero`: not at all) until the socket can do one
    /// of `events`, and says which it can do; empty when the time ran out. Readiness is exact, as
    /// ``Poller`` reports it: `.receive` means the next ``tryReceive()`` returns a message.
    ///
    /// ```swift
    /// if try socket.poll(timeout: .seconds(1)).contains(.receive) {
    ///     let message = try socket.receive()
    /// }
    /// ```
    public func poll(_ events: PollEvents = .receive, timeout: Duration?) throws(ZeroMQError) -> PollEvents {
        try checkUsable()
        var ready = self.events.intersection(events)
        guard ready.isEmpty else { return ready }
        let deadline = Self.deadline(after: timeout)
        // `events` found nothing, so whatever makes one possible wakes the mailbox (the
        // descriptor's promise): sleep on it, then look again.
        while ready.isEmpty, mailbox.wait(until: deadline) {
            try checkUsable()
            ready = self.events.intersection(events)
        }
        return ready
    }

    /// Suspends at most `timeout` (nil: forever; `.zero`: not at all) until the socket can do one
    /// of `events`, and says which it can do; empty when the time ran out.
    /// - Throws: `CancellationError` when the task is cancelled.
    nonisolated(nonsending)
    public func poll(_ events: PollEvents = .receive, timeout: Duration?) async throws -> PollEvents {
        try checkUsable()
        var ready = self.events.intersection(events)
        let deadline = Self.deadline(after: timeout)
        while ready.isEmpty {
            if Task.isCancelled { throw CancellationError() }
            if let deadline, IOClock.now() >= deadline { return [] }
            if mailbox.isCallerDriven {
                // Caller mode: no I/O thread would wake a suspended task, so this one runs the
                // I/O itself, holding its thread (as ``waitAsync(deadline:timeout:sending:)``).
                _ = mailbox.wait(until: deadline)
            } else {
                await mailbox.waitAsync(deadline: deadline, reactor: context.drivers[0])
            }
            try checkUsable()
            ready = self.events.intersection(events)
        }
        return ready
    }
}
