#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import ZMTP
import ZeroMQTransport

/// Something that happened to one of a socket's connections (libzmq's `zmq_socket_monitor`
/// events), as a typed value.
public enum MonitorEvent: Sendable, Equatable, CustomStringConvertible {
    /// A bind succeeded (ZMQ_EVENT_LISTENING).
    case listening(endpoint: String)
    /// A connection was accepted (ZMQ_EVENT_ACCEPTED).
    case accepted(endpoint: String, peerAddress: String)
    /// A connect's attempt is in progress (ZMQ_EVENT_CONNECT_DELAYED).
    case connectDelayed(endpoint: String)
    /// A bind failed (ZMQ_EVENT_BIND_FAILED).
    case bindFailed(endpoint: String, error: ZeroMQError)
    /// Accepting a connection failed (ZMQ_EVENT_ACCEPT_FAILED, its value the errno). Out of
    /// descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM) the listener stops watching for
    /// a while and retries by itself; this event marks the start of such an episode, once, and
    /// ``SocketStatistics/acceptFailures`` counts every failed attempt (libzmq raises the event
    /// for each one, in a loop that spins).
    case acceptFailed(endpoint: String, error: TransportError)
    /// A connect's attempt reached its peer (ZMQ_EVENT_CONNECTED).
    case connected(endpoint: String, peerAddress: String)
    /// A connect's attempt failed and will be retried after `after` (ZMQ_EVENT_CONNECT_RETRIED).
    case connectRetried(endpoint: String, after: Duration, error: TransportError)
    /// The ZMTP handshake completed (ZMQ_EVENT_HANDSHAKE_SUCCEEDED).
    case handshakeSucceeded(endpoint: String, peerAddress: String)
    /// The handshake failed: protocol error, authentication refused, incompatible socket types,
    /// timeout (ZMQ_EVENT_HANDSHAKE_FAILED_*).
    case handshakeFailed(endpoint: String, error: ZMTPError)
    /// An established connection ended: the peer closed it, the byte stream failed, or the
    /// protocol was violated (ZMQ_EVENT_DISCONNECTED).
    case disconnected(endpoint: String, reason: DisconnectReason)
    /// A listener or a connect ended for good (ZMQ_EVENT_CLOSED).
    case closed(endpoint: String)
    /// The monitor ends here: the socket closed or the monitor was stopped
    /// (ZMQ_EVENT_MONITOR_STOPPED).
    case monitorStopped
    /// A message transport lost data it could not recover (PGM: a gap its repair could not
    /// fill); the messages it cut are dropped whole. libzmq has no such event (it stays silent).
    case dataLost(endpoint: String, detail: String)

    /// Why a connection ended.
    public enum DisconnectReason: Sendable, Equatable {
        /// The peer closed the connection.
        case closedByPeer
        /// The byte stream failed: a reset, a broken pipe, a keepalive timeout.
        case transport(TransportError)
        /// The ZMTP connection failed: a protocol error, or the heartbeat timed out.
        case protocolError(ZMTPError)
        /// We closed it (close, disconnect, unbind, LINGER).
        case local
    }

    public var description: String {
        switch self {
        case .listening(let e): return "listening \(e)"
        case .accepted(let e, let p): return "accepted \(p) on \(e)"
        case .connected(let e, let p): return "connected \(e) (\(p))"
        case .connectRetried(let e, let after, let error): return "connect \(e) failed (\(error)); retry in \(after)"
        case .handshakeSucceeded(let e, let p): return "handshake with \(p) on \(e)"
        case .handshakeFailed(let e, let error): return "handshake on \(e) failed: \(error)"
        case .disconnected(let e, let reason): return "disconnected \(e): \(reason)"
        case .closed(let e): return "closed \(e)"
        case .monitorStopped: return "monitor stopped"
        case .dataLost(let e, let detail): return "data lost on \(e): \(detail)"
        case .connectDelayed(let e): return "connecting \(e)"
        case .bindFailed(let e, let error): return "bind \(e) failed: \(error)"
        case .acceptFailed(let e, let error): return "accept on \(e) failed: \(error)"
        }
    }
}

/// A socket's connection events, written by its I/O threads: kept in a bounded log for
/// ``Socket/takeEvents()`` and handed to every live ``SocketMonitor``. Bounded everywhere: when a
/// reader falls behind, the oldest events are dropped and counted, so nobody who stops reading can
/// hold up the socket or the context.
final class SocketEventLog: Sendable {
    static let capacity = 1024

    private struct State {
        var events: [MonitorEvent] = []
        var dropped = 0
        var monitors: [MonitorChannel] = []
        var closed = false
        var counters = ConnectionCounters()
    }

    private let state = Mutex(State())

    func record(_ event: MonitorEvent) {
        let monitors = state.withLock { state -> [MonitorChannel] in
            state.counters.count(event)
            if state.events.count >= Self.capacity {
                state.events.removeFirst()
                state.dropped += 1
            }
            state.events.append(event)
            return state.monitors
        }
        for monitor in monitors { monitor.deliver(event) }
    }

    var counters: ConnectionCounters { state.withLock { $0.counters } }

    /// A failed accept with no event of its own: a later attempt in an exhaustion episode,
    /// whose first attempt raised ``MonitorEvent/acceptFailed(endpoint:error:)``.
    func countQuietAcceptFailure() {
        state.withLock { $0.counters.acceptFailures += 1 }
    }

    /// An exhaustion episode began (its event is recorded separately).
    func countAcceptExhaustion() {
        state.withLock { $0.counters.acceptExhaustions += 1 }
    }

    func take() -> (events: [MonitorEvent], dropped: Int) {
        state.withLock { state in
            defer {
                state.events.removeAll()
                state.dropped = 0
            }
            return (state.events, state.dropped)
        }
    }

    /// A new monitor, receiving the events recorded from now on.
    func addMonitor(capacity: Int, blocking: Bool = false) -> MonitorChannel {
        let channel = MonitorChannel(capacity: capacity, blocking: blocking)
        let closed = state.withLock { state -> Bool in
            if !state.closed { state.monitors.append(channel) }
            return state.closed
        }
        if closed { channel.finish() }
        return channel
    }

    func removeMonitor(_ channel: MonitorChannel) {
        state.withLock { $0.monitors.removeAll { $0 === channel } }
        channel.finish()
    }

    /// The socket closed: monitors end after the events they hold (the I/O threads may still
    /// report lingering connections to ``take()``).
    func close() {
        let monitors = state.withLock { state -> [MonitorChannel] in
            state.closed = true
            defer { state.monitors.removeAll() }
            return state.monitors
        }
        for monitor in monitors { monitor.finish() }
    }
}

/// One monitor's bounded queue of events and its suspended reader.
final class MonitorChannel: Sendable {
    private struct State {
        var events: [MonitorEvent] = []
        var head = 0
        var dropped = 0
        var finished = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    let capacity: Int
    private let state = Mutex(State())
    /// For a reader on a thread of its own (``nextBlocking()``): signalled on every change.
    private let signal: WakeupSignal?

    init(capacity: Int, blocking: Bool = false) {
        self.capacity = max(1, capacity)
        signal = blocking ? try? WakeupSignal() : nil
    }

    var dropped: Int { state.withLock { $0.dropped } }

    func deliver(_ event: MonitorEvent) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.finished else { return nil }
            if state.events.count - state.head >= capacity {
                state.head += 1
                state.dropped += 1
            }
            state.events.append(event)
            if state.head > 64 && state.head * 2 > state.events.count {
                state.events.removeFirst(state.head)
                state.head = 0
            }
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
        signal?.signal()
    }

    /// Ends the stream: ``MonitorEvent/monitorStopped`` is delivered last.
    func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.finished else { return nil }
            state.events.append(.monitorStopped)
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
        signal?.signal()
    }

    /// The next event, or nil once finished and drained, blocking the calling thread (a
    /// channel made with `blocking: true`; without one it never blocks and returns nil when
    /// nothing waits).
    func nextBlocking() -> MonitorEvent? {
        while true {
            let step = state.withLock { state -> (MonitorEvent?, Bool) in
                if state.head < state.events.count {
                    let event = state.events[state.head]
                    state.head += 1
                    return (event, false)
                }
                return (nil, state.finished)
            }
            if let event = step.0 { return event }
            guard !step.1, let signal else { return nil }
            var descriptor = pollfd(fd: signal.fd, events: Int16(POLLIN), revents: 0)
            _ = poll(&descriptor, 1, -1)
            signal.drain()
        }
    }

    /// The next event, or nil once finished and drained. Suspends while none is waiting.
    func next() async -> MonitorEvent? {
        while true {
            enum Step { case event(MonitorEvent), end, wait }
            let step = state.withLock { state -> Step in
                if state.head < state.events.count {
                    let event = state.events[state.head]
                    state.head += 1
                    return .event(event)
                }
                return state.finished ? .end : .wait
            }
            switch step {
            case .event(let event): return event
            case .end: return nil
            case .wait:
                if Task.isCancelled { return nil }
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        let resumeNow = state.withLock { state -> Bool in
                            if state.head < state.events.count || state.finished || Task.isCancelled { return true }
                            state.waiter = continuation
                            return false
                        }
                        if resumeNow { continuation.resume() }
                    }
                } onCancel: {
                    let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                        defer { state.waiter = nil }
                        return state.waiter
                    }
                    waiter?.resume()
                }
            }
        }
    }
}

/// A socket's connection events as an `AsyncSequence` (``Socket/monitor(capacity:)``): typed,
/// bounded, `Sendable` (read it from any task), and unable to hold anything up: when the reader
/// falls behind by `capacity` events, the oldest are dropped and counted in ``droppedEvents``.
/// It ends with ``MonitorEvent/monitorStopped`` when the socket closes or ``stop()`` is called.
public struct SocketMonitor: AsyncSequence, Sendable {
    public typealias Element = MonitorEvent
    let channel: MonitorChannel
    let log: SocketEventLog

    /// Events dropped because the reader fell behind.
    public var droppedEvents: Int { channel.dropped }

    /// Ends the sequence (after ``MonitorEvent/monitorStopped``).
    public func stop() { log.removeMonitor(channel) }

    public func makeAsyncIterator() -> Iterator { Iterator(channel: channel) }

    /// Suspends in `next()` until the socket's next event; nil once the monitor stopped.
    public struct Iterator: AsyncIteratorProtocol {
        let channel: MonitorChannel
        public mutating func next() async -> MonitorEvent? { await channel.next() }
    }
}
