#if canImport(Glibc)
import Glibc
#endif

/// Why a listener could not accept, as its owner hears it (on the reactor's thread).
public enum AcceptFailure: Sendable, Equatable {
    /// One pending connection could not be accepted (EPERM from a firewall rule, EPROTO, …);
    /// the listener goes on watching.
    case failed(TransportError)
    /// The process or the system ran out of descriptors or memory (EMFILE, ENFILE, ENOBUFS,
    /// ENOMEM). The listener stops watching for a pause (``AcceptBackoff``) and then retries by
    /// itself; this is reported once, when the episode begins.
    case exhaustionBegan(TransportError)
    /// Another attempt failed in the same episode (the listener paused again, longer);
    /// `failedAccepts` counts the episode's failed attempts so far, the first included.
    case exhaustionContinued(TransportError, failedAccepts: Int)
    /// Accepting works again and the backlog is drained (every connection that waited was
    /// taken): the episode ended after `failedAccepts` failed attempts.
    case exhaustionEnded(failedAccepts: Int)
}

/// How long a listener stops watching after accept ran out of descriptors or memory.
///
/// Out of descriptors, a listening socket stays readable (the connection waits in the backlog
/// and `accept` fails before taking it), so a level-triggered loop that kept watching would call
/// `accept` again at once, forever: one core at 100% for the whole shortage, which libzmq 4.3.4
/// does. Pausing instead costs a few failed attempts per episode and delays recovery by at most
/// ``maximumPause``.
///
/// The reserve-descriptor technique (keep a spare descriptor, and on EMFILE close it, accept the
/// pending connection, close that and reopen the spare) is not used: it turns every connection
/// waiting in the backlog into one refused at once, though it would be served a moment later
/// when descriptors come back (a ZMTP peer waits in the backlog or retries); in a threaded
/// process another thread can take the freed slot between the close and the accept, so it does
/// not even work reliably; and it costs a descriptor per listener while nothing is wrong.
public struct AcceptBackoff: Sendable, Hashable {
    /// The first pause of an episode.
    public static let initialPause: Duration = .milliseconds(100)
    /// Pauses double while the episode lasts, up to this; it bounds how long a listener stays
    /// deaf after descriptors come back.
    public static let maximumPause: Duration = .seconds(1)

    /// The errors that mean "out of resources" rather than "this one connection failed".
    public static func isExhaustion(_ code: Int32) -> Bool {
        code == EMFILE || code == ENFILE || code == ENOBUFS || code == ENOMEM
    }

    /// The first error of the episode (what its event reports).
    public private(set) var error: TransportError
    /// Failed attempts in this episode, the first included.
    public private(set) var failedAccepts = 1
    /// How long the listener stops watching before its next attempt.
    public private(set) var pause = Self.initialPause

    /// An episode that begins with `error`. It lasts until the listener has drained its backlog;
    /// pauses grow while attempts fail and start short again after an accept succeeds.
    public init(error: TransportError) {
        self.error = error
    }

    /// One more failed attempt: the next pause is twice as long, up to ``maximumPause``.
    mutating func failedAgain() {
        failedAccepts += 1
        lengthen()
    }

    /// An accept succeeded: the next pause starts short again.
    mutating func madeProgress() {
        pause = Self.initialPause
    }

    /// Doubles the next pause, up to ``maximumPause``.
    mutating func lengthen() {
        pause = min(pause * 2, Self.maximumPause)
    }

    /// The pause in whole milliseconds, as reactor timers take it.
    var pauseMilliseconds: Int {
        let (seconds, attoseconds) = pause.components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}

/// Accepts connections on a listening descriptor it owns, for the tcp and ipc listeners: each
/// connection non-blocking and close-on-exec, handed to `accepted`. When the descriptors or the
/// memory run out it stops watching for a while (``AcceptBackoff``) rather than spin, and
/// resumes by itself. Reactor thread only, after `init`.
final class AcceptLoop: IOHandler {
    /// Connections taken per readiness report; level-triggered polling brings the listener
    /// back for the rest, so one listener cannot hold the loop while others wait.
    static let acceptsPerTurn = 64

    private enum State {
        /// Not watching yet.
        case idle
        /// Watching the descriptor; `exhaustion` is the episode still open (the backlog has not
        /// been drained since it began).
        case watching(IORegistration, exhaustion: AcceptBackoff?)
        /// Out of resources: not watching until the timer fires.
        case paused(AcceptBackoff, IOTimer)
        /// Stopped; the descriptor is closed.
        case closed
    }

    let fd: Int32
    private let reactor: any IODriver
    private let accepted: (Int32) -> Void
    /// Told when accepting fails (see ``AcceptFailure``).
    var onFailure: ((AcceptFailure) -> Void)?
    private var state = State.idle

    /// Takes ownership of the listening descriptor `fd`.
    init(fd: Int32, reactor: any IODriver, accepted: @escaping (Int32) -> Void) {
        self.fd = fd
        self.reactor = reactor
        self.accepted = accepted
    }

    deinit {
        if case .closed = state { return }
        Glibc.close(fd)
    }

    /// Starts watching.
    func start() throws(TransportError) {
        guard case .idle = state else { return }
        state = .watching(try reactor.register(fd: fd, events: .readable, handler: self), exhaustion: nil)
    }

    /// Stops watching (or cancels the pause) and closes the descriptor.
    func close() {
        switch state {
        case .closed: return
        case .idle: break
        case .watching(let registration, _): reactor.deregister(registration)
        case .paused(_, let timer): reactor.cancel(timer)
        }
        state = .closed
        Glibc.close(fd)
    }

    func ready(_ events: IOEvents, hangup: Bool) {
        assert(reactor.isOnDriverThread)
        guard case .watching(let registration, var exhaustion) = state else { return }
        for _ in 0..<Self.acceptsPerTurn {
            // accept4 would set both flags at once, but Swift's Glibc does not import it.
            let client = accept(fd, nil, nil)
            if client >= 0 {
                _ = fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK)
                _ = fcntl(client, F_SETFD, FD_CLOEXEC)
                if var episode = exhaustion {
                    // Progress: the next pause, if any, is short again; the episode lasts until
                    // the backlog is drained, so a server working through it with few
                    // descriptors reports one episode, not one per handful of accepts.
                    episode.madeProgress()
                    exhaustion = episode
                    state = .watching(registration, exhaustion: episode)
                }
                accepted(client)
                // The owner may have closed the listener from its callback.
                guard case .watching = state else { return }
                continue
            }
            let code = errno
            if AcceptBackoff.isExhaustion(code) {
                let error = TransportError.system("accept", code)
                if var episode = exhaustion {
                    episode.failedAgain()
                    pause(registration, episode)
                    onFailure?(.exhaustionContinued(error, failedAccepts: episode.failedAccepts))
                } else {
                    pause(registration, AcceptBackoff(error: error))
                    onFailure?(.exhaustionBegan(error))
                }
                return
            }
            switch code {
            case EAGAIN, EWOULDBLOCK:
                // Every pending connection has been taken: the episode, if one was open, is over.
                if let episode = exhaustion {
                    state = .watching(registration, exhaustion: nil)
                    onFailure?(.exhaustionEnded(failedAccepts: episode.failedAccepts))
                }
            // Interrupted, or a connection the peer reset while it waited: polling reports the
            // listener again if more are pending.
            case EINTR, ECONNABORTED: break
            default: onFailure?(.failed(.system("accept", code)))
            }
            return
        }
    }

    /// Stops watching for the episode's pause.
    private func pause(_ registration: IORegistration, _ episode: AcceptBackoff) {
        reactor.deregister(registration)
        state = .paused(episode, schedulePause(episode))
    }

    private func schedulePause(_ episode: AcceptBackoff) -> IOTimer {
        reactor.schedule(afterMilliseconds: episode.pauseMilliseconds) { [weak self] in self?.resume() }
    }

    /// The pause is over: watch again. A pending connection makes the listener readable at once,
    /// and its accept either ends the episode or pauses it again, longer.
    private func resume() {
        assert(reactor.isOnDriverThread)
        guard case .paused(var episode, _) = state else { return }
        do throws(TransportError) {
            state = .watching(try reactor.register(fd: fd, events: .readable, handler: self), exhaustion: episode)
        } catch {
            // Registering can itself fail for want of memory: try again after a longer pause.
            episode.lengthen()
            state = .paused(episode, schedulePause(episode))
        }
    }
}
