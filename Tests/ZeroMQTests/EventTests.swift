import Testing
import ZeroMQ

/// Connection failures, handshake errors and disconnects become typed events.
@Suite("Connection events")
struct EventTests {
    @Test("An incompatible peer fails the handshake with a typed error on both sides")
    func incompatibleSocketTypes() throws {
        let context = try Context()
        let server = try Fixture.bound(context, .push, "tcp://127.0.0.1:*")
        let client = try Fixture.connected(context, .push, to: server)
        let serverEvents = Fixture.waitFor(server) { if case .handshakeFailed = $0 { return true }; return false }
        #expect(serverEvents.contains(.listening(endpoint: server.lastEndpoint)))
        let failure = serverEvents.compactMap { event -> ZMTPError? in
            if case .handshakeFailed(_, let error) = event { return error }
            return nil
        }.first
        #expect(failure?.code == .incompatibleSocketType)
        let clientEvents = Fixture.waitFor(client) { if case .handshakeFailed = $0 { return true }; return false }
        #expect(clientEvents.contains { if case .connected = $0 { return true }; return false })
    }

    @Test("A refused connect is retried, and each retry is reported with its error")
    func refusedConnectIsRetried() throws {
        let context = try Context()
        let client = try Fixture.socket(context, .dealer)
        client.options.reconnectInterval = .milliseconds(10)
        let endpoint = "tcp://127.0.0.1:\(Fixture.freePort())"
        try client.connect(endpoint)
        let events = Fixture.waitFor(client) { if case .connectRetried = $0 { return true }; return false }
        let retry = events.first { if case .connectRetried = $0 { return true }; return false }
        if case .connectRetried(let where_, let after, let error)? = retry {
            #expect(where_ == endpoint)
            #expect(after == .milliseconds(10))
            #expect(error.kind == .system)
        } else {
            Issue.record("no retry reported: \(events)")
        }
    }

    @Test("A peer that goes away is reported as disconnected, closed by the peer")
    func peerDisconnects() throws {
        let context = try Context()
        let server = try Fixture.bound(context, .pair, "tcp://127.0.0.1:*")
        let client = try Fixture.connected(context, .pair, to: server)
        try client.send("hi")
        #expect(try server.receiveString() == "hi")
        client.close()
        let events = Fixture.waitFor(server) { $0 == .disconnected(endpoint: server.lastEndpoint, reason: .closedByPeer) }
        #expect(events.contains { if case .accepted = $0 { return true }; return false })
        #expect(events.contains { if case .handshakeSucceeded = $0 { return true }; return false })
        #expect(events.contains(.disconnected(endpoint: server.lastEndpoint, reason: .closedByPeer)))
    }

    @Test("A monitor is an AsyncSequence of typed events that ends when the socket closes")
    func monitorSequence() async throws {
        let context = try Context()
        let server = try Fixture.socket(context, .pull)
        let monitor = server.monitor()
        try server.bind("tcp://127.0.0.1:*")
        let endpoint = server.lastEndpoint
        let client = try Fixture.socket(context, .push)
        try client.connect(endpoint)
        try await client.send("hi")
        #expect(try await server.receiveString() == "hi")
        client.close()
        var seen: [MonitorEvent] = []
        for await event in monitor {
            seen.append(event)
            if case .disconnected = event { server.close() }
        }
        #expect(seen.first == .listening(endpoint: endpoint))
        #expect(seen.contains { if case .accepted = $0 { return true }; return false })
        #expect(seen.contains { if case .handshakeSucceeded = $0 { return true }; return false })
        #expect(seen.last == .monitorStopped)
        #expect(monitor.droppedEvents == 0)
    }

    @Test("A monitor nobody reads holds nothing up: it keeps the newest events and counts the rest")
    func unreadMonitorIsBounded() throws {
        let context = try Context()
        let client = try Fixture.socket(context, .dealer)
        client.options.reconnectInterval = .milliseconds(1)
        let monitor = client.monitor(capacity: 4)
        try client.connect("tcp://127.0.0.1:\(Fixture.freePort())")
        // Refused connects keep coming; the socket goes on working.
        #expect(Fixture.eventually { monitor.droppedEvents > 0 })
        try client.send("queued")  // still usable: queued for the peer that never comes
        client.close()
        context.terminate()
    }
}
