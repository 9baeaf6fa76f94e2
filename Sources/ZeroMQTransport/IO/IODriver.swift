#if canImport(Glibc)
import Glibc
#endif
import ZMTP

/// The seam between the socket layer and whatever runs its I/O.
///
/// Everything above the transport module (patterns, sessions, reconnect and backoff, heartbeats,
/// LINGER, ZAP, inproc, monitors) and every engine and transport in it (``StreamEngine``,
/// listeners, connecters, message transports) reach their event loop only through this protocol.
/// It asks for three things, and nothing else:
///
/// - **Readiness of byte streams**: ``register(fd:events:handler:)`` watches a non-blocking
///   descriptor, level-triggered, and calls ``IOHandler/ready(_:hangup:)`` while it is ready for
///   what it is watched for; ``update(_:events:)`` changes that; ``deregister(_:)`` stops before
///   the descriptor is closed.
/// - **Timers**: ``schedule(at:_:)`` runs an action once at a deadline on the monotonic clock of
///   ``IOClock``; ``cancel(_:)`` drops one that has not fired.
/// - **Cross-thread wakeups**: ``mailbox`` takes tasks from any thread and runs them on the
///   driver's thread, in order (``post(_:)``).
///
/// Threading: except ``mailbox``, ``post(_:)`` and ``isOnDriverThread``, every member is called on
/// the driver's thread (from a handler, a timer or a posted task), and the driver calls handlers,
/// timers and tasks only there, one at a time. "The driver's thread" is whichever thread is
/// running a turn of the driver: the epoll ``Reactor`` in ``Reactor/Mode/ownThread`` mode has a
/// thread of its own; in ``Reactor/Mode/caller`` mode it is the application thread that is
/// inside a call and holds the reactor's turn.
///
/// Speed: engines ask the driver for its ``readBuffer`` and ``mailbox`` once, when they start,
/// and keep the concrete values, so reading a descriptor or waking an engine costs no dynamic
/// dispatch; only registration changes and timers go through the protocol.
public protocol IODriver: AnyObject, Sendable {
    /// Watches `fd` for `events` and calls `handler` (on the driver's thread) while it is ready.
    func register(fd: Int32, events: IOEvents, handler: IOHandler) throws(TransportError) -> IORegistration
    /// Changes what a registered descriptor is watched for.
    func update(_ registration: IORegistration, events: IOEvents) throws(TransportError)
    /// Stops watching a descriptor and releases its handler. Call before closing the descriptor.
    func deregister(_ registration: IORegistration)

    /// Runs `action` on the driver's thread at `deadline` (at once if it has passed).
    func schedule(at deadline: ZMTPInstant, _ action: @escaping () -> Void) -> IOTimer
    /// Cancels a timer that has not fired; a no-op if it fired or was cancelled.
    func cancel(_ timer: IOTimer)

    /// The queue through which any thread hands this driver work.
    var mailbox: DriverMailbox { get }
    /// Whether the calling thread is the one currently running this driver's turn.
    var isOnDriverThread: Bool { get }

    /// A scratch buffer for reads, shared by every engine on this driver (driver's thread only;
    /// valid while the driver lives). An engine reads into it and hands the bytes to its core,
    /// which keeps what it has not parsed, so an idle connection holds no read buffer.
    var readBuffer: UnsafeMutableRawBufferPointer { get }
}

extension IODriver {
    /// Runs `task` on the driver's thread after the tasks posted before it. Returns false (and
    /// drops the task) once the driver is stopped.
    @discardableResult
    public func post(_ task: @escaping @Sendable () -> Void) -> Bool {
        mailbox.post(task)
    }

    /// Runs `action` on the driver's thread `milliseconds` from now.
    public func schedule(afterMilliseconds milliseconds: Int, _ action: @escaping () -> Void) -> IOTimer {
        schedule(at: IOClock.now().adding(.milliseconds(milliseconds)), action)
    }
}

/// Something that owns a registered descriptor and reacts when it is ready.
public protocol IOHandler: AnyObject {
    /// Called on the driver's thread while the descriptor is ready for what it is registered for
    /// (level-triggered). `hangup`: the peer closed or the descriptor is in error.
    func ready(_ events: IOEvents, hangup: Bool)
}

/// A descriptor registered with an ``IODriver``.
public struct IORegistration: Hashable, Sendable {
    /// The driver's name for this registration.
    public let token: UInt64
    /// The descriptor.
    public let fd: Int32

    /// A registration a driver hands out: its own `token` for the descriptor `fd`.
    public init(token: UInt64, fd: Int32) {
        self.token = token
        self.fd = fd
    }
}

/// A timer scheduled on an ``IODriver``.
public struct IOTimer: Hashable, Sendable {
    /// The driver's name for this timer.
    public let token: UInt64

    /// A timer a driver hands out, named by its own `token`.
    public init(token: UInt64) {
        self.token = token
    }
}

/// The clock every driver and every deadline above it uses: `CLOCK_MONOTONIC`.
public enum IOClock {
    /// The current time.
    @inline(__always)
    public static func now() -> ZMTPInstant {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return ZMTPInstant(nanoseconds: UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec))
    }
}
