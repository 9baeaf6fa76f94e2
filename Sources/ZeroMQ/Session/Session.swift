import ZMTP
import ZMTPSodium
import ZeroMQTransport

/// One peer connection of a socket, on an I/O thread (libzmq's `session_base_t`): it owns the
/// engine, and for a connect, the retries. A connect's session outlives its engines: the pipe to
/// the socket stays while it reconnects, so messages queue (unless IMMEDIATE) and survive a
/// dropped connection. An accepted connection's session ends with its engine.
///
/// Everything runs on `reactor`'s thread; the socket talks to it through ``terminate(linger:)``
/// (posted) and the pipe.
final class Session: StreamEngineDelegate, PipeEventSink, @unchecked Sendable {
    enum Role {
        /// We connect to `address` with `transport`, retrying.
        case connect(transport: any Transport, address: String)
        /// A listener accepted this connection.
        case accepted(StreamConnection)
    }

    private enum State {
        case idle
        case connecting(any TransportConnecter)
        case waitingToRetry(IOTimer)
        case active(any SessionEngine)
        case ended
    }

    let id: SessionID
    let endpoint: String
    private let role: Role
    private let reactor: any IODriver
    var reactorForRegistry: any IODriver { reactor }
    private let configuration: SessionConfiguration
    private let mailbox: SocketMailbox
    let context: ContextCore
    private let registry: SessionRegistry
    private let events: SocketEventLog
    private var state: State = .idle
    /// Our end of the pipe to the socket, and the socket's end until it has been handed over.
    private var pipe: PipeEnd?
    private var socketEnd: PipeEnd?
    /// The socket is done with us (closed its pipe end, or asked us to terminate).
    private var closing = false
    private var lingerTimer: IOTimer?
    private var backoff: ReconnectBackoff
    private var peerAddress = ""

    /// - Parameter pipe: for a connect without IMMEDIATE, the two ends of a pipe whose socket end
    ///   the socket already holds; nil to make the pipe once a handshake completes.
    init(id: SessionID, role: Role, endpoint: String, reactor: any IODriver, configuration: SessionConfiguration,
         mailbox: SocketMailbox, context: ContextCore, registry: SessionRegistry, events: SocketEventLog,
         pipe: (session: PipeEnd, socket: PipeEnd)?) {
        self.id = id
        self.role = role
        self.endpoint = endpoint
        self.reactor = reactor
        self.configuration = configuration
        self.mailbox = mailbox
        self.context = context
        self.registry = registry
        self.events = events
        self.pipe = pipe?.session
        self.socketEnd = pipe?.socket
        self.backoff = ReconnectBackoff(interval: configuration.reconnectInterval, maximum: configuration.reconnectIntervalMax)
        context.sessionStarted()
        registry.add(self)
    }

    /// Starts connecting, or drives the accepted connection (reactor thread).
    func start() {
        pipe?.setSink(self)
        switch role {
        case .connect:
            connect()
        case .accepted(let connection):
            events.record(.accepted(endpoint: endpoint, peerAddress: connection.peerAddress))
            startEngine(connection)
        }
    }

    // MARK: Connecting

    private func connect() {
        guard case .connect(let transport, let address) = role, !isEnded else { return }
        let connecter = transport.connect(to: address, options: configuration.transport, reactor: reactor) { [weak self] result in
            self?.connected(result)
        }
        state = .connecting(connecter)
        connecter.start()
        // Not done at once (the usual case for tcp): the attempt is in progress.
        if case .connecting = state { events.record(.connectDelayed(endpoint: endpoint)) }
    }

    private func connected(_ result: Result<StreamConnection, TransportError>) {
        guard case .connecting = state else { return }
        switch result {
        case .success(let connection):
            events.record(.connected(endpoint: endpoint, peerAddress: connection.peerAddress))
            startEngine(connection)
        case .failure(let error):
            lastConnectError = error
            scheduleRetry()
        }
    }

    private var lastConnectError: TransportError?

    private func scheduleRetry() {
        // Once the socket is closed, retrying goes on only while messages wait for the peer;
        // LINGER's timer bounds it.
        guard !closing || hasMessagesToDeliver, let delay = backoff.next() else {
            end()
            return
        }
        if let error = lastConnectError {
            events.record(.connectRetried(endpoint: endpoint, after: delay, error: error))
            lastConnectError = nil
        }
        let timer = reactor.schedule(afterMilliseconds: SessionConfiguration.milliseconds(delay)) { [weak self] in
            self?.connect()
        }
        state = .waitingToRetry(timer)
    }

    private func startEngine(_ connection: StreamConnection) {
        peerAddress = connection.peerAddress
        var connectionConfiguration = configuration.connection
        connectionConfiguration.peerAddress = connection.peerAddress
        let engine: any SessionEngine
        if configuration.raw {
            engine = RawEngine(medium: connection.medium, reactor: reactor, delegate: self)
        } else {
            let core = Connection(configuration: connectionConfiguration, crypto: context.crypto, random: SodiumRandom(), now: IOClock.now())
            engine = StreamEngine(medium: connection.medium, reactor: reactor, connection: core, pipe: pipe,
                                  sendsSubscriptions: configuration.socketType == .sub || configuration.socketType == .xsub,
                                  budget: configuration.receiveBudget, delegate: self)
        }
        state = .active(engine)
        engine.start()
    }

    // MARK: StreamEngineDelegate

    func engine(_ engine: StreamEngine, completedHandshakeWith peer: PeerInfo) {
        handshook = true
        events.record(.handshakeSucceeded(endpoint: endpoint, peerAddress: peerAddress))
        handshakeCompleted(engine, PeerDescription(peer, peerAddress: peerAddress, endpoint: endpoint, session: id))
    }

    /// A STREAM connection: no handshake, the peer is known at once.
    func rawEngineConnected(_ engine: RawEngine) {
        var properties = Metadata()
        if !peerAddress.isEmpty { properties.append(name: Metadata.Name.peerAddress, value: Array(peerAddress.utf8)) }
        handshakeCompleted(engine, PeerDescription(socketType: nil, identity: [], properties: properties, endpoint: endpoint, session: id))
    }

    /// The peer is known: hand the socket its pipe, or tell it who its pipe now reaches.
    func handshakeCompleted(_ engine: any SessionEngine, _ description: PeerDescription) {
        backoff.reset()
        if let socketEnd {
            // A connect's pipe, held by the socket since connect().
            mailbox.post(.identified(socketEnd, description))
            return
        }
        if pipe == nil {
            let (session, socket) = PipeEnd.makePair(hwmAB: configuration.receiveHighWaterMark,
                                                     hwmBA: configuration.sendHighWaterMark)
            pipe = session
            engine.attach(session)
            mailbox.post(.attach(socket, description))
        }
    }

    /// Asks the context's ZAP handler (RFC 27) and answers the engine when it replies; without
    /// a handler, libzmq's rules decide at once.
    func engine(_ engine: StreamEngine, needsAuthentication request: AuthenticationRequest) {
        // Answered in a task of its own, never from inside the engine's event loop: a decision
        // made at once (no handler, or a reply already waiting) would otherwise run the engine
        // again from within itself, and a message it stalled on could be overwritten.
        let box = EngineBox(engine: engine)
        _ = reactor.post { [weak self] in
            guard let self, case .active(let current) = self.state, current === box.engine else { return }
            self.authenticate(request, engine: box.engine)
        }
    }

    private func authenticate(_ request: AuthenticationRequest, engine: StreamEngine) {
        zap?.cancel()
        zap = ZAPClient.send(request, through: context.inproc, reactor: reactor) { [weak self, weak engine] result in
            guard let self, let engine, case .active(let current) = self.state, current === engine else { return }
            self.zap = nil
            switch result {
            case .success(let reply): engine.completeAuthentication(reply)
            case .failure(let error): engine.failAuthentication(error)
            }
        }
        guard zap == nil else { return }
        switch Self.withoutHandler(request.mechanism, enforce: configuration.zapEnforceDomain) {
        case .success(let reply): engine.completeAuthentication(reply)
        case .failure(let error): engine.failAuthentication(error)
        }
    }

    /// libzmq's decision when no ZAP handler is bound: NULL (with a ZAP domain) and CURVE let
    /// the peer in unless ZAP_ENFORCE_DOMAIN is set; PLAIN always fails, since a password
    /// nobody checks would be no security at all (`plain_server.cpp`; the client sees the
    /// connection close, the server HANDSHAKE_FAILED_NO_DETAIL).
    static func withoutHandler(_ mechanism: MechanismName, enforce: Bool) -> Result<AuthenticationReply, ZMTPError> {
        switch mechanism {
        case .plain:
            return .failure(ZMTPError(.noAuthenticationHandler, blame: .apiMisuse, "PLAIN needs a ZAP handler and none is bound"))
        case .null, .curve:
            if enforce {
                return .failure(ZMTPError(.noAuthenticationHandler, blame: .apiMisuse, "ZAP_ENFORCE_DOMAIN is set and no ZAP handler is bound"))
            }
            return .success(.accept())
        }
    }

    /// The ZAP request in flight, if any.
    private var zap: ZAPClient?

    func engine(_ engine: StreamEngine, stoppedWith reason: EngineStop) {
        zap?.cancel()
        zap = nil
        switch reason {
        case .protocolError(let error) where !handshook:
            events.record(.handshakeFailed(endpoint: endpoint, error: error))
        case .protocolError(let error):
            events.record(.disconnected(endpoint: endpoint, reason: .protocolError(error)))
        case .transport(let error):
            events.record(.disconnected(endpoint: endpoint, reason: .transport(error)))
        case .closedByPeer:
            events.record(.disconnected(endpoint: endpoint, reason: .closedByPeer))
        case .stopped:
            events.record(.disconnected(endpoint: endpoint, reason: .local))
        }
        handshook = false
        engineStopped()
    }

    /// The current engine completed its handshake.
    private var handshook = false

    func engineFoundPipeClosed(_ engine: StreamEngine) {
        closing = true
    }

    /// The engine is gone: an accepted session ends; a connect retries.
    func engineStopped() {
        guard case .active = state else { return }
        state = .idle
        pipe?.setSink(self)
        switch role {
        case .accepted:
            end()
        case .connect where closing:
            // The socket is gone: reconnect only to deliver what still waits, within LINGER.
            scheduleRetry()
        case .connect:
            // libzmq ends a raw (STREAM) session whose pipe the socket closed.
            if configuration.raw, pipe?.peerClosed ?? false {
                end()
                return
            }
            if configuration.immediate || configuration.reconnectInterval == nil || configuration.raw {
                // No queueing without a live peer: the socket forgets this pipe.
                pipe?.close()
                pipe = nil
                socketEnd = nil
            }
            scheduleRetry()
        }
    }

    // MARK: Termination

    /// The socket closed its end of our pipe (close, disconnect, unbind): no more retries. The
    /// engine sends what is left; ``terminate(linger:)`` bounds how long.
    private func socketClosedPipe() {
        closing = true
        switch state {
        case .active, .ended: break
        case .connecting, .waitingToRetry, .idle:
            if !hasMessagesToDeliver { end() }
        }
    }

    /// The socket left messages for the peer. A SUB's pipe carries only its subscriptions,
    /// which are the socket's state rather than anything promised to the peer (a new connection
    /// is told them afresh), and there is no socket left to receive what they would select: they
    /// never hold a closing session, whatever LINGER says. An XSUB's may carry messages the
    /// application sent, so they count (its default LINGER of 0 lets them go).
    private var hasMessagesToDeliver: Bool {
        configuration.socketType != .sub && (pipe?.checkRead() ?? false)
    }

    /// The socket asks us to end, sending what is queued for at most `linger` (nil: as long as
    /// it takes).
    func terminate(linger: Duration?) {
        closing = true
        switch state {
        case .ended:
            return
        case .active:
            if pipe == nil || linger == .zero {
                end()
                return
            }
        case .connecting, .waitingToRetry, .idle:
            // Not connected: keep trying only while messages wait and LINGER allows.
            if !hasMessagesToDeliver || linger == .zero {
                end()
                return
            }
        }
        if let linger, lingerTimer == nil {
            lingerTimer = reactor.schedule(afterMilliseconds: SessionConfiguration.milliseconds(linger)) { [weak self] in
                self?.lingerExpired()
            }
        }
    }

    private func lingerExpired() {
        lingerTimer = nil
        end()
    }

    private var isEnded: Bool {
        if case .ended = state { return true }
        return false
    }

    private func end() {
        let previous = state
        // Ended first: stopping the engine calls back into engineStopped, which must find the
        // session over rather than end it a second time.
        state = .ended
        switch previous {
        case .ended: return
        case .connecting(let connecter): connecter.cancel()
        case .waitingToRetry(let timer): reactor.cancel(timer)
        case .active(let engine): engine.stop()
        case .idle: break
        }
        if let lingerTimer { reactor.cancel(lingerTimer) }
        lingerTimer = nil
        zap?.cancel()
        zap = nil
        pipe?.close()
        pipe = nil
        socketEnd = nil
        let lingering = registry.remove(id)
        if case .connect = role { events.record(.closed(endpoint: endpoint)) }
        // Only a connect's end concerns the socket (it forgets the routing id it assigned);
        // an accepted connection that failed its handshake must not leave a command behind in
        // an idle socket's mailbox for every refused peer.
        if case .connect = role { mailbox.post(.sessionEnded(id)) }
        context.sessionEnded(lingering: lingering)
    }

    // MARK: PipeEventSink (while no engine owns the pipe)

    func pipeBecameReadable(_ pipe: PipeID) {}
    func pipeBecameWritable(_ pipe: PipeID) {}
    func pipePeerClosed(_ pipe: PipeID) {
        reactor.post { [weak self] in
            // A pipe we already let go of closing is not the socket closing ours (a raw
            // engine keeps its old pipe end alive).
            guard let self, self.pipe?.id == pipe else { return }
            guard case .active = self.state else {
                self.socketClosedPipe()
                return
            }
            // The engine owns the pipe and reports the closing itself.
        }
    }
}

/// Carries an engine into a reactor task (everything runs on that reactor's thread).
private struct EngineBox: @unchecked Sendable {
    let engine: StreamEngine
}
