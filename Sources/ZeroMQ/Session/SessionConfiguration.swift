import ZMTP
import ZeroMQTransport

/// A snapshot of the socket options a session uses, taken at bind or connect (as libzmq does).
struct SessionConfiguration: Sendable {
    var socketType: SocketType
    var connection: Connection.Configuration
    var transport: TransportOptions
    var sendHighWaterMark: Int
    var receiveHighWaterMark: Int
    var reconnectInterval: Duration?
    var reconnectIntervalMax: Duration?
    var immediate: Bool
    /// STREAM sockets speak raw bytes, not ZMTP.
    var raw: Bool

    /// ZAP_ENFORCE_DOMAIN: no handler means failure for NULL (with a domain) and CURVE too.
    var zapEnforceDomain: Bool
    /// The socket's memory budget for unfinished inbound messages, shared by its connections.
    var receiveBudget: ReceiveBudget

    /// - Throws: ``ZeroMQError/Code/invalidArgument`` when the security options are incomplete.
    init(socketType: SocketType, options: SocketOptions, receiveBudget: ReceiveBudget) throws(ZeroMQError) {
        self.socketType = socketType
        self.receiveBudget = receiveBudget
        let security = try options.resolvedSecurity()
        zapEnforceDomain = options.zapEnforceDomain
        var connection = Connection.Configuration(socketType: socketType, security: security)
        connection.identity = options.routingId
        connection.properties = options.metadata
        connection.maxMessageSize = options.maxMessageSize
        connection.handshakeTimeout = options.handshakeInterval ?? .zero
        connection.heartbeatInterval = options.heartbeatInterval ?? .zero
        connection.heartbeatTimeout = options.heartbeatTimeout
        connection.heartbeatTTL = options.heartbeatTTL ?? .zero
        connection.greetingMinorVersion = options.zmtpMinorVersion
        if case .null(let domain) = security, domain == nil || domain == "" {
            connection.acceptLegacyPeers = true
        }
        self.connection = connection
        var transport = TransportOptions()
        transport.backlog = Int32(clamping: options.backlog)
        transport.tcpKeepalive = options.tcpKeepalive
        transport.tcpKeepaliveCount = options.tcpKeepaliveCount.map { Int32(clamping: $0) }
        transport.tcpKeepaliveIdle = options.tcpKeepaliveIdleTime.map(Self.wholeSeconds)
        transport.tcpKeepaliveInterval = options.tcpKeepaliveProbeInterval.map(Self.wholeSeconds)
        self.transport = transport
        // CONFLATE ignores the high-water marks: the receiving side keeps only the newest.
        sendHighWaterMark = options.conflate ? 0 : options.sendHighWaterMark
        receiveHighWaterMark = options.conflate ? 0 : options.receiveHighWaterMark
        reconnectInterval = options.reconnectInterval
        reconnectIntervalMax = options.reconnectIntervalMax
        immediate = options.immediate
        raw = socketType == .stream
    }

    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return Int(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }

    /// TCP's keepalive times are whole seconds: a fraction rounds up (1.5 s waits 2 s, never 1),
    /// and anything positive is at least one second.
    static func wholeSeconds(_ duration: Duration) -> Int32 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 0 }
        return Int32(clamping: attoseconds > 0 ? seconds + 1 : seconds)
    }
}
