import Testing
import ZMTP

extension LibzmqInterop {
    /// PLAIN (RFC 24) against libzmq, with libzmq's ZAP handler (RFC 27) in the peer process, or
    /// the core's authentication request answered by the test.
    @Suite("PLAIN") struct Plain {
        static let admin = utf8("admin")
        static let password = utf8("password")

        /// libzmq 4.3.4's PLAIN ERROR as it is on the wire: `5e 'RROR' 03 '400'` instead of
        /// `05 'ERROR' 03 '400'` (libzmq-here.md).
        static let libzmqBrokenError400 = WireFrame(flags: 0x04, body: [0x5E] + utf8("RROR") + [3] + utf8("400"))

        // MARK: Swift client, libzmq server

        @Test("a Swift PLAIN client with the right password passes libzmq's ZAP handler", arguments: Direction.allCases)
        func swiftClientIsAccepted(_ direction: Direction) throws {
            var configuration = Connection.Configuration(
                socketType: .dealer, security: .plainClient(username: Self.admin, password: Self.password))
            configuration.identity = utf8("plain-client")
            let (peer, driver) = try startSession(
                direction, peer: ["--type", "ROUTER", "--plain-server", "--zap", "--monitor"], configuration: configuration)
            defer { peer.stop() }

            driver.send([utf8("secret"), utf8("message")])
            try #require(driver.run(until: { _ in peer.received.count >= 1 }, "libzmq to receive the message"))
            #expect(peer.lines("ZAP") == ["ZAP PLAIN 200 \(hex(Self.admin))|\(hex(Self.password))"])
            #expect(peer.received == [[utf8("plain-client"), utf8("secret"), utf8("message")]])
            #expect(peer.metadata["User-Id"] == Self.admin)
            #expect(peer.metadata["Socket-Type"] == utf8("DEALER"))

            let info = try #require(driver.peerInfo)
            #expect(info.mechanism == .plain)
            #expect(info.socketType == .router)

            peer.send([utf8("plain-client"), utf8("welcome"), utf8("aboard")])
            try #require(driver.run(until: { $0.messages.count >= 1 }, "the reply"))
            #expect(driver.messages == [[utf8("welcome"), utf8("aboard")]])
            #expect(driver.failure == nil)
        }

        @Test("a wrong PLAIN password: libzmq's malformed ERROR fails the Swift client and nothing is delivered",
              arguments: Direction.allCases)
        func swiftClientIsRefused(_ direction: Direction) throws {
            let configuration = Connection.Configuration(
                socketType: .dealer, security: .plainClient(username: Self.admin, password: utf8("wrong")))
            let (peer, driver) = try startSession(
                direction, peer: ["--type", "ROUTER", "--plain-server", "--zap", "--monitor"], configuration: configuration)
            defer { peer.stop() }

            driver.send([utf8("must not arrive")])
            try #require(driver.run(until: { $0.failure != nil }, "the Swift client to fail"))
            let failure = try #require(driver.failure)
            #expect(failure.code == .authenticationFailed)
            #expect(failure.detail == "400")
            #expect(driver.framesReceived.contains(Self.libzmqBrokenError400))
            #expect(driver.peerInfo == nil)

            try #require(driver.run(
                until: { _ in peer.events.contains { $0.name == "HANDSHAKE_FAILED_AUTH" } }, "libzmq's AUTH failure event"))
            #expect(peer.events.first { $0.name == "HANDSHAKE_FAILED_AUTH" }?.value == 400)
            #expect(peer.lines("ZAP") == ["ZAP PLAIN 400 \(hex(Self.admin))|\(hex(utf8("wrong")))"])
            #expect(!driver.sent.contains(bytes: utf8("must not arrive")))
            #expect(try peer.receivedCount() == 0)
            #expect(driver.messages.isEmpty)
        }

        // MARK: libzmq client, Swift server

        @Test("libzmq's PLAIN client is authenticated by the Swift PLAIN server", arguments: Direction.allCases)
        func libzmqClientIsAccepted(_ direction: Direction) throws {
            let configuration = Connection.Configuration(socketType: .router, security: .plainServer(zapDomain: "interop"))
            let (peer, driver) = try startSession(
                direction,
                peer: ["--type", "DEALER", "--plain-username", "admin", "--plain-password", "password", "--monitor"],
                configuration: configuration,
                authenticate: { request in
                    request.credentials == [Self.admin, Self.password] ? .accept(userID: "admin") : .deny
                })
            defer { peer.stop() }

            try #require(driver.run(until: { $0.peerInfo != nil }, "the handshake"))
            #expect(driver.authenticationRequests.count == 1)
            let request = try #require(driver.authenticationRequests.first)
            #expect(request.mechanism == .plain)
            #expect(request.domain == "interop")
            #expect(request.address == "127.0.0.1")
            #expect(request.credentials == [Self.admin, Self.password])

            let info = try #require(driver.peerInfo)
            #expect(info.mechanism == .plain)
            #expect(info.socketType == .dealer)
            #expect(info.authentication?.userID == "admin")

            peer.send([utf8("from"), utf8("libzmq")])
            driver.send([utf8("from"), utf8("swift")])
            try #require(driver.run(
                until: { $0.messages.count >= 1 && peer.received.count >= 1 }, "a message each way"))
            #expect(driver.messages == [[utf8("from"), utf8("libzmq")]])
            #expect(peer.received == [[utf8("from"), utf8("swift")]])
            #expect(driver.failure == nil)
        }

        @Test("a Swift PLAIN server that denies: libzmq reports a failed handshake and nothing is delivered",
              arguments: Direction.allCases)
        func libzmqClientIsDenied(_ direction: Direction) throws {
            let configuration = Connection.Configuration(socketType: .router, security: .plainServer(zapDomain: "interop"))
            // A connecting libzmq DEALER queues its message at once; a bound one has no pipe yet.
            let early = direction == .libzmqConnects ? ["--send", hex(utf8("must not arrive either"))] : []
            let (peer, driver) = try startSession(
                direction,
                peer: ["--type", "DEALER", "--plain-username", "admin", "--plain-password", "nope", "--monitor"] + early,
                configuration: configuration,
                authenticate: { _ in .deny })
            defer { peer.stop() }

            driver.send([utf8("must not arrive")])
            try #require(driver.run(until: { $0.failure != nil }, "the Swift server to refuse"))
            #expect(driver.failure?.code == .authenticationFailed)
            #expect(driver.authenticationRequests.first?.credentials == [Self.admin, utf8("nope")])
            // The core sends the RFC 23 ERROR with the ZAP status, as a correct libzmq would.
            #expect(driver.framesSent.contains(WireFrame(flags: 0x04, body: [5] + utf8("ERROR") + [3] + utf8("400"))))

            try #require(driver.run(
                until: { _ in peer.events.contains { $0.name.hasPrefix("HANDSHAKE_FAILED") } }, "libzmq's failure event"))
            let event = try #require(peer.events.first { $0.name.hasPrefix("HANDSHAKE_FAILED") })
            // libzmq 4.3.4's PLAIN client only knows its own malformed ERROR, so the correct one is
            // an unexpected command to it (libzmq-here.md): a PROTOCOL failure, not an AUTH one.
            #expect(event.name == "HANDSHAKE_FAILED_PROTOCOL")
            #expect(event.value == LibzmqProtocolError.unexpectedCommand)
            #expect(!peer.events.contains { $0.name == "HANDSHAKE_SUCCEEDED" })
            #expect(!driver.sent.contains(bytes: utf8("must not arrive")))
            #expect(try peer.receivedCount() == 0)
            #expect(driver.messages.isEmpty)
        }
    }
}
