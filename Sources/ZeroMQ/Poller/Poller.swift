#if canImport(Glibc)
import Glibc
#endif
import ZMTP
import ZeroMQTransport

/// Waits on many sockets and plain file descriptors at once (libzmq's `zmq_poller` and
/// `zmq_poll`), with a timeout, blocking or `async`.
///
/// Readiness is level-triggered in meaning, and exact for sockets: a socket reported with
/// `.receive` has a message, so the next ``Socket/tryReceive()`` on it succeeds; one reported
/// with `.send` can take a new message, so the next ``Socket/trySend(_:)`` succeeds (ROUTER with
/// ``SocketOptions/routerMandatory``: some peer has room, as in libzmq). That holds until you
/// next use the socket: receiving the message may leave nothing behind. A wake-up that changes
/// nothing (a message a SUB filters out, a peer that came and went) is never reported. A socket
/// that stays ready is reported by every wait, so receive what you were told about, or ask for
/// fewer events.
///
/// A plain descriptor (a pipe, an eventfd, a socket of your own) is reported as `poll(2)` sees
/// it: `.receive` for `POLLIN`, `.send` for `POLLOUT`; a hung-up or failed descriptor is reported
/// with every event it was added for, since a read or write on it returns at once (with end of
/// file or the error).
///
/// ```swift
/// let poller = Poller()
/// try poller.add(frontend, for: .receive)
/// try poller.add(backend, for: .receive)
/// while true {
///     for event in try poller.wait(timeout: .seconds(1)) {
///         if event.socket === frontend, let request = try frontend.tryReceive() { … }
///     }
/// }
/// ```
///
/// Like a ``Socket``, a poller is not `Sendable`: one thread or task uses it (and the sockets in
/// it) at a time. It keeps its sockets alive; remove a socket before closing it, or the next wait
/// throws ``ZeroMQError/Code/closed``. Likewise, remove a descriptor before closing it: a wait on
/// a descriptor that is not open throws ``ZeroMQError/Code/invalidArgument``.
///
/// To integrate with an event loop of your own instead, watch ``Socket/fileDescriptor``.
public final class Poller {
    /// What a wait found ready: one socket or one descriptor, and which of the events it was
    /// added for (never empty).
    public struct Event {
        /// The ready socket; nil for a plain descriptor.
        public let socket: Socket?
        /// The ready descriptor; nil for a socket.
        public let fileDescriptor: Int32?
        /// What is ready: a subset of what the socket or descriptor was added for.
        public let events: PollEvents
    }

    /// A socket or a descriptor, and what it is watched for.
    struct Item {
        enum Target {
            case socket(Socket)
            case descriptor(Int32)
        }
        let target: Target
        var events: PollEvents

        /// The descriptor `poll(2)` watches: the socket's mailbox, or the descriptor itself
        /// (-1, which `poll(2)` skips, when nothing is asked for).
        var pollDescriptor: pollfd {
            guard !events.isEmpty else { return pollfd(fd: -1, events: 0, revents: 0) }
            switch target {
            case .socket(let socket):
                return pollfd(fd: socket.mailbox.fd, events: Int16(POLLIN), revents: 0)
            case .descriptor(let fd):
                var mask: Int16 = 0
                if events.contains(.receive) { mask |= Int16(POLLIN) }
                if events.contains(.send) { mask |= Int16(POLLOUT) }
                return pollfd(fd: fd, events: mask, revents: 0)
            }
        }
    }

    private(set) var items: [Item] = []

    /// An empty poller.
    public init() {}

    /// How many sockets and descriptors are in the poller.
    public var count: Int { items.count }

    // MARK: Membership

    /// Watches `socket` for `events` (`zmq_poller_add`). A socket is in a poller once.
    /// - Throws: ``ZeroMQError/Code/invalidArgument`` if it is already in;
    ///   ``ZeroMQError/Code/closed`` if it is closed.
    public func add(_ socket: Socket, for events: PollEvents) throws(ZeroMQError) {
        guard !socket.isClosed else { throw .closed }
        guard index(of: socket) == nil else { throw ZeroMQError(.invalidArgument, "the socket is already in the poller") }
        items.append(Item(target: .socket(socket), events: events))
    }

    /// Watches a plain descriptor for `events`: `.receive` for readable, `.send` for writable
    /// (`zmq_poller_add_fd`). A descriptor is in a poller once. For a socket, add the socket, not
    /// its ``Socket/fileDescriptor``: that one only says when to look again.
    /// - Throws: ``ZeroMQError/Code/invalidArgument`` if it is negative or already in.
    public func add(fileDescriptor: Int32, for events: PollEvents) throws(ZeroMQError) {
        guard fileDescriptor >= 0 else { throw ZeroMQError(.invalidArgument, "\(fileDescriptor) is not a file descriptor") }
        guard index(of: fileDescriptor) == nil else {
            throw ZeroMQError(.invalidArgument, "descriptor \(fileDescriptor) is already in the poller")
        }
        items.append(Item(target: .descriptor(fileDescriptor), events: events))
    }

    /// Changes what `socket` is watched for (`zmq_poller_modify`).
    /// - Throws: ``ZeroMQError/Code/invalidArgument`` if it is not in the poller.
    public func modify(_ socket: Socket, for events: PollEvents) throws(ZeroMQError) {
        guard let index = index(of: socket) else { throw Self.notIn("the socket") }
        items[index].events = events
    }

    /// Changes what a plain descriptor is watched for (`zmq_poller_modify_fd`).
    /// - Throws: ``ZeroMQError/Code/invalidArgument`` if it is not in the poller.
    public func modify(fileDescriptor: Int32, for events: PollEvents) throws(ZeroMQError) {
        guard let index = index(of: fileDescriptor) else { throw Self.notIn("descriptor \(fileDescriptor)") }
        items[index].events = events
    }

    /// Stops watching `socket` and lets it go (`zmq_poller_remove`).
    /// - Throws: ``ZeroMQError/Code/invalidArgument`` if it is not in the poller.
    public func remove(_ socket: Socket) throws(ZeroMQError) {
        guard let index = index(of: socket) else { throw Self.notIn("the socket") }
        items.remove(at: index)
    }

    /// Stops watching a plain descriptor (`zmq_poller_remove_fd`).
    /// - Throws: ``ZeroMQError/Code/invalidArgument`` if it is not in the poller.
    public func remove(fileDescriptor: Int32) throws(ZeroMQError) {
        guard let index = index(of: fileDescriptor) else { throw Self.notIn("descriptor \(fileDescriptor)") }
        items.remove(at: index)
    }

    private func index(of socket: Socket) -> Int? {
        items.firstIndex { item in
            if case .socket(let member) = item.target { return member === socket }
            return false
        }
    }

    private func index(of fileDescriptor: Int32) -> Int? {
        items.firstIndex { item in
            if case .descriptor(let member) = item.target { return member == fileDescriptor }
            return false
        }
    }

    private static func notIn(_ what: String) -> ZeroMQError {
        ZeroMQError(.invalidArgument, "\(what) is not in the poller")
    }

    // MARK: Waiting

    /// Blocks the calling thread until something is ready or `timeout` passes
    /// (`zmq_poller_wait_all`). Returns what is ready, in the order it was added; an empty array
    /// means the timeout passed. `nil` waits as long as it takes; `.zero` only looks.
    ///
    /// Each round first asks every socket for its ``Socket/events`` (which takes in what its
    /// I/O thread reported and arms its wake-up), returns at once if any is ready, and otherwise
    /// sleeps in `poll(2)` on the sockets' descriptors and the plain ones until one turns
    /// readable or the time is up, then looks again.
    /// - Throws: ``ZeroMQError/Code/closed`` when a socket in the poller was closed,
    ///   ``ZeroMQError/Code/terminated`` when its context was, ``ZeroMQError/Code/invalidArgument``
    ///   when a descriptor is not open or nothing is watched and `timeout` is nil (a wait that
    ///   could never end).
    public func wait(timeout: Duration?) throws(ZeroMQError) -> [Event] {
        try checkSomethingWatched(timeout: timeout)
        let deadline = Self.deadline(after: timeout)
        var descriptors = items.map(\.pollDescriptor)
        // Caller mode: each round runs a turn of the sockets' I/O first, and the sleep also
        // ends when that I/O has work (its wait descriptor, after the items) or a timer is due.
        let driver = items.lazy.compactMap { item -> (any CallerDrivenIODriver)? in
            guard case .socket(let socket) = item.target else { return nil }
            return socket.mailbox.callerDriver
        }.first
        if let driver, let fd = driver.waitDescriptor {
            descriptors.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0))
        }
        while true {
            var remaining = Self.milliseconds(until: deadline)
            if let driver {
                driver.drive(timeoutMilliseconds: 0)
                if driver.mailbox.hasTasks { remaining = 0 }
                if let timer = driver.nextTimerDeadline {
                    let untilTimer = Self.milliseconds(until: timer)
                    remaining = remaining < 0 ? untilTimer : min(remaining, untilTimer)
                }
            }
            let ready = try pass(&descriptors, sleepingUpTo: remaining)
            if !ready.isEmpty || Self.milliseconds(until: deadline) == 0 { return ready }
        }
    }

    func checkSomethingWatched(timeout: Duration?) throws(ZeroMQError) {
        guard timeout != nil || items.contains(where: { !$0.events.isEmpty }) else {
            throw ZeroMQError(.invalidArgument, "nothing is watched and no timeout is given: the wait would never end")
        }
    }

    /// One look at everything, sleeping in `poll(2)` for at most `milliseconds` (-1: no limit)
    /// when no socket is ready. `descriptors` holds one entry per item, in order.
    func pass(_ descriptors: inout [pollfd], sleepingUpTo milliseconds: Int32) throws(ZeroMQError) -> [Event] {
        // Sockets first: asking for their events drains their mailboxes and arms the wake-ups
        // that poll(2) below sleeps on, so nothing that happens after this loop is missed.
        var found = [PollEvents](repeating: [], count: items.count)
        var socketReady = false
        for (index, item) in items.enumerated() where !item.events.isEmpty {
            guard case .socket(let socket) = item.target else { continue }
            found[index] = try socket.pollerEvents().intersection(item.events)
            if !found[index].isEmpty { socketReady = true }
        }
        let timeout = socketReady ? 0 : milliseconds
        let (count, failure) = descriptors.withUnsafeMutableBufferPointer { buffer in
            let count = poll(buffer.baseAddress, nfds_t(buffer.count), timeout)
            return (count, count < 0 ? errno : 0)
        }
        if count < 0 {
            guard failure == EINTR else {
                throw ZeroMQError(.system, "poll: \(String(cString: strerror(failure)))", systemCode: failure)
            }
            // A signal: report what the sockets showed, or let the caller look again.
            for index in descriptors.indices { descriptors[index].revents = 0 }
        }
        var events: [Event] = []
        for (index, item) in items.enumerated() {
            switch item.target {
            case .socket(let socket):
                if !found[index].isEmpty { events.append(Event(socket: socket, fileDescriptor: nil, events: found[index])) }
            case .descriptor(let fd):
                let ready = try Self.events(descriptors[index].revents, of: fd, wanted: item.events)
                if !ready.isEmpty { events.append(Event(socket: nil, fileDescriptor: fd, events: ready)) }
            }
            descriptors[index].revents = 0
        }
        return events
    }

    /// What `poll(2)`'s `revents` mean for a plain descriptor added for `wanted`.
    private static func events(_ revents: Int16, of fd: Int32, wanted: PollEvents) throws(ZeroMQError) -> PollEvents {
        if revents & Int16(POLLNVAL) != 0 {
            throw ZeroMQError(.invalidArgument, "descriptor \(fd) is not open: remove it from the poller before closing it")
        }
        // Hung up or failed: a read or write returns at once, so everything asked for is ready
        // (and reporting nothing would make every wait return at once, empty-handed).
        if revents & Int16(POLLHUP | POLLERR) != 0 { return wanted }
        var ready: PollEvents = []
        if revents & Int16(POLLIN) != 0 { ready.insert(.receive) }
        if revents & Int16(POLLOUT) != 0 { ready.insert(.send) }
        return ready.intersection(wanted)
    }

    // MARK: Time

    /// When a wait of `timeout` from now ends (nil: never).
    static func deadline(after timeout: Duration?) -> ZMTPInstant? {
        guard let timeout else { return nil }
        let (seconds, attoseconds) = timeout.components
        let now = IOClock.now()
        guard seconds >= 0, attoseconds >= 0 else { return now }
        // Beyond a century the deadline is as good as never: saturate rather than overflow.
        guard seconds < 3_000_000_000 else { return ZMTPInstant(nanoseconds: .max) }
        let nanoseconds = UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
        let (sum, overflow) = now.nanoseconds.addingReportingOverflow(nanoseconds)
        return ZMTPInstant(nanoseconds: overflow ? .max : sum)
    }

    /// The `poll(2)` timeout that ends at `deadline`, rounded up so as not to wake early and
    /// spin: -1 for no deadline, 0 once it has passed.
    static func milliseconds(until deadline: ZMTPInstant?) -> Int32 {
        guard let deadline else { return -1 }
        let now = IOClock.now()
        guard deadline > now else { return 0 }
        return Int32(clamping: (deadline.nanoseconds - now.nanoseconds + 999_999) / 1_000_000)
    }
}

extension Socket {
    /// ``events`` for a poller: the same readiness, but a closed socket or a terminated context
    /// is an error rather than "nothing ready", so a wait cannot sleep through it.
    func pollerEvents() throws(ZeroMQError) -> PollEvents {
        try checkUsable()
        var events: PollEvents = []
        if pattern.canReceive { events.insert(.receive) }
        if pattern.canSend { events.insert(.send) }
        return events
    }
}
