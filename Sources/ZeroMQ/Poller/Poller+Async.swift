#if canImport(Glibc)
import Glibc
#endif
import ZMTP
import ZeroMQTransport

extension Poller {
    /// Suspends the calling task, never a thread, until something is ready or `timeout` passes;
    /// the same answer as the blocking `wait(timeout:)`, with the same guarantee.
    /// It runs on the caller's executor (`nonisolated(nonsending)`), so a poller owned by an
    /// actor stays there.
    ///
    /// While it is suspended, the sockets' descriptors and the plain ones are watched by an I/O
    /// thread of the first socket's context, so the poller needs at least one socket. Cancelling
    /// the task makes it throw Swift's `CancellationError`, unless something was ready
    /// already; either way nothing is received or consumed.
    /// - Throws: as the blocking wait; also ``ZeroMQError/Code/invalidArgument`` when the poller
    ///   holds no socket, and ``ZeroMQError/Code/notSupported`` when the first socket's context
    ///   runs on drivers that watch no descriptors (SwiftNIO event loops).
    nonisolated(nonsending)
    public func wait(timeout: Duration?) async throws -> [Event] {
        try checkSomethingWatched(timeout: timeout)
        guard let reactor = ioThread else {
            throw ZeroMQError(.invalidArgument, "an async wait needs a socket in the poller: it borrows its context's I/O thread")
        }
        let deadline = Self.deadline(after: timeout)
        var descriptors = items.map(\.pollDescriptor)
        let watches = descriptors.compactMap(Self.watch)
        while true {
            let ready = try pass(&descriptors, sleepingUpTo: 0)
            if !ready.isEmpty { return ready }
            if let deadline, IOClock.now() >= deadline { return [] }
            if Task.isCancelled { throw CancellationError() }
            switch await PollWaiter.wait(for: watches, until: deadline, on: reactor) {
            case .woke: continue
            case .terminated: throw ZeroMQError.terminated
            case .cannotWatch(let error):
                throw ZeroMQError.notSupported("an async wait on a context whose drivers watch no descriptors (\(error)): use the blocking wait from a thread of your own, or the sockets' async calls")
            }
        }
    }

    /// The I/O thread that watches for an async wait: the first socket's context's.
    private var ioThread: (any IODriver)? {
        for item in items {
            if case .socket(let socket) = item.target { return socket.context.drivers[0] }
        }
        return nil
    }

    /// What the reactor watches for a `poll(2)` entry (nil for one that watches nothing).
    private static func watch(_ descriptor: pollfd) -> PollWaiter.Watch? {
        guard descriptor.fd >= 0 else { return nil }
        var events: IOEvents = []
        if descriptor.events & Int16(POLLIN) != 0 { events.insert(.readable) }
        if descriptor.events & Int16(POLLOUT) != 0 { events.insert(.writable) }
        return PollWaiter.Watch(fd: descriptor.fd, events: events)
    }
}
