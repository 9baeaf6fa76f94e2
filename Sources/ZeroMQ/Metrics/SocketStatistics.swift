/// What a socket has done, counted (readable at any time with ``Socket/statistics``; exported
/// to swift-metrics by the `ZeroMQMetrics` module). libzmq counts none of this; in particular
/// its users cannot see a message dropped at a high-water mark. Here every drop the pattern
/// allows is counted, by cause.
public struct SocketStatistics: Sendable, Hashable {
    /// Whole messages the application sent (a multipart message counts once).
    public var messagesSent: UInt64 = 0
    /// The body bytes of every part of the messages sent.
    public var bytesSent: UInt64 = 0
    /// Whole messages the application received (a multipart message counts once).
    public var messagesReceived: UInt64 = 0
    /// The body bytes of every part of the messages received.
    public var bytesReceived: UInt64 = 0
    /// Messages dropped as the pattern allows, by cause.
    public var dropped = DropCounts()
    /// Connections accepted by the socket's binds.
    public var connectionsAccepted: UInt64 = 0
    /// Connections made by the socket's connects (each reconnect counts again).
    public var connectionsMade: UInt64 = 0
    /// Connect attempts that failed and were retried.
    public var reconnects: UInt64 = 0
    /// ZMTP handshakes that completed.
    public var handshakesSucceeded: UInt64 = 0
    /// ZMTP handshakes that failed: refused by authentication, a protocol error, a timeout.
    public var handshakeFailures: UInt64 = 0
    /// Established connections that ended.
    public var disconnections: UInt64 = 0
    /// Losses a message transport could not recover (``MonitorEvent/dataLost(endpoint:detail:)``).
    public var dataLosses: UInt64 = 0
    /// Attempts to accept a pending connection that failed, whatever the reason; during an
    /// exhaustion episode they are counted here though only its first raises an event.
    public var acceptFailures: UInt64 = 0
    /// Episodes in which accepting ran out of descriptors or memory (EMFILE, ENFILE, ENOBUFS,
    /// ENOMEM), each reported by one ``MonitorEvent/acceptFailed(endpoint:error:)``.
    public var acceptExhaustions: UInt64 = 0

    /// All counters at zero.
    public init() {}
}

/// The counters only the I/O threads see (kept by the event log).
struct ConnectionCounters: Sendable, Hashable {
    var accepted: UInt64 = 0
    var connected: UInt64 = 0
    var retried: UInt64 = 0
    var handshakesSucceeded: UInt64 = 0
    var handshakeFailures: UInt64 = 0
    var disconnected: UInt64 = 0
    var dataLosses: UInt64 = 0
    var acceptFailures: UInt64 = 0
    var acceptExhaustions: UInt64 = 0

    mutating func count(_ event: MonitorEvent) {
        switch event {
        case .accepted: accepted += 1
        case .connected: connected += 1
        case .connectRetried: retried += 1
        case .handshakeSucceeded: handshakesSucceeded += 1
        case .handshakeFailed: handshakeFailures += 1
        case .disconnected: disconnected += 1
        case .dataLost: dataLosses += 1
        case .acceptFailed: acceptFailures += 1
        case .listening, .closed, .monitorStopped, .connectDelayed, .bindFailed: break
        }
    }
}
