#if canImport(Glibc)
import Glibc
#endif
import ZMTP

/// Runs a proxy on the calling thread (libzmq's `zmq_proxy(3)`, and `zmq_proxy_steerable(3)`
/// when `control` is given): every message received on `frontend` is sent on `backend`, and
/// every message received on `backend` is sent on `frontend`, each whole (all its parts), in
/// order per direction.
///
/// The classic topologies:
/// - a shared queue: ROUTER frontend (clients connect) and DEALER backend (workers connect);
/// - a forwarder: XSUB frontend (publishers) and XPUB backend (subscribers); subscriptions flow
///   upstream as messages from the XPUB, the data downstream;
/// - a streamer: PULL frontend and PUSH backend (one direction only).
///
/// `frontend` and `backend` may be the same socket: its messages are then sent back on it.
///
/// **High-water marks.** A message is taken from one side only when the other can take it, so a
/// blocking destination (PUSH, DEALER, PAIR… at its SNDHWM) makes the proxy leave messages in the
/// source's queue, and the source's peers block in turn; nothing is dropped on the way. A
/// destination that drops by type (PUB, XPUB, ROUTER) drops as it would for any sender. One
/// direction waiting never holds up the other.
///
/// **Capture.** Each part taken from either side is copied to `capture`, if given, before it is
/// sent on. A capture socket with no room misses the whole message instead of blocking the
/// proxy (libzmq would block): use a PUB, or a generous SNDHWM.
///
/// **Control.** Single-part messages on `control` steer the proxy (see ``ProxyCommand``):
/// `PAUSE` stops the traffic (messages wait in the queues), `RESUME` restarts it, `TERMINATE`
/// makes this function return, and `STATISTICS` is answered with eight 8-byte counters (see
/// ``ProxyStatistics/reply`` for their order). As in libzmq, a REP control socket answers every
/// other message, commands included, with one empty part, as REP must before it takes the next;
/// a PAIR or DEALER answers only STATISTICS; a PULL or SUB control socket cannot answer, and
/// STATISTICS is then ignored. An answer the control socket has no room for is dropped.
///
/// The sockets are not `Sendable`: run the proxy on a thread of its own that owns them for its
/// duration (move them there), and steer it through the control socket's peer.
///
/// ```swift
/// let frontend = try context.socket(.router)
/// try frontend.bind("tcp://*:5559")
/// let backend = try context.socket(.dealer)
/// try backend.bind("tcp://*:5560")
/// try proxy(frontend: frontend, backend: backend)   // until the context shuts down
/// ```
///
/// - Returns: the final statistics, once `TERMINATE` arrives on `control` (without a control
///   socket, the proxy only ends by throwing). A message the proxy had taken but not yet sent is
///   then dropped; that happens only while a destination refuses a send its readiness allowed
///   (XPUB with XPUB_NODROP, ROUTER with ROUTER_MANDATORY, at their HWM).
/// - Throws: ``ZeroMQError/Code/terminated`` when the context shuts down (libzmq's ETERM),
///   ``ZeroMQError/Code/closed`` for a closed socket, ``ZeroMQError/Code/invalidArgument`` for
///   a capture socket that cannot send or a control socket that cannot receive, and what a
///   send refuses (ROUTER_MANDATORY's ``ZeroMQError/Code/hostUnreachable``, for one).
@discardableResult
public func proxy(frontend: Socket, backend: Socket, capture: Socket? = nil, control: Socket? = nil) throws(ZeroMQError) -> ProxyStatistics {
    if let capture, [.pull, .sub].contains(capture.type) {
        throw ZeroMQError(.invalidArgument, "a \(capture.type.name) capture socket cannot send")
    }
    if let control, [.push, .pub].contains(control.type) {
        throw ZeroMQError(.invalidArgument, "a \(control.type.name) control socket cannot receive commands")
    }
    let run = ProxyRun(frontend: frontend, backend: backend, capture: capture, control: control)
    return try run.run()
}

/// The proxy's loop: take in each socket's commands, serve the control socket, move what can
/// move, and when nothing could, sleep in `poll(2)` on the sockets' descriptors.
///
/// The descriptors' guarantee (``Socket/fileDescriptor``) is what makes the sleep safe: commands
/// are taken in only at the top of each turn (see `Socket+Proxy.swift`), so whatever could change
/// a decision made during the turn arrives later and leaves a descriptor readable.
final class ProxyRun {
    private enum State {
        case active
        case paused
        case terminated
    }

    private let frontend: Socket
    private let backend: Socket
    private let control: Socket?
    private let capture: ProxyCapture?
    /// Frontend to backend.
    private let requests: ProxyFlow
    /// Backend to frontend; nil when they are the same socket (libzmq's `frontend_equal_to_backend`).
    private let replies: ProxyFlow?
    private var state = State.active

    init(frontend: Socket, backend: Socket, capture: Socket?, control: Socket?) {
        self.frontend = frontend
        self.backend = backend
        self.control = control
        self.capture = capture.map(ProxyCapture.init)
        requests = ProxyFlow(from: frontend, to: backend)
        replies = frontend === backend ? nil : ProxyFlow(from: backend, to: frontend)
    }

    var statistics: ProxyStatistics {
        let sentToFrontend = replies?.sent ?? ProxyTally()
        let receivedFromBackend = replies?.received ?? ProxyTally()
        return ProxyStatistics(
            frontend: .init(receivedMessages: requests.received.messages, receivedBytes: requests.received.bytes,
                            sentMessages: sentToFrontend.messages, sentBytes: sentToFrontend.bytes),
            backend: .init(receivedMessages: receivedFromBackend.messages, receivedBytes: receivedFromBackend.bytes,
                           sentMessages: requests.sent.messages, sentBytes: requests.sent.bytes))
    }

    func run() throws(ZeroMQError) -> ProxyStatistics {
        while true {
            let watched = watchedSockets()
            for socket in watched { try socket.takeCommands() }
            // The capture socket is never waited for, but its commands (new subscribers, room
            // made) must come in for its readiness to be current.
            if state == .active { try capture?.socket.takeCommands() }

            var progressed = try serveControl()
            if state == .terminated { return statistics }
            if state == .active {
                if try requests.pump(capture: capture) { progressed = true }
                if let replies, try replies.pump(capture: capture) { progressed = true }
            }
            if !progressed { try sleep(on: watched) }
        }
    }

    /// The sockets whose descriptors can wake the proxy: while paused, only the control socket.
    private func watchedSockets() -> [Socket] {
        var sockets: [Socket] = []
        if state == .active {
            sockets.append(frontend)
            if backend !== frontend { sockets.append(backend) }
        }
        if let control, !sockets.contains(where: { $0 === control }) { sockets.append(control) }
        return sockets
    }

    // MARK: Control

    /// Handles every command waiting on the control socket (libzmq's `handle_control`); returns
    /// whether there was any. Stops at TERMINATE.
    private func serveControl() throws(ZeroMQError) -> Bool {
        guard let control else { return false }
        var served = false
        while control.canReceivePart, let parts = try control.receiveWholeMessage() {
            served = true
            let command = ProxyCommand(parts: parts)
            switch command {
            case .pause: state = .paused
            case .resume: state = .active
            case .terminate: state = .terminated
            case .statistics, nil: break
            }
            if command == .statistics {
                if ![.pull, .sub].contains(control.type) { try answer(statistics.reply, on: control) }
            } else if control.type == .rep {
                try answer([.empty], on: control)
            }
            if state == .terminated { break }
        }
        return served
    }

    /// Sends an answer on the control socket, or drops it whole when there is no room.
    private func answer(_ parts: [Message], on control: Socket) throws(ZeroMQError) {
        guard control.canSendPart else { return }
        for (index, part) in parts.enumerated() {
            var part = part
            part.more = index < parts.count - 1
            // Only a first part can be refused; past it, a message's parts always go.
            guard try control.sendPart(part) else { return }
        }
    }

    // MARK: Sleeping

    /// Blocks until one of `sockets` may have something new (its descriptor turns readable).
    private func sleep(on sockets: [Socket]) throws(ZeroMQError) {
        var descriptors = sockets.map { pollfd(fd: $0.fileDescriptor, events: Int16(POLLIN), revents: 0) }
        while poll(&descriptors, nfds_t(descriptors.count), -1) < 0 {
            let code = errno
            guard code == EINTR else {
                throw ZeroMQError(.system, "poll(2) failed in the proxy: \(String(cString: strerror(code)))", systemCode: code)
            }
        }
    }
}
