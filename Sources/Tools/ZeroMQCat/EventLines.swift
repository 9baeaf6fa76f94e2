#if Tools  // zmqcat is built with the package trait "Tools" only (Package.swift)
import ZeroMQ

/// A connection event as zmqcat prints it: libzmq's event name (ZMQ_EVENT_ without the
/// prefix), the endpoint, and the peer's address or what went wrong.
struct EventLine {
    var name: String
    var endpoint: String
    var peer: String?
    var detail: String?

    init(_ event: MonitorEvent) {
        switch event {
        case .listening(let endpoint):
            self.init("LISTENING", endpoint)
        case .accepted(let endpoint, let peer):
            self.init("ACCEPTED", endpoint, peer: peer)
        case .connectDelayed(let endpoint):
            self.init("CONNECT_DELAYED", endpoint)
        case .bindFailed(let endpoint, let error):
            self.init("BIND_FAILED", endpoint, detail: error.message)
        case .acceptFailed(let endpoint, let error):
            self.init("ACCEPT_FAILED", endpoint, detail: "\(error)")
        case .connected(let endpoint, let peer):
            self.init("CONNECTED", endpoint, peer: peer)
        case .connectRetried(let endpoint, let after, let error):
            self.init("CONNECT_RETRIED", endpoint, detail: "\(error); retry in \(fixed(after.seconds * 1000, 0)) ms")
        case .handshakeSucceeded(let endpoint, let peer):
            self.init("HANDSHAKE_SUCCEEDED", endpoint, peer: peer)
        case .handshakeFailed(let endpoint, let error):
            self.init("HANDSHAKE_FAILED", endpoint, detail: "\(error)")
        case .disconnected(let endpoint, let reason):
            let detail: String
            switch reason {
            case .closedByPeer: detail = "closed by peer"
            case .transport(let error): detail = "\(error)"
            case .protocolError(let error): detail = "\(error)"
            case .local: detail = "closed here"
            }
            self.init("DISCONNECTED", endpoint, detail: detail)
        case .dataLost(let endpoint, let detail):
            self.init("DATA_LOST", endpoint, detail: detail)
        case .closed(let endpoint):
            self.init("CLOSED", endpoint)
        case .monitorStopped:
            self.init("MONITOR_STOPPED", "")
        }
    }

    private init(_ name: String, _ endpoint: String, peer: String? = nil, detail: String? = nil) {
        self.name = name
        self.endpoint = endpoint
        self.peer = peer
        self.detail = detail
    }

    /// `HANDSHAKE_SUCCEEDED tcp://127.0.0.1:5555 127.0.0.1:41236` or
    /// `CONNECT_RETRIED tcp://127.0.0.1:5555 (connect: Connection refused; retry in 100 ms)`.
    var text: String {
        var line = name
        if !endpoint.isEmpty { line += " " + endpoint }
        if let peer, !peer.isEmpty { line += " " + peer }
        if let detail { line += " (" + detail + ")" }
        return line
    }

    /// `{"event":"ACCEPTED","endpoint":"tcp://…","peer":"127.0.0.1:41236"}`.
    var json: String {
        var line = #"{"event":"# + jsonString(name) + #","endpoint":"# + jsonString(endpoint)
        if let peer, !peer.isEmpty { line += #","peer":"# + jsonString(peer) }
        if let detail { line += #","detail":"# + jsonString(detail) }
        return line + "}"
    }
}

/// What the events say about the connections: whether any peer completed a handshake, and
/// the last failure, so that a run that got nothing can say whether the network was the
/// problem (``ExitStatus/connectionFailed``) or nobody spoke (``ExitStatus/timeout``).
struct ConnectionWatch {
    private(set) var handshakes = 0
    private(set) var lastFailure: String?

    mutating func observe(_ event: MonitorEvent) {
        switch event {
        case .handshakeSucceeded:
            handshakes += 1
        case .connectRetried, .handshakeFailed, .bindFailed:
            lastFailure = EventLine(event).text
        case .disconnected(_, let reason):
            // Before any handshake, a dropped connection is a refusal (a CURVE server that
            // cannot open our HELLO just closes).
            if handshakes == 0, reason != .local { lastFailure = EventLine(event).text }
        case .listening, .accepted, .connectDelayed, .acceptFailed, .connected, .closed, .monitorStopped, .dataLost:
            break
        }
    }

    /// Connects or handshakes failed and no peer ever completed a handshake.
    var failedWithoutPeer: Bool { handshakes == 0 && lastFailure != nil }
}
#endif  // Tools
