#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import ZMTP
import ZeroMQTransport

/// What I/O threads and inproc peers tell a socket (libzmq's socket commands).
enum SocketCommand: @unchecked Sendable {
    /// A new pipe to a peer whose handshake is done (an accepted connection, an IMMEDIATE
    /// connect, an inproc connect to our bind). `peer` is the handshake's result.
    case attach(PipeEnd, PeerDescription)
    /// A pipe the socket already holds (a connect's, made before the peer existed) now reaches
    /// a peer that completed its handshake.
    case identified(PipeEnd, PeerDescription)
    /// Messages arrived on a pipe whose reader was asleep.
    case readable(PipeID)
    /// A pipe the socket could not write to has room again.
    case writable(PipeID)
    /// The other end closed the pipe.
    case peerClosed(PipeID)
    /// A session ended for good (bind side: its peer left; connect side: reconnect disabled).
    case sessionEnded(SessionID)
    /// The context is terminating: blocking calls return ``ZeroMQError/Code/terminated``.
    case terminate
}

/// Who is at the other end of a pipe, for routing ids and message properties.
struct PeerDescription: Sendable {
    var socketType: SocketType?
    /// The peer's Identity property (REQ/DEALER/ROUTER), its requested routing id.
    var identity: [UInt8]
    /// Every property from its READY, the ZAP metadata, and `Peer-Address`.
    var properties: Metadata
    /// The endpoint of ours this came through (for disconnect/unbind).
    var endpoint: String
    /// The session behind the pipe (nil for inproc).
    var session: SessionID?

    init(socketType: SocketType?, identity: [UInt8], properties: Metadata, endpoint: String, session: SessionID?) {
        self.socketType = socketType
        self.identity = identity
        self.properties = properties
        self.endpoint = endpoint
        self.session = session
    }

    /// From a completed ZMTP handshake: the properties the core's rule gives
    /// (`PeerInfo.messageProperties(peerAddress:)`: `Peer-Address`, `User-Id` and the ZAP
    /// handler's metadata first, then the peer's own minus those reserved names).
    init(_ peer: PeerInfo, peerAddress: String, endpoint: String, session: SessionID?) {
        self.init(socketType: peer.socketType, identity: peer.identity, properties: peer.messageProperties(peerAddress: peerAddress),
                  endpoint: endpoint, session: session)
    }
}

/// A session's identity, unique within a context.
struct SessionID: Hashable, Sendable {
    let value: UInt64
}

/// A socket's mailbox: a `Mutex`-guarded queue of ``SocketCommand``s, an eventfd that a blocked
/// caller polls (and that a poller can watch, like libzmq's ZMQ_FD), and the continuation of a
/// suspended async call. The eventfd is signalled only when the queue goes from empty to
/// non-empty.
final class SocketMailbox: PipeEventSink, Sendable {
    private struct State {
        var commands: [SocketCommand] = []
        var waiter: (id: UInt64, continuation: CheckedContinuation<Void, Never>)? = nil
        var nextWaiterId: UInt64 = 0
        /// The eventfd may hold a signal not yet drained: set when a post signals, cleared just
        /// before ``take()`` drains. While it is clear and no command waits, ``take()`` needs no
        /// system call (the common case on the send and receive paths).
        var signaled = false
    }

    private let state = Mutex(State())
    /// `signaled || !commands.isEmpty`, kept by every locked section that changes either, so
    /// that the socket's check on every send and receive (``mayHaveCommands``) takes no lock.
    private let pending = Atomic<Bool>(false)
    private let signal: WakeupSignal
    /// The context's driver when the caller drives the I/O (``Context/IOMode/caller``): a
    /// blocked call runs its turns while it waits.
    let callerDriver: (any CallerDrivenIODriver)?
    /// `callerDriver != nil`, as a plain flag: the check on every send and receive then costs
    /// a load, not a retain and release of the driver.
    let isCallerDriven: Bool
    /// Caller mode: the thread inside ``wait(until:)`` on this mailbox, which runs the context's
    /// turns and looks at the queue after each one (0: none). A command that this thread posts
    /// from inside one of its turns needs no eventfd signal: the write, and the read that drains
    /// it, would be two system calls per message on a request/reply round trip.
    private let waitingThread = Atomic<UInt>(0)
    /// Caller mode: the eventfd also wakes a thread asleep in a turn of the reactor, so a wait
    /// may sleep there (``Reactor/drive(until:wakingOn:deadline:wakeupIsWatched:)``).
    private let wakeupIsWatched: Bool

    init(callerDriver: (any CallerDrivenIODriver)? = nil) throws(TransportError) {
        signal = try WakeupSignal()
        self.callerDriver = callerDriver
        isCallerDriven = callerDriver != nil
        wakeupIsWatched = callerDriver?.watchWakeups(fd: signal.fd) ?? false
    }

    /// The descriptor that becomes readable when commands wait (edge-like: read ``take()``).
    var fd: Int32 { signal.fd }

    func post(_ command: SocketCommand) {
        let postedByWaiter = isCallerDriven && waitingThread.load(ordering: .relaxed) == UInt(pthread_self())
        let (needsSignal, waiter) = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
            state.commands.append(command)
            let waiter = state.waiter?.continuation
            state.waiter = nil
            pending.store(true, ordering: .relaxed)
            if postedByWaiter { return (false, waiter) }
            // One signal until the reader drains it: a burst of posts costs one write.
            let needsSignal = !state.signaled
            state.signaled = true
            return (needsSignal, waiter)
        }
        if needsSignal { signal.signal() }
        waiter?.resume()
    }

    /// Every command waiting, in order (the socket's thread).
    ///
    /// The eventfd is drained before the commands are taken, never after: a signal drained here
    /// always belongs to a command taken here or still queued with `signaled` set, so a waiter on
    /// the descriptor never misses one.
    func take() -> [SocketCommand] {
        var taken: [SocketCommand] = []
        take(into: &taken)
        return taken
    }

    /// Every command waiting, swapped into `buffer`, which must be empty: its capacity goes to
    /// the mailbox, so posts and takes reuse two buffers and allocate nothing.
    func take(into buffer: inout [SocketCommand]) {
        let wasSignaled = state.withLock { state -> Bool? in
            guard state.signaled || !state.commands.isEmpty else { return nil }
            defer { state.signaled = false }
            pending.store(!state.commands.isEmpty, ordering: .relaxed)
            return state.signaled
        }
        guard let wasSignaled else { return }
        // Commands posted without a signal (``waitingThread``) left nothing to drain.
        if wasSignaled { signal.drain() }
        state.withLock { state in
            swap(&buffer, &state.commands)
            pending.store(state.signaled || !state.commands.isEmpty, ordering: .relaxed)
        }
    }

    var isEmpty: Bool { state.withLock { $0.commands.isEmpty } }

    /// Whether ``take(into:)`` may find something: the socket's per-call check, one atomic load.
    /// It may miss a command posted at this very moment, as a locked check made a moment earlier
    /// would; the command's signal stays on the descriptor until ``take(into:)`` drains it.
    var mayHaveCommands: Bool { pending.load(ordering: .acquiring) }

    /// Blocks the calling thread until a command arrives or `deadline` passes (nil: forever).
    /// Returns false on timeout. In caller mode the thread runs the context's I/O meanwhile.
    func wait(until deadline: ZMTPInstant?) -> Bool {
        if let callerDriver {
            waitingThread.store(UInt(pthread_self()), ordering: .relaxed)
            defer { waitingThread.store(0, ordering: .relaxed) }
            return callerDriver.drive(until: { !isEmpty }, wakingOn: signal.fd, deadline: deadline,
                                      wakeupIsWatched: wakeupIsWatched)
        }
        while true {
            if !isEmpty { return true }
            var timeout: Int32 = -1
            if let deadline {
                let now = IOClock.now()
                if deadline <= now { return false }
                timeout = Int32(clamping: (deadline.nanoseconds - now.nanoseconds + 999_999) / 1_000_000)
            }
            var descriptor = pollfd(fd: signal.fd, events: Int16(POLLIN), revents: 0)
            let n = poll(&descriptor, 1, timeout)
            if n < 0 && errno != EINTR { return !isEmpty }
        }
    }

    /// Suspends the calling task until a command arrives, `deadline` passes (a timer on
    /// `reactor` resumes it), or the task is cancelled. Never blocks a thread.
    func waitAsync(deadline: ZMTPInstant?, reactor: any IODriver) async {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiterId += 1
            return state.nextWaiterId
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if !state.commands.isEmpty || Task.isCancelled { return true }
                    state.waiter = (id, continuation)
                    return false
                }
                if resumeNow {
                    continuation.resume()
                } else if let deadline {
                    // A timer that finds the waiter already gone does nothing (ids are unique).
                    let posted = reactor.post { [weak self] in
                        _ = reactor.schedule(at: deadline) { self?.wake(id) }
                    }
                    if !posted { wake(id) }
                }
            }
        } onCancel: {
            wake(id)
        }
    }

    /// Resumes the suspended waiter `id`, if it still waits.
    private func wake(_ id: UInt64) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter, waiter.id == id else { return nil }
            state.waiter = nil
            return waiter.continuation
        }
        waiter?.resume()
    }

    // MARK: PipeEventSink (the socket's pipe ends report here, from other threads)

    func pipeBecameReadable(_ pipe: PipeID) { post(.readable(pipe)) }
    func pipeBecameWritable(_ pipe: PipeID) { post(.writable(pipe)) }
    func pipePeerClosed(_ pipe: PipeID) { post(.peerClosed(pipe)) }
}
