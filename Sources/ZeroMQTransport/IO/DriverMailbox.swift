import Synchronization

/// The cross-thread half of an ``IODriver``: any thread posts tasks, the driver's thread runs
/// them in order (libzmq's `mailbox_t` of an I/O thread).
///
/// A post wakes the driver through an eventfd (``wakeupFD``, which the driver watches) only when
/// the queue goes from empty to non-empty, so a burst of posts costs one wakeup. A mailbox made
/// with `signalsWakeups: false` never writes the eventfd: its driver runs the tasks at its next
/// turn (``runTasks()``), which is how caller-driven I/O works, since the thread that posts is
/// the one that runs the next turn, before its call returns. A concrete
/// class, not a protocol: engines keep it and post through it with no dynamic dispatch.
/// (`@unchecked Sendable`: `spare` is touched only by the thread running the driver's turn,
/// one at a time; everything else is under the lock.)
public final class DriverMailbox: @unchecked Sendable {
    private struct State {
        var tasks: [@Sendable () -> Void] = []
        var open = true
    }

    /// How a post reaches the driver.
    private enum Wakeup {
        /// Through an eventfd the driver watches; `signals` false: never written (caller mode).
        case descriptor(WakeupSignal, signals: Bool)
        /// Through a call (a runtime with a task queue of its own, such as a SwiftNIO event loop).
        case callback(@Sendable (DriverMailbox) -> Void)
    }

    private let state = Mutex(State())
    private let wakeup: Wakeup
    /// The second buffer of ``drain()``, touched only by the draining thread.
    private var spare: [@Sendable () -> Void] = []

    /// - Parameter signalsWakeups: whether a post makes ``wakeupFD`` readable.
    public init(signalsWakeups: Bool = true) throws(TransportError) {
        wakeup = .descriptor(try WakeupSignal(), signals: signalsWakeups)
    }

    /// A mailbox with no descriptor: when a post finds it empty, it calls `wake` (from the posting
    /// thread), which must make the driver's thread call ``drain()`` soon, such as by submitting
    /// it to the runtime's own task queue. `wake` gets the mailbox, so it need not capture it.
    public init(wake: @escaping @Sendable (DriverMailbox) -> Void) {
        wakeup = .callback(wake)
    }

    /// The descriptor that becomes readable when tasks are waiting; -1 for a mailbox made with
    /// ``init(wake:)``.
    public var wakeupFD: Int32 {
        if case .descriptor(let signal, _) = wakeup { return signal.fd }
        return -1
    }

    /// Queues `task` for the driver's thread. Returns false (and drops the task) once the
    /// mailbox is closed.
    @discardableResult
    public func post(_ task: @escaping @Sendable () -> Void) -> Bool {
        let wasEmpty = state.withLock { state -> Bool? in
            guard state.open else { return nil }
            state.tasks.append(task)
            return state.tasks.count == 1
        }
        guard let wasEmpty else { return false }
        // Only the empty→non-empty transition needs a wakeup: otherwise a drain is ahead of
        // the driver that will see this task.
        if wasEmpty { signal(always: false) }
        return true
    }

    /// Queues `task` as the last one and refuses any later post. Returns false if it was
    /// already closed.
    @discardableResult
    public func close(after task: @escaping @Sendable () -> Void) -> Bool {
        let wasEmpty = state.withLock { state -> Bool? in
            guard state.open else { return nil }
            state.open = false
            state.tasks.append(task)
            return state.tasks.count == 1
        }
        guard let wasEmpty else { return false }
        if wasEmpty { signal(always: true) }
        return true
    }

    private func signal(always: Bool) {
        switch wakeup {
        case .descriptor(let signal, let signals):
            if signals || always { signal.signal() }
        case .callback(let wake):
            wake(self)
        }
    }

    /// Makes ``wakeupFD`` readable whether or not tasks wait: ends a driver's wait for
    /// readiness so that it looks again (caller mode, when another thread needs the turn).
    public func wake() {
        signal(always: true)
    }

    /// Whether tasks are waiting.
    public var hasTasks: Bool { state.withLock { !$0.tasks.isEmpty } }

    /// Whether posts are still taken.
    public var isOpen: Bool { state.withLock { $0.open } }

    /// Runs the tasks queued so far (on the driver's thread, when ``wakeupFD`` is readable).
    public func drain() {
        if case .descriptor(let signal, _) = wakeup { signal.drain() }
        runTasks()
    }

    /// Runs the tasks queued so far, without touching the eventfd (the driver's thread).
    public func runTasks() {
        // Two buffers swapped under the lock, each emptied keeping its capacity: a drain
        // allocates nothing.
        var tasks = spare
        spare = []
        state.withLock { state in swap(&state.tasks, &tasks) }
        for task in tasks { task() }
        tasks.removeAll(keepingCapacity: true)
        spare = tasks
    }

    /// Drops every queued task (when the driver ends).
    public func discard() {
        state.withLock { $0.tasks.removeAll() }
    }
}
