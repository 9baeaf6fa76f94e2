#if canImport(Glibc)
import Glibc
#endif
@_exported import ZMTP
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
    let reactors: [Reactor]
    private let nextReactor = Atomic<Int>(0)
    private let transports: Mutex<[String: any Transport]>
    private let messageTransports = Mutex<[String: any MessageTransport]>([:])
    /// The inproc endpoints (held by the core: sessions reach the ZAP handler through them).
    var inproc: InprocRegistry { core.inproc }
    /// What sessions and listeners on the I/O threads share with the context. They hold this,
    /// never the `Context`, so releasing the last `Context` reference terminates it.
    let core: ContextCore

    /// - Parameters:
    ///   - ioThreads: I/O threads for tcp and ipc connections (ZMQ_IO_THREADS, default 1).
    ///   - transports: transports of your own, by scheme, in addition to `tcp` and `ipc`.
    public init(ioThreads: Int = 1, transports: [any Transport] = []) throws(ZeroMQError) {
        guard ioThreads >= 1 else { throw ZeroMQError(.invalidArgument, "at least one I/O thread") }
        var reactors: [Reactor] = []
        do throws(TransportError) {
            for _ in 0..<ioThreads {
                let reactor = try Reactor()
                try reactor.start()
                reactors.append(reactor)
            }
            core = try ContextCore()
        } catch {
            for reactor in reactors { reactor.stop() }
            throw ZeroMQError(error)
        }
        self.reactors = reactors
        var table: [String: any Transport] = ["tcp": TCPTransport(), "ipc": IPCTransport()]
        for transport in transports { table[transport.scheme] = transport }
        self.transports = Mutex(table)
    }

    deinit {
        terminate()
    }

    /// Creates a socket of `type`.
    public func socket(_ type: SocketType) throws(ZeroMQError) -> Socket {
        try Socket(context: self, type: type)
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
        if core.markStopped() { for reactor in reactors { reactor.stop() } }
    }

    /// The I/O thread for a new connection or listener (round robin).
    func chooseReactor() -> Reactor {
        let index = nextReactor.add(1, ordering: .relaxed).oldValue
        return reactors[index % reactors.count]
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
        var sockets: [ObjectIdentifier: SocketMailbox] = [:]
        var sessions = 0
    }
    private let life = Mutex(LifeState())
    /// Signalled whenever a socket closes or a session ends, for ``Context/terminate()``.
    private let lifeSignal: WakeupSignal

    init() throws(TransportError) {
        lifeSignal = try WakeupSignal()
    }

    func shutdown() {
        let mailboxes = life.withLock { state -> [SocketMailbox] in
            state.terminating = true
            return Array(state.sockets.values)
        }
        for mailbox in mailboxes { mailbox.post(.terminate) }
    }

    /// Blocks until every socket is closed and every session ended.
    func waitUntilIdle() {
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

    func register(socket mailbox: SocketMailbox) throws(ZeroMQError) {
        let ok = life.withLock { state -> Bool in
            guard !state.terminating else { return false }
            state.sockets[ObjectIdentifier(mailbox)] = mailbox
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

    func sessionEnded() {
        life.withLock { $0.sessions -= 1 }
        lifeSignal.signal()
    }

    func makeIdentifier() -> UInt64 {
        nextIdentifier.add(1, ordering: .relaxed).oldValue
    }
}
