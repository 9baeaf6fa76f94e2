import Testing
@testable import ZMTP

/// Byte sequences from libzmq's raw-socket tests and loopback captures (libzmq.md §2.11, §3.3),
/// replayed against the core.
@Suite("Raw wire: libzmq's byte sequences")
struct RawWireTests {
    static let nullGreeting31 = hex("ff 00 00 00 00 00 00 00 01 7f 03 01") + ascii("NULL") + [UInt8](repeating: 0, count: 16) + [0] + [UInt8](repeating: 0, count: 31)
    static var nullGreeting30: [UInt8] { var g = nullGreeting31; g[11] = 0; return g }
    static let readyDealer = hex("04 29 05") + ascii("READY") + hex("0b") + ascii("Socket-Type") + hex("00 00 00 06") + ascii("DEALER") + hex("08") + ascii("Identity") + hex("00 00 00 00")
    static let readySub = hex("04 19 05") + ascii("READY") + hex("0b") + ascii("Socket-Type") + hex("00 00 00 03") + ascii("SUB")
    static let readyXpub = hex("04 1a 05") + ascii("READY") + hex("0b") + ascii("Socket-Type") + hex("00 00 00 04") + ascii("XPUB")

    @Test("ROUTER answers a raw DEALER with libzmq's exact READY", arguments: [false, true])
    func routerReady(drip: Bool) {
        var router = RawPeer(Connection.Configuration(socketType: .router))
        #expect(router.sent == Self.nullGreeting31)
        let reply = router.feed(Self.nullGreeting31 + Self.readyDealer, drip: drip)
        #expect(reply == hex("04 29 05") + ascii("READY") + hex("0b") + ascii("Socket-Type") + hex("00 00 00 06") + ascii("ROUTER") + hex("08") + ascii("Identity") + hex("00 00 00 00"))
        #expect(router.connection.peer?.socketType == .dealer)
        router.feed(hex("01 00 00 05") + ascii("hello"), drip: drip)
        #expect(router.messages == [Message([], more: true), Message(string: "hello")])
    }

    @Test("PING gets a PONG echoing the context, truncated to 16 bytes (test_heartbeats)")
    func pongEcho() {
        var router = RawPeer(Connection.Configuration(socketType: .router))
        router.feed(Self.nullGreeting31 + Self.readyDealer)
        let pong = router.feed(hex("04 0a 04") + ascii("PING") + hex("00 00") + ascii("LOL"))
        #expect(pong == hex("04 08 04") + ascii("PONG") + ascii("LOL"))
        let longPing = hex("04 41 04") + ascii("PING") + hex("00 00") + ascii("LOL") + [UInt8](repeating: 0x7a, count: 65 - 5 - 2 - 3)
        let pong2 = router.feed(longPing)
        #expect(pong2 == hex("04 15 04") + ascii("PONG") + ascii("LOL") + [UInt8](repeating: 0x7a, count: 13))
        #expect(router.error == nil)
    }

    @Test("XPUB accepts SUBSCRIBE from a 3.1 peer and 0x01 data frames from a 3.0 peer (test_mock_pub_sub)")
    func xpubAcceptsBothForms() {
        var xpub31 = RawPeer(Connection.Configuration(socketType: .xpub))
        xpub31.feed(Self.nullGreeting31 + Self.readySub + hex("04 0b 09") + ascii("SUBSCRIBE") + ascii("A"))
        #expect(xpub31.events.contains(.subscribe(topic: ascii("A"))))
        var xpub30 = RawPeer(Connection.Configuration(socketType: .xpub))
        xpub30.feed(Self.nullGreeting30 + Self.readySub + hex("00 02 01 41"))
        #expect(xpub30.events.contains(.subscribe(topic: ascii("A"))))
        // A published message goes out raw.
        try? xpub30.connection.send(Message(string: "ALOL"))
        xpub30.flush()
        #expect(xpub30.sent.suffix(6) == hex("00 04") + ascii("ALOL"))
    }

    @Test("SUB sends SUBSCRIBE to a 3.1 peer and a 0x01 data frame to a 3.0 peer (test_mock_pub_sub)")
    func subChoosesTheForm() throws {
        var sub31 = RawPeer(Connection.Configuration(socketType: .sub))
        try sub31.connection.send(.subscribe(topic: ascii("A")))
        let out31 = sub31.feed(Self.nullGreeting31 + Self.readyXpub)
        #expect(out31.suffix(13) == hex("04 0b 09") + ascii("SUBSCRIBE") + ascii("A"))
        var sub30 = RawPeer(Connection.Configuration(socketType: .sub))
        try sub30.connection.send(.subscribe(topic: ascii("A")))
        let out30 = sub30.feed(Self.nullGreeting30 + Self.readyXpub)
        #expect(out30.suffix(4) == hex("00 02 01 41"))
        sub30.feed(hex("00 04") + ascii("ALOL"))
        #expect(sub30.messages == [Message(string: "ALOL")])
    }

    @Test("a ZMTP 2.0 DEALER is answered in 2.0 when legacy peers are accepted (libzmq capture)")
    func zmtp20Peer() {
        var config = Connection.Configuration(socketType: .router)
        config.acceptLegacyPeers = true
        var router = RawPeer(config)
        #expect(router.sent == hex("ff 00 00 00 00 00 00 00 01 7f"))
        // rev 01, socket type 05 (DEALER), identity frame "BOB", then ['', 'hi'].
        let reply = router.feed(hex("ff 00 00 00 00 00 00 00 04 7f 01 05 00 03") + ascii("BOB") + hex("01 00 00 02") + ascii("hi"))
        #expect(reply == hex("03 06 00 00"))
        #expect(router.connection.peer?.identity == ascii("BOB"))
        #expect(router.connection.peer?.version.major == 2)
        #expect(router.messages == [Message([], more: true), Message(string: "hi")])
    }

    @Test("an unversioned ZMTP 1.0 peer is answered in 1.0 when legacy peers are accepted")
    func zmtp10Peer() {
        var config = Connection.Configuration(socketType: .router)
        config.acceptLegacyPeers = true
        var router = RawPeer(config)
        // Identity frame: length 4 (flags + "JIM"), flags 0, "JIM"; then [""] more, ["yo"].
        let reply = router.feed(hex("04 00") + ascii("JIM") + hex("01 01 03 00") + ascii("yo"))
        #expect(reply.isEmpty)
        #expect(router.connection.peer?.identity == ascii("JIM"))
        #expect(router.messages == [Message([], more: true), Message(string: "yo")])
    }

    @Test("legacy peers are refused by default and whenever security is configured")
    func legacyRefused() {
        var plain = RawPeer(Connection.Configuration(socketType: .router))
        plain.feed(hex("04 00") + ascii("JIM"))
        #expect(plain.error?.code == .legacyPeerRefused)
        var config = Connection.Configuration(socketType: .router, security: .plainServer(zapDomain: ""))
        config.acceptLegacyPeers = true
        var secured = RawPeer(config)
        // test_security_plain: a vanilla ZMTP 1.0 socket's data must not be delivered.
        secured.feed(hex("01 00 08 00") + ascii("sneaky") + [0])
        #expect(secured.error?.code == .legacyPeerRefused)
        #expect(secured.messages.isEmpty)
    }

    @Test("libzmq's broken PLAIN ERROR is recognised as an authentication failure")
    func brokenPlainError() throws {
        var client = RawPeer(Connection.Configuration(socketType: .dealer, security: .plainClient(username: ascii("a"), password: ascii("b"))))
        var serverGreeting = Self.nullGreeting31
        serverGreeting.replaceSubrange(12..<17, with: ascii("PLAIN"))
        client.feed(serverGreeting + hex("04 09 5e") + ascii("RROR") + hex("03") + ascii("400"))
        #expect(client.error?.code == .authenticationFailed)
        #expect(client.error?.detail == "400")
    }

    @Test("garbage after the greeting ends in a typed peer error, never a trap")
    func garbage() {
        var router = RawPeer(Connection.Configuration(socketType: .router))
        router.feed(Self.nullGreeting31 + hex("ff ff ff ff"))
        #expect(router.error?.blame == .peerMisbehaved)
        var router2 = RawPeer(Connection.Configuration(socketType: .router))
        router2.feed(Self.nullGreeting31 + hex("00 03 61 62 63"))
        #expect(router2.error?.code == .unexpectedCommand)
    }

    @Test func maxMessageSizeIsEnforced() {
        var config = Connection.Configuration(socketType: .router)
        config.maxMessageSize = 10
        var router = RawPeer(config)
        router.feed(Self.nullGreeting31 + Self.readyDealer + hex("02 00 00 00 00 00 10 00 00"))
        #expect(router.error?.code == .messageTooLarge)
    }
}
