import Testing
@testable import ZMTP

@Suite("Connection: NULL and PLAIN handshakes, messages, heartbeats")
struct ConnectionTests {
    static func config(_ type: SocketType, _ security: Security = .null(zapDomain: nil), identity: String = "") -> Connection.Configuration {
        var c = Connection.Configuration(socketType: type, security: security)
        c.identity = Array(identity.utf8)
        return c
    }

    @Test("NULL DEALER↔ROUTER completes and carries metadata", arguments: [false, true])
    func nullHandshakeCompletes(drip: Bool) {
        var c = Self.config(.dealer, identity: "client-1")
        c.properties = ["X-Color": "blue"]
        var pair = ConnectionPair(client: c, server: Self.config(.router))
        pair.dripFeed = drip
        pair.drive()
        #expect(pair.clientError == nil && pair.serverError == nil)
        #expect(pair.serverPeer?.socketType == .dealer)
        #expect(pair.serverPeer?.identity == ascii("client-1"))
        #expect(pair.serverPeer?.metadata.string("x-color") == "blue")
        #expect(pair.clientPeer?.socketType == .router)
        #expect(pair.clientPeer?.version.minor == 1)
        // Both sides sent the whole 64-byte greeting first, as-server 0, then READY.
        #expect(Array(pair.clientWire.prefix(12)) == hex("ff 00 00 00 00 00 00 00 09 7f 03 01"))
        #expect(pair.serverWire[32] == 0)
    }

    @Test("multipart messages cross both ways intact, whatever the chunking", arguments: [false, true])
    func multipartBothWays(drip: Bool) throws {
        var pair = ConnectionPair(client: Self.config(.dealer), server: Self.config(.router))
        pair.dripFeed = drip
        let big = [UInt8](repeating: 0xAB, count: 70_000)
        try pair.client.send(Message(string: "A", more: true))
        try pair.client.send(Message(big, more: true))
        try pair.client.send(Message(string: "end"))
        pair.drive()
        try pair.server.send(Message(string: "reply"))
        pair.drive()
        #expect(pair.serverMessages == [Message(string: "A", more: true), Message(big, more: true), Message(string: "end")])
        #expect(pair.clientMessages == [Message(string: "reply")])
    }

    @Test func messagesQueuedBeforeTheHandshakeAreDeliveredAfterIt() throws {
        var pair = ConnectionPair(client: Self.config(.push), server: Self.config(.pull))
        for i in 0..<5 { try pair.client.send(Message(string: "m\(i)")) }
        pair.drive()
        #expect(pair.serverMessages.map(\.string) == ["m0", "m1", "m2", "m3", "m4"])
    }

    @Test func incompatibleSocketTypesFailOnBothSides() {
        var pair = ConnectionPair(client: Self.config(.pub), server: Self.config(.push))
        pair.drive()
        #expect(pair.clientError?.code == .incompatibleSocketType)
        #expect(pair.serverError?.code == .incompatibleSocketType)
        #expect(pair.clientPeer == nil && pair.serverPeer == nil)
    }

    @Test func mechanismMismatchIsTyped() {
        var pair = ConnectionPair(client: Self.config(.dealer), server: Self.config(.router, .plainServer(zapDomain: "")))
        pair.drive()
        #expect(pair.clientError?.code == .mechanismMismatch)
        #expect(pair.serverError?.code == .mechanismMismatch)
        #expect(pair.serverError?.blame == .peerIncompatible)
    }

    @Test func errorIsStickyAndSendThrowsIt() {
        var pair = ConnectionPair(client: Self.config(.pub), server: Self.config(.push))
        pair.drive()
        #expect(throws: ZMTPError.self) { try pair.client.send(Message(string: "x")) }
        #expect(pair.client.nextDeadline == nil)
        #expect(pair.client.error?.code == .incompatibleSocketType)
    }

    // MARK: PLAIN

    @Test("PLAIN succeeds and the server sees the credentials", arguments: [false, true])
    func plainSucceeds(drip: Bool) throws {
        var seen: [AuthenticationRequest] = []
        var pair = ConnectionPair(client: Self.config(.req, .plainClient(username: ascii("admin"), password: ascii("password"))),
                                  server: Self.config(.rep, .plainServer(zapDomain: "global")))
        pair.dripFeed = drip
        pair.authenticator = { request in
            seen.append(request)
            return request.credentials == [ascii("admin"), ascii("password")] ? .accept(userID: "admin") : .deny
        }
        pair.drive()
        #expect(seen.count == 1)
        #expect(seen.first?.mechanism == .plain && seen.first?.domain == "global")
        #expect(pair.serverPeer?.authentication?.userID == "admin")
        #expect(pair.clientPeer?.socketType == .rep)
        try pair.client.send(Message(string: "hi"))
        pair.drive()
        #expect(pair.serverMessages == [Message(string: "hi")])
    }

    @Test func plainDeniedSendsErrorAndBothSidesFail() throws {
        var pair = ConnectionPair(client: Self.config(.req, .plainClient(username: ascii("admin"), password: ascii("wrong"))),
                                  server: Self.config(.rep, .plainServer(zapDomain: "")))
        pair.authenticator = { _ in .deny }
        try pair.client.send(Message(string: "secret"))
        pair.drive()
        #expect(pair.serverError?.code == .authenticationFailed)
        #expect(pair.clientError?.code == .authenticationFailed)
        #expect(pair.clientError?.detail == "400")
        #expect(pair.serverMessages.isEmpty)
    }

    @Test func plainStatus300ClosesWithoutError() {
        var pair = ConnectionPair(client: Self.config(.req, .plainClient(username: [], password: [])),
                                  server: Self.config(.rep, .plainServer(zapDomain: "")))
        pair.authenticator = { _ in AuthenticationReply(statusCode: "300") }
        pair.drive()
        #expect(pair.serverError?.code == .authenticationFailed)
        #expect(pair.clientError == nil)
        pair.advance(by: .milliseconds(30_001))
        #expect(pair.clientError?.code == .handshakeTimeout)
    }

    @Test func plainServerWaitsForTheApplication() {
        var pair = ConnectionPair(client: Self.config(.dealer, .plainClient(username: ascii("u"), password: ascii("p"))),
                                  server: Self.config(.router, .plainServer(zapDomain: "")))
        pair.authenticator = nil
        pair.drive()
        #expect(pair.serverEvents.contains { if case .authenticationRequest = $0 { return true } else { return false } })
        #expect(pair.serverPeer == nil)
        #expect(throws: ZMTPError.self) { try pair.client.completeAuthentication(.accept(), now: .zero) }
        try? pair.server.completeAuthentication(.accept(), now: .zero)
        pair.drive()
        #expect(pair.serverPeer != nil && pair.clientPeer != nil)
    }

    @Test func nullWithDomainAsksTheApplication() {
        var asked = 0
        var pair = ConnectionPair(client: Self.config(.dealer), server: Self.config(.router, .null(zapDomain: "d")))
        pair.authenticator = { _ in asked += 1; return .accept(userID: "anon") }
        pair.drive()
        #expect(asked == 1)
        #expect(pair.serverPeer?.authentication?.userID == "anon")
        #expect(pair.clientPeer != nil)
    }

    // MARK: Timers

    @Test func handshakeTimesOutWhenThePeerIsSilent() {
        var peer = RawPeer(Self.config(.dealer))
        #expect(peer.connection.nextDeadline == ZMTPInstant.zero.adding(.milliseconds(30_000)))
        peer.connection.handleTimeout(now: .zero.adding(.milliseconds(29_999)))
        #expect(peer.connection.error == nil)
        peer.connection.handleTimeout(now: .zero.adding(.milliseconds(30_000)))
        #expect(peer.connection.error?.code == .handshakeTimeout)
    }

    @Test func heartbeatsKeepAnAnsweringPeerAlive() {
        var c = Self.config(.dealer)
        c.heartbeatInterval = .milliseconds(100)
        c.heartbeatTTL = .milliseconds(1500)
        var pair = ConnectionPair(client: c, server: Self.config(.router))
        pair.drive()
        let before = pair.clientWire.count
        for _ in 0..<20 { pair.advance(by: .milliseconds(50)) }
        #expect(pair.clientError == nil && pair.serverError == nil)
        // PINGs with TTL 15 deciseconds went out: 04 07 04 'PING' 00 0f.
        #expect(pair.clientWire[before...].starts(with: hex("04 07 04 50 49 4e 47 00 0f")))
    }

    @Test func heartbeatTimeoutFiresWhenNothingArrives() {
        var c = Self.config(.dealer)
        c.heartbeatInterval = .milliseconds(100)
        c.heartbeatTimeout = .milliseconds(300)
        var pair = ConnectionPair(client: c, server: Self.config(.router))
        pair.drive()
        // Stop delivering: the client pings and hears nothing back.
        var t = ZMTPInstant.zero
        for _ in 0..<5 {
            t = t.adding(.milliseconds(100))
            pair.client.handleTimeout(now: t)
        }
        #expect(pair.client.error?.code == .heartbeatTimeout)
    }

    @Test func anyReceivedByteCountsAsLiveness() {
        var c = Self.config(.dealer)
        c.heartbeatInterval = .milliseconds(100)
        c.heartbeatTimeout = .milliseconds(150)
        var pair = ConnectionPair(client: c, server: Self.config(.router))
        pair.drive()
        pair.client.handleTimeout(now: .zero.adding(.milliseconds(100)))  // PING sent
        pair.client.receive([0x00], now: .zero.adding(.milliseconds(200))) // one byte of a frame
        pair.client.handleTimeout(now: .zero.adding(.milliseconds(260)))
        #expect(pair.client.error == nil)
    }

    @Test func peerTTLClosesASilentPeer() {
        var c = Self.config(.dealer)
        c.heartbeatInterval = .milliseconds(100)
        c.heartbeatTTL = .milliseconds(1000)
        var pair = ConnectionPair(client: c, server: Self.config(.router))
        pair.drive()
        pair.advance(by: .milliseconds(100)) // client PINGs with TTL 10 ds, server answers
        pair.server.handleTimeout(now: pair.now.adding(.milliseconds(999)))
        #expect(pair.server.error == nil)
        pair.server.handleTimeout(now: pair.now.adding(.milliseconds(1000)))
        #expect(pair.server.error?.code == .heartbeatTimeout)
    }

    @Test func thePingTTLIsTruncatedToWholeDeciseconds() {
        var c = Self.config(.dealer)
        c.heartbeatInterval = .milliseconds(100)
        c.heartbeatTTL = .microseconds(1_599_999) // 15.99999 ds: libzmq's ms / 100 truncates too
        var pair = ConnectionPair(client: c, server: Self.config(.router))
        pair.drive()
        let before = pair.clientWire.count
        pair.advance(by: .milliseconds(100))
        #expect(pair.clientWire[before...].starts(with: hex("04 07 04 50 49 4e 47 00 0f")))
    }

    @Test func theLargestHeartbeatTTLFillsTheWireFieldAndOneNanosecondMoreIsRefused() {
        var c = Self.config(.dealer)
        c.heartbeatInterval = .milliseconds(100)
        c.heartbeatTTL = Connection.Configuration.maxHeartbeatTTL
        var pair = ConnectionPair(client: c, server: Self.config(.router))
        pair.drive()
        let before = pair.clientWire.count
        pair.advance(by: .milliseconds(100))
        #expect(pair.clientWire[before...].starts(with: hex("04 07 04 50 49 4e 47 ff ff")))

        c.heartbeatTTL = Connection.Configuration.maxHeartbeatTTL + .nanoseconds(1)
        #expect(RawPeer(c).connection.error?.code == .invalidArgument)
        c.heartbeatTTL = .nanoseconds(-1)
        #expect(RawPeer(c).connection.error?.code == .invalidArgument)
    }

    @Test func aNegativeHandshakeTimeoutMeansNever() {
        var c = Self.config(.dealer)
        c.handshakeTimeout = .seconds(-1)
        let peer = RawPeer(c)
        #expect(peer.connection.nextDeadline == nil)
        #expect(peer.connection.error == nil)
    }

    @Test func anInstantMovesForwardByADurationSaturatingAndNeverBackwards() {
        let start = ZMTPInstant(nanoseconds: 1_000)
        #expect(start.adding(.milliseconds(2)) == ZMTPInstant(nanoseconds: 2_001_000))
        #expect(start.adding(.seconds(1.5)) == ZMTPInstant(nanoseconds: 1_500_001_000))
        #expect(start.adding(.nanoseconds(1) / 2) == start)        // below a nanosecond truncates
        #expect(start.adding(.seconds(-5)) == start)               // negative is zero
        #expect(start.adding(.seconds(Int64.max)) == ZMTPInstant(nanoseconds: .max))
        #expect(ZMTPInstant(nanoseconds: .max - 1).adding(.nanoseconds(5)) == ZMTPInstant(nanoseconds: .max))
    }

    // MARK: Subscriptions

    @Test func subscriptionsTravelAsCommandsToA31Peer() throws {
        var pair = ConnectionPair(client: Self.config(.sub), server: Self.config(.xpub))
        try pair.client.send(.subscribe(topic: ascii("abc")))
        pair.drive()
        #expect(pair.clientWire.suffix(15) == hex("04 0d 09") + ascii("SUBSCRIBEabc"))
        #expect(pair.serverEvents.contains(.subscribe(topic: ascii("abc"))))
        try pair.client.send(.cancel(topic: ascii("abc")))
        pair.drive()
        #expect(pair.serverEvents.contains(.cancel(topic: ascii("abc"))))
    }
}
