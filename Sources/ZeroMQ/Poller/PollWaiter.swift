#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import ZMTP
import ZeroMQTransport

/// One suspended ``Poller`` wait: its descriptors registered with a reactor, a timer for its
/// deadline, and the continuation that the first of readiness, deadline or cancellation resumes.
///
/// The registrations live on the reactor's thread and are removed there *before* the task
/// resumes, so that a descriptor the task closes (or a socket it releases) right after the wait
/// can never leave a stale registration behind on a reused descriptor number.
final class PollWaiter: IOHandler, @unchecked Sendable {
    /// A descriptor to watch and for what.
    struct Watch: Sendable {
        let fd: Int32
        let events: IOEvents
    }

    /// How a wait ended.
    enum Outcome {
        /// Something was ready, the deadline passed, or the task was cancelled: look again.
        case woke
        /// The driver has stopped (its context was terminated).
        case terminated
        /// The driver watches no descriptors (a SwiftNIO event loop's).
        case cannotWatch(TransportError)
    }

    private struct Shared {
        var continuation: CheckedContinuation<Outcome, Never>?
        var finished = false
        var failure: TransportError?
    }

    private let shared = Mutex(Shared())
    private let reactor: any IODriver
    private let watches: [Watch]
    private let deadline: ZMTPInstant?

    // The reactor's thread only.
    private var registrations: [IORegistration] = []
    /// Copies of descriptors the reactor already watched for someone else (another wait on the
    /// same descriptor): epoll takes each descriptor once, but a copy is a new one.
    private var duplicates: [Int32] = []
    private var timer: IOTimer?

    private init(watches: [Watch], deadline: ZMTPInstant?, reactor: any IODriver) {
        self.watches = watches
        self.deadline = deadline
        self.reactor = reactor
    }

    /// Suspends the calling task until one of `watches` is ready, `deadline` passes, or the task
    /// is cancelled; never blocks a thread.
    static func wait(for watches: [Watch], until deadline: ZMTPInstant?, on reactor: any IODriver) async -> Outcome {
        let waiter = PollWaiter(watches: watches, deadline: deadline, reactor: reactor)
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
                waiter.suspend(continuation)
            }
        } onCancel: {
            waiter.finish()
        }
    }

    private func suspend(_ continuation: CheckedContinuation<Outcome, Never>) {
        let cancelled = shared.withLock { shared -> Bool in
            if shared.finished { return true }
            shared.continuation = continuation
            return false
        }
        if cancelled {
            continuation.resume(returning: .woke)
        } else if !reactor.post({ self.start() }) {
            finish()
        }
    }

    /// Registers everything (the reactor's thread). A wait that already finished registers
    /// nothing: its teardown may have run before this.
    private func start() {
        guard !shared.withLock({ $0.finished }) else { return }
        for watch in watches {
            do throws(TransportError) {
                try register(watch.fd, for: watch.events)
            } catch where error.kind == .system && error.code == ENOTSUP {
                shared.withLock { $0.failure = error }
                finish()
                return
            } catch {
                // A regular file (epoll refuses it: poll(2) calls it always ready) or a closed
                // descriptor: the next look reports it, as ready or as an error.
                finish()
                return
            }
        }
        if let deadline {
            timer = reactor.schedule(at: deadline) { self.finish() }
        }
    }

    private func register(_ fd: Int32, for events: IOEvents) throws(TransportError) {
        do throws(TransportError) {
            registrations.append(try reactor.register(fd: fd, events: events, handler: self))
        } catch where error.kind == .system && error.code == EEXIST {
            let copy = dup(fd)
            guard copy >= 0 else { throw TransportError.system("dup", errno) }
            duplicates.append(copy)
            registrations.append(try reactor.register(fd: copy, events: events, handler: self))
        }
    }

    /// Undoes ``start()`` (the reactor's thread).
    private func teardown() {
        for registration in registrations { reactor.deregister(registration) }
        registrations.removeAll()
        for fd in duplicates { close(fd) }
        duplicates.removeAll()
        if let timer { reactor.cancel(timer) }
        timer = nil
    }

    /// Ends the wait, once, from any thread: removes the registrations on the reactor's thread,
    /// then resumes the task.
    private func finish() {
        let (first, continuation) = shared.withLock { shared -> (Bool, CheckedContinuation<Outcome, Never>?) in
            guard !shared.finished else { return (false, nil) }
            shared.finished = true
            defer { shared.continuation = nil }
            return (true, shared.continuation)
        }
        guard first else { return }
        if reactor.isOnDriverThread {
            teardown()
            continuation?.resume(returning: outcome)
        } else if !reactor.post({ self.teardown(); continuation?.resume(returning: self.outcome) }) {
            // The loop has ended, and dropped its registrations and timers with it.
            continuation?.resume(returning: .terminated)
        }
    }

    private var outcome: Outcome {
        shared.withLock { $0.failure }.map(Outcome.cannotWatch) ?? .woke
    }

    // MARK: IOHandler

    func ready(_ events: IOEvents, hangup: Bool) {
        finish()
    }
}
