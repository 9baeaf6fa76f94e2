#if canImport(Glibc)
import Glibc
#endif
import Testing
import ZeroMQ

/// ROUTER: libzmq's `test_spec_router`, `test_router_mandatory`, `test_router_handover`,
/// `test_probe_router` and `test_connect_rid`, over real sockets.
@Suite("ROUTER")
struct RouterTests {
    /// Sends `[id][body]` if the ROUTER can take it now; false when it would block.
    static func trySend(_ router: Socket, to id: String, _ body: String) throws -> Bool {
        guard try router.trySend(Message(string: id, more: true)) else { return false }
        try router.send(body)
        return true
    }

    @Test("test_spec_router fair_queue_in: a message from each of five DEALERs, each behind its routing id",
          arguments: Routing.transports)
    func fairQueueIn(transport: String) throws {
        let context = try Fixture.context()
        let router = try Fixture.bound(context, .router, Routing.endpoint(transport))
        let names = ["A", "B", "C", "D", "E"]
        var dealers: [Socket] = []
        for name in names {
            let dealer = try Fixture.socket(context, .dealer)
            dealer.options.routingId = Array(name.utf8)
            try dealer.connect(router.lastEndpoint)
            dealers.append(dealer)
        }
        for dealer in dealers { try dealer.send("M") }
        var seen: [String] = []
        for _ in names {
            let message = try Routing.receive(router)
            #expect(message.count == 2)
            #expect(message.last == "M")
            seen.append(message[0])
        }
        #expect(seen.sorted() == names)
        // And the replies find their way back by name.
        for name in names { try Routing.send(router, to: Array(name.utf8), ["to \(name)"]) }
        for (name, dealer) in zip(names, dealers) { #expect(try dealer.receiveString() == "to \(name)") }
    }

    @Test("A ROUTER gives a peer without a routing id an automatic 5-byte id starting with a zero byte")
    func automaticRoutingIds() throws {
        let context = try Fixture.context()
        let router = try Fixture.bound(context, .router, Routing.endpoint("tcp"))
        var ids: Set<[UInt8]> = []
        var dealers: [Socket] = []
        for index in 0..<3 {
            let dealer = try Fixture.connected(context, .dealer, to: router)
            try dealer.send("hello \(index)")
            let message = try router.receiveMultipart().parts
            #expect(message.count == 2)
            #expect(message[0].count == 5)
            #expect(message[0].bytes.first == 0)
            ids.insert(message[0].bytes)
            try router.send([message[0], Message(string: "welcome \(index)")])
            #expect(try dealer.receiveString() == "welcome \(index)")
            dealers.append(dealer)
        }
        #expect(ids.count == 3)
    }

    @Test("test_router_mandatory: an unknown id is dropped silently and counted; with MANDATORY it throws hostUnreachable",
          arguments: Routing.transports)
    func mandatory(transport: String) throws {
        let context = try Fixture.context()
        let router = try Fixture.bound(context, .router, Routing.endpoint(transport))

        try Routing.send(router, to: Array("UNKNOWN".utf8), ["DATA"])
        #expect(router.droppedMessages == 1)

        router.options.routerMandatory = true
        #expect(Routing.errorCode { try Routing.send(router, to: Array("UNKNOWN".utf8), ["DATA"]) } == .hostUnreachable)
        #expect(router.droppedMessages == 1)

        let dealer = try Fixture.socket(context, .dealer)
        dealer.options.routingId = Array("X".utf8)
        try dealer.connect(router.lastEndpoint)
        try dealer.send("Hello")
        #expect(try Routing.receive(router) == ["X", "Hello"])
        try Routing.send(router, to: Array("X".utf8), ["Hello"])
        #expect(try dealer.receiveString() == "Hello")
    }

    @Test("test_router_mandatory_hwm: with MANDATORY a full peer blocks the send; without, messages are dropped and counted")
    func mandatoryAtHighWaterMark() throws {
        let context = try Fixture.context()
        let router = try Fixture.socket(context, .router)
        router.options.sendHighWaterMark = 1
        try router.bind(Routing.endpoint("inproc"))
        let dealer = try Fixture.socket(context, .dealer)
        dealer.options.routingId = Array("X".utf8)
        dealer.options.receiveHighWaterMark = 1
        try dealer.connect(router.lastEndpoint)
        try dealer.send("Hello")
        #expect(try Routing.receive(router) == ["X", "Hello"])

        router.options.routerMandatory = true
        var sent = 0
        while sent < 10_000, try Self.trySend(router, to: "X", "message \(sent)") { sent += 1 }
        #expect(sent > 0 && sent < 10_000)
        #expect(router.droppedMessages == 0)
        #expect(!router.events.contains(.send))
        #expect(Routing.errorCode { try router.send(Message(string: "X", more: true), timeout: .zero) } == .wouldBlock)

        router.options.routerMandatory = false
        #expect(router.events.contains(.send))
        try Routing.send(router, to: Array("X".utf8), ["overflow"])
        #expect(router.droppedMessages == 1)
        // What was queued is intact.
        for index in 0..<sent { #expect(try dealer.receiveString() == "message \(index)") }
    }

    @Test("test_router_handover: without HANDOVER a second DEALER with a taken id is ignored",
          arguments: Routing.transports)
    func duplicateIdIsIgnored(transport: String) throws {
        let context = try Fixture.context()
        let router = try Fixture.bound(context, .router, Routing.endpoint(transport))
        let first = try Fixture.socket(context, .dealer)
        first.options.routingId = Array("X".utf8)
        try first.connect(router.lastEndpoint)
        try first.send("from first")
        #expect(try Routing.receive(router) == ["X", "from first"])

        let second = try Fixture.socket(context, .dealer)
        second.options.routingId = Array("X".utf8)
        try second.connect(router.lastEndpoint)
        #expect(Routing.waitForPeers(router, 2))
        try second.send("from second")
        try first.send("first again")
        #expect(try Routing.receive(router) == ["X", "first again"])

        try Routing.send(router, to: Array("X".utf8), ["to X"])
        #expect(try first.receiveString() == "to X")
        #expect(Routing.errorCode { _ = try second.receive(timeout: .milliseconds(100)) } == .timedOut)
    }

    @Test("test_router_handover: with HANDOVER the second DEALER with the same id takes it over",
          arguments: Routing.transports)
    func handover(transport: String) throws {
        let context = try Fixture.context()
        let router = try Fixture.socket(context, .router)
        router.options.routerHandover = true
        try router.bind(Routing.endpoint(transport))
        let first = try Fixture.socket(context, .dealer)
        first.options.routingId = Array("X".utf8)
        // Once handed over, the first must not come back and take the id again.
        first.options.reconnectInterval = nil
        try first.connect(router.lastEndpoint)
        try first.send("from first")
        #expect(try Routing.receive(router) == ["X", "from first"])

        let second = try Fixture.socket(context, .dealer)
        second.options.routingId = Array("X".utf8)
        try second.connect(router.lastEndpoint)
        try second.send("from second")
        #expect(try Routing.receive(router) == ["X", "from second"])

        try Routing.send(router, to: Array("X".utf8), ["to X"])
        #expect(try second.receiveString() == "to X")
        // The first pipe is closed and, once both ends let go, forgotten.
        #expect(Fixture.eventually {
            // An inproc peer learns of the close when it is used, like a libzmq socket.
            _ = first.events
            _ = router.events
            return router.peerCount == 1
        })
    }

    @Test("test_probe_router: a DEALER with PROBE_ROUTER announces itself with an empty message",
          arguments: Routing.transports)
    func probeFromDealer(transport: String) throws {
        let context = try Fixture.context()
        let router = try Fixture.bound(context, .router, Routing.endpoint(transport))
        let dealer = try Fixture.socket(context, .dealer)
        dealer.options.routingId = Array("X".utf8)
        dealer.options.probeRouter = true
        try dealer.connect(router.lastEndpoint)
        #expect(try Routing.receive(router) == ["X", ""])
        try Routing.send(router, to: Array("X".utf8), ["Hello"])
        #expect(try dealer.receiveString() == "Hello")
    }

    @Test("test_probe_router: a probing ROUTER client learns the server's automatic id from its reply",
          arguments: Routing.transports)
    func probeBetweenRouters(transport: String) throws {
        let context = try Fixture.context()
        let server = try Fixture.bound(context, .router, Routing.endpoint(transport))
        let client = try Fixture.socket(context, .router)
        client.options.routingId = Array("X".utf8)
        client.options.probeRouter = true
        try client.connect(server.lastEndpoint)
        #expect(try Routing.receive(server) == ["X", ""])
        try Routing.send(server, to: Array("X".utf8), ["Hello"])
        let reply = try client.receiveMultipart().parts
        #expect(reply.count == 2)
        #expect(reply[0].count == 5 && reply[0].bytes.first == 0)
        #expect(reply[1].string == "Hello")
        try client.send([reply[0], Message(string: "Hi")])
        #expect(try Routing.receive(server) == ["X", "Hi"])
    }

    @Test("test_connect_rid: CONNECT_ROUTING_ID names the peer of a ROUTER's connect, routable at once",
          arguments: Routing.transports)
    func connectRoutingId(transport: String) throws {
        let context = try Fixture.context()
        let server = try Fixture.bound(context, .router, Routing.endpoint(transport))
        let client = try Fixture.socket(context, .router)
        client.options.routingId = Array("client".utf8)
        client.options.routerMandatory = true
        client.options.connectRoutingId = Array("server".utf8)
        try client.connect(server.lastEndpoint)
        // The option applies to one connect.
        #expect(client.options.connectRoutingId == nil)
        try Routing.send(client, to: Array("server".utf8), ["Hello"])
        #expect(try Routing.receive(server) == ["client", "Hello"])
        try Routing.send(server, to: Array("client".utf8), ["World"])
        #expect(try Routing.receive(client) == ["server", "World"])
    }

    @Test("test_connect_rid: ROUTER to ROUTER with both routing ids set",
          arguments: Routing.transports)
    func routerToRouterNamed(transport: String) throws {
        let context = try Fixture.context()
        let server = try Fixture.socket(context, .router)
        server.options.routingId = Array("S".utf8)
        try server.bind(Routing.endpoint(transport))
        let client = try Fixture.socket(context, .router)
        client.options.routingId = Array("C".utf8)
        client.options.routerMandatory = true
        try client.connect(server.lastEndpoint)
        // The client can name the server once the handshake told it the server's id.
        #expect(Fixture.eventually {
            Routing.errorCode { try Routing.send(client, to: Array("S".utf8), ["Hello"]) } == nil
        })
        #expect(try Routing.receive(server) == ["C", "Hello"])
        try Routing.send(server, to: Array("C".utf8), ["World"])
        #expect(try Routing.receive(client) == ["S", "World"])
    }

    @Test("A ROUTER receives the peer's properties with each part")
    func properties() throws {
        let context = try Fixture.context()
        let router = try Fixture.bound(context, .router, Routing.endpoint("tcp"))
        let dealer = try Fixture.socket(context, .dealer)
        dealer.options.routingId = Array("X".utf8)
        try dealer.connect(router.lastEndpoint)
        try dealer.send("Hello")
        let message = try router.receiveMultipart()
        #expect(message.parts.map(\.string) == ["X", "Hello"])
        #expect(message.property("Socket-Type") == "DEALER")
        #expect(message.property("Identity") == "X")
        #expect(message.property("Peer-Address") == "127.0.0.1")
    }

    @Test("A routing id sent without MORE is ignored, and the next message goes out whole")
    func lonelyRoutingIdIsIgnored() throws {
        let context = try Fixture.context()
        let router = try Fixture.bound(context, .router, Routing.endpoint("inproc"))
        let dealer = try Fixture.socket(context, .dealer)
        dealer.options.routingId = Array("X".utf8)
        try dealer.connect(router.lastEndpoint)
        try dealer.send("Hello")
        #expect(try Routing.receive(router) == ["X", "Hello"])
        try router.send("X")
        try Routing.send(router, to: Array("X".utf8), ["a", "b"])
        #expect(try Routing.receive(dealer) == ["a", "b"])
    }
}
