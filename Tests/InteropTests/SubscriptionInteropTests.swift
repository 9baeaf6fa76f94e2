import Testing
import ZMTP
import ZMTPSodium

extension LibzmqInterop {
    /// Subscriptions (RFC 29, RFC 37 §Subscriptions): libzmq picks the SUBSCRIBE command for a
    /// ZMTP 3.1 peer and the 0x01 data frame for a 3.0 one, by the greeting's minor version.
    @Suite("Subscriptions") struct Subscriptions {
        static let topic = utf8("topic")

        @Test("a libzmq SUB subscribes to a Swift XPUB and receives only what matches",
              arguments: [UInt8(1), UInt8(0)], Direction.allCases)
        func libzmqSubscriberToSwiftXPub(minor: UInt8, direction: Direction) throws {
            var configuration = Connection.Configuration(socketType: .xpub)
            configuration.greetingMinorVersion = minor
            let (peer, driver) = try startSession(
                direction, peer: ["--type", "SUB", "--subscribe", hex(Self.topic), "--monitor"], configuration: configuration)
            defer { peer.stop() }

            try #require(driver.run(until: { $0.events.contains(.subscribe(topic: Self.topic)) }, "the subscription"))
            let info = try #require(driver.peerInfo)
            #expect(info.socketType == .sub)
            if minor == 1 {
                #expect(driver.framesReceived.contains(WireFrame(flags: 0x04, body: [9] + utf8("SUBSCRIBE") + Self.topic)))
            } else {
                #expect(driver.framesReceived.contains(WireFrame(flags: 0x00, body: [1] + Self.topic)))
            }
            #expect(driver.parts.isEmpty, "the subscription is not a message")

            // The SUB filters: "other" is dropped, the matching two-part message arrives.
            driver.send([utf8("other")])
            driver.send([utf8("topic-news"), utf8("part 2")])
            try #require(driver.run(until: { _ in peer.received.count >= 1 }, "the published message"))
            #expect(peer.received == [[utf8("topic-news"), utf8("part 2")]])
            #expect(try peer.receivedCount() == 1)
            #expect(driver.failure == nil)
        }

        /// Over CURVE the subscription travels inside a MESSAGE box: a SUBSCRIBE command (box
        /// flags 0x02) to a 3.1 peer, a `01 topic` data part (flags 0x00) to a 3.0 one.
        @Test("a libzmq CURVE SUB subscribes to a Swift CURVE XPUB", arguments: [UInt8(1), UInt8(0)])
        func libzmqSubscriberToSwiftXPubOverCurve(minor: UInt8) throws {
            var configuration = Connection.Configuration(
                socketType: .xpub,
                security: .curveServer(keyPair: try ExampleKeys.server(), zapDomain: "", authenticate: false))
            configuration.greetingMinorVersion = minor
            let (peer, driver) = try startSession(
                .libzmqConnects,
                peer: ["--type", "SUB", "--subscribe", hex(Self.topic), "--curve-server-key=" + ExampleKeys.serverPublic],
                configuration: configuration, crypto: SodiumCurveCrypto())
            defer { peer.stop() }

            try #require(driver.run(until: { $0.events.contains(.subscribe(topic: Self.topic)) }, "the subscription"))
            #expect(driver.peerInfo?.mechanism == .curve)
            #expect(driver.parts.isEmpty, "the subscription is not a message")
            driver.send([utf8("other")])
            driver.send([utf8("topic-news"), utf8("part 2")])
            try #require(driver.run(until: { _ in peer.received.count >= 1 }, "the published message"))
            #expect(peer.received == [[utf8("topic-news"), utf8("part 2")]])
            #expect(try peer.receivedCount() == 1)
            #expect(driver.failure == nil)
        }

        @Test("a Swift SUB subscribes to a libzmq XPUB and receives what it publishes", arguments: Direction.allCases)
        func swiftSubscriberToLibzmqXPub(_ direction: Direction) throws {
            let configuration = Connection.Configuration(socketType: .sub)
            let (peer, driver) = try startSession(direction, peer: ["--type", "XPUB", "--monitor"], configuration: configuration)
            defer { peer.stop() }

            driver.send(.subscribe(topic: utf8("news")))
            try #require(driver.run(until: { _ in peer.received.count >= 1 }, "libzmq's XPUB to see the subscription"))
            #expect(peer.received == [[[1] + utf8("news")]])
            // libzmq 4.3.4 greets with 3.1, so the core sends the command form.
            #expect(driver.framesSent.contains(WireFrame(flags: 0x04, body: [9] + utf8("SUBSCRIBE") + utf8("news"))))

            peer.send([utf8("news-1"), utf8("body")])
            try #require(driver.run(until: { $0.messages.count >= 1 }, "the published message"))
            #expect(driver.messages == [[utf8("news-1"), utf8("body")]])
            #expect(driver.failure == nil)
        }
    }
}
