@_spi(Draft) import ZMTP

/// A socket's options, typed, with libzmq's defaults (`zmq_setsockopt(3)`). Set them through
/// ``Socket/options`` (most take effect for later binds and connects, as in libzmq; the HWMs,
/// LINGER, timeouts and the pattern flags take effect at once).
///
/// Durations are `Duration`s; `nil` means "forever" where libzmq uses -1.
public struct SocketOptions: Sendable {
    // MARK: Queues and timeouts
    /// ZMQ_SNDHWM: messages queued per peer before sends block or drop (0 = no limit).
    public var sendHighWaterMark = 1000
    /// ZMQ_RCVHWM: messages queued per peer toward the application (0 = no limit).
    public var receiveHighWaterMark = 1000
    /// ZMQ_LINGER: how long close and context termination wait for queued messages to go
    /// out (nil = until they do, libzmq's -1; `.zero` = discard at once).
    ///
    /// Unless set, the socket type's default, as in libzmq 4.3.4: 0 for SUB and XSUB (libzmq's
    /// `xsub_t` sets it so that closing never waits on subscriptions for a peer that may never
    /// come; its draft DISH does the same), forever for every other type. A value set here
    /// always wins, `nil` included. Options not yet given to a socket read the common default,
    /// forever; ``Socket/options`` reads the resolved value.
    public var linger: Duration? {
        get {
            switch lingerSetting {
            case .chosen(let value): return value
            case .socketTypeDefault:
                guard let socketType else { return nil }
                return Self.defaultLinger(for: socketType)
            }
        }
        set { lingerSetting = .chosen(newValue) }
    }

    /// libzmq 4.3.4's LINGER for a new socket of `type`.
    public static func defaultLinger(for type: SocketType) -> Duration? {
        switch type {
        case .sub, .xsub, .dish: return .zero
        case .pair, .pub, .req, .rep, .dealer, .router, .pull, .push, .xpub, .stream,
             .server, .client, .radio, .gather, .scatter, .dgram, .peer, .channel:
            return nil
        }
    }

    /// Whether LINGER was set, and to what.
    enum LingerSetting: Sendable {
        /// Not set: the socket's type decides (``defaultLinger(for:)``).
        case socketTypeDefault
        /// Set by the user (nil: forever).
        case chosen(Duration?)
    }

    var lingerSetting = LingerSetting.socketTypeDefault
    /// The type of the socket holding these options (nil until a socket holds them), which
    /// resolves an unset LINGER.
    var socketType: SocketType?
    /// ZMQ_SNDTIMEO: how long a blocking send waits (nil = forever), then throws
    /// ``ZeroMQError/Code/timedOut`` (``ZeroMQError/Code/wouldBlock`` when zero).
    public var sendTimeout: Duration? = nil
    /// ZMQ_RCVTIMEO: how long a blocking receive waits (nil = forever), then throws
    /// ``ZeroMQError/Code/timedOut`` (``ZeroMQError/Code/wouldBlock`` when zero).
    public var receiveTimeout: Duration? = nil
    /// ZMQ_MAXMSGSIZE: a larger inbound frame drops the connection (nil = no limit).
    public var maxMessageSize: Int? = nil
    /// The most memory, in bytes, the socket holds for messages its peers have started sending
    /// and not finished, all connections together (16 MiB; libzmq has no such limit). Each
    /// connection holds its first 64 KiB of an unfinished message on its own; beyond that it
    /// reserves the message's whole size here before allocating it, and waits (reads nothing
    /// from that peer) while others hold the budget. A message larger than this can never be
    /// received: its connection ends with ``/ZMTP/ZMTPError/Code/messageTooLarge``. Raise it to
    /// receive larger messages (a 1 GiB message needs at least 1 GiB). Finished messages are
    /// bounded by ``receiveHighWaterMark``. Applies at once, to every connection.
    public var receiveMemoryLimit = SocketOptions.defaultReceiveMemoryLimit
    /// The default ``receiveMemoryLimit``: 16 MiB, so that fifty peers that declare huge
    /// frames cannot make a socket hold more than that.
    public static let defaultReceiveMemoryLimit = 16 << 20
    /// ZMQ_CONFLATE: keep only the last message (PUSH, PULL, PUB, SUB, DEALER; single-part only).
    public var conflate = false

    // MARK: Connections
    /// ZMQ_RECONNECT_IVL: wait before reconnecting (nil = never reconnect, libzmq's -1).
    public var reconnectInterval: Duration? = .milliseconds(100)
    /// ZMQ_RECONNECT_IVL_MAX: when set, the interval doubles after each failure up to this.
    public var reconnectIntervalMax: Duration? = nil
    /// ZMQ_HANDSHAKE_IVL: greeting plus handshake must complete in this time (nil = no limit).
    public var handshakeInterval: Duration? = .seconds(30)
    /// ZMQ_IMMEDIATE: queue messages only for peers whose connection is complete.
    public var immediate = false
    /// ZMQ_BACKLOG.
    public var backlog = 100
    /// ZMQ_TCP_KEEPALIVE (nil = system default).
    public var tcpKeepalive: Bool? = nil
    /// ZMQ_TCP_KEEPALIVE_CNT: unanswered probes before the connection is dropped (nil = system
    /// default).
    public var tcpKeepaliveCount: Int? = nil
    /// ZMQ_TCP_KEEPALIVE_IDLE: silence before the first probe, in whole seconds as TCP counts it,
    /// rounded up (nil = system default).
    public var tcpKeepaliveIdleTime: Duration? = nil
    /// ZMQ_TCP_KEEPALIVE_INTVL: time between probes, in whole seconds as TCP counts it, rounded
    /// up (nil = system default).
    public var tcpKeepaliveProbeInterval: Duration? = nil
    /// ZMQ_HEARTBEAT_IVL: send a ZMTP PING this often (nil = off).
    public var heartbeatInterval: Duration? = nil
    /// ZMQ_HEARTBEAT_TTL: ask the peer to drop us after this much silence (≤ 6553.599 s).
    public var heartbeatTTL: Duration? = nil
    /// ZMQ_HEARTBEAT_TIMEOUT: drop the peer after this much silence following a PING (nil =
    /// the heartbeat interval).
    public var heartbeatTimeout: Duration? = nil

    // MARK: Multicast (pgm://, epgm://; the ZeroMQPGM module)
    /// ZMQ_RATE: the multicast data rate in kbit/s (libzmq's default 100 is slow: raise it for
    /// any volume). It also sizes the PGM window, on each side from its own options.
    public var rate = 100
    /// ZMQ_RECOVERY_IVL: how long lost data can be repaired (sizes the PGM window).
    public var recoveryInterval: Duration = .seconds(10)
    /// ZMQ_MULTICAST_HOPS: the IP TTL of multicast packets.
    public var multicastHops = 1
    /// ZMQ_MULTICAST_MAXTPDU: the largest packet, in bytes.
    public var multicastMaxTPDU = 1500
    /// ZMQ_MULTICAST_LOOP: accepted for compatibility; like libzmq, PGM never loops packets
    /// back to the sending host.
    public var multicastLoop = true
    /// ZMQ_SNDBUF: the kernel send buffer of the multicast sockets, in bytes (nil: the system's).
    public var sendBufferSize: Int? = nil
    /// ZMQ_RCVBUF: the kernel receive buffer of the multicast sockets, in bytes (nil: the system's).
    public var receiveBufferSize: Int? = nil

    // MARK: Identity and metadata
    /// ZMQ_ROUTING_ID: our Identity for REQ, DEALER and ROUTER peers (1–255 bytes).
    public var routingId: [UInt8] = []
    /// ZMQ_CONNECT_ROUTING_ID: the routing id a ROUTER or STREAM gives its next connect's peer.
    public var connectRoutingId: [UInt8]? = nil
    /// ZMQ_METADATA: application properties sent in READY (names start with `X-`).
    public var metadata = Metadata()
    /// The security options (ZMQ_PLAIN_*, ZMQ_CURVE_*, ZMQ_ZAP_*): see
    /// `SocketOptions+Security.swift` for the typed options and ``security``.
    var securitySettings = SecuritySettings()

    // MARK: Pattern behaviour
    /// ZMQ_ROUTER_MANDATORY: unroutable sends fail with ``ZeroMQError/Code/hostUnreachable``.
    public var routerMandatory = false
    /// ZMQ_ROUTER_HANDOVER: a new peer with a routing id in use takes it over.
    public var routerHandover = false
    /// ZMQ_PROBE_ROUTER: send an empty message on connect (ROUTER, DEALER, REQ).
    public var probeRouter = false
    /// ZMQ_REQ_CORRELATE: REQ prefixes a request id and drops replies that do not match.
    public var requestCorrelate = false
    /// ZMQ_REQ_RELAXED: REQ may send a new request before the reply.
    public var requestRelaxed = false
    /// ZMQ_XPUB_VERBOSE: pass every subscribe to the application, not only new ones.
    public var xpubVerbose = false
    /// ZMQ_XPUB_VERBOSER: pass every subscribe and unsubscribe.
    public var xpubVerboser = false
    /// ZMQ_XPUB_MANUAL: the application decides subscriptions with ``Socket/subscribe(_:)-([UInt8])``.
    public var xpubManual = false
    /// ZMQ_XPUB_NODROP: block at the HWM instead of dropping (a send then fails with
    /// ``ZeroMQError/Code/timedOut`` after SNDTIMEO, or ``ZeroMQError/Code/wouldBlock`` when it is zero).
    public var xpubNoDrop = false
    /// ZMQ_XPUB_WELCOME_MSG: sent to each new subscriber.
    public var xpubWelcomeMessage: [UInt8]? = nil
    /// ZMQ_INVERT_MATCHING: deliver what does *not* match (PUB/XPUB/SUB/XSUB).
    public var invertMatching = false
    /// ZMQ_STREAM_NOTIFY: STREAM delivers `[id][]` on connect and disconnect.
    public var streamNotify = true

    /// The ZMTP minor version advertised: 1 (ZMTP 3.1) or 0 (3.0, whose peers send
    /// subscriptions as data frames). For compatibility tests only; libzmq has no such option.
    @_spi(Testing) public var zmtpMinorVersion: UInt8 = 1

    /// libzmq's defaults for every option.
    public init() {}
}
