/// One ZMTP connection as a sans-IO state machine: greeting, mechanism handshake, then
/// messages, commands and heartbeats (RFC 23/37, with libzmq's behaviour where it differs).
///
/// The connection never touches a socket, a clock or a random generator. Its driver owns the
/// byte stream and calls, in any order that respects these rules:
///
/// 1. ``receive(_:now:)-([UInt8],_)`` with every chunk of bytes read from the stream. It only buffers.
/// 2. ``nextEvent()`` until it returns nil: each call parses as much as one event needs.
/// 3. ``pollTransmit(into:)`` and writes what it appended to the stream.
/// 4. ``nextDeadline`` tells when to call ``handleTimeout(now:)`` if nothing else happens first.
///
/// ``send(_:)-(Message)`` queues a message part (before the handshake completes too: queued parts go out
/// once it does). ``completeAuthentication(_:now:)`` answers an
/// ``ConnectionEvent/authenticationRequest(_:)``. Once ``ConnectionEvent/failed(_:)`` is
/// reported the error is sticky: transmit what is left (perhaps an ERROR command) and close.
///
/// The configuration, and so the long-term CURVE secret key or the PLAIN password in it, lives as
/// long as the connection; the mechanisms keep transient secrets only in the states that need
/// them. `Connection` is a value, but the CURVE nonce counters are shared by all copies, so a
/// copied connection can never seal two messages under one nonce.
///
/// ```swift
/// var connection = Connection(configuration: .init(socketType: .dealer), random: random, now: clock.now)
/// while true {
///     var out: [UInt8] = []
///     connection.pollTransmit(into: &out); write(fd, out)
///     let chunk = read(fd)                       // or wait until connection.nextDeadline
///     connection.receive(chunk, now: clock.now)
///     while let event = connection.nextEvent() { handle(event) }
/// }
/// ```
public struct Connection {
    /// The phases of a connection. Each case carries the data only that phase needs.
    enum State {
        /// Exchanging greetings (RFC 23 §Greeting, RFC 37 §Version Negotiation).
        case greeting(GreetingPhase)
        /// Running the mechanism's handshake commands.
        case handshake(HandshakePhase)
        /// A ZMTP 1.0/2.0 peer: its first frame is its identity (RFC 13/15).
        case legacyIdentity(LegacyPhase)
        /// Messages flow.
        case ready(PeerInfo)
        /// A fatal error; every later call reports it.
        case failed(ZMTPError)
    }

    /// How much of our greeting has been sent (staged only with ``Configuration/acceptLegacyPeers``).
    enum GreetingStage { case signatureSent, majorSent, complete }

    struct GreetingPhase {
        var stage: GreetingStage
    }

    struct HandshakePhase {
        var peerVersion: (major: UInt8, minor: UInt8)
        var mechanism: MechanismMachine
        var awaitingAuthentication: Bool
    }

    struct LegacyPhase {
        var version: (major: UInt8, minor: UInt8)
        var socketType: SocketType?
    }

    /// The mechanism's state machine: one case per mechanism side.
    enum MechanismMachine {
        case null(NullHandshake)
        case plainClient(PlainClientHandshake)
        case plainServer(PlainServerHandshake)
        case curveClient(CurveClientHandshake)
        case curveServer(CurveServerHandshake)
    }

    /// Something the application sent before the handshake completed.
    enum Outgoing {
        case message(Message)
        case command(Command)
    }

    // MARK: Stored state

    let configuration: Configuration
    let crypto: (any CurveCrypto)?
    let random: RandomSource
    var state: State {
        didSet {
            if case .ready = state { readyForFrames = true } else { readyForFrames = false }
        }
    }
    /// `state` is `.ready`: tested once per frame, where matching the enum itself copied it
    /// (with the peer's properties) through its value witness.
    private(set) var readyForFrames = false

    /// Bytes received and not yet parsed: `inbound[inboundStart...]`.
    var inbound: [UInt8] = []
    var inboundStart = 0
    var decoder: FrameDecoder
    /// Bytes waiting for ``pollTransmit(into:)``.
    var outbound: [UInt8] = []
    /// Large message bodies waiting to be sent by reference, each at its offset in `outbound`.
    var outboundBodies: [TransmitBody] = []
    /// The total size of `outboundBodies`.
    var outboundBodyBytes = 0
    /// Events produced but not yet returned (FIFO from `eventsHead`).
    var events: [ConnectionEvent] = []
    var eventsHead = 0
    /// What the application sent before the handshake completed.
    var queued: [Outgoing] = []
    /// How data frames are protected once ready.
    var dataCodec: DataCodec = .plaintext
    /// The framing the peer speaks.
    var framing: FramingVersion = .zmtp3
    /// Whether the previous data part received had MORE set (a multipart message is open).
    var receivingMultipart = false

    // MARK: Time

    /// The latest `now` the driver gave us.
    var clock: ZMTPInstant
    var handshakeDeadline: ZMTPInstant?
    var lastReceived: ZMTPInstant
    var nextPing: ZMTPInstant?
    var pingTimeoutDeadline: ZMTPInstant?
    /// The TTL the peer asked for in its last PING (`.zero` = none).
    var peerTTL: Duration = .zero
    /// A PONG is waiting in `outbound`: like libzmq, at most one is kept, so a peer that floods
    /// PINGs and never reads cannot make us queue answers without bound.
    var pongPending = false

    /// The largest frame accepted before the handshake completes, whatever
    /// ``Configuration/maxMessageSize`` says: handshake commands are small (a CURVE INITIATE is
    /// 257 bytes plus metadata), and a peer that has not authenticated gets no more room.
    public static let maxHandshakeFrameSize = 1 << 20

    // MARK: Creation

    /// Creates a connection and queues our greeting.
    ///
    /// - Parameters:
    ///   - configuration: our side's options.
    ///   - crypto: the CURVE primitives; required when `configuration.security` is CURVE.
    ///   - random: the randomness CURVE uses: by default the system's (``SystemRandom``); a
    ///     `SeededRandom` (`@_spi(Testing)`) reproduces transcripts.
    ///   - now: the current time, which starts the handshake timer.
    public init(configuration: Configuration, crypto: (any CurveCrypto)? = nil, random: RandomSource = SystemRandom(), now: ZMTPInstant) {
        self.configuration = configuration
        self.crypto = crypto
        self.random = random
        self.clock = now
        self.lastReceived = now
        let limit = configuration.maxMessageSize.map { $0 < 0 ? Self.maxHandshakeFrameSize : min($0, Self.maxHandshakeFrameSize) }
        self.decoder = FrameDecoder(version: .zmtp3, maxMessageSize: limit ?? Self.maxHandshakeFrameSize)
        self.state = .greeting(GreetingPhase(stage: .complete))
        // A configuration that cannot work fails now, before we advertise a mechanism.
        do throws(ZMTPError) {
            try configuration.validate(hasCrypto: crypto != nil)
        } catch {
            state = .failed(error)
            events.append(.failed(error))
            return
        }
        if configuration.handshakeTimeout > .zero {
            handshakeDeadline = now.adding(configuration.handshakeTimeout)
        }
        let staged = configuration.acceptLegacyPeers && configuration.security.allowsLegacyPeers
        let greeting = ourGreeting()
        if staged {
            // libzmq's order: a signature that doubles as a ZMTP 1.0 identity-frame header.
            outbound.append(contentsOf: greeting.prefix(10))
            state = .greeting(GreetingPhase(stage: .signatureSent))
        } else {
            outbound.append(contentsOf: greeting)
        }
    }

    /// Our 64-byte greeting. The signature carries the identity length + 1 (libzmq's v1 trick);
    /// as-server is always 0, as libzmq sends it.
    func ourGreeting() -> [UInt8] {
        var bytes = Greeting.signature(identityLength: configuration.identity.count)
        let full = Greeting(minor: configuration.greetingMinorVersion, mechanism: configuration.security.mechanism, asServer: false).encoded()
        bytes.append(contentsOf: full[10...])
        return bytes
    }

    // MARK: Public API

    /// Buffers bytes read from the stream. Any byte counts as liveness for heartbeats.
    public mutating func receive(_ bytes: UnsafeRawBufferPointer, now: ZMTPInstant) {
        noteReceived(count: bytes.count, now: now)
        buffer(bytes)
    }

    /// Keeps bytes for ``nextEvent()`` to parse.
    private mutating func buffer(_ bytes: UnsafeRawBufferPointer) {
        guard case .failed = state else {
            var rest = bytes
            // Nothing unparsed is waiting and a large body is being filled: its bytes go straight
            // into it (one copy, not two through `inbound`). The body's last octet still takes the
            // usual path, so the frame completes where every frame does, in `nextEvent()`.
            if inboundStart == inbound.count, decoder.largeBodyRemaining > 1 {
                let taken = decoder.fillLargeBody(bytes)
                rest = UnsafeRawBufferPointer(rebasing: bytes[taken...])
            }
            inbound.append(contentsOf: rest)
            return
        }
    }

    /// Takes bytes read from the stream and hands every whole message part in them straight to
    /// `deliver`, decoded in place: no copy of the input, no event built per part. This is the
    /// driver's fast path; what it cannot take this way is buffered as ``receive(_:now:)-([UInt8],_)``
    /// buffers it and comes out of ``nextEvent()`` as usual: commands, a frame cut by the end of
    /// `bytes`, anything before the handshake completes, CURVE frames, and subscriptions to a
    /// PUB or XPUB.
    ///
    /// `deliver` returns false when it cannot take a part now (its queue is full): that part is
    /// then the first thing ``nextEvent()`` returns, and nothing after it is delivered here.
    public mutating func receive(_ bytes: UnsafeRawBufferPointer, now: ZMTPInstant, delivering deliver: (Message) -> Bool) {
        guard decodesInPlace else { return receive(bytes, now: now) }
        noteReceived(count: bytes.count, now: now)
        let used = decodeInPlace(bytes, delivering: deliver)
        if used < bytes.count, error == nil {
            buffer(UnsafeRawBufferPointer(rebasing: bytes[used...]))
        }
    }

    /// Hands the whole message parts among the bytes already buffered to `deliver`, as
    /// ``receive(_:now:delivering:)`` does with new bytes: a driver whose receiver refused a
    /// part, or that was waiting for a command's event to be taken, resumes here once it has
    /// room, and what the fast path cannot take stays for ``nextEvent()``. Does nothing while
    /// an event waits in ``nextEvent()``.
    public mutating func deliverBuffered(_ deliver: (Message) -> Bool) {
        guard readyForFrames, inboundStart < inbound.count, eventsHead == events.count, decodesDataInPlace else { return }
        let buffered = inbound
        let start = inboundStart
        let used = buffered.withUnsafeBytes { raw in
            decodeInPlace(UnsafeRawBufferPointer(rebasing: raw[start...]), delivering: deliver)
        }
        if error == nil { consumeInbound(used) }
    }

    /// The fast path's loop: whole data parts go to `deliver`, commands are handled, and a frame
    /// cut by the end of `bytes` goes into the decoder. Stops after a part `deliver` refused or
    /// an event (both then wait in `events`), or at a body waiting for room; returns how many
    /// bytes it used. A protocol error fails the connection.
    private mutating func decodeInPlace(_ bytes: UnsafeRawBufferPointer, delivering deliver: (Message) -> Bool) -> Int {
        var offset = 0
        do throws(ZMTPError) {
            decoding: while offset < bytes.count {
                if let message = try decoder.decodeWholeMessage(bytes, at: &offset) {
                    receivingMultipart = message.more
                    guard deliver(message) else {
                        events.append(.message(message))
                        break decoding
                    }
                    continue
                }
                // A command, or a frame cut by the end of the input (or by the previous one):
                // the decoder takes it whole, or keeps its start until the next read.
                let (frame, used) = try decoder.decode(UnsafeRawBufferPointer(rebasing: bytes[offset...]))
                offset += used
                guard let frame else { break decoding }
                switch frame {
                case .message(let message):
                    receivingMultipart = message.more
                    guard deliver(message) else {
                        events.append(.message(message))
                        break decoding
                    }
                case .command(let body):
                    if case .event(let event) = try handleCommand(body[...]) {
                        // Reported in order: what follows waits behind it.
                        events.append(event)
                        break decoding
                    }
                }
            }
        } catch {
            fail(error)
        }
        return offset
    }

    /// Whether bytes arriving now can be decoded in place: data frames flow, nothing received
    /// earlier waits to be parsed or reported, and a data part is a message part (not a CURVE
    /// box, not a PUB's subscription).
    private var decodesInPlace: Bool {
        readyForFrames && inboundStart == inbound.count && eventsHead == events.count && decodesDataInPlace
    }

    /// Whether a data frame is a message part as it stands (not a CURVE box, and not possibly a
    /// subscription to a PUB or XPUB).
    private var decodesDataInPlace: Bool {
        guard case .plaintext = dataCodec else { return false }
        return configuration.socketType != .pub && configuration.socketType != .xpub
    }

    /// Lets the driver read a large message body straight into its storage (libzmq's zero-copy
    /// receive of large messages): when nothing unparsed is buffered and a large body is being
    /// filled, `read` gets the body's free room and returns how many octets it wrote there, as
    /// `read(2)` does (0: end of stream, negative: an error, both left to the driver). The core
    /// still does no I/O: the driver's closure does. Returns nil, without calling `read`, when
    /// the next octets must go through ``receive(_:now:)-([UInt8],_)``.
    public mutating func readLargeBody(now: ZMTPInstant, _ read: (UnsafeMutableRawBufferPointer) -> Int) -> Int? {
        if case .failed = state { return nil }
        guard inboundStart == inbound.count else { return nil }
        guard let n = decoder.readLargeBody(read) else { return nil }
        if n > 0 { noteReceived(count: n, now: now) }
        return n
    }

    /// How many octets of a large body being received are still to come (0 when none is).
    public var largeBodyRemaining: Int { decoder.largeBodyRemaining }

    /// The most memory, in octets, the frame being received may occupy (unlimited by default):
    /// a driver that budgets memory across connections sets it, and raises it when
    /// ``bodyAwaitingRoom`` asks for more (see ``FrameDecoder/bodyRoomLimit``).
    public var bodyRoomLimit: Int {
        get { decoder.bodyRoomLimit }
        set { decoder.bodyRoomLimit = newValue }
    }

    /// The declared size of the frame being received when it waits for ``bodyRoomLimit`` to be
    /// raised; nil otherwise. While it waits, ``nextEvent()`` returns nil and the bytes after
    /// the body's room stay buffered.
    public var bodyAwaitingRoom: Int? { decoder.bodyAwaitingRoom }

    /// The memory held for the frame being received; 0 when none is in progress.
    public var bodyRoom: Int { decoder.bodyRoom }

    /// Bytes received and not yet parsed. A driver reads no more while this is large (the core
    /// waits for an authentication answer or for room), so what it buffers stays bounded.
    public var bufferedInputCount: Int { inbound.count - inboundStart }

    /// Buffers bytes read from the stream, adopting the array without a copy when nothing
    /// else is buffered.
    public mutating func receive(_ bytes: [UInt8], now: ZMTPInstant) {
        noteReceived(count: bytes.count, now: now)
        if case .failed = state { return }
        if inboundStart == inbound.count {
            inbound = bytes
            inboundStart = 0
        } else {
            inbound.append(contentsOf: bytes)
        }
    }

    private mutating func noteReceived(count: Int, now: ZMTPInstant) {
        clock = max(clock, now)
        guard count > 0 else { return }
        lastReceived = clock
        pingTimeoutDeadline = nil
    }

    /// The next thing that happened, or nil when more bytes (or an answer) are needed.
    public mutating func nextEvent() -> ConnectionEvent? {
        while true {
            if eventsHead < events.count {
                let event = events[eventsHead]
                eventsHead += 1
                if eventsHead == events.count {
                    events.removeAll(keepingCapacity: true)
                    eventsHead = 0
                }
                return event
            }
            do throws(ZMTPError) {
                switch try advance() {
                case .event(let event): return event
                case .progressed: continue
                case .stalled: return nil
                }
            } catch {
                fail(error)
            }
        }
    }

    /// Appends every byte waiting to be sent to `buffer`; returns how many were appended.
    /// Large bodies (see ``pollTransmit(into:bodies:)``) are copied in.
    @discardableResult
    public mutating func pollTransmit(into buffer: inout [UInt8]) -> Int {
        let count = outbound.count + outboundBodyBytes
        guard count > 0 else { return 0 }
        if outboundBodies.isEmpty && buffer.isEmpty {
            swap(&buffer, &outbound)
        } else {
            var cursor = 0
            for body in outboundBodies {
                buffer.append(contentsOf: outbound[cursor..<body.offset])
                body.body.withUnsafeBytes { buffer.append(contentsOf: $0.assumingMemoryBound(to: UInt8.self)) }
                cursor = body.offset
            }
            buffer.append(contentsOf: outbound[cursor...])
        }
        clearTransmitted()
        return count
    }

    /// Appends the bytes waiting to be sent to `buffer`, except large message bodies, which are
    /// appended to `bodies` by reference with the offset in `buffer` where they belong: the
    /// stream is `buffer[..<b0.offset]`, `b0.bytes`, `buffer[b0.offset..<b1.offset]`, … A driver
    /// writes them with one vectored write and copies nothing (libzmq's zero-copy send of large
    /// messages). Returns the number of stream bytes added.
    @discardableResult
    public mutating func pollTransmit(into buffer: inout [UInt8], bodies: inout [TransmitBody]) -> Int {
        let count = outbound.count + outboundBodyBytes
        guard count > 0 else { return 0 }
        let base: Int
        if buffer.isEmpty {
            swap(&buffer, &outbound)
            base = 0
        } else {
            base = buffer.count
            buffer.append(contentsOf: outbound)
        }
        for body in outboundBodies {
            bodies.append(TransmitBody(offset: base + body.offset, body: body.body))
        }
        clearTransmitted()
        return count
    }

    private mutating func clearTransmitted() {
        outbound.removeAll(keepingCapacity: true)
        outboundBodies.removeAll(keepingCapacity: true)
        outboundBodyBytes = 0
        pongPending = false
    }

    /// Whether bytes are waiting for ``pollTransmit(into:)``.
    public var hasPendingTransmit: Bool { !outbound.isEmpty || outboundBodyBytes > 0 }

    /// How many bytes are waiting for ``pollTransmit(into:)``: a driver stops feeding messages
    /// (and stops reading a peer that does not read) once this passes its high-water mark.
    public var pendingTransmitCount: Int { outbound.count + outboundBodyBytes }

    /// Plaintext message bodies of at least this many bytes are not copied into the transmit
    /// buffer but passed by reference through ``pollTransmit(into:bodies:)``.
    public static let sharedBodyThreshold = 16_384

    /// Queues one message part. Before the handshake completes, parts wait and go out in order
    /// once it does.
    /// - Throws: the sticky error once the connection has failed.
    public mutating func send(_ message: Message) throws(ZMTPError) {
        if readyForFrames {
            encodeMessage(message)
            return
        }
        switch state {
        case .failed(let error): throw error
        case .greeting, .handshake, .legacyIdentity: queued.append(.message(message))
        case .ready: encodeMessage(message)
        }
    }

    /// Queues a command: SUBSCRIBE/CANCEL (sent as 0x01/0x00 data frames to peers older than
    /// ZMTP 3.1, RFC 37), JOIN/LEAVE, or any other command.
    public mutating func send(_ command: Command) throws(ZMTPError) {
        switch state {
        case .failed(let error): throw error
        case .greeting, .handshake, .legacyIdentity: queued.append(.command(command))
        case .ready(let peer): try encodeCommand(command, peer: peer)
        }
    }

    /// Answers the pending ``ConnectionEvent/authenticationRequest(_:)``.
    public mutating func completeAuthentication(_ reply: AuthenticationReply, now: ZMTPInstant) throws(ZMTPError) {
        clock = max(clock, now)
        guard case .handshake(var phase) = state, phase.awaitingAuthentication else {
            if case .failed(let error) = state { throw error }
            throw .misuse(.invalidState, "no authentication request is pending")
        }
        phase.awaitingAuthentication = false
        do throws(ZMTPError) {
            let step: HandshakeStep
            switch phase.mechanism {
            case .null(var m): step = try m.resume(reply); phase.mechanism = .null(m)
            case .plainServer(var m): step = try m.resume(reply); phase.mechanism = .plainServer(m)
            case .curveServer(var m): step = try m.resume(reply); phase.mechanism = .curveServer(m)
            case .plainClient, .curveClient: throw ZMTPError.misuse(.invalidState, "clients do not authenticate")
            }
            state = .handshake(phase)
            try apply(step, peerVersion: phase.peerVersion)
        } catch {
            fail(error)
        }
    }

    /// Ends the pending ``ConnectionEvent/authenticationRequest(_:)`` with `error` when no valid
    /// answer can come: the ZAP handler's reply was malformed (libzmq's `ZAP_*` protocol
    /// errors), the handler went away, or policy needs a handler and none exists. Nothing is
    /// sent to the peer (libzmq closes the connection without an ERROR in these cases).
    public mutating func failAuthentication(_ error: ZMTPError, now: ZMTPInstant) throws(ZMTPError) {
        clock = max(clock, now)
        guard case .handshake(let phase) = state, phase.awaitingAuthentication else {
            if case .failed(let error) = state { throw error }
            throw .misuse(.invalidState, "no authentication request is pending")
        }
        fail(error)
    }

    /// What the handshake told us about the peer, once ready.
    public var peer: PeerInfo? {
        if case .ready(let peer) = state { return peer }
        return nil
    }

    /// The sticky error, once failed.
    public var error: ZMTPError? {
        if case .failed(let error) = state { return error }
        return nil
    }

    /// Whether the handshake has completed and the connection has not failed.
    public var isReady: Bool {
        if case .ready = state { return true }
        return false
    }

    // MARK: Failure

    /// Makes `error` sticky, reports it once, and drops what was waiting to be sent by the
    /// application. No ERROR goes out for protocol errors: like libzmq, ERROR is sent only when
    /// authentication refuses the peer (the mechanisms queue it), so a probing peer learns
    /// nothing about which check failed.
    mutating func fail(_ error: ZMTPError) {
        if case .failed = state { return }
        state = .failed(error)
        queued.removeAll()
        inbound.removeAll()
        inboundStart = 0
        events.append(.failed(error))
    }

    // MARK: Parsing loop

    enum Advance {
        case event(ConnectionEvent)
        case progressed
        case stalled
    }

    /// Parses as much as one step needs.
    mutating func advance() throws(ZMTPError) -> Advance {
        if readyForFrames { return try advanceReady() }
        switch state {
        case .failed: return .stalled
        case .greeting(let phase): return try advanceGreeting(phase)
        case .handshake(let phase): return try advanceHandshake(phase)
        case .legacyIdentity(let phase): return try advanceLegacyIdentity(phase)
        // Not `.ready(let peer)`: binding would copy the peer's properties for every frame.
        case .ready: return try advanceReady()
        }
    }

    /// Decodes one frame from the buffered bytes, or nil when more are needed.
    mutating func decodeFrame() throws(ZMTPError) -> Frame? {
        guard inboundStart < inbound.count else { return nil }
        let start = inboundStart
        // A second reference to the buffer (no copy: it is only read) keeps `self` free for the
        // decoder's mutation inside the closure.
        let buffer = inbound
        var outcome: Result<(frame: Frame?, consumed: Int), ZMTPError> = .success((nil, 0))
        buffer.withUnsafeBytes { raw in
            do throws(ZMTPError) {
                outcome = .success(try decoder.decode(UnsafeRawBufferPointer(rebasing: raw[start...])))
            } catch {
                outcome = .failure(error)
            }
        }
        let result = try outcome.get()
        consumeInbound(result.consumed)
        return result.frame
    }

    mutating func consumeInbound(_ count: Int) {
        inboundStart += count
        if inboundStart >= inbound.count {
            inbound.removeAll(keepingCapacity: true)
            inboundStart = 0
        }
    }

    mutating func emit(_ event: ConnectionEvent) {
        events.append(event)
    }
}
