#if canImport(Glibc)
import Glibc
#endif
import Testing
import ZeroMQ

/// Helpers for the request-reply, ROUTER and STREAM tests.
enum Routing {
    /// The code of the ZeroMQError `body` throws, or nil when it throws none.
    static func errorCode(_ body: () throws -> Void) -> ZeroMQError.Code? {
        do {
            try body()
            return nil
        } catch let error as ZeroMQError {
            return error.code
        } catch {
            return nil
        }
    }

    /// Sends text parts as one multipart message.
    static func send(_ socket: Socket, _ parts: [String]) throws {
        try socket.send(parts.map { Message(string: $0) })
    }

    /// Sends `[routing id]` then text parts.
    static func send(_ socket: Socket, to id: [UInt8], _ parts: [String]) throws {
        try socket.send([Message(id)] + parts.map { Message(string: $0) })
    }

    /// Receives a whole message as text parts.
    static func receive(_ socket: Socket) throws -> [String] {
        try socket.receiveMultipart().parts.map(\.string)
    }

    /// Waits (bounded) until `socket` has at least `count` pipes.
    static func waitForPeers(_ socket: Socket, _ count: Int) -> Bool {
        Fixture.eventually {
            _ = socket.events
            return socket.peerCount >= count
        }
    }

    /// The endpoint to give `bind` for a transport name.
    static func endpoint(_ transport: String) -> String {
        switch transport {
        case "inproc": return "inproc://\(Fixture.unique("reqrep"))"
        case "ipc": return "ipc://@\(Fixture.unique("reqrep"))"
        default: return "tcp://127.0.0.1:*"
        }
    }

    static let transports = ["inproc", "tcp", "ipc"]
}

/// REQ and REP: libzmq's `test_spec_req`, `test_spec_rep`, `test_spec_dealer`,
/// `test_req_correlate`, `test_req_relaxed` and `test_invalid_rep`, over real sockets.
@Suite("Request-reply")
struct RequestReplyTests {
    // MARK: REQ (test_spec_req)

    @Test("test_spec_req round_robin_out: REQ sends each request to the next REP, in connection order",
          arguments: Routing.transports)
    func requestRoundRobinsOverReplies(transport: String) throws {
        let context = try Fixture.context()
        let req = try Fixture.bound(context, .req, Routing.endpoint(transport))
        var reps: [Socket] = []
        for index in 0..<3 {
            let rep = try Fixture.connected(context, .rep, to: req)
            reps.append(rep)
            // One at a time, so the REQ knows them in this order.
            #expect(Routing.waitForPeers(req, index + 1))
        }
        for round in 0..<2 {
            for (index, rep) in reps.enumerated() {
                try req.send("ABC \(round)")
                #expect(try rep.receiveString() == "ABC \(round)")
                try rep.send("DEF \(index)")
                #expect(try req.receiveString() == "DEF \(index)")
            }
        }
    }

    @Test("test_spec_req req_message_format: a ROUTER sees [id][\"\"][body…]; its reply reaches REQ without the envelope",
          arguments: Routing.transports)
    func requestMessageFormat(transport: String) throws {
        let context = try Fixture.context()
        let router = try Fixture.bound(context, .router, Routing.endpoint(transport))
        let req = try Fixture.connected(context, .req, to: router)
        try Routing.send(req, ["ABC", "DEF"])
        let request = try router.receiveMultipart()
        #expect(request.parts.count == 4)
        let id = request.parts[0].bytes
        #expect(!id.isEmpty)
        #expect(request.parts.dropFirst().map(\.string) == ["", "ABC", "DEF"])
        #expect(request.parts.dropLast().allSatisfy { $0.more })
        try Routing.send(router, to: id, ["", "GHI"])
        #expect(try Routing.receive(req) == ["GHI"])
    }

    @Test("test_spec_req block_on_send_no_peers: REQ with no peer blocks")
    func requestWithoutPeersBlocks() throws {
        let context = try Fixture.context()
        let req = try Fixture.socket(context, .req)
        #expect(Routing.errorCode { try req.send(Message(string: "x"), timeout: .zero) } == .wouldBlock)
        #expect(try req.trySend(Message(string: "x")) == false)
        req.options.sendTimeout = .milliseconds(50)
        #expect(Routing.errorCode { try req.send("x") } == .timedOut)
    }

    @Test("test_spec_req only_listens_to_current_peer: REQ takes the reply of the peer it asked, discards the others",
          arguments: Routing.transports)
    func requestListensOnlyToCurrentPeer(transport: String) throws {
        let context = try Fixture.context()
        var routers: [Socket] = []
        let req = try Fixture.socket(context, .req)
        req.options.routingId = Array("REQ".utf8)
        // The probe lets each ROUTER learn "REQ" before any request.
        req.options.probeRouter = true
        for _ in 0..<3 {
            let router = try Fixture.socket(context, .router)
            router.options.routerMandatory = true
            try router.bind(Routing.endpoint(transport))
            try req.connect(router.lastEndpoint)
            routers.append(router)
        }
        for router in routers {
            #expect(try Routing.receive(router) == ["REQ", ""])
        }
        // One round: in a second one, a stale reply of the first could still be on its way
        // from the peer asked next, and REQ without REQ_CORRELATE would take it (libzmq too).
        try req.send("request")
        // Exactly one ROUTER has it; every ROUTER answers.
        var asked: Int?
        #expect(try Fixture.eventually {
            for (index, router) in routers.enumerated() where try router.tryReceive() != nil {
                asked = index
                return true
            }
            return false
        })
        let chosen = try #require(asked)
        while try routers[chosen].tryReceive() != nil {}
        for (index, router) in routers.enumerated() where index != chosen {
            try Routing.send(router, to: Array("REQ".utf8), ["", "reply from \(index)"])
        }
        try Routing.send(routers[chosen], to: Array("REQ".utf8), ["", "reply from \(chosen)"])
        #expect(try Routing.receive(req) == ["reply from \(chosen)"])
        #expect(Routing.errorCode { _ = try req.receive() } == .wrongState)
    }

    // MARK: REP (test_spec_rep)

    @Test("test_spec_rep fair_queue_in: REP serves every REQ, each reply going back to its requester",
          arguments: Routing.transports)
    func replyFairQueuesRequests(transport: String) throws {
        let context = try Fixture.context()
        let rep = try Fixture.bound(context, .rep, Routing.endpoint(transport))
        var reqs: [Socket] = []
        for _ in 0..<5 {
            let req = try Fixture.connected(context, .req, to: rep)
            reqs.append(req)
        }
        for cycle in 0..<2 {
            for (index, req) in reqs.enumerated() { try req.send("\(index) \(cycle)") }
            var served: Set<String> = []
            for _ in reqs.indices {
                let request = try rep.receiveString()
                served.insert(request)
                try rep.send("re: \(request)")
            }
            #expect(served == Set(reqs.indices.map { "\($0) \(cycle)" }))
            for (index, req) in reqs.enumerated() {
                #expect(try req.receiveString() == "re: \(index) \(cycle)")
            }
        }
    }

    @Test("test_spec_rep envelope: REP strips the envelope up to the delimiter and puts it back on the reply",
          arguments: Routing.transports)
    func replyKeepsTheEnvelope(transport: String) throws {
        let context = try Fixture.context()
        let rep = try Fixture.bound(context, .rep, Routing.endpoint(transport))
        let dealer = try Fixture.connected(context, .dealer, to: rep)

        try Routing.send(dealer, ["", "A"])
        #expect(try Routing.receive(rep) == ["A"])
        try rep.send("A")
        #expect(try Routing.receive(dealer) == ["", "A"])

        try Routing.send(dealer, ["X", "Y", "", "A", "B"])
        #expect(try Routing.receive(rep) == ["A", "B"])
        try Routing.send(rep, ["C", "D"])
        #expect(try Routing.receive(dealer) == ["X", "Y", "", "C", "D"])
    }

    @Test("REP discards a request without an envelope delimiter and serves the next one")
    func replyDropsRequestsWithoutDelimiter() throws {
        let context = try Fixture.context()
        let rep = try Fixture.bound(context, .rep, Routing.endpoint("inproc"))
        let dealer = try Fixture.connected(context, .dealer, to: rep)
        try Routing.send(dealer, ["no", "delimiter"])
        try Routing.send(dealer, ["", "valid"])
        #expect(try Routing.receive(rep) == ["valid"])
        try rep.send("ok")
        #expect(try Routing.receive(dealer) == ["", "ok"])
    }

    // MARK: DEALER (test_spec_dealer)

    @Test("test_spec_dealer round_robin_out: each REP gets exactly one of the DEALER's requests",
          arguments: Routing.transports)
    func dealerRoundRobinsOut(transport: String) throws {
        let context = try Fixture.context()
        let dealer = try Fixture.bound(context, .dealer, Routing.endpoint(transport))
        var reps: [Socket] = []
        for index in 0..<3 {
            let rep = try Fixture.connected(context, .rep, to: dealer)
            reps.append(rep)
            #expect(Routing.waitForPeers(dealer, index + 1))
        }
        for index in reps.indices { try Routing.send(dealer, ["", "ABC \(index)"]) }
        for (index, rep) in reps.enumerated() {
            #expect(try rep.receiveString() == "ABC \(index)")
            #expect(rep.hasMore == false)
        }
    }

    @Test("test_spec_dealer fair_queue_in: a DEALER receives from every DEALER connected to it",
          arguments: Routing.transports)
    func dealerFairQueuesIn(transport: String) throws {
        let context = try Fixture.context()
        let receiver = try Fixture.bound(context, .dealer, Routing.endpoint(transport))
        var senders: [Socket] = []
        for index in 0..<5 {
            let sender = try Fixture.connected(context, .dealer, to: receiver)
            try sender.send("B\(index)")
            senders.append(sender)
        }
        var received: Set<String> = []
        for _ in senders.indices { received.insert(try receiver.receiveString()) }
        #expect(received == Set(senders.indices.map { "B\($0)" }))
    }

    @Test("test_spec_dealer block_on_send_no_peers: DEALER with no peer blocks")
    func dealerWithoutPeersBlocks() throws {
        let context = try Fixture.context()
        let dealer = try Fixture.socket(context, .dealer)
        #expect(Routing.errorCode { try dealer.send(Message(string: "x"), timeout: .zero) } == .wouldBlock)
    }

    // MARK: States

    @Test("REQ and REP enforce their send/receive alternation with wrongState")
    func stateErrors() throws {
        let context = try Fixture.context()
        let rep = try Fixture.bound(context, .rep, Routing.endpoint("inproc"))
        let req = try Fixture.connected(context, .req, to: rep)

        #expect(Routing.errorCode { _ = try req.receive() } == .wrongState)
        #expect(Routing.errorCode { try rep.send("too early") } == .wrongState)
        try req.send("question")
        #expect(Routing.errorCode { try req.send("again") } == .wrongState)
        #expect(try rep.receiveString() == "question")
        #expect(Routing.errorCode { _ = try rep.receive() } == .wrongState)
        #expect(rep.events.contains(.send))
        #expect(!req.events.contains(.send))
        try rep.send("answer")
        #expect(Routing.errorCode { try rep.send("twice") } == .wrongState)
        #expect(try req.receiveString() == "answer")
        #expect(Routing.errorCode { _ = try req.receive() } == .wrongState)
        // The cycle starts over.
        try req.send("question 2")
        #expect(try rep.receiveString() == "question 2")
        try rep.send("answer 2")
        #expect(try req.receiveString() == "answer 2")
    }

    @Test("REP drops a reply whose requester has gone, and serves the next request")
    func replyToAGonePeerIsDropped() throws {
        let context = try Fixture.context()
        let rep = try Fixture.bound(context, .rep, Routing.endpoint("inproc"))
        let first = try Fixture.connected(context, .req, to: rep)
        try first.send("from first")
        #expect(try rep.receiveString() == "from first")
        first.close()
        #expect(Fixture.eventually {
            _ = rep.events
            return rep.peerCount == 0
        })
        try rep.send("nobody listens")
        #expect(rep.droppedMessages == 1)
        let second = try Fixture.connected(context, .req, to: rep)
        try second.send("from second")
        #expect(try rep.receiveString() == "from second")
        try rep.send("to second")
        #expect(try second.receiveString() == "to second")
    }

    // MARK: test_req_correlate, test_req_relaxed, test_invalid_rep

    @Test("test_req_correlate: the request carries a 4-byte id; a reply with another id is discarded",
          arguments: Routing.transports)
    func requestCorrelate(transport: String) throws {
        let context = try Fixture.context()
        let router = try Fixture.bound(context, .router, Routing.endpoint(transport))
        let req = try Fixture.socket(context, .req)
        req.options.requestCorrelate = true
        try req.connect(router.lastEndpoint)

        try Routing.send(req, ["ABC", "DEF"])
        let request = try router.receiveMultipart().parts
        #expect(request.count == 5)
        let id = request[0].bytes
        let requestId = request[1].bytes
        #expect(requestId.count == 4)
        #expect(request[2...].map(\.string) == ["", "ABC", "DEF"])

        var wrongId = requestId
        wrongId[0] &+= 1
        try router.send([Message(id), Message(wrongId), Message.empty, Message(string: "wrong")])
        try router.send([Message(id), Message(requestId), Message.empty, Message(string: "GHI")])
        #expect(try Routing.receive(req) == ["GHI"])

        // The next request has a new id.
        try req.send("again")
        let next = try router.receiveMultipart().parts
        #expect(next.count == 4)
        #expect(next[1].bytes != requestId)
        try router.send([Message(id), Message(requestId), Message.empty, Message(string: "stale")])
        try router.send([Message(id), next[1], Message.empty, Message(string: "fresh")])
        #expect(try Routing.receive(req) == ["fresh"])
    }

    @Test("test_req_relaxed: a second request goes to the next REP and the first REP's late reply is discarded",
          arguments: Routing.transports)
    func requestRelaxed(transport: String) throws {
        let context = try Fixture.context()
        let req = try Fixture.socket(context, .req)
        req.options.requestRelaxed = true
        req.options.requestCorrelate = true
        try req.bind(Routing.endpoint(transport))
        var reps: [Socket] = []
        for index in 0..<2 {
            let rep = try Fixture.connected(context, .rep, to: req)
            reps.append(rep)
            #expect(Routing.waitForPeers(req, index + 1))
        }
        try req.send("A")
        #expect(try reps[0].receiveString() == "A")
        // No reply yet, and a new request anyway.
        try req.send("B")
        #expect(try reps[1].receiveString() == "B")
        try reps[0].send("late reply to A")
        try reps[1].send("reply to B")
        #expect(try req.receiveString() == "reply to B")
        // Round robin comes back to the first REP; its stale reply must not answer this.
        try req.send("C")
        #expect(try reps[0].receiveString() == "C")
        try reps[0].send("reply to C")
        #expect(try req.receiveString() == "reply to C")
        // Sending twice, then receiving the second reply, also works without correlation.
        req.options.requestCorrelate = false
        try req.send("D")
        #expect(try reps[1].receiveString() == "D")
        try reps[1].send("reply to D")
        #expect(try req.receiveString() == "reply to D")
    }

    @Test("test_invalid_rep: REQ drops a reply without the delimiter and delivers the next valid one",
          arguments: Routing.transports)
    func requestDropsInvalidReplies(transport: String) throws {
        let context = try Fixture.context()
        let router = try Fixture.bound(context, .router, Routing.endpoint(transport))
        let req = try Fixture.connected(context, .req, to: router)
        for round in 0..<2 {
            try req.send("r\(round)")
            let request = try router.receiveMultipart().parts
            #expect(request.dropFirst().map(\.string) == ["", "r\(round)"])
            let id = request[0].bytes
            try Routing.send(router, to: id, ["bad"])
            try Routing.send(router, to: id, ["x", "bad"])
            try Routing.send(router, to: id, ["", "good \(round)"])
            #expect(try Routing.receive(req) == ["good \(round)"])
        }
    }
}
