import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import ZeroMQ

/// What ``Context/IOMode/caller`` promises about background work, against libzmq peers
/// (pyzmq): heartbeats and accepting happen only while the application is inside a call.
/// The tests are synchronous and stay on their own thread throughout: the blocking calls and
/// the stretches away from the library must not hold a thread of the cooperative pool.
@Suite("Caller-driven I/O, background work")
struct CallerModeBackgroundWorkTests {
    /// A bound on every wait for a peer (never an expectation: an idle machine answers in
    /// milliseconds).
    static let patience: Duration = .seconds(60)
    /// How long the application stays inside one call, or away from the library (3.5 s, in
    /// `Thread.sleep`): seven times the peer's heartbeat timeout (below), so the peer would
    /// drop a silent connection.
    static let stretch: Duration = .milliseconds(3_500)

    /// A libzmq ROUTER that pings every 100 ms and drops a connection silent for 500 ms after
    /// a ping. It answers each message with the message and the number of connections it has
    /// seen (ROUTER gives every new connection a new routing id), so the application learns
    /// whether its connection survived.
    static let heartbeatingRouter = """
        import os
        s = zmq.Context().socket(zmq.ROUTER)
        s.setsockopt(zmq.HEARTBEAT_IVL, 100)
        s.setsockopt(zmq.HEARTBEAT_TIMEOUT, 500)
        s.setsockopt(zmq.LINGER, 0)
        s.bind("tcp://127.0.0.1:*")
        with open(sys.argv[1] + ".tmp", "w") as f:
            f.write(s.getsockopt_string(zmq.LAST_ENDPOINT))
        os.rename(sys.argv[1] + ".tmp", sys.argv[1])
        seen = set()
        while True:
            ident, body = s.recv_multipart()
            seen.add(ident)
            if body == b"bye":
                break
            s.send_multipart([ident, body + b" " + str(len(seen)).encode()])
        """

    @Test("Inside a blocking call, heartbeats keep a connection that the peer would drop")
    func heartbeatsDuringACall() throws {
        let (peer, endpoint) = try Self.startHeartbeatingRouter()
        let context = try Context(io: .caller)
        let dealer = try Self.dealer(context, connectedTo: endpoint)
        try dealer.send("hello")
        #expect(try dealer.receiveString() == "hello 1")
        // Nothing comes: the receive waits out the stretch, answering the peer's pings meanwhile.
        #expect { _ = try dealer.receive(timeout: Self.stretch) } throws: { ($0 as? ZeroMQError)?.code == .timedOut }
        try dealer.send("after the call")
        #expect(try dealer.receiveString() == "after the call 1", "the peer saw a second connection")
        let statistics = dealer.statistics
        #expect(statistics.disconnections == 0, "\(dealer.takeEvents().events)")
        #expect(statistics.handshakesSucceeded == 1)
        try dealer.send("bye")
        dealer.close()
        context.terminate()
        let finished = peer.finishBlocking()
        #expect(finished.status == 0, "pyzmq: \(finished.output)")
    }

    @Test("Away from the library, the peer drops the connection; the next calls reconnect by themselves")
    func noHeartbeatsWhileAway() throws {
        let (peer, endpoint) = try Self.startHeartbeatingRouter()
        let context = try Context(io: .caller)
        let dealer = try Self.dealer(context, connectedTo: endpoint)
        try dealer.send("hello")
        #expect(try dealer.receiveString() == "hello 1")
        // No call: the pings go unanswered and the peer's heartbeat timeout closes the connection.
        Thread.sleep(forTimeInterval: 3.5)
        #expect(dealer.statistics.disconnections == 0, "nothing is noticed outside a call")
        // The next calls notice the closed connection and reconnect (with the backoff).
        let deadline = ContinuousClock.now + Self.patience
        while ContinuousClock.now < deadline, dealer.statistics.handshakesSucceeded < 2 {
            _ = try dealer.poll(timeout: .milliseconds(100))
        }
        let statistics = dealer.statistics
        let events = dealer.takeEvents().events
        #expect(statistics.handshakesSucceeded == 2, "\(events)")
        #expect(statistics.disconnections == 1, "\(events)")
        // Our own heartbeat timeout is a minute, so the peer is the one that closed it.
        let reasons = events.compactMap { event -> MonitorEvent.DisconnectReason? in
            if case .disconnected(_, let reason) = event { return reason }
            return nil
        }
        #expect(reasons.count == 1 && reasons.allSatisfy(Self.isPeersDoing), "\(events)")
        try dealer.send("after the pause")
        #expect(try dealer.receiveString() == "after the pause 2")
        try dealer.send("bye")
        dealer.close()
        context.terminate()
        let finished = peer.finishBlocking()
        #expect(finished.status == 0, "pyzmq: \(finished.output)")
    }

    @Test("Away from the library, a connection waits in the kernel's backlog and is accepted during the next call")
    func acceptingDuringCalls() throws {
        let context = try Context(io: .caller)
        let router = try context.socket(.router)
        router.options.linger = .zero
        router.options.receiveTimeout = Self.patience
        try router.bind("tcp://127.0.0.1:*")
        let marker = Self.temporaryPath("connected")
        defer { unlink(marker) }
        // The peer's connect completes against the kernel's backlog; its message is queued
        // behind the handshake, which needs us.
        let peer = try PyzmqScript("""
            import os
            from zmq.utils.monitor import recv_monitor_message
            s = zmq.Context().socket(zmq.DEALER)
            s.setsockopt(zmq.LINGER, 0)
            events = s.get_monitor_socket(zmq.EVENT_CONNECTED)
            s.connect(sys.argv[1])
            assert recv_monitor_message(events)["event"] == zmq.EVENT_CONNECTED
            s.send(b"sent while away")
            open(sys.argv[2] + ".tmp", "w").close()
            os.rename(sys.argv[2] + ".tmp", sys.argv[2])
            assert s.recv() == b"welcome"
            """, arguments: [router.lastEndpoint, marker])
        // Away from the library until the peer has connected and sent.
        try Self.waitForFile(marker, from: peer)
        #expect(router.statistics.connectionsAccepted == 0, "nobody accepts outside a call")
        let request = try router.receiveMultipart()
        #expect(request.count == 2)
        #expect(request.last?.string == "sent while away")
        #expect(router.statistics.connectionsAccepted == 1)
        if let identity = request.first { try router.send([identity, "welcome"] as Multipart) }
        let finished = peer.finishBlocking()
        #expect(finished.status == 0, "pyzmq: \(finished.output)")
        router.close()
        context.terminate()
    }

    // MARK: Helpers

    /// The heartbeating ROUTER, started, and the endpoint it bound.
    static func startHeartbeatingRouter() throws -> (PyzmqScript, String) {
        let path = temporaryPath("endpoint")
        defer { unlink(path) }
        let peer = try PyzmqScript(heartbeatingRouter, arguments: [path])
        try waitForFile(path, from: peer)
        return (peer, try String(contentsOfFile: path, encoding: .utf8))
    }

    /// A caller-mode DEALER that pings every 50 ms but would wait a minute for an answer
    /// before giving up itself, connected to `endpoint`.
    static func dealer(_ context: Context, connectedTo endpoint: String) throws -> Socket {
        let dealer = try context.socket(.dealer)
        dealer.options.linger = .zero
        dealer.options.receiveTimeout = patience
        dealer.options.heartbeatInterval = .milliseconds(50)
        dealer.options.heartbeatTimeout = .seconds(60)
        try dealer.connect(endpoint)
        return dealer
    }

    /// A disconnection the peer caused: it closed the connection or reset it.
    static func isPeersDoing(_ reason: MonitorEvent.DisconnectReason) -> Bool {
        switch reason {
        case .closedByPeer, .transport: true
        case .protocolError, .local: false
        }
    }

    static func temporaryPath(_ name: String) -> String {
        "/tmp/swift-zeromq-callerbg-\(getpid())-\(UInt32.random(in: 0...UInt32.max))-\(name)"
    }

    /// Sleeps, making no call on the library, until the script has written `path` (it renames
    /// the file into place, so it is whole); throws when the script ends first or after the
    /// patience.
    static func waitForFile(_ path: String, from peer: PyzmqScript) throws {
        let deadline = ContinuousClock.now + patience
        while access(path, F_OK) != 0 {
            if peer.hasEnded {
                let output = peer.finishBlocking().output
                throw ScriptFailure(description: "pyzmq ended early: \(output)")
            }
            guard ContinuousClock.now < deadline else { throw ScriptFailure(description: "pyzmq wrote no \(path)") }
            usleep(10_000)
        }
    }

    struct ScriptFailure: Error, CustomStringConvertible {
        let description: String
    }
}
