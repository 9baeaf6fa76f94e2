import ZMTP

/// An ``IODriver`` with no thread of its own, whose turns the application's threads run inside
/// their calls (caller-driven I/O).
///
/// The socket layer of a caller-driven context reaches its driver only through this protocol: a
/// call that must make progress (a send that writes, a receive that waits, `close()` with
/// LINGER, `terminate()`) runs turns with ``drive(until:wakingOn:deadline:)``, one that only
/// hands work over runs one turn with ``drive(timeoutMilliseconds:)``, and a poller that sleeps
/// beside the driver watches ``waitDescriptor`` and never sleeps past ``nextTimerDeadline``.
/// ``Reactor`` in ``Reactor/Mode/caller`` mode conforms.
///
/// A conforming driver's ``IODriver/mailbox`` need not signal its ``DriverMailbox/wakeupFD``: the thread
/// that posts is the one that runs the next turn, before its call returns, and each turn runs
/// the tasks queued so far.
public protocol CallerDrivenIODriver: IODriver {
    /// Runs one turn on the calling thread: waits up to `timeoutMilliseconds` for readiness
    /// (0: not at all), handles what is ready, runs the tasks posted so far, then the due
    /// timers. One thread at a time runs a turn; a call from inside a turn does nothing.
    /// Returns false once the driver is stopped.
    @discardableResult
    func drive(timeoutMilliseconds: Int32) -> Bool

    /// The turn of a call that has just queued work (a send to write): runs the posted tasks
    /// and the due timers; it may skip the wait for readiness when a turn looked recently.
    /// Returns false once the driver is stopped.
    @discardableResult
    func driveQueued() -> Bool

    /// Runs turns on the calling thread until `condition()` holds or `deadline` passes (nil: no
    /// limit), sleeping on `fd` (the caller's own wakeup; nil: none) and on the driver's work;
    /// returns whether `condition()` holds. `wakeupIsWatched`: `fd` was given to
    /// ``watchWakeups(fd:)`` and accepted, so the driver may sleep on it inside a turn.
    func drive(until condition: () -> Bool, wakingOn fd: Int32?, deadline: ZMTPInstant?,
               wakeupIsWatched: Bool) -> Bool

    /// Makes each signal of the eventfd `fd` end the driver's own wait for readiness, until the
    /// descriptor is closed. False when the driver cannot (then callers sleep beside it).
    func watchWakeups(fd: Int32) -> Bool

    /// A descriptor that is readable while the driver has work for a turn (nil: none), for a
    /// caller that sleeps in `poll(2)` on descriptors of its own.
    var waitDescriptor: Int32? { get }

    /// The earliest timer deadline as of the last turn, which a caller sleeping outside a turn
    /// must not sleep past (nil: no timer).
    var nextTimerDeadline: ZMTPInstant? { get }
}

extension CallerDrivenIODriver {
    /// ``drive(until:wakingOn:deadline:wakeupIsWatched:)`` for a wakeup the driver does not
    /// watch.
    public func drive(until condition: () -> Bool, wakingOn fd: Int32?, deadline: ZMTPInstant?) -> Bool {
        drive(until: condition, wakingOn: fd, deadline: deadline, wakeupIsWatched: false)
    }

    /// Runs one turn that does not wait for readiness (``drive(timeoutMilliseconds:)`` with 0).
    @discardableResult
    public func drive() -> Bool {
        drive(timeoutMilliseconds: 0)
    }
}
