@_spi(Testing) @testable import ZMTP

/// Two connections wired back to back, no sockets (quinn's `Pair`, h11's `ConnectionPair`),
/// with a simulated clock. In `dripFeed` mode bytes cross one at a time.
struct ConnectionPair {
    var client: Connection
    var server: Connection
    var clientEvents: [ConnectionEvent] = []
    var serverEvents: [ConnectionEvent] = []
    var now = ZMTPInstant.zero
    var dripFeed = false
    /// Answers authentication requests on either side (nil: leave them pending).
    var authenticator: ((AuthenticationRequest) -> AuthenticationReply)? = { _ in .accept() }
    /// Every byte each side transmitted, in order.
    var clientWire: [UInt8] = []
    var serverWire: [UInt8] = []

    init(client: Connection.Configuration, server: Connection.Configuration,
         crypto: (any CurveCrypto)? = nil, clientSeed: UInt64 = 1, serverSeed: UInt64 = 2) {
        self.client = Connection(configuration: client, crypto: crypto, random: SeededRandom(seed: clientSeed), now: .zero)
        self.server = Connection(configuration: server, crypto: crypto, random: SeededRandom(seed: serverSeed), now: .zero)
    }

    /// Moves bytes and events until neither side has anything more to do.
    mutating func drive(rounds: Int = 10_000) {
        for _ in 0..<rounds {
            var moved = false
            var out: [UInt8] = []
            if client.pollTransmit(into: &out) > 0 {
                moved = true
                clientWire += out
                deliver(out, to: \.server)
            }
            out.removeAll()
            if server.pollTransmit(into: &out) > 0 {
                moved = true
                serverWire += out
                deliver(out, to: \.client)
            }
            while let event = client.nextEvent() { moved = true; record(event, client: true) }
            while let event = server.nextEvent() { moved = true; record(event, client: false) }
            if !moved { return }
        }
    }

    private mutating func deliver(_ bytes: [UInt8], to side: WritableKeyPath<ConnectionPair, Connection>) {
        if dripFeed {
            for byte in bytes {
                self[keyPath: side].receive([byte], now: now)
                var events: [ConnectionEvent] = []
                while let e = self[keyPath: side].nextEvent() { events.append(e) }
                for e in events { record(e, client: side == \.client) }
            }
        } else {
            self[keyPath: side].receive(bytes, now: now)
        }
    }

    private mutating func record(_ event: ConnectionEvent, client isClient: Bool) {
        if isClient { clientEvents.append(event) } else { serverEvents.append(event) }
        if case .authenticationRequest(let request) = event, let authenticator {
            let reply = authenticator(request)
            if isClient { try? client.completeAuthentication(reply, now: now) } else { try? server.completeAuthentication(reply, now: now) }
        }
    }

    /// Advances the simulated clock, firing due timers on both sides.
    mutating func advance(by duration: Duration) {
        now = now.adding(duration)
        client.handleTimeout(now: now)
        server.handleTimeout(now: now)
        drive()
    }

    var clientMessages: [Message] { clientEvents.compactMap { if case .message(let m) = $0 { return m } else { return nil } } }
    var serverMessages: [Message] { serverEvents.compactMap { if case .message(let m) = $0 { return m } else { return nil } } }

    var clientPeer: PeerInfo? { clientEvents.lazy.compactMap { if case .handshakeCompleted(let p) = $0 { return p } else { return nil } }.first }
    var serverPeer: PeerInfo? { serverEvents.lazy.compactMap { if case .handshakeCompleted(let p) = $0 { return p } else { return nil } }.first }

    var clientError: ZMTPError? { clientEvents.lazy.compactMap { if case .failed(let e) = $0 { return e } else { return nil } }.first }
    var serverError: ZMTPError? { serverEvents.lazy.compactMap { if case .failed(let e) = $0 { return e } else { return nil } }.first }
}

/// Feeds `bytes` to a fresh connection and collects what it says and sends back.
struct RawPeer {
    var connection: Connection
    var events: [ConnectionEvent] = []
    var sent: [UInt8] = []
    var now = ZMTPInstant.zero

    init(_ configuration: Connection.Configuration, crypto: (any CurveCrypto)? = nil, seed: UInt64 = 7) {
        connection = Connection(configuration: configuration, crypto: crypto, random: SeededRandom(seed: seed), now: .zero)
        flush()
    }

    /// Feeds bytes (one at a time with `drip`) and returns what the connection transmitted.
    @discardableResult
    mutating func feed(_ bytes: [UInt8], drip: Bool = false) -> [UInt8] {
        let before = sent.count
        if drip {
            for b in bytes { connection.receive([b], now: now); pump() }
        } else {
            connection.receive(bytes, now: now); pump()
        }
        return Array(sent[before...])
    }

    mutating func pump() {
        while let e = connection.nextEvent() { events.append(e) }
        flush()
    }

    mutating func flush() {
        var out: [UInt8] = []
        connection.pollTransmit(into: &out)
        sent += out
    }

    var error: ZMTPError? { events.lazy.compactMap { if case .failed(let e) = $0 { return e } else { return nil } }.first }
    var messages: [Message] { events.compactMap { if case .message(let m) = $0 { return m } else { return nil } } }
}

func hex(_ s: String) -> [UInt8] {
    var out: [UInt8] = []
    var it = s.filter { !$0.isWhitespace }.makeIterator()
    while let a = it.next(), let b = it.next() { out.append(UInt8(String([a, b]), radix: 16) ?? 0) }
    return out
}

