#if canImport(Glibc)
import Glibc
#endif
import ZMTP
import ZMTPSodium
import Synchronization
import ZeroMQTransport

/// A ZeroMQ context (libzmq's `zmq_ctx_t`): the I/O threads, the registered transports, the
/// inproc endpoints, and the sockets made from it. `Sendable`: share it between threads and
/// create sockets from any of them.
///
/// ```swift
/// let context = try Context()
/// let socket = try context.socket(.rep)
/// ```
public final class Context: Sendable {
    /// The drivers that run this context's connections and listeners, round robin.
    let drivers: [any IODriver]
    /// Stops the drivers this context made (none when the application supplied them).
    private let stopOwnedDrivers: @Sendable () -> Void
    private let nextDriver = Atomic<Int>(0)
    private let transports: Mutex<[String: any Transport]>
    private let messageTransports = Mutex<[String: any MessageTransport]>([:])
    /// The inproc endpoints (held by the core: sessions reach the ZAP handler through them).
    var inproc: InprocRegistry { core.inproc }
    /// What sessions and listeners on the I/O threads share with the context. They hold this,
    /// never the `Context`, so releasing the last `Context` reference terminates it.
    let core: ContextCore

    /// Who performs a context's network I/O.
    public enum IOMode: Sendable {
        /// I/O threads of the context's own (`ioThreads` of them), as in libzmq: connections
        /// make progress whatever the application does, and every message crosses a thread.
        case threads
        /// The application's threads, inside their calls: no I/O thread exists. A thread in
        /// `send`, `receive`, `Poller.wait`, `close` or `terminate` runs the context's I/O
        /// (reads, writes, handshakes, timers) itself until its own condition holds, so a
        /// request/reply round trip crosses no thread. When several threads are in calls at
        /// once, one at a time runs a turn and the others wait for it.
        ///
        /// A send writes before it returns, except inside a burst: sends on a socket that
        /// follow one another within 20 µs, with no other call on it between, are written
        /// together once 8 KiB are queued (as libzmq's I/O thread batches them), or at the
        /// next call that is not part of the burst (a receive, a poll, `close`, or a send
        /// after a pause). A program that ends a burst and then stays away from the library
        /// calls ``Socket/flush()``.
        ///
        /// Background work happens only during calls. While no thread is inside a call on one
        /// of the context's sockets: nothing is read or written; a listener accepts nobody
        /// (the kernel's backlog holds new connections); a connect whose peer went away is
        /// noticed, and reconnected with its backoff, on the next call; heartbeats are neither
        /// sent nor answered (a peer's ZMTP heartbeat timeout may close the connection if the
        /// application stays away longer than it); LINGER runs inside `close()`, which
        /// delivers what is queued before it returns (up to LINGER; forever with the default
        /// LINGER, as `terminate()` would wait). The async API works, but a task waiting in
        /// it runs the I/O and holds its thread meanwhile: prefer ``threads`` for tasks.
        case caller
        /// Drivers the application supplies and runs, such as its own event loop (see
        /// <doc:RunningSocketsOnYourOwnEventLoop>): the context makes no I/O thread, spreads
        /// connections and listeners over `drivers` round robin, and never stops them.
        ///
        /// The sockets behave as with ``threads``, the drivers' threads standing for the I/O
        /// threads: their connections make progress while the drivers run. A call that waits
        /// (a blocking send or receive, a poll with a timeout, ``Context/terminate()``) waits
        /// for work that a driver does, so never make one on a driver's thread: there, use
        /// the `try…` forms, ``Socket/events`` and ``Socket/fileDescriptor``.
        case drivers([any IODriver])

        /// The mode the environment asks for: `SWIFT_ZEROMQ_IO=caller` or `threads` (the
        /// default, also for anything else), as the perf tools in Benchmarks/ read it.
        public static var fromEnvironment: IOMode {
            guard let value = getenv("SWIFT_ZEROMQ_IO") else { return .threads }
            return String(cString: value) == "caller" ? .caller : .threads
        }
    }

    /// Who performs this context's I/O.
    public let io: IOMode

    /// - Parameters:
    ///   - ioThreads: I/O threads for tcp and ipc connections (ZMQ_IO_THREADS, default 1;
    ///     ignored in ``IOMode/caller`` and ``IOMode/drivers(_:)`` modes, which make none).
    ///   - io: who performs the I/O (``IOMode``).
    ///   - transports: transports of your own, by scheme, in addition to `tcp` and `ipc`.
    /// - Throws: ``ZeroMQError/Code/invalidArgument`` for no I/O thread or an empty list of
    ///   drivers.
    public init(ioThreads: Int = 1, io: IOMode = .threads, transports: [any Transport] = []) throws(ZeroMQError) {
        guard ioThreads >= 1 else { throw ZeroMQError(.invalidArgument, "at least one I/O thread") }
        if case .drivers(let supplied) = io, supplied.isEmpty { throw ZeroMQError(.invalidArgument, "at least one driver") }
        // The epoll reactors this context makes and therefore stops; it knows them as drivers.
        var made: [Reactor] = []
        do throws(TransportError) {
            switch io {
            case .threads:
                for _ in 0..<ioThreads {
                    let reactor = try Reactor()
                    try reactor.start()
                    made.append(reactor)
                }
                drivers = made
                core = try ContextCore(callerDriver: nil)
            case .caller:
                let reactor = try Reactor(mode: .caller)
                try reactor.start()
                made.append(reactor)
                drivers = made
                core = try ContextCore(callerDriver: reactor)
            case .drivers(let supplied):
                drivers = supplied
                core = try ContextCore(callerDriver: nil)
            }
        } catch {
            for reactor in made { reactor.stop() }
            throw ZeroMQError(error)
        }
        let owned = made
        stopOwnedDrivers = { for reactor in owned { reactor.stop() } }
        self.io = io
        var table: [String: any Transport] = ["tcp": TCPTransport(), "ipc": IPCTransport()]
        for transport in transports { table[transport.scheme] = transport }
        self.transports = Mutex(table)
    }

    deinit {
        terminate()
    }

    /// Creates a socket of `type`.
    ///
    /// The socket is returned `sending`: nothing else refers to it yet, so the caller may hand
    /// it to another task (`group.addTask { ... }`, `Task { ... }`) or an actor, after which
    /// the compiler rejects any use on the old side. See "Sockets and structured concurrency" in
    /// the README.
    public func socket(_ type: SocketType) throws(ZeroMQError) -> sending Socket {
        try Socket(context: self, type: type)
    }

    /// Runs `body` with a new socket of `type` and closes the socket when `body` returns or
    /// throws, honouring its ``SocketOptions/linger`` (pyzmq's `with ctx.socket(...) as s:`).
    ///
    /// ```swift
    /// let reply = try context.withSocket(.req) { socket in
    ///     try socket.connect("tcp://localhost:5555")
    ///     try socket.send("Hello")
    ///     return try socket.receiveString()
    /// }
    /// ```
    public func withSocket<Result>(_ type: SocketType, _ body: (Socket) throws -> Result) throws -> Result {
        let socket = try socket(type)
        defer { socket.close() }
        return try body(socket)
    }

    /// Runs `body` with a new socket of `type` on the caller's executor and closes the socket
    /// when `body` returns, throws or is cancelled, honouring its ``SocketOptions/linger``.
    nonisolated(nonsending)
    public func withSocket<Result>(_ type: SocketType, _ body: (Socket) async throws -> sending Result) async throws -> sending Result {
        let socket = try socket(type)
        defer { socket.close() }
        return try await body(socket)
    }

    /// Registers (or replaces) a transport for its scheme.
    public func register(_ transport: any Transport) {
        transports.withLock { $0[transport.scheme] = transport }
    }

    func transport(for scheme: String) -> (any Transport)? {
        transports.withLock { $0[scheme] }
    }

    /// Registers (or replaces) a message transport (pgm, epgm, or one of your own) for its
    /// scheme; it takes precedence over a stream transport of the same scheme.
    public func register(_ transport: any MessageTransport) {
        messageTransports.withLock { $0[transport.scheme] = transport }
    }

    func messageTransport(for scheme: String) -> (any MessageTransport)? {
        messageTransports.withLock { $0[scheme] }
    }

    // MARK: Termination

    /// Makes every blocking and future call on this context's sockets fail with
    /// ``ZeroMQError/Code/terminated`` (libzmq's `zmq_ctx_shutdown`). Sockets must still be
    /// closed (or released).
    public func shutdown() {
        core.shutdown()
    }

    /// Shuts down, waits until every socket is closed and every connection has sent what its
    /// LINGER allows, then stops the I/O threads (libzmq's `zmq_ctx_term`). With LINGER left at
    /// its default for most types (forever; SUB and XSUB default to 0), a peer that never takes
    /// the queued messages makes this wait forever, as in libzmq; set LINGER to bound it. A
    /// socket with nothing queued, or only a SUB's subscriptions, never holds it.
    public func terminate() {
        core.shutdown()
        core.waitUntilIdle()
        if core.markStopped() { stopOwnedDrivers() }
    }

    /// The driver for a new connection or listener (round robin).
    func chooseDriver() -> any IODriver {
        let index = nextDriver.add(1, ordering: .relaxed).oldValue
        return drivers[index % drivers.count]
    }
}

extension Context.IOMode: Equatable {
    /// Whether two modes are the same: the same case, and for ``drivers(_:)`` the same driver
    /// objects in the same order.
    public static func == (lhs: Self, rhs: Self) -> Bool {
        switch (lhs, rhs) {
        case (.threads, .threads), (.caller, .caller):
            return true
        case (.drivers(let left), .drivers(let right)):
            return left.count == right.count && zip(left, right).allSatisfy { $0 === $1 }
        case (.threads, _), (.caller, _), (.drivers, _):
            return false
        }
    }
}

/// The part of a context that sessions and listeners share: socket and session counts for
/// termination, the crypto provider, the inproc endpoints, identifiers.
final class ContextCore: Sendable {
    let crypto: any CurveCrypto = SodiumCurveCrypto()
    let inproc = InprocRegistry()
    private let nextIdentifier = Atomic<UInt64>(1)

    private struct LifeState {
        var terminating = false
        var stopped = false
        var sockets: [ObjectIdentifier: OpenSocket] = [:]
        var sessions = 0
        /// Sessions of closed sockets (or dropped endpoints) still delivering within LINGER.
        var lingering = 0
        /// When the last of them with a finite LINGER gives up, at the latest.
        var lingerDeadline: ZMTPInstant?
    }

    /// An open socket, as the context sees it: its mailbox (for shutdown), and for the exit
    /// flush, the socket itself (weakly: the context must not keep it alive) and the thread that
    /// made it.
    private struct OpenSocket: @unchecked Sendable {
        let mailbox: SocketMailbox
        weak var socket: Socket?
        let thread: pthread_t
    }
    private let life = Mutex(LifeState())
    /// Signalled whenever a socket closes or a session ends, for ``Context/terminate()``.
    private let lifeSignal: WakeupSignal

    /// The context's driver in ``Context/IOMode/caller`` mode, whose turns calls run (nil: the
    /// drivers run on threads of their own).
    let callerDriver: (any CallerDrivenIODriver)?

    init(callerDriver: (any CallerDrivenIODriver)?) throws(TransportError) {
        self.callerDriver = callerDriver
        lifeSignal = try WakeupSignal()
        ExitFlush.track(self)
    }

    deinit {
        ExitFlush.untrack(self)
    }

    func shutdown() {
        let mailboxes = life.withLock { state -> [SocketMailbox] in
            state.terminating = true
            return state.sockets.values.map(\.mailbox)
        }
        for mailbox in mailboxes { mailbox.post(.terminate) }
    }

    /// Blocks until every socket is closed and every session ended.
    func waitUntilIdle() {
        if let callerDriver {
            // The signal is drained before each look at the state, not after the wait: a
            // signal left on the descriptor would make every poll between turns return at once.
            _ = callerDriver.drive(until: {
                self.lifeSignal.drain()
                return self.life.withLock { $0.sockets.isEmpty && $0.sessions == 0 }
            }, wakingOn: lifeSignal.fd, deadline: nil)
            return
        }
        while true {
            let done = life.withLock { $0.sockets.isEmpty && $0.sessions == 0 }
            if done { return }
            var descriptor = pollfd(fd: lifeSignal.fd, events: Int16(POLLIN), revents: 0)
            _ = poll(&descriptor, 1, 100)
            lifeSignal.drain()
        }
    }

    /// True the first time: the caller stops the I/O threads.
    func markStopped() -> Bool {
        life.withLock { state -> Bool in
            defer { state.stopped = true }
            return !state.stopped
        }
    }

    func register(_ socket: Socket) throws(ZeroMQError) {
        let mailbox = socket.mailbox
        let entry = OpenSocket(mailbox: mailbox, socket: socket, thread: pthread_self())
        let ok = life.withLock { state -> Bool in
            guard !state.terminating else { return false }
            state.sockets[ObjectIdentifier(mailbox)] = entry
            return true
        }
        guard ok else { throw .terminated }
    }

    func socketClosed(_ mailbox: SocketMailbox) {
        life.withLock { _ = $0.sockets.removeValue(forKey: ObjectIdentifier(mailbox)) }
        lifeSignal.signal()
    }

    func sessionStarted() {
        life.withLock { $0.sessions += 1 }
    }

    func sessionEnded(lingering: Bool = false) {
        life.withLock { state in
            state.sessions -= 1
            if lingering { state.lingering -= 1 }
        }
        lifeSignal.signal()
    }

    /// A session began delivering what its socket left, giving up at `deadline` (nil: never).
    func sessionLingering(until deadline: ZMTPInstant?) {
        life.withLock { state in
            state.lingering += 1
            if let deadline { state.lingerDeadline = max(state.lingerDeadline ?? deadline, deadline) }
        }
    }

    // MARK: Exit

    /// Closes the open sockets that `thread` made, each with its LINGER bounded by `limit` when
    /// it is forever; returns the latest instant one of them may deliver until.
    func closeSockets(madeBy thread: pthread_t, limit: Duration) -> ZMTPInstant {
        let owned = life.withLock { state in state.sockets.values.filter { pthread_equal($0.thread, thread) != 0 } }
        var latest = IOClock.now().adding(limit)
        for entry in owned {
            guard let socket = entry.socket, !socket.isClosed else { continue }
            let linger = socket.options.linger ?? limit
            latest = max(latest, IOClock.now().adding(linger))
            socket.close(linger: linger)
        }
        return latest
    }

    /// Waits until every lingering session has ended, or `deadline` and the latest finite
    /// LINGER among them have passed.
    func waitForLingeringSessions(until deadline: ZMTPInstant) {
        if let callerDriver {
            let lingerDeadline = life.withLock { $0.lingerDeadline }
            _ = callerDriver.drive(until: {
                self.lifeSignal.drain()
                return self.life.withLock { $0.lingering == 0 }
            }, wakingOn: lifeSignal.fd, deadline: max(deadline, lingerDeadline ?? deadline))
            return
        }
        while true {
            let (count, lingerDeadline) = life.withLock { ($0.lingering, $0.lingerDeadline) }
            let giveUp = max(deadline, lingerDeadline ?? deadline)
            let now = IOClock.now()
            if count == 0 || now >= giveUp { return }
            let remaining = Int((giveUp.nanoseconds - now.nanoseconds) / 1_000_000) + 1
            var descriptor = pollfd(fd: lifeSignal.fd, events: Int16(POLLIN), revents: 0)
            _ = poll(&descriptor, 1, Int32(min(remaining, 100)))
            lifeSignal.drain()
        }
    }

    func makeIdentifier() -> UInt64 {
        nextIdentifier.add(1, ordering: .relaxed).oldValue
    }
}
