@_spi(Draft) import ZMTP
import ZeroMQTransport

/// A ZeroMQ socket (`zmq_socket(3)`): one pattern (``/ZMTP/SocketType``), any number of bound and
/// connected endpoints over `tcp://`, `ipc://`, `inproc://` or a registered transport.
///
/// Like a libzmq socket, a `Socket` is not thread-safe and not `Sendable`: use it from one
/// thread or task at a time. To hand it to another thread, move it (`sending`), and the compiler
/// rejects any later use on the old side. Closing happens on ``close()`` or when the last
/// reference goes, and honours ``SocketOptions/linger``.
///
/// ```swift
/// let socket = try context.socket(.req)
/// try socket.connect("tcp://localhost:5555")
/// try socket.send("Hello")
/// let reply = try socket.receiveString()
/// ```
public final class Socket {
    /// The socket's pattern.
    public let type: SocketType
    /// The context it belongs to.
    public let context: Context
    let mailbox: SocketMailbox
    let pattern: Pattern
    let sessions = SessionRegistry()
    let eventLog = SocketEventLog()
    /// What the socket's connections may hold of unfinished inbound messages, together.
    let receiveBudget = ReceiveBudget(limit: SocketOptions.defaultReceiveMemoryLimit)

    /// The options (`zmq_setsockopt`). Queue sizes, timeouts, LINGER and pattern flags apply at
    /// once; connection options apply to later binds and connects, as in libzmq.
    public var options = SocketOptions() {
        didSet {
            // Options built apart and assigned whole resolve an unset LINGER from this type.
            if options.socketType != type { options.socketType = type }
            pattern.options = options
            receiveBudget.limit = options.receiveMemoryLimit
            if options.sendHighWaterMark != oldValue.sendHighWaterMark || options.receiveHighWaterMark != oldValue.receiveHighWaterMark {
                applyHighWaterMarks()
            }
        }
    }

    /// The endpoint of the last bind or connect, with a wildcard port resolved
    /// (ZMQ_LAST_ENDPOINT).
    public internal(set) var lastEndpoint = ""

    /// The last part received had MORE set (ZMQ_RCVMORE).
    public var hasMore: Bool { messaging.value.receivingMore }

    var peers: [ObjectIdentifier: PeerPipe] = [:]
    var listeners: [Listener] = []
    var connectedEndpoints: Set<String> = []
    var inprocBindings: Set<String> = []
    /// Endpoints served by message transports (pgm, epgm).
    var messageLinks: [MessageLinkRecord] = []
    /// Whether ``close()`` was called.
    public var isClosed: Bool { messaging.value.lifecycle == .closed }
    /// The command buffer ``processCommands()`` hands the mailbox (see ``SocketMailbox/take(into:)``).
    private var spareCommands: [SocketCommand] = []

    /// What every send and receive reads or updates, socket thread only.
    struct MessagingState {
        var lifecycle = Lifecycle.open
        /// ``hasMore``.
        var receivingMore = false
        /// Mid-way through sending a multipart message.
        var sendingMore = false
        /// The application-side counters of ``statistics``.
        var traffic = SocketStatistics()
        /// Pipes whose peer closed, detached once drained (looked at on every receive).
        var closingPeers: [ObjectIdentifier: PeerPipe] = [:]
        /// Caller mode: whether sends are coming in a burst (``Context/IOMode/caller``).
        var callerWrites = CallerWrites.idle
    }

    /// Caller mode: a send writes before it returns, except inside a burst. One write per small
    /// message costs a system call each and small TCP segments, several times libzmq's I/O
    /// thread, which writes up to 8 KiB at once; so sends that follow one another closely, with
    /// no other call between, are written together (libzmq's `out_batch_size`).
    enum CallerWrites {
        /// The last call on this socket was not a send: the next send writes at once.
        case idle
        /// Sends in a burst: `pending` bytes queued since the last write, the last send at
        /// `lastSend`.
        case burst(pending: Int, lastSend: ZMTPInstant)
    }

    /// A send this soon after the previous one, with no other call between, joins its burst.
    static let burstWindowNanoseconds: UInt64 = 20_000
    /// A burst is written when this many bytes are queued (libzmq's `out_batch_size`).
    static let burstBatchBytes = 8192

    /// Reached through a pointer: as stored properties of the socket, these cost a run-time
    /// exclusivity check per access that the compiler does not prove away (callgrind: about 76
    /// instructions each, several per message).
    let messaging = Unchecked(MessagingState())

    /// Where the socket stands.
    enum Lifecycle {
        /// Usable.
        case open
        /// The context is terminating: every call but ``close()`` fails with
        /// ``ZeroMQError/Code/terminated``.
        case terminated
        /// Closed by ``close()``.
        case closed
    }
    /// ZMQ_CONNECT_ROUTING_ID values given to connects, by their session.
    var connectRoutingIds: [SessionID: [UInt8]] = [:]

    struct Listener {
        let requested: String
        let bound: String
        let reactor: any IODriver
        let handle: ListenerBox
    }

    final class ListenerBox: @unchecked Sendable {
        let listener: any TransportListener
        init(_ listener: any TransportListener) { self.listener = listener }
    }

    init(context: Context, type: SocketType) throws(ZeroMQError) {
        switch type {
        case .server, .client, .radio, .dish, .gather, .scatter, .dgram, .peer, .channel:
            throw ZeroMQError(.notSupported, "\(type.name) is a draft socket type this version does not implement yet")
        default:
            break
        }
        self.type = type
        self.context = context
        do throws(TransportError) {
            mailbox = try SocketMailbox(callerDriver: context.core.callerDriver)
        } catch {
            throw ZeroMQError(error)
        }
        var initial = SocketOptions()
        initial.socketType = type
        options = initial
        pattern = Pattern(type, options: initial)
        try context.core.register(self)
    }

    deinit {
        close()
    }

    // MARK: Endpoints

    /// Accepts connections at `endpoint` (`zmq_bind(3)`): `tcp://*:5555`, `tcp://127.0.0.1:*`,
    /// `ipc:///tmp/feed`, `ipc://@abstract`, `inproc://name`, or a registered scheme.
    public func bind(_ endpoint: String) throws(ZeroMQError) {
        try checkUsable()
        let (scheme, address) = try Self.split(endpoint)
        if scheme == "inproc" {
            try context.inproc.bind(address, inprocParty())
            inprocBindings.insert(address)
            lastEndpoint = endpoint
            return
        }
        if let transport = context.messageTransport(for: scheme) {
            try open(transport, address: address, endpoint: endpoint)
            return
        }
        guard let transport = context.transport(for: scheme) else {
            throw ZeroMQError(.protocolNotSupported, "no transport for \(scheme)://")
        }
        if type == .stream, scheme != "tcp", scheme != "ipc" {
            throw ZeroMQError(.incompatibleProtocol, "STREAM needs a byte-stream transport")
        }
        let reactor = context.chooseDriver()
        let configuration = try SessionConfiguration(socketType: type, options: options, receiveBudget: receiveBudget)
        let acceptor = Acceptor(context: context.core, mailbox: mailbox, registry: sessions, events: eventLog, reactor: reactor,
                                configuration: configuration)
        let listener: any TransportListener
        do throws(TransportError) {
            listener = try transport.listen(at: address, options: configuration.transport, reactor: reactor,
                                            onAccept: { connection in acceptor.accept(connection) },
                                            onAcceptFailure: { failure in acceptor.failed(failure) })
        } catch {
            let failure = ZeroMQError(error)
            eventLog.record(.bindFailed(endpoint: endpoint, error: failure))
            throw failure
        }
        let bound = listener.boundEndpoint
        acceptor.endpoint = bound
        let box = ListenerBox(listener)
        reactor.post { try? box.listener.start() }
        listeners.append(Listener(requested: endpoint, bound: bound, reactor: reactor, handle: box))
        lastEndpoint = bound
        eventLog.record(.listening(endpoint: bound))
        driveOnce()
    }

    /// Caller mode: runs one turn of the context's I/O, so that work this call posted (a
    /// listener to start, a connect, a message to write) is done before it returns.
    @inline(__always)
    func driveOnce() {
        if mailbox.isCallerDriven { driveTurn() }
    }

    /// The turn itself, out of line: the per-message paths of ``Context/IOMode/threads``
    /// contexts carry only the flag test.
    @inline(never)
    private func driveTurn() {
        // The requirement itself, not the `drive()` shorthand: one witness call per turn.
        mailbox.callerDriver?.drive(timeoutMilliseconds: 0)
    }

    /// Caller mode, after the last part of a message of `bytes` was queued: writes now, unless
    /// the send is inside a burst (``CallerWrites``) whose queued bytes are still under a batch.
    @inline(never)
    func callerSent(_ bytes: Int) {
        let now = IOClock.now()
        if case .burst(let pending, let lastSend) = messaging.value.callerWrites,
           now.nanoseconds &- lastSend.nanoseconds < Self.burstWindowNanoseconds,
           pending + bytes < Self.burstBatchBytes {
            messaging.value.callerWrites = .burst(pending: pending + bytes, lastSend: now)
            return
        }
        mailbox.callerDriver?.driveQueued()
        messaging.value.callerWrites = .burst(pending: 0, lastSend: now)
    }

    /// Caller mode: a call other than a send ends a burst, so the next send writes at once.
    @inline(__always)
    func endBurst() {
        if mailbox.isCallerDriven { messaging.value.callerWrites = .idle }
    }

    /// Writes what sends have queued (caller mode: the end of a burst of sends, which otherwise
    /// goes out at the next call, see ``Context/IOMode/caller``). With I/O threads, they write
    /// as soon as they can, and this does nothing.
    public func flush() {
        guard mailbox.isCallerDriven, !isClosed else { return }
        driveTurn()
        messaging.value.callerWrites = .idle
    }

    /// Connects to `endpoint` (`zmq_connect(3)`). Returns at once: the connection is made, and
    /// remade after failures, in the background, and messages sent meanwhile wait for it (unless
    /// ``SocketOptions/immediate``).
    public func connect(_ endpoint: String) throws(ZeroMQError) {
        try checkUsable()
        let (scheme, address) = try Self.split(endpoint)
        // libzmq: DEALER, SUB, PUB and REQ connect to an endpoint once.
        if connectedEndpoints.contains(endpoint), [.dealer, .sub, .pub, .req].contains(type) { return }
        if scheme == "inproc" {
            let (end, binder) = context.inproc.connect(address, inprocParty())
            connectedEndpoints.insert(endpoint)
            lastEndpoint = endpoint
            let assigned = options.connectRoutingId
            options.connectRoutingId = nil
            attach(end, peer: binder, endpoint: endpoint, session: nil, assignedRoutingId: assigned)
            return
        }
        if let transport = context.messageTransport(for: scheme) {
            try open(transport, address: address, endpoint: endpoint)
            return
        }
        guard let transport = context.transport(for: scheme) else {
            throw ZeroMQError(.protocolNotSupported, "no transport for \(scheme)://")
        }
        do throws(TransportError) {
            try transport.validate(address)
        } catch {
            throw ZeroMQError(error)
        }
        let reactor = context.chooseDriver()
        let configuration = try SessionConfiguration(socketType: type, options: options, receiveBudget: receiveBudget)
        let id = SessionID(value: context.core.makeIdentifier())
        if let assigned = options.connectRoutingId {
            connectRoutingIds[id] = assigned
            options.connectRoutingId = nil
        }
        var pair: (session: PipeEnd, socket: PipeEnd)?
        if !options.immediate && type != .stream {
            let (socketEnd, sessionEnd) = PipeEnd.makePair(hwmAB: configuration.sendHighWaterMark,
                                                           hwmBA: configuration.receiveHighWaterMark)
            pair = (sessionEnd, socketEnd)
            attach(socketEnd, peer: nil, endpoint: endpoint, session: id)
        }
        let session = Session(id: id, role: .connect(transport: transport, address: address), endpoint: endpoint,
                              reactor: reactor, configuration: configuration, mailbox: mailbox, context: context.core,
                              registry: sessions, events: eventLog, pipe: pair)
        connectedEndpoints.insert(endpoint)
        lastEndpoint = endpoint
        reactor.post { session.start() }
        driveOnce()
    }

    /// Stops accepting at `endpoint` and closes the connections accepted there (`zmq_unbind`).
    /// `endpoint` may be the one given to ``bind(_:)`` or the bound one (``lastEndpoint``).
    public func unbind(_ endpoint: String) throws(ZeroMQError) {
        try checkUsable()
        if endpoint.hasPrefix("inproc://") {
            let name = String(endpoint.dropFirst(9))
            guard inprocBindings.remove(name) != nil, context.inproc.unbind(name, mailbox) else {
                throw ZeroMQError(.endpointNotFound, "\(endpoint) is not bound")
            }
            return
        }
        if messageLinks.contains(where: { $0.endpoint == endpoint }) {
            connectedEndpoints.remove(endpoint)
            dropPeers(endpoint: endpoint)
            return
        }
        guard let index = listeners.firstIndex(where: { $0.bound == endpoint || $0.requested == endpoint }) else {
            throw ZeroMQError(.endpointNotFound, "\(endpoint) is not bound")
        }
        let listener = listeners.remove(at: index)
        let box = listener.handle
        listener.reactor.post { box.listener.close() }
        eventLog.record(.closed(endpoint: listener.bound))
        dropPeers(endpoint: listener.bound)
        driveOnce()
    }

    /// Closes the connection to `endpoint` and stops reconnecting (`zmq_disconnect`).
    public func disconnect(_ endpoint: String) throws(ZeroMQError) {
        try checkUsable()
        guard connectedEndpoints.remove(endpoint) != nil else {
            throw ZeroMQError(.endpointNotFound, "\(endpoint) is not connected")
        }
        dropPeers(endpoint: endpoint)
        driveOnce()
    }

    /// Closes every pipe of `endpoint` and ends its sessions within LINGER.
    private func dropPeers(endpoint: String) {
        for peer in Array(peers.values) where peer.endpoint == endpoint {
            detach(peer)
        }
        sessions.terminate(endpoint: endpoint, linger: options.linger)
        terminateLinks(endpoint: endpoint, linger: options.linger)
    }

    /// Closes the socket (`zmq_close`): pending outbound messages get LINGER to go out, in the
    /// background. Further calls fail with ``ZeroMQError/Code/closed``.
    public func close() {
        guard messaging.value.lifecycle != .closed else { return }
        messaging.value.lifecycle = .closed
        // No new inproc peer (a ZAP request, a connect) can arrive once the bindings are gone;
        // the ones already posted are refused, so their other ends learn it now rather than at
        // their handshake interval.
        context.inproc.remove(mailbox)
        var pending: [SocketCommand] = []
        mailbox.take(into: &pending)
        for command in pending {
            if case .attach(let end, _) = command { end.close() }
        }
        for peer in Array(peers.values) { detach(peer) }
        let closing = messaging.value.closingPeers
        messaging.value.closingPeers.removeAll()
        for peer in closing.values { peer.pipe.close() }
        for listener in listeners {
            let box = listener.handle
            listener.reactor.post { box.listener.close() }
        }
        listeners.removeAll()
        sessions.terminate(endpoint: nil, linger: options.linger)
        terminateLinks(endpoint: nil, linger: options.linger)
        eventLog.close()
        context.core.socketClosed(mailbox)
        // Caller mode: LINGER runs here, since nothing runs once the application leaves.
        if context.core.callerDriver != nil {
            let limit = options.linger.map { IOClock.now().adding($0) }
            context.core.waitForLingeringSessions(until: limit ?? ZMTPInstant(nanoseconds: .max))
        }
    }

    // MARK: Internals

    /// New SNDHWM/RCVHWM values reach the pipes of existing tcp, ipc and message-transport
    /// (pgm) endpoints at once (as in libzmq). inproc pipes keep the sum fixed when they were made.
    private func applyHighWaterMarks() {
        let send = options.conflate ? 0 : options.sendHighWaterMark
        let receive = options.conflate ? 0 : options.receiveHighWaterMark
        let all = peers
        for peer in all.values where peer.session != nil || messageLinks.contains(where: { $0.endpoint == peer.endpoint }) {
            peer.pipe.setHighWaterMarks(send: send, receive: receive)
        }
    }

    static func split(_ endpoint: String) throws(ZeroMQError) -> (scheme: String, address: String) {
        let utf8 = Array(endpoint.utf8)
        guard let colon = utf8.firstIndex(of: UInt8(ascii: ":")), utf8.count >= colon + 3,
              utf8[colon + 1] == UInt8(ascii: "/"), utf8[colon + 2] == UInt8(ascii: "/") else {
            throw ZeroMQError(.invalidArgument, "\(endpoint): an endpoint is scheme://address")
        }
        let scheme = String(decoding: utf8[..<colon], as: UTF8.self)
        let address = String(decoding: utf8[(colon + 3)...], as: UTF8.self)
        guard !address.isEmpty else { throw ZeroMQError(.invalidArgument, "\(endpoint): empty address") }
        return (scheme, address)
    }

    /// Throws when the socket is closed or terminated, after taking in what was reported.
    /// Inlined: it runs on every send and receive, and as a call it cost about 20
    /// instructions more each time.
    @inline(__always)
    func checkUsable() throws(ZeroMQError) {
        guard !isClosed else { throw .closed }
        try processCommands()
    }

    private func inprocParty() -> InprocRegistry.Party {
        InprocRegistry.Party(mailbox: mailbox, socketType: type, identity: options.routingId, metadata: options.metadata,
                             sendHighWaterMark: options.conflate ? 0 : options.sendHighWaterMark,
                             receiveHighWaterMark: options.conflate ? 0 : options.receiveHighWaterMark)
    }

    func attach(_ end: PipeEnd, peer: PeerDescription?, endpoint: String, session: SessionID?, assignedRoutingId: [UInt8]? = nil) {
        end.setSink(mailbox)
        let peerPipe = PeerPipe(pipe: end, peer: peer, endpoint: endpoint, session: session)
        if peer != nil { peerPipe.handshakes = 1 }
        // ZMQ_CONNECT_ROUTING_ID named this connect's peer (ROUTER, STREAM).
        if let session, let assigned = connectRoutingIds[session] {
            peerPipe.assignedRoutingId = assigned
        }
        if let assignedRoutingId { peerPipe.assignedRoutingId = assignedRoutingId }
        if isClosed {
            end.close()
            return
        }
        peers[ObjectIdentifier(end)] = peerPipe
        pattern.attach(peerPipe)
        // The other end may have closed before this end had a sink to tell (a ZAP request
        // abandoned while its attach was queued): handle it as the closing it is, or the pipe
        // stays attached for good.
        if end.peerClosed {
            peers.removeValue(forKey: ObjectIdentifier(end))
            messaging.value.closingPeers[ObjectIdentifier(end)] = peerPipe
            pattern.readActivated(peerPipe)
        }
    }

    func detach(_ peer: PeerPipe) {
        let key = ObjectIdentifier(peer.pipe)
        guard peers.removeValue(forKey: key) != nil || messaging.value.closingPeers.removeValue(forKey: key) != nil else { return }
        messaging.value.closingPeers.removeValue(forKey: key)
        pattern.detach(peer)
        peer.pipe.close()
    }

    /// Handles what the I/O threads and inproc peers reported (libzmq's `process_commands`).
    ///
    /// Called on every send and receive: the common case, nothing waiting and no peer closing,
    /// is inlined into the caller and stops at three loads (as a call, its prologue and the
    /// one of ``reapClosedPeers()`` cost about 45 instructions per send or receive).
    @inline(__always)
    func processCommands() throws(ZeroMQError) {
        guard mailbox.mayHaveCommands else {
            reapClosedPeers()
            if messaging.value.lifecycle == .terminated { throw .terminated }
            return
        }
        try handleCommands()
    }

    /// Handles the commands waiting in the mailbox.
    private func handleCommands() throws(ZeroMQError) {
        var commands = spareCommands
        spareCommands = []
        mailbox.take(into: &commands)
        defer {
            commands.removeAll(keepingCapacity: true)
            spareCommands = commands
        }
        for command in commands {
            switch command {
            case .attach(let end, let description):
                attach(end, peer: description, endpoint: description.endpoint, session: description.session)
            case .identified(let end, let description):
                if let peer = peers[ObjectIdentifier(end)] {
                    peer.peer = description
                    peer.handshakes += 1
                    pattern.identified(peer)
                }
            // The serial check: a wakeup for an end that is gone must not touch a newer end
            // that took its address.
            case .readable(let end):
                if let peer = peers[end.object] ?? messaging.value.closingPeers[end.object], peer.pipe.id == end { pattern.readActivated(peer) }
            case .writable(let end):
                if let peer = peers[end.object], peer.pipe.id == end { pattern.writeActivated(peer) }
            case .peerClosed(let end):
                if let peer = peers[end.object], peer.pipe.id == end {
                    peers.removeValue(forKey: end.object)
                    messaging.value.closingPeers[end.object] = peer
                    pattern.readActivated(peer)
                }
            case .sessionEnded(let id):
                connectRoutingIds.removeValue(forKey: id)
            case .terminate:
                if messaging.value.lifecycle == .open { messaging.value.lifecycle = .terminated }
            }
        }
        reapClosedPeers()
        if messaging.value.lifecycle == .terminated { throw .terminated }
    }

    /// Detaches pipes whose peer closed once nothing is left to read in them.
    @inline(__always)
    func reapClosedPeers() {
        guard !messaging.value.closingPeers.isEmpty else { return }
        reapClosedPeersNow()
    }

    private func reapClosedPeersNow() {
        let closing = messaging.value.closingPeers
        for (key, peer) in closing where !peer.pipe.checkRead() {
            messaging.value.closingPeers.removeValue(forKey: key)
            pattern.detach(peer)
            peer.pipe.close()
        }
    }

    /// The connection events recorded since the last call (accepted, connected, handshake
    /// succeeded or failed with its typed error, disconnected with its reason, …), oldest first,
    /// and how many were dropped because nobody took them (the log keeps the last 1024).
    public func takeEvents() -> (events: [MonitorEvent], dropped: Int) {
        eventLog.take()
    }

    /// This socket's connection events from now on, as a bounded `AsyncSequence` that any task
    /// may read (libzmq's `zmq_socket_monitor`, typed). It cannot hang the socket or the context:
    /// a reader that falls `capacity` events behind loses the oldest, counted in
    /// ``SocketMonitor/droppedEvents``. It ends when the socket closes.
    public func monitor(capacity: Int = 1024) -> SocketMonitor {
        SocketMonitor(channel: eventLog.addMonitor(capacity: capacity), log: eventLog)
    }

    /// Everything counted so far: traffic, drops by cause, connections, reconnects, handshakes.
    public var statistics: SocketStatistics {
        var statistics = messaging.value.traffic
        statistics.dropped = pattern.drops
        let counters = eventLog.counters
        statistics.connectionsAccepted = counters.accepted
        statistics.connectionsMade = counters.connected
        statistics.reconnects = counters.retried
        statistics.handshakesSucceeded = counters.handshakesSucceeded
        statistics.handshakeFailures = counters.handshakeFailures
        statistics.disconnections = counters.disconnected
        statistics.dataLosses = counters.dataLosses
        statistics.acceptFailures = counters.acceptFailures
        statistics.acceptExhaustions = counters.acceptExhaustions
        return statistics
    }

    /// The number of peers currently attached (connected, or queueing for a connect), after
    /// taking in what the I/O threads reported.
    public var peerCount: Int {
        if !isClosed { try? processCommands() }
        return peers.count
    }

    /// Messages the pattern dropped as it is allowed to (PUB at HWM, ROUTER with no route).
    public var droppedMessages: Int { pattern.drops.total }
}

/// Accepts connections for one listener, on its reactor's thread.
final class Acceptor: @unchecked Sendable {
    let context: ContextCore
    let mailbox: SocketMailbox
    let registry: SessionRegistry
    let events: SocketEventLog
    let reactor: any IODriver
    let configuration: SessionConfiguration
    var endpoint = ""

    init(context: ContextCore, mailbox: SocketMailbox, registry: SessionRegistry, events: SocketEventLog, reactor: any IODriver,
         configuration: SessionConfiguration) {
        self.context = context
        self.mailbox = mailbox
        self.registry = registry
        self.events = events
        self.reactor = reactor
        self.configuration = configuration
    }

    /// One event per failure, except that running out of descriptors or memory is one episode
    /// (the listener pauses between attempts) reported once, when it begins; every failed
    /// attempt is counted in ``SocketStatistics/acceptFailures``.
    func failed(_ failure: AcceptFailure) {
        switch failure {
        case .failed(let error):
            events.record(.acceptFailed(endpoint: endpoint, error: error))
        case .exhaustionBegan(let error):
            events.countAcceptExhaustion()
            events.record(.acceptFailed(endpoint: endpoint, error: error))
        case .exhaustionContinued:
            events.countQuietAcceptFailure()
        case .exhaustionEnded:
            break
        }
    }

    func accept(_ connection: StreamConnection) {
        let session = Session(id: SessionID(value: context.makeIdentifier()), role: .accepted(connection), endpoint: endpoint,
                              reactor: reactor, configuration: configuration, mailbox: mailbox, context: context,
                              registry: registry, events: events, pipe: nil)
        session.start()
    }
}

extension Socket {
    /// Adds a topic prefix filter (ZMQ_SUBSCRIBE; SUB and XSUB, and XPUB in manual mode). The
    /// empty prefix matches everything. Subscribing twice needs two unsubscribes.
    public func subscribe(_ prefix: [UInt8]) throws(ZeroMQError) {
        try checkUsable()
        try pattern.subscribe(prefix)
    }

    /// Adds a topic prefix filter given as text: its UTF-8 bytes (ZMQ_SUBSCRIBE).
    public func subscribe(_ prefix: String) throws(ZeroMQError) {
        try subscribe(Array(prefix.utf8))
    }

    /// Removes one instance of a topic prefix filter (ZMQ_UNSUBSCRIBE).
    public func unsubscribe(_ prefix: [UInt8]) throws(ZeroMQError) {
        try checkUsable()
        try pattern.unsubscribe(prefix)
    }

    /// Removes one instance of a topic prefix filter given as text (ZMQ_UNSUBSCRIBE).
    public func unsubscribe(_ prefix: String) throws(ZeroMQError) {
        try unsubscribe(Array(prefix.utf8))
    }
}
