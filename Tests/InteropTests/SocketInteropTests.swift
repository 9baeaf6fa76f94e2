import Testing
@_spi(Testing) import ZeroMQ

extension LibzmqInterop {
    /// The sockets of the `ZeroMQ` module against real libzmq sockets: every compatible pair,
    /// over tcp and ipc, with the Swift side bound and connected. Each exchange carries a
    /// multipart message with an empty frame in the middle and a 1 MiB body, and checks the
    /// `Socket-Type` each side sees. Routing ids and REQ envelopes are checked as libzmq
    /// presents them. Publish-subscribe pairs are in `PubSubSocketInteropTests.swift`.
    @Suite("Sockets") struct Sockets {
        // MARK: PAIR, DEALER-DEALER

        @Test("PAIR ↔ PAIR", arguments: Placement.all)
        func pairToPair(_ placement: Placement) throws {
            try symmetricExchange(.pair, placement)
        }

        @Test("DEALER ↔ DEALER", arguments: Placement.all)
        func dealerToDealer(_ placement: Placement) throws {
            try symmetricExchange(.dealer, placement)
        }

        /// Both sides the same type, messages passed as they are both ways.
        private func symmetricExchange(_ type: SocketType, _ placement: Placement) throws {
            let link = try SocketLink(type, peer: ["--type", type.name], placement)
            defer { link.close() }

            try link.socket.send(Sample.multipart)
            try link.expectPeerReceives(Sample.multipart)
            #expect(link.peerSawProperty("Socket-Type") == type.name)
            link.peerSend(Sample.reply)
            try link.expectSwiftReceives(Sample.reply, from: type.name)

            try link.socket.send([Sample.big])
            try link.expectPeerReceives([Sample.big])
            link.peerSend([utf8("big"), Sample.big])
            try link.expectSwiftReceives([utf8("big"), Sample.big], from: type.name)
        }

        // MARK: PUSH-PULL

        @Test("Swift PUSH → libzmq PULL", arguments: Placement.all)
        func swiftPushToLibzmqPull(_ placement: Placement) throws {
            let link = try SocketLink(.push, peer: ["--type", "PULL"], placement)
            defer { link.close() }

            try link.socket.send(Sample.multipart)
            try link.socket.send([Sample.big])
            try link.socket.send([[]])
            try link.expectPeerReceives(Sample.multipart)
            try link.expectPeerReceives([Sample.big])
            try link.expectPeerReceives([[]])
            #expect(link.peerSawProperty("Socket-Type") == "PUSH")
        }

        @Test("libzmq PUSH → Swift PULL", arguments: Placement.all)
        func libzmqPushToSwiftPull(_ placement: Placement) throws {
            let link = try SocketLink(.pull, peer: ["--type", "PUSH"], placement)
            defer { link.close() }

            link.peerSend(Sample.multipart)
            link.peerSend([Sample.big])
            link.peerSend([[]])
            try link.expectSwiftReceives(Sample.multipart, from: "PUSH")
            try link.expectSwiftReceives([Sample.big], from: "PUSH")
            try link.expectSwiftReceives([[]], from: "PUSH")
        }

        // MARK: REQ-REP

        /// libzmq's REP strips the envelope (`[empty]`) REQ adds, and REQ strips it from the reply.
        @Test("Swift REQ ↔ libzmq REP", arguments: Placement.all)
        func swiftReqToLibzmqRep(_ placement: Placement) throws {
            let link = try SocketLink(.req, peer: ["--type", "REP", "--echo"], placement)
            defer { link.close() }

            try link.socket.send(Sample.multipart)
            try link.expectSwiftReceives(Sample.multipart, from: "REP")
            try link.expectPeerReceives(Sample.multipart)
            #expect(link.peerSawProperty("Socket-Type") == "REQ")

            try link.socket.send([utf8("big"), Sample.big])
            try link.expectSwiftReceives([utf8("big"), Sample.big], from: "REP")
            try link.expectPeerReceives([utf8("big"), Sample.big])
        }

        @Test("libzmq REQ ↔ Swift REP", arguments: Placement.all)
        func libzmqReqToSwiftRep(_ placement: Placement) throws {
            let link = try SocketLink(.rep, peer: ["--type", "REQ"], placement)
            defer { link.close() }

            link.peerSend(Sample.multipart)
            try link.expectSwiftReceives(Sample.multipart, from: "REQ")
            try link.socket.send(Sample.reply)
            try link.expectPeerReceives(Sample.reply)
            #expect(link.peerSawProperty("Socket-Type") == "REP")

            link.peerSend([utf8("big"), Sample.big])
            try link.expectSwiftReceives([utf8("big"), Sample.big], from: "REQ")
            try link.socket.send([Sample.big])
            try link.expectPeerReceives([Sample.big])
        }

        // MARK: REQ-ROUTER

        /// libzmq's ROUTER sees `[routing id][empty][request...]`: the Swift REQ's routing id
        /// (ZMQ_ROUTING_ID) and its envelope delimiter.
        @Test("Swift REQ ↔ libzmq ROUTER", arguments: Placement.all)
        func swiftReqToLibzmqRouter(_ placement: Placement) throws {
            let id = utf8("swift-req")
            let link = try SocketLink(.req, peer: ["--type", "ROUTER", "--echo"], placement) { $0.routingId = id }
            defer { link.close() }

            try link.socket.send(Sample.multipart)
            try link.expectSwiftReceives(Sample.multipart, from: "ROUTER")
            try link.expectPeerReceives([id, []] + Sample.multipart)
            #expect(link.peerSawProperty("Socket-Type") == "REQ")
            #expect(link.peerSawProperty("Identity") == "swift-req")

            try link.socket.send([Sample.big])
            try link.expectSwiftReceives([Sample.big], from: "ROUTER")
            try link.expectPeerReceives([id, [], Sample.big])
        }

        /// The Swift ROUTER presents a libzmq REQ's request as `[its routing id][empty][request]`
        /// and routes the reply by that id.
        @Test("libzmq REQ ↔ Swift ROUTER", arguments: Placement.all)
        func libzmqReqToSwiftRouter(_ placement: Placement) throws {
            let id = utf8("libzmq-req")
            let link = try SocketLink(.router, peer: ["--type", "REQ", "--identity", "libzmq-req"], placement)
            defer { link.close() }

            link.peerSend(Sample.multipart)
            try link.expectSwiftReceives([id, []] + Sample.multipart, from: "REQ")
            try link.socket.send([id, []] + Sample.reply)
            try link.expectPeerReceives(Sample.reply)
            #expect(link.peerSawProperty("Socket-Type") == "ROUTER")

            link.peerSend([Sample.big])
            try link.expectSwiftReceives([id, [], Sample.big], from: "REQ")
            try link.socket.send([id, [], Sample.big])
            try link.expectPeerReceives([Sample.big])
        }

        // MARK: DEALER-REP

        /// A DEALER talking to a REP writes the envelope itself: `[empty]` (or more hops).
        @Test("Swift DEALER ↔ libzmq REP", arguments: Placement.all)
        func swiftDealerToLibzmqRep(_ placement: Placement) throws {
            let link = try SocketLink(.dealer, peer: ["--type", "REP", "--echo"], placement)
            defer { link.close() }

            try link.socket.send([[]] + Sample.multipart)
            try link.expectSwiftReceives([[]] + Sample.multipart, from: "REP")
            try link.expectPeerReceives(Sample.multipart)
            #expect(link.peerSawProperty("Socket-Type") == "DEALER")

            // A two-hop envelope comes back whole.
            try link.socket.send([utf8("hop"), [], Sample.big])
            try link.expectSwiftReceives([utf8("hop"), [], Sample.big], from: "REP")
            try link.expectPeerReceives([Sample.big])
        }

        /// The Swift REP strips everything up to the first empty frame and puts it back on the
        /// reply.
        @Test("libzmq DEALER ↔ Swift REP", arguments: Placement.all)
        func libzmqDealerToSwiftRep(_ placement: Placement) throws {
            let link = try SocketLink(.rep, peer: ["--type", "DEALER"], placement)
            defer { link.close() }

            link.peerSend([[]] + Sample.multipart)
            try link.expectSwiftReceives(Sample.multipart, from: "DEALER")
            try link.socket.send(Sample.reply)
            try link.expectPeerReceives([[]] + Sample.reply)
            #expect(link.peerSawProperty("Socket-Type") == "REP")

            link.peerSend([utf8("hop 1"), utf8("hop 2"), [], Sample.big])
            try link.expectSwiftReceives([Sample.big], from: "DEALER")
            try link.socket.send([Sample.big])
            try link.expectPeerReceives([utf8("hop 1"), utf8("hop 2"), [], Sample.big])
        }

        // MARK: DEALER-ROUTER

        /// A DEALER without a routing id gets libzmq's automatic one: 5 bytes, `00` then a
        /// 32-bit counter.
        @Test("Swift DEALER ↔ libzmq ROUTER", arguments: Placement.all)
        func swiftDealerToLibzmqRouter(_ placement: Placement) throws {
            let link = try SocketLink(.dealer, peer: ["--type", "ROUTER", "--echo"], placement)
            defer { link.close() }

            try link.socket.send(Sample.multipart)
            try link.expectSwiftReceives(Sample.multipart, from: "ROUTER")
            let seen = try link.peerMessage()
            let id = try #require(seen.first)
            #expect(id.count == 5 && id.first == 0, "libzmq's automatic routing id: \(hex(id))")
            #expect(summary(Array(seen.dropFirst())) == summary(Sample.multipart))
            #expect(link.peerSawProperty("Socket-Type") == "DEALER")

            try link.socket.send([Sample.big, []])
            try link.expectSwiftReceives([Sample.big, []], from: "ROUTER")
            try link.expectPeerReceives([id, Sample.big, []])
        }

        /// The Swift ROUTER names a libzmq DEALER without ZMQ_ROUTING_ID with an automatic id
        /// of libzmq's form (`00` + 4 bytes) and routes replies by it.
        @Test("libzmq DEALER ↔ Swift ROUTER", arguments: Placement.all)
        func libzmqDealerToSwiftRouter(_ placement: Placement) throws {
            let link = try SocketLink(.router, peer: ["--type", "DEALER"], placement)
            defer { link.close() }

            link.peerSend(Sample.multipart)
            let request = try link.receive()
            let frames = request.parts.map(\.bytes)
            let id = try #require(frames.first)
            #expect(id.count == 5 && id.first == 0, "the Swift ROUTER's automatic routing id: \(hex(id))")
            #expect(summary(Array(frames.dropFirst())) == summary(Sample.multipart))
            #expect(request.property("Socket-Type") == "DEALER")

            try link.socket.send([id] + Sample.reply)
            try link.expectPeerReceives(Sample.reply)
            #expect(link.peerSawProperty("Socket-Type") == "ROUTER")

            link.peerSend([Sample.big])
            try link.expectSwiftReceives([id, Sample.big], from: "DEALER")
            try link.socket.send([id, Sample.big])
            try link.expectPeerReceives([Sample.big])
        }

        // MARK: ROUTER-ROUTER

        /// The connecting side sets its own ZMQ_ROUTING_ID (the binder routes to it by that) and
        /// names the binder with ZMQ_CONNECT_ROUTING_ID, so it can speak first: it retries while
        /// the handshake is not done (ROUTER_MANDATORY: host unreachable until then).
        @Test("ROUTER ↔ ROUTER", arguments: Placement.all)
        func routerToRouter(_ placement: Placement) throws {
            let connectorId = utf8("connector")
            let binderAlias = utf8("binder-alias")
            if placement.swiftBinds {
                let link = try SocketLink(.router, peer: ["--type", "ROUTER", "--identity", "connector",
                                                          "--connect-routing-id", "binder-alias"], placement)
                defer { link.close() }
                link.peerSend([binderAlias] + Sample.multipart)
                try link.expectSwiftReceives([connectorId] + Sample.multipart, from: "ROUTER")
                try link.socket.send([connectorId, Sample.big, []])
                try link.expectPeerReceives([binderAlias, Sample.big, []])
            } else {
                let link = try SocketLink(.router, peer: ["--type", "ROUTER"], placement) {
                    $0.routingId = connectorId
                    $0.connectRoutingId = binderAlias
                    $0.routerMandatory = true
                }
                defer { link.close() }
                var lastError: (any Error)?
                let sent = repeatUntil {
                    do {
                        try link.socket.send([binderAlias] + Sample.multipart)
                        return true
                    } catch {
                        lastError = error
                        return false
                    }
                }
                try #require(sent, "the Swift ROUTER never routed to the libzmq ROUTER: \(String(describing: lastError))")
                try link.expectPeerReceives([connectorId] + Sample.multipart)
                #expect(link.peerSawProperty("Socket-Type") == "ROUTER")
                link.peerSend([connectorId, Sample.big, []])
                try link.expectSwiftReceives([binderAlias, Sample.big, []], from: "ROUTER")
            }
        }

        // MARK: STREAM

        /// A Swift STREAM and a libzmq STREAM are two raw byte-stream ends: each announces the
        /// connection as `[id][empty]`, bytes written on one side arrive (possibly in other
        /// chunks) on the other, and `[id][empty]` sent closes the connection, which the other
        /// side announces as `[id][empty]`.
        @Test("STREAM ↔ STREAM", arguments: Placement.all)
        func streamToStream(_ placement: Placement) throws {
            let link = try SocketLink(.stream, peer: ["--type", "STREAM"], placement)
            defer { link.close() }

            let swiftNotice = try link.receive().parts.map(\.bytes)
            try #require(swiftNotice.count == 2 && swiftNotice[1].isEmpty, "the connect notification: \(summary(swiftNotice))")
            let swiftId = swiftNotice[0]
            let peerNotice = try link.peerMessage()
            try #require(peerNotice.count == 2 && peerNotice[1].isEmpty, "libzmq's connect notification: \(summary(peerNotice))")
            let peerId = peerNotice[0]

            // Swift to libzmq: a short greeting, then 1 MiB.
            let outbound = utf8("hello from Swift") + Sample.big
            try link.socket.send([swiftId, utf8("hello from Swift")])
            try link.socket.send([swiftId, Sample.big])
            var arrived: [UInt8] = []
            while arrived.count < outbound.count {
                let message = try link.peerMessage()
                try #require(message.count == 2 && message[0] == peerId, "a raw chunk: \(summary(message))")
                arrived += message[1]
            }
            #expect(summary([arrived]) == summary([outbound]))

            // libzmq to Swift.
            let inbound = utf8("hello from libzmq") + Sample.big
            link.peerSend([peerId, utf8("hello from libzmq")])
            link.peerSend([peerId, Sample.big])
            arrived = []
            while arrived.count < inbound.count {
                let message = try link.receive().parts.map(\.bytes)
                try #require(message.count == 2 && message[0] == swiftId, "a raw chunk: \(summary(message))")
                arrived += message[1]
            }
            #expect(summary([arrived]) == summary([inbound]))

            // The Swift side closes the connection; libzmq announces it.
            try link.socket.send([swiftId, []])
            #expect(summary(try link.peerMessage()) == summary([peerId, []]))
        }
    }
}
