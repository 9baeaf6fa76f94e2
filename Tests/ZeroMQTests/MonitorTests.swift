import Testing
@testable import ZeroMQ

/// libzmq's test_monitor sequences, typed, plus each way a handshake can fail, the libzmq
/// monitor format, and the statistics that count what the events report.
@Suite("Monitor and statistics")
struct MonitorTests {
    /// Reads events until `last` matches (or the monitor ends); a bounded wait for each.
    static func events(_ monitor: SocketMonitor, until last: (MonitorEvent) -> Bool) async -> [MonitorEvent] {
        var seen: [MonitorEvent] = []
        for await event in monitor {
            seen.append(event)
            if last(event) { break }
        }
        return seen
    }

    static func kind(_ event: MonitorEvent) -> String {
        String(describing: event).split(separator: " ").prefix(2).joined(separator: " ")
    }

    @Test("Connect side: connect delayed, connected, handshake succeeded; then disconnected and retried")
    func connectSequence() async throws {
        let context = try Fixture.context()
        let server = try Fixture.bound(context, .pull, "tcp://127.0.0.1:*")
        let client = try Fixture.socket(context, .push)
        client.options.reconnectInterval = .milliseconds(20)
        let monitor = client.monitor()
        try client.connect(server.lastEndpoint)
        let first = await Self.events(monitor) { if case .handshakeSucceeded = $0 { return true }; return false }
        let shape = first.map { event -> String in
            switch event {
            case .connectDelayed: return "delayed"
            case .connected: return "connected"
            case .handshakeSucceeded: return "handshake"
            default: return "other"
            }
        }
        // A loopback connect may complete at once (no delayed event) or not.
        #expect(shape == ["delayed", "connected", "handshake"] || shape == ["connected", "handshake"])
        server.close()
        let later = await Self.events(monitor) { if case .connectRetried = $0 { return true }; return false }
        #expect(later.contains { if case .disconnected(_, .closedByPeer) = $0 { return true }; return false })
        #expect(client.statistics.handshakesSucceeded == 1)
        #expect(client.statistics.connectionsMade == 1)
        #expect(client.statistics.reconnects >= 1)
        #expect(client.statistics.disconnections == 1)
    }

    @Test("Bind side: listening, accepted, handshake succeeded, disconnected; closed on unbind; monitor stopped on close")
    func bindSequence() async throws {
        let context = try Fixture.context()
        let server = try Fixture.socket(context, .pull)
        let monitor = server.monitor()
        try server.bind("tcp://127.0.0.1:*")
        let endpoint = server.lastEndpoint
        let client = try Fixture.socket(context, .push)
        try client.connect(endpoint)
        try await client.send("x")
        _ = try await server.receive()
        client.close()
        var seen = await Self.events(monitor) { if case .disconnected = $0 { return true }; return false }
        try server.unbind(endpoint)
        server.close()
        seen += await Self.events(monitor) { _ in false }
        let kinds = seen.map { event -> String in
            switch event {
            case .listening: return "listening"
            case .accepted: return "accepted"
            case .handshakeSucceeded: return "handshake"
            case .disconnected: return "disconnected"
            case .closed: return "closed"
            case .monitorStopped: return "stopped"
            default: return "other: \(event)"
            }
        }
        #expect(kinds == ["listening", "accepted", "handshake", "disconnected", "closed", "stopped"])
    }

    @Test("Bind failed is an event too, with the error")
    func bindFailed() throws {
        let context = try Fixture.context()
        let first = try Fixture.bound(context, .pull, "tcp://127.0.0.1:*")
        let second = try Fixture.socket(context, .pull)
        #expect(throws: ZeroMQError.self) { try second.bind(first.lastEndpoint) }
        let events = second.takeEvents().events
        guard case .bindFailed(let endpoint, let error)? = events.first else {
            Issue.record("no bindFailed event: \(events)")
            return
        }
        #expect(endpoint == first.lastEndpoint)
        #expect(error.code == .addressInUse)
        #expect(events.first?.libzmqEvent.event == .bindFailed)
        #expect(events.first?.libzmqEvent.value == 98)  // EADDRINUSE
    }

    @Test("Handshake failures by reason: protocol (incompatible peer), authentication (status 400), timeout")
    func handshakeFailures() throws {
        let context = try Fixture.context()
        // Incompatible socket types.
        let push = try Fixture.bound(context, .push, "tcp://127.0.0.1:*")
        let other = try Fixture.socket(context, .push)
        try other.connect(push.lastEndpoint)
        let incompatible = Fixture.waitFor(push) { if case .handshakeFailed = $0 { return true }; return false }
        let protocolFailure = incompatible.first { if case .handshakeFailed = $0 { return true }; return false }
        #expect(protocolFailure.map { [.handshakeFailedProtocol, .handshakeFailedNoDetail].contains($0.libzmqEvent.event) } == true)

        // PLAIN refused by the authenticator: the server sees status 400.
        let authenticator = try Authenticator(context: context)
        authenticator.decide = { _ in .deny }
        defer { authenticator.stop() }
        let server = try Fixture.socket(context, .rep)
        server.options.security = .plainServer(zapDomain: "test")
        try server.bind("tcp://127.0.0.1:*")
        let client = try Fixture.socket(context, .req)
        client.options.security = .plainClient(username: Array("admin".utf8), password: Array("wrong".utf8))
        try client.connect(server.lastEndpoint)
        let refused = Fixture.waitFor(server) { if case .handshakeFailed = $0 { return true }; return false }
        let authFailure = refused.first { if case .handshakeFailed = $0 { return true }; return false }
        #expect(authFailure?.libzmqEvent.event == .handshakeFailedAuth)
        #expect(authFailure?.libzmqEvent.value == 400)
        #expect(server.statistics.handshakeFailures >= 1)
        #expect(server.statistics.messagesReceived == 0)
    }

    @Test("libzmq's monitor format over inproc: two frames, 16-bit event and 32-bit value, then the endpoint")
    func libzmqFormatOverInproc() throws {
        let context = try Fixture.context()
        let watched = try Fixture.socket(context, .dealer)
        let name = "inproc://\(Fixture.unique("monitor"))"
        try watched.monitor(endpoint: name, events: [.listening, .monitorStopped])
        let reader = try Fixture.socket(context, .pair)
        try reader.connect(name)
        // The reader's connection is made synchronously over inproc, but the publisher picks it
        // up on its own task: bind until an event arrives.
        var first: Message?
        for _ in 0..<100 where first == nil {
            try watched.bind("tcp://127.0.0.1:*")
            first = try? reader.receive(timeout: .milliseconds(100))
        }
        guard let head = first else {
            Issue.record("no monitor message arrived")
            return
        }
        #expect(head.count == 6)
        #expect(head.more)
        #expect(head.withUnsafeBytes { $0.loadUnaligned(as: UInt16.self) } == MonitorEventMask.listening.rawValue)
        let rest = try reader.receive()
        #expect(rest.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }.hasPrefix("tcp://127.0.0.1:"))
        watched.close()
        // The mask filtered everything but LISTENING and MONITOR_STOPPED.
        while true {
            let head = try reader.receive()
            let tail = try reader.receive()
            let event = head.withUnsafeBytes { $0.loadUnaligned(as: UInt16.self) }
            #expect(event == MonitorEventMask.listening.rawValue || event == MonitorEventMask.monitorStopped.rawValue)
            if event == MonitorEventMask.monitorStopped.rawValue {
                #expect(tail.count == 0)
                break
            }
        }
    }

    @Test("Statistics count messages and bytes both ways, and drops by cause")
    func statistics() throws {
        let context = try Fixture.context()
        let endpoint = "inproc://\(Fixture.unique("stats"))"
        let router = try Fixture.bound(context, .router, endpoint)
        let dealer = try Fixture.socket(context, .dealer)
        dealer.options.routingId = Array("D".utf8)
        try dealer.connect(endpoint)
        try dealer.send([Message(string: "ab"), Message(string: "cde")])
        let received = try router.receiveMultipart()
        #expect(received.parts.count == 3)
        try router.send([Message(string: "nobody"), Message(string: "lost")])  // no route: dropped
        #expect(dealer.statistics.messagesSent == 1)
        #expect(dealer.statistics.bytesSent == 5)
        #expect(router.statistics.messagesReceived == 1)
        #expect(router.statistics.bytesReceived == 6)  // routing id "D" + 5
        #expect(router.statistics.dropped == DropCounts(atHighWaterMark: 0, noRoute: 1))
        #expect(router.droppedMessages == 1)

        let pub = try Fixture.socket(context, .pub)
        pub.options.sendHighWaterMark = 1
        let sub = try Fixture.socket(context, .sub)
        sub.options.receiveHighWaterMark = 1
        let feed = "inproc://\(Fixture.unique("feed"))"
        try pub.bind(feed)
        try sub.connect(feed)
        try sub.subscribe("")
        // Wait for the subscription, then overflow a subscriber that never reads.
        #expect(try Fixture.eventually { try pub.send("probe"); return (try? sub.tryReceive()) != nil })
        // The inproc pipe holds SNDHWM + RCVHWM = 2 messages; the other 8 are dropped and counted.
        for _ in 0..<10 { try pub.send("x") }
        #expect(pub.statistics.dropped == DropCounts(atHighWaterMark: 8, noRoute: 0))
        #expect(try sub.tryReceive() != nil)
        #expect(try sub.tryReceive() != nil)
        #expect(try sub.tryReceive() == nil)
    }
}
