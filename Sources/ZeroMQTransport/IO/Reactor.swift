#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import ZMTP

/// Something that owns a registered descriptor and reacts when it is ready.
public protocol IOHandler: AnyObject {
    /// Called on the reactor's thread while the descriptor is ready for what it is registered for
    /// (level-triggered). `hangup`: the peer closed or the descriptor is in error.
    func ready(_ events: IOEvents, hangup: Bool)
}

/// One I/O thread: a ``ReadinessPoller`` over non-blocking descriptors, timers, and a mailbox through which
/// other threads hand it work (libzmq's `io_thread_t` with its `mailbox_t`).
///
/// Everything but ``post(_:)``, ``start()``, ``stop()`` and ``isOnLoopThread`` must be called on
/// the reactor's own thread, from a handler, a timer or a posted task. The mailbox wakes the loop
/// through an eventfd only when it goes from empty to non-empty, so a burst of posts costs one
/// wakeup (about 0.8 µs here), not one per post.
public final class Reactor: @unchecked Sendable {
    /// A registered descriptor.
    public struct Registration: Hashable, Sendable {
        fileprivate let token: UInt64
        /// The descriptor.
        public let fd: Int32
    }

    /// A scheduled timer.
    public struct Timer: Hashable, Sendable {
        fileprivate let id: TimerQueue.ID
    }

    private enum RunState { case idle, running, stopped }

    private static let wakeupToken: UInt64 = 0

    private let poller: ReadinessPoller
    private let wakeup: WakeupSignal
    private let mailbox = Mutex<[@Sendable () -> Void]>([])
    private let runState = Mutex<RunState>(.idle)
    private var thread = pthread_t()
    private var loopThread: pthread_t?

    // Loop-thread state.
    private var handlers: [UInt64: IOHandler] = [:]
    private var timers = TimerQueue()
    private var nextToken: UInt64 = 1
    private var running = true
    /// The mailbox's second buffer (see ``drainMailbox()``).
    private var drainedTasks: [@Sendable () -> Void] = []

    /// The size of the reactor's shared read buffer (libzmq reads 8 KiB batches; a larger read means fewer calls
    /// when a peer streams).
    public static let readBufferSize = 65_536

    /// One read buffer for every connection this reactor serves (loop thread only). Engines
    /// read into it and hand the bytes to their protocol core, which keeps what it has not
    /// parsed, so an idle connection holds no read buffer of its own: with a buffer per
    /// connection, 1,000 idle connections held 64 MiB.
    package let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Reactor.readBufferSize, alignment: 64)

    /// - Parameter poller: the readiness backend (epoll by default).
    public init(poller: ReadinessPoller? = nil) throws(TransportError) {
        if let poller {
            self.poller = poller
        } else {
            self.poller = try EpollPoller()
        }
        wakeup = try WakeupSignal()
        try self.poller.add(fd: wakeup.fd, token: Self.wakeupToken, events: .readable)
    }

    deinit {
        readBuffer.deallocate()
    }

    /// The current time on the monotonic clock every reactor uses.
    public static func now() -> ZMTPInstant {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return ZMTPInstant(nanoseconds: UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec))
    }

    // MARK: Life cycle

    /// Starts the loop on a thread of its own.
    public func start() throws(TransportError) {
        let shouldStart = runState.withLock { state -> Bool in
            guard case .idle = state else { return false }
            state = .running
            return true
        }
        guard shouldStart else { return }
        let box = Unmanaged.passRetained(self).toOpaque()
        let result = pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            let reactor = Unmanaged<Reactor>.fromOpaque(raw).takeRetainedValue()
            reactor.run()
            return nil
        }, box)
        guard result == 0 else {
            Unmanaged<Reactor>.fromOpaque(box).release()
            runState.withLock { $0 = .stopped }
            throw TransportError.system("pthread_create", result)
        }
    }

    /// Stops the loop after the tasks already posted, and waits for its thread to end. Timers
    /// that have not fired are dropped. Called on the reactor's own thread (from a handler or a
    /// task), it ends the loop after the current iteration without waiting for itself.
    public func stop() {
        if isOnLoopThread {
            let wasRunning = runState.withLock { state -> Bool in
                defer { state = .stopped }
                if case .running = state { return true }
                return false
            }
            if wasRunning {
                running = false
                // Nobody will join this thread: let it release its resources when it ends.
                pthread_detach(pthread_self())
            }
            return
        }
        let wasRunning = runState.withLock { state -> Bool in
            defer { state = .stopped }
            if case .running = state { return true }
            return false
        }
        guard wasRunning else { return }
        enqueue { [unowned self] in self.running = false }
        pthread_join(thread, nil)
    }

    /// Whether the caller runs on this reactor's thread.
    public var isOnLoopThread: Bool {
        guard let loopThread else { return false }
        return pthread_equal(pthread_self(), loopThread) != 0
    }

    // MARK: Mailbox

    /// Runs `task` on the reactor's thread, after the tasks posted before it. Returns false (and
    /// drops the task) once the reactor is stopped.
    @discardableResult
    public func post(_ task: @escaping @Sendable () -> Void) -> Bool {
        guard runState.withLock({ if case .stopped = $0 { return false } else { return true } }) else { return false }
        enqueue(task)
        return true
    }

    private func enqueue(_ task: @escaping @Sendable () -> Void) {
        let wasEmpty = mailbox.withLock { queue -> Bool in
            queue.append(task)
            return queue.count == 1
        }
        // Only the empty→non-empty transition needs a wakeup: otherwise the loop has a drain
        // of the mailbox ahead of it that will see this task.
        if wasEmpty { wakeup.signal() }
    }

    private func drainMailbox() {
        wakeup.drain()
        // Two buffers swapped under the lock, each emptied keeping its capacity: a drain
        // allocates nothing (taking a copy and emptying the queue would allocate a new buffer
        // for every drain, since the copy still shares the old one).
        var tasks = drainedTasks
        drainedTasks = []
        mailbox.withLock { queue in swap(&queue, &tasks) }
        for task in tasks { task() }
        tasks.removeAll(keepingCapacity: true)
        drainedTasks = tasks
    }

    // MARK: Descriptors (loop thread)

    /// Watches `fd` for `events` and calls `handler` while it is ready.
    public func register(fd: Int32, events: IOEvents, handler: IOHandler) throws(TransportError) -> Registration {
        let token = nextToken
        nextToken += 1
        try poller.add(fd: fd, token: token, events: events)
        handlers[token] = handler
        return Registration(token: token, fd: fd)
    }

    /// Changes what a registered descriptor is watched for.
    public func update(_ registration: Registration, events: IOEvents) throws(TransportError) {
        try poller.modify(fd: registration.fd, token: registration.token, events: events)
    }

    /// Stops watching a descriptor and releases its handler. Call before closing the descriptor.
    public func deregister(_ registration: Registration) {
        poller.remove(fd: registration.fd)
        handlers[registration.token] = nil
    }

    // MARK: Timers (loop thread)

    /// Runs `action` on the reactor's thread `milliseconds` from now.
    public func schedule(afterMilliseconds milliseconds: Int, _ action: @escaping () -> Void) -> Timer {
        Timer(id: timers.schedule(at: Self.now().adding(milliseconds: milliseconds), action))
    }

    /// Runs `action` on the reactor's thread at `deadline` (or at once if it has passed).
    public func schedule(at deadline: ZMTPInstant, _ action: @escaping () -> Void) -> Timer {
        Timer(id: timers.schedule(at: deadline, action))
    }

    /// Cancels a timer that has not fired yet.
    public func cancel(_ timer: Timer) {
        timers.cancel(timer.id)
    }

    // MARK: The loop

    private func run() {
        loopThread = pthread_self()
        var events: [PollEvent] = []
        events.reserveCapacity(256)
        while running {
            var timeout: Int32 = -1
            if let deadline = timers.nextDeadline() {
                let now = Self.now()
                if deadline <= now {
                    timeout = 0
                } else {
                    // Round up so that a timer never wakes the loop a little early, then spins.
                    let milliseconds = (deadline.nanoseconds - now.nanoseconds + 999_999) / 1_000_000
                    timeout = Int32(clamping: milliseconds)
                }
            }
            events.removeAll(keepingCapacity: true)
            do throws(TransportError) {
                try poller.wait(timeoutMilliseconds: timeout, into: &events)
            } catch {
                // epoll_wait fails only on programming errors (EBADF, EINVAL); stop rather than spin.
                running = false
                break
            }
            for event in events {
                if event.token == Self.wakeupToken {
                    drainMailbox()
                } else if let handler = handlers[event.token] {
                    handler.ready(event.events, hangup: event.hangup)
                }
            }
            if timers.count > 0 {
                for action in timers.popDue(now: Self.now()) { action() }
            }
        }
        // Release what the loop owned; posted tasks left behind are dropped.
        handlers.removeAll()
        timers = TimerQueue()
        mailbox.withLock { $0.removeAll() }
    }
}
