import Testing
@_spi(Testing) import ZeroMQ

extension LibzmqInterop {
    /// PUB, SUB, XPUB and XSUB of the `ZeroMQ` module against libzmq's, over tcp and ipc, either
    /// side binding, with the Swift side advertising ZMTP 3.1 (subscriptions travel as SUBSCRIBE
    /// and CANCEL commands) and 3.0 (libzmq sends them as `01 topic` / `00 topic` data frames).
    ///
    /// A publisher that has not yet received a subscription drops what it publishes (the slow
    /// joiner), so where nothing tells the test that the subscription has arrived, the publisher
    /// publishes in a loop, bounded, until the first message gets through.
    @Suite("Sockets: publish-subscribe") struct PubSubSockets {
        static let minors: [UInt8] = [1, 0]
        static let topic = utf8("topic")

        /// Options for a Swift side advertising ZMTP 3.`minor`.
        static func zmtp(_ minor: UInt8) -> (inout SocketOptions) -> Void {
            { $0.zmtpMinorVersion = minor }
        }

        // MARK: Swift publishers

        /// The libzmq SUB's subscription reaches the Swift PUB, and what matches comes through,
        /// up to a multipart message with a 1 MiB part.
        @Test("Swift PUB → libzmq SUB", arguments: Placement.all, minors)
        func swiftPubToLibzmqSub(_ placement: Placement, minor: UInt8) throws {
            let link = try SocketLink(.pub, peer: ["--type", "SUB", "--subscribe", hex(Self.topic)], placement,
                                      configure: Self.zmtp(minor))
            defer { link.close() }
            try publishUntilPeerReceives(link)
            #expect(link.peerSawProperty("Socket-Type") == "PUB")
        }

        /// A libzmq XSUB does not filter what it receives, so this shows the Swift PUB's own
        /// filtering: nothing but the subscribed prefix arrives. The XSUB sends its subscription
        /// as an application message `01 topic`, which libzmq writes as a data frame even to a
        /// ZMTP 3.1 peer.
        @Test("Swift PUB → libzmq XSUB", arguments: Placement.all, minors)
        func swiftPubToLibzmqXSub(_ placement: Placement, minor: UInt8) throws {
            let link = try SocketLink(.pub, peer: ["--type", "XSUB", "--send", hex([1] + Self.topic)], placement,
                                      configure: Self.zmtp(minor))
            defer { link.close() }
            try publishUntilPeerReceives(link)
            #expect(link.peerSawProperty("Socket-Type") == "PUB")
        }

        /// The Swift XPUB receives the libzmq SUB's subscription as `01 topic` and its cancel as
        /// `00 topic` (from SUBSCRIBE and CANCEL commands, or toward a 3.0 XPUB from data frames),
        /// and, when an accepted subscriber goes, the cancel of what it held.
        @Test("Swift XPUB ↔ libzmq SUB", arguments: Placement.all, minors)
        func swiftXPubToLibzmqSub(_ placement: Placement, minor: UInt8) throws {
            let link = try SocketLink(.xpub, peer: ["--type", "SUB", "--subscribe", hex(Self.topic)], placement,
                                      configure: Self.zmtp(minor))
            defer { link.close() }

            try link.expectSwiftReceives([[1] + Self.topic], from: "SUB")
            try link.socket.send([utf8("other")])
            try link.socket.send([utf8("topic-1"), [], Sample.big])
            try link.expectPeerReceives([utf8("topic-1"), [], Sample.big])
            #expect(link.peerSawProperty("Socket-Type") == "XPUB")

            link.peer.command("UNSUBSCRIBE " + hex(Self.topic))
            try link.expectSwiftReceives([[0] + Self.topic], from: "SUB")
            link.peer.command("SUBSCRIBE " + hex(utf8("second")))
            try link.expectSwiftReceives([[1] + utf8("second")], from: "SUB")

            // A subscriber whose accepted connection ends leaves: its subscriptions are
            // cancelled. (A connect's pipe outlives its connection, to be reconnected.)
            if placement.swiftBinds {
                link.peer.stop()
                try link.expectSwiftReceives([[0] + utf8("second")], from: nil)
            }
        }

        /// Publishes non-matching and matching messages until the libzmq subscriber gets one,
        /// then a last matching message with a 1 MiB part; expects every message libzmq got to
        /// match the subscription.
        private func publishUntilPeerReceives(_ link: SocketLink, sourceLocation: SourceLocation = #_sourceLocation) throws {
            var received: [[[UInt8]]] = []
            var round = 0
            let arrived = try repeatUntil {
                round += 1
                try link.socket.send([utf8("other \(round)")])
                try link.socket.send([utf8("topic \(round)"), [], utf8("tail")])
                while let message = try link.peerMessageIfAny() { received.append(message) }
                return !received.isEmpty
            }
            try #require(arrived, "no published message reached libzmq\n\(link.peer.transcript)", sourceLocation: sourceLocation)
            try link.socket.send([utf8("other last")])
            try link.socket.send([utf8("topic last"), [], Sample.big])
            while received.last?.first != utf8("topic last") {
                received.append(try link.peerMessage())
            }
            for message in received {
                #expect(message.first?.starts(with: Self.topic) == true, "libzmq received \(summary(message))",
                        sourceLocation: sourceLocation)
            }
            #expect(summary(received.last ?? []) == summary([utf8("topic last"), [], Sample.big]), sourceLocation: sourceLocation)
            #expect(received.dropLast().allSatisfy { $0.count == 3 && $0[2] == utf8("tail") }, sourceLocation: sourceLocation)
        }

        // MARK: Swift subscribers

        /// The Swift SUB subscribes to a libzmq PUB and receives only matching messages.
        @Test("libzmq PUB → Swift SUB", arguments: Placement.all, minors)
        func libzmqPubToSwiftSub(_ placement: Placement, minor: UInt8) throws {
            let link = try SocketLink(.sub, peer: ["--type", "PUB"], placement, configure: Self.zmtp(minor))
            defer { link.close() }
            try link.socket.subscribe(Self.topic)
            try receiveFromPeerPublisher(link)
        }

        /// The Swift XSUB subscribes by sending `01 topic`; it does not filter, so what arrives
        /// is what libzmq's PUB chose to send.
        @Test("libzmq PUB → Swift XSUB", arguments: Placement.all, minors)
        func libzmqPubToSwiftXSub(_ placement: Placement, minor: UInt8) throws {
            let link = try SocketLink(.xsub, peer: ["--type", "PUB"], placement, configure: Self.zmtp(minor))
            defer { link.close() }
            try link.socket.send([[1] + Self.topic])
            try receiveFromPeerPublisher(link)
        }

        /// A libzmq XPUB shows the Swift SUB's subscription and its cancel as libzmq's
        /// application sees them, `01 topic` and `00 topic`, and publishes to it.
        @Test("libzmq XPUB ↔ Swift SUB", arguments: Placement.all, minors)
        func libzmqXPubToSwiftSub(_ placement: Placement, minor: UInt8) throws {
            let link = try SocketLink(.sub, peer: ["--type", "XPUB"], placement, configure: Self.zmtp(minor))
            defer { link.close() }

            try link.socket.subscribe(Self.topic)
            try link.expectPeerReceives([[1] + Self.topic])
            #expect(link.peerSawProperty("Socket-Type") == "SUB")

            link.peerSend([utf8("other")])
            link.peerSend([utf8("topic-1"), [], Sample.big])
            try link.expectSwiftReceives([utf8("topic-1"), [], Sample.big], from: "XPUB")

            try link.socket.unsubscribe(Self.topic)
            try link.expectPeerReceives([[0] + Self.topic])
        }

        /// Has the libzmq publisher publish non-matching and matching messages until the Swift
        /// subscriber gets one, then a last one with a 1 MiB part; expects every message the
        /// Swift side got to match.
        private func receiveFromPeerPublisher(_ link: SocketLink, sourceLocation: SourceLocation = #_sourceLocation) throws {
            var received: [Multipart] = []
            var round = 0
            let arrived = try repeatUntil(pauseMs: 0) {
                round += 1
                link.peerSend([utf8("other \(round)")])
                link.peerSend([utf8("topic \(round)"), [], utf8("tail")])
                link.peer.drain()
                if let message = try link.receive(within: .milliseconds(20)) { received.append(message) }
                return !received.isEmpty
            }
            try #require(arrived, "no message published by libzmq reached the Swift side\n\(link.peer.transcript)",
                         sourceLocation: sourceLocation)
            link.peerSend([utf8("other last")])
            link.peerSend([utf8("topic last"), [], Sample.big])
            while received.last?.parts.first?.bytes != utf8("topic last") {
                received.append(try link.receive())
            }
            for message in received {
                let frames = message.parts.map(\.bytes)
                #expect(frames.first?.starts(with: Self.topic) == true, "the Swift side received \(summary(frames))",
                        sourceLocation: sourceLocation)
                #expect(message.property("Socket-Type") == "PUB", sourceLocation: sourceLocation)
            }
            #expect(summary(received.last?.parts.map(\.bytes) ?? []) == summary([utf8("topic last"), [], Sample.big]),
                    sourceLocation: sourceLocation)
        }
    }
}
