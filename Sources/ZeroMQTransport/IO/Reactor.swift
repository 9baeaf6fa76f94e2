#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import ZMTP

/// The epoll driver: a ``ReadinessPoller`` over non-blocking descriptors, timers, and a
/// ``DriverMailbox`` through which other threads hand it work (libzmq's `io_thread_t` with its
/// `mailbox_t`). One ``IODriver`` among others; the socket layer knows it only through that
/// protocol.
///
/// Everything but `post(_:)`, `start()`, `stop()`, `drive(timeoutMilliseconds:)`,
/// ``nextTimerDeadline`` and ``isOnDriverThread`` must be called on the driver's thread, from a
/// handler, a timer or a posted task. The mailbox wakes the loop through an eventfd only when it
/// goes from empty to non-empty, so a burst of posts costs one wakeup (about 0.8 µs here), not
/// one per post.
///
/// Two modes (``Mode``): a thread of its own runs the loop (``Mode/ownThread``, libzmq's I/O
/// thread), or application threads run its turns inside their calls (``Mode/caller``): the
/// reactor then has no thread, a call runs ``drive(timeoutMilliseconds:)`` until its condition
/// holds, and nothing runs between calls.
public final class Reactor: CallerDrivenIODriver, @unchecked Sendable {
    /// A registered descriptor.
    public typealias Registration = IORegistration
    /// A scheduled timer.
    public typealias Timer = IOTimer

    /// Who runs the reactor's turns.
    public enum Mode: Sendable, Equatable {
        /// A thread of its own, started by ``start()`` (libzmq's I/O thread).
        case ownThread
        /// The application's threads, inside their calls: ``drive(timeoutMilliseconds:)`` runs
        /// one turn under a lock, so one thread at a time runs it (the leader) and the others
        /// wait for the lock or for their own descriptors. Needs a poller with a
        /// ``ReadinessPoller/waitDescriptor`` (epoll has one).
        case caller
    }

    private enum RunState { case idle, running, stopped }

    private static let wakeupToken: UInt64 = 0
    /// Callers' own wakeups (``watchWakeups(fd:)``): they only end a wait; no handler.
    private static let callerWakeupToken: UInt64 = .max

    /// Who runs the turns.
    public let mode: Mode
    private let poller: ReadinessPoller
    /// The queue other threads post to; its eventfd is registered under `wakeupToken`.
    public let mailbox: DriverMailbox
    private let runState = Mutex<RunState>(.idle)
    private var thread = pthread_t()
    /// The thread running a turn now (its `pthread_t`; 0: none). Own-thread mode sets it once.
    private let driverThread = Atomic<UInt>(0)
    /// Caller mode: held for the length of one turn.
    private let turn = Mutex<Void>(())
    /// Caller mode: the earliest timer deadline after the last turn, in nanoseconds (0: none),
    /// so that callers waiting outside a turn bound their wait by it.
    private let publishedDeadline = Atomic<UInt64>(0)
    /// Caller mode: how many threads are inside a call that runs turns.
    private let callers = Atomic<Int>(0)
    /// Caller mode: whether a thread may be asleep in a turn's wait for readiness.
    private let asleepInTurn = Atomic<Bool>(false)
    /// Caller mode: when a turn last looked at the descriptors (turn lock).
    private var lastLook = ZMTPInstant.zero

    // Driver-thread state.
    private var handlers: [UInt64: IOHandler] = [:]
    private var timers = TimerQueue()
    private var nextToken: UInt64 = 1
    private var running = true
    /// Caller mode: the events buffer, kept between turns so that a turn allocates nothing.
    private var callerEvents: [PollEvent] = []

    /// The size of the reactor's shared read buffer (libzmq reads 8 KiB batches; a larger read means fewer calls
    /// when a peer streams).
    public static let readBufferSize = 65_536

    /// One read buffer for every connection this reactor serves (driver thread only). Engines
    /// read into it and hand the bytes to their protocol core, which keeps what it has not
    /// parsed, so an idle connection holds no read buffer of its own: with a buffer per
    /// connection, 1,000 idle connections held 64 MiB.
    public let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Reactor.readBufferSize, alignment: 64)

    /// - Parameters:
    ///   - poller: the readiness backend (epoll by default).
    ///   - mode: who runs the turns.
    public init(poller: ReadinessPoller? = nil, mode: Mode = .ownThread) throws(TransportError) {
        if let poller {
            self.poller = poller
        } else {
            self.poller = try EpollPoller()
        }
        self.mode = mode
        if mode == .caller && self.poller.waitDescriptor == nil {
            throw TransportError.system("caller mode needs a poller with a wait descriptor", EINVAL)
        }
        // Caller mode: the thread that posts runs the next turn itself, so posts need no wakeup.
        mailbox = try DriverMailbox(signalsWakeups: mode == .ownThread)
        callerEvents.reserveCapacity(256)
        try self.poller.add(fd: mailbox.wakeupFD, token: Self.wakeupToken, events: .readable)
    }

    deinit {
        readBuffer.deallocate()
    }

    /// The current time on the monotonic clock every driver uses (``IOClock``).
    @inline(__always)
    public static func now() -> ZMTPInstant { IOClock.now() }

    // MARK: Life cycle

    /// Own-thread mode: starts the loop on a thread of its own. Caller mode: lets calls run
    /// turns.
    public func start() throws(TransportError) {
        let shouldStart = runState.withLock { state -> Bool in
            guard case .idle = state else { return false }
            state = .running
            return true
        }
        guard shouldStart, mode == .ownThread else { return }
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
            mailbox.close(after: {})
            throw TransportError.system("pthread_create", result)
        }
    }

    /// Stops the loop after the tasks already posted, and waits for its thread to end. Timers
    /// that have not fired are dropped. Called on the reactor's own thread (from a handler or a
    /// task), it ends the loop after the current iteration without waiting for itself. In
    /// caller mode the calling thread runs the tasks already posted, then releases everything.
    public func stop() {
        let wasRunning = runState.withLock { state -> Bool in
            defer { state = .stopped }
            if case .running = state { return true }
            return false
        }
        if isOnDriverThread {
            mailbox.close(after: {})
            guard wasRunning else { return }
            running = false
            // Nobody will join this thread: let it release its resources when it ends.
            if mode == .ownThread { pthread_detach(pthread_self()) }
            return
        }
        switch mode {
        case .ownThread:
            guard wasRunning else {
                mailbox.close(after: {})
                return
            }
            mailbox.close(after: { [unowned self] in self.running = false })
            pthread_join(thread, nil)
        case .caller:
            mailbox.close(after: {})
            turn.withLock { _ in
                enterTurn()
                mailbox.drain()
                releaseLoopState()
                leaveTurn()
            }
        }
    }

    /// Whether the caller runs this reactor's turn now.
    public var isOnDriverThread: Bool {
        driverThread.load(ordering: .relaxed) == UInt(pthread_self())
    }

    /// Whether the caller runs on this reactor's thread (``isOnDriverThread``).
    public var isOnLoopThread: Bool { isOnDriverThread }

    // MARK: Descriptors (driver thread)

    /// Watches `fd` for `events` and calls `handler` while it is ready.
    public func register(fd: Int32, events: IOEvents, handler: IOHandler) throws(TransportError) -> IORegistration {
        let token = nextToken
        nextToken += 1
        try poller.add(fd: fd, token: token, events: events)
        handlers[token] = handler
        return IORegistration(token: token, fd: fd)
    }

    /// Changes what a registered descriptor is watched for.
    public func update(_ registration: IORegistration, events: IOEvents) throws(TransportError) {
        try poller.modify(fd: registration.fd, token: registration.token, events: events)
    }

    /// Stops watching a descriptor and releases its handler. Call before closing the descriptor.
    public func deregister(_ registration: IORegistration) {
        poller.remove(fd: registration.fd)
        handlers[registration.token] = nil
    }

    // MARK: Timers (driver thread)

    /// Runs `action` on the driver's thread at `deadline` (or at once if it has passed).
    public func schedule(at deadline: ZMTPInstant, _ action: @escaping () -> Void) -> IOTimer {
        IOTimer(token: timers.schedule(at: deadline, action).value)
    }

    /// Cancels a timer that has not fired yet.
    public func cancel(_ timer: IOTimer) {
        timers.cancel(TimerQueue.ID(value: timer.token))
    }

    // MARK: Caller mode

    /// The descriptor that is readable while this reactor has work for a turn (descriptors
    /// ready, tasks posted): a caller waiting for its own condition polls it beside its own
    /// descriptors and runs ``drive(timeoutMilliseconds:)`` when it fires.
    public var waitDescriptor: Int32? { poller.waitDescriptor }

    /// The earliest timer deadline as of the last turn (caller mode), which a caller waiting
    /// outside a turn must not sleep past.
    public var nextTimerDeadline: ZMTPInstant? {
        let value = publishedDeadline.load(ordering: .acquiring)
        return value == 0 ? nil : ZMTPInstant(nanoseconds: value)
    }

    /// Caller mode: runs one turn on the calling thread (waiting up to `timeoutMilliseconds`
    /// for readiness, 0: not at all), then the due timers. One thread at a time: a caller that
    /// finds another thread's turn under way waits for it to end (a thread asleep inside its
    /// turn is woken for it), then runs its own, so work posted before the call is always done
    /// by the time it returns. Returns false once the reactor is stopped. A call from inside a
    /// turn (a handler or task that ends up here) does nothing.
    @discardableResult
    public func drive(timeoutMilliseconds: Int32 = 0) -> Bool {
        guard mode == .caller else { return false }
        if isOnDriverThread { return true }
        enterCall()
        defer { leaveCall() }
        return turn(lookingAtDescriptors: true) { _ in timeoutMilliseconds }
    }

    /// Caller mode: the turn of a call that has just queued work (a send to write): runs the
    /// posted tasks and the due timers, and looks at the descriptors too unless a turn did in
    /// the last ``lookIntervalNanoseconds``. A request/reply exchange then costs no readiness
    /// check for its send, the receive that follows having just made one; a thread that only
    /// sends still sees what its peers did (a closed connection, a heartbeat, room to write) at
    /// that pace.
    @discardableResult
    public func driveQueued() -> Bool {
        guard mode == .caller else { return false }
        if isOnDriverThread { return true }
        enterCall()
        defer { leaveCall() }
        return turn(lookingAtDescriptors: false) { _ in 0 }
    }

    /// How long a send's turn may go without looking at the descriptors (``driveQueued()``).
    public static let lookIntervalNanoseconds: UInt64 = 1_000_000

    /// Caller mode: makes each signal of the eventfd `fd` wake a thread asleep in a turn, so that
    /// ``drive(until:wakingOn:deadline:wakeupIsWatched:)`` with `wakeupIsWatched` can sleep
    /// in the turn itself (one system call where `poll(2)` and then a turn take two). The
    /// registration ends when the descriptor is closed. False when the poller cannot.
    public func watchWakeups(fd: Int32) -> Bool {
        mode == .caller && poller.addWakeup(fd: fd, token: Self.callerWakeupToken)
    }

    /// Caller mode: runs turns on the calling thread until `condition()` holds or `deadline`
    /// passes (nil: no limit); returns whether it holds.
    ///
    /// A thread alone in a call sleeps inside its turn, in the wait for readiness, when its
    /// wakeup `fd` is one of the reactor's (`wakeupIsWatched`, see ``watchWakeups(fd:)``).
    /// Otherwise, and whenever another thread is in a call, it sleeps between turns in
    /// `poll(2)` on `fd` (the caller's own wakeup, nil: none) and ``waitDescriptor``, never past
    /// the next timer, so whichever waiting thread wakes first runs the next turn (the others
    /// wait for the lock, then find the work done). Once the reactor is stopped it only sleeps
    /// on `fd`.
    public func drive(until condition: () -> Bool, wakingOn fd: Int32?, deadline: ZMTPInstant?,
                      wakeupIsWatched: Bool) -> Bool {
        guard !isOnDriverThread else { return condition() }
        enterCall()
        defer { leaveCall() }
        var watched = [pollfd(fd: fd ?? -1, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: poller.waitDescriptor ?? -1, events: Int16(POLLIN), revents: 0)]
        // The first turn comes after the first sleep unless tasks wait: descriptors with
        // something ready make the wait descriptor readable, and a due timer makes the sleep
        // end at once, so a turn before it would find nothing (a call has usually just run
        // one). A deadline already past gets its one turn.
        var sleepFirst = mailbox.isOpen && !mailbox.hasTasks && deadline.map { $0 > Self.now() } ?? true
        // Looked at once on entry; after that, after each turn.
        if wakeupIsWatched && condition() { return true }
        while true {
            if wakeupIsWatched && callers.load(ordering: .sequentiallyConsistent) == 1 {
                let driving = turn(lookingAtDescriptors: true) { nextTimer in
                    // Asleep in the turn: not while tasks wait or another thread wants in.
                    guard !self.mailbox.hasTasks, self.callers.load(ordering: .sequentiallyConsistent) == 1 else { return 0 }
                    var wakeAt = deadline
                    if let nextTimer { wakeAt = min(wakeAt ?? nextTimer, nextTimer) }
                    return wakeAt.map { Self.milliseconds(until: $0) } ?? -1
                }
                if condition() { return true }
                if let deadline, deadline <= Self.now() { return false }
                if driving { continue }
                watched[1].fd = -1
            }
            let driving = sleepFirst || drive(lookingAtDescriptors: true)
            sleepFirst = false
            if condition() { return true }
            if !driving { watched[1].fd = -1 }
            var wakeAt = deadline
            if driving, let timer = nextTimerDeadline { wakeAt = min(wakeAt ?? timer, timer) }
            let timeout = wakeAt.map { Self.milliseconds(until: $0) } ?? -1
            if timeout == 0, let deadline, deadline <= Self.now() { return condition() }
            // Tasks posted during the turn (no eventfd tells of them): run them before sleeping.
            if driving && mailbox.hasTasks { continue }
            if watched[0].fd < 0 && watched[1].fd < 0 && timeout < 0 { return condition() }
            _ = poll(&watched, 2, timeout)
            if watched[0].revents != 0, condition() { return true }
            if let deadline, deadline <= Self.now() {
                _ = drive(lookingAtDescriptors: true)
                return condition()
            }
        }
    }

    /// One turn that does not wait for readiness, for a thread already counted in a call.
    private func drive(lookingAtDescriptors: Bool) -> Bool {
        turn(lookingAtDescriptors: lookingAtDescriptors) { _ in 0 }
    }

    /// Caller mode: one turn under the turn lock, waiting for readiness up to what `timeout`
    /// says (given the next timer's deadline; 0: not at all, -1: no limit). With `lookingAtDescriptors` false
    /// the descriptors are skipped if a turn looked within ``lookIntervalNanoseconds``.
    private func turn(lookingAtDescriptors: Bool, timeout: (_ nextTimer: ZMTPInstant?) -> Int32) -> Bool {
        turn.withLock { _ -> Bool in
            guard running, runState.withLock({ if case .stopped = $0 { false } else { true } }) else { return false }
            enterTurn()
            let now = Self.now()
            if lookingAtDescriptors || now.nanoseconds &- lastLook.nanoseconds >= Self.lookIntervalNanoseconds {
                // Announced before the last look at `callers`, which a thread entering a call
                // makes after counting itself: one of the two sees the other.
                asleepInTurn.store(true, ordering: .sequentiallyConsistent)
                let wait = timeout(timers.nextDeadline())
                if wait == 0 { asleepInTurn.store(false, ordering: .relaxed) }
                var events: [PollEvent] = []
                swap(&events, &callerEvents)
                runTurn(timeoutMilliseconds: wait, events: &events)
                swap(&events, &callerEvents)
                asleepInTurn.store(false, ordering: .relaxed)
                lastLook = wait == 0 ? now : Self.now()
            } else {
                mailbox.runTasks()
                if timers.count > 0 {
                    for action in timers.popDue(now: now) { action() }
                }
            }
            let next = timers.nextDeadline()
            publishedDeadline.store(next.map { max($0.nanoseconds, 1) } ?? 0, ordering: .releasing)
            leaveTurn()
            return true
        }
    }

    /// Counts the calling thread in a call, and wakes a thread asleep inside its turn so that
    /// this one gets the turn (or sleeps beside it in `poll(2)`).
    private func enterCall() {
        callers.add(1, ordering: .sequentiallyConsistent)
        if asleepInTurn.load(ordering: .sequentiallyConsistent) { mailbox.wake() }
    }

    private func leaveCall() {
        callers.subtract(1, ordering: .relaxed)
    }

    private func enterTurn() {
        driverThread.store(UInt(pthread_self()), ordering: .relaxed)
    }

    private func leaveTurn() {
        driverThread.store(0, ordering: .relaxed)
    }

    // MARK: The loop

    private func run() {
        enterTurn()
        // A local, not a property: the loop's accesses then need no exclusivity checks.
        var events: [PollEvent] = []
        events.reserveCapacity(256)
        while running {
            var timeout: Int32 = -1
            if let deadline = timers.nextDeadline() {
                timeout = Self.milliseconds(until: deadline)
            }
            runTurn(timeoutMilliseconds: timeout, events: &events)
        }
        releaseLoopState()
    }

    /// Milliseconds from now until `deadline`, rounded up so that a timer never wakes a loop a
    /// little early and then spins (0 if it has passed).
    public static func milliseconds(until deadline: ZMTPInstant) -> Int32 {
        let now = Self.now()
        guard deadline > now else { return 0 }
        return Int32(clamping: (deadline.nanoseconds - now.nanoseconds + 999_999) / 1_000_000)
    }

    private func runTurn(timeoutMilliseconds timeout: Int32, events: inout [PollEvent]) {
        events.removeAll(keepingCapacity: true)
        do throws(TransportError) {
            try poller.wait(timeoutMilliseconds: timeout, into: &events)
        } catch {
            // epoll_wait fails only on programming errors (EBADF, EINVAL); stop rather than spin.
            running = false
            return
        }
        // Descriptors first, then the mailbox: what a peer did (closed, sent) is known before
        // the tasks posted since (a message to write) run.
        var mailboxReady = false
        for event in events {
            if event.token == Self.wakeupToken {
                mailboxReady = true
            } else if let handler = handlers[event.token] {
                handler.ready(event.events, hangup: event.hangup)
            }
        }
        if mailboxReady {
            mailbox.drain()
        } else if mode == .caller {
            mailbox.runTasks()
        }
        if timers.count > 0 {
            for action in timers.popDue(now: Self.now()) { action() }
        }
    }

    /// Releases what the loop owned; posted tasks left behind are dropped.
    private func releaseLoopState() {
        handlers.removeAll()
        timers = TimerQueue()
        mailbox.discard()
    }
}
