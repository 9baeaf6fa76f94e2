import Foundation
import Testing
import ZeroMQ

/// What pyzmq users reach for: Codable values, literals, multipart subscripts, one socket's
/// poll, scoped closing, and timeouts that say so.
@Suite("Conveniences")
struct ConvenienceTests {
    /// How long a wait for a peer may take on a busy machine before the test fails (a bound,
    /// never an expectation: an idle machine answers in milliseconds).
    static let patience: Duration = .seconds(120)

    struct Order: Codable, Equatable {
        var id: Int
        var item: String
    }

    @Test("Codable values travel as JSON to and from pyzmq's send_json/recv_json")
    func codableWithPyzmq() async throws {
        let context = try Context()
        let client = try Fixture.socket(context, .req, timeout: Self.patience)
        try client.bind("tcp://127.0.0.1:*")
        let peer = try PyzmqScript("""
            s = zmq.Context().socket(zmq.REP)
            s.connect(sys.argv[1])
            order = s.recv_json()
            s.send_json({"id": order["id"] + 1, "item": order["item"].upper()})
            order = s.recv_json()
            s.send_json({"id": order["id"] + 1, "item": order["item"].upper()})
            """, arguments: [client.lastEndpoint])
        // The blocking calls first (a synchronous closure picks them), then their async twins.
        try Self.blocking { try client.send(encoding: Order(id: 7, item: "tea")) }
        #expect(try Self.blocking { try client.receive(decoding: Order.self) } == Order(id: 8, item: "TEA"))
        try await client.send(encoding: Order(id: 41, item: "coffee"))
        #expect(try await client.receive(decoding: Order.self, timeout: Self.patience) == Order(id: 42, item: "COFFEE"))
        let finished = await peer.finish()
        #expect(finished.status == 0, "pyzmq: \(finished.output)")
    }

    @Test("Any encoder: a property list between two sockets, and decoding errors come through as they are")
    func codableWithAnotherEncoder() throws {
        let context = try Context()
        let pull = try Fixture.bound(context, .pull, "inproc://\(Fixture.unique("plist"))")
        let push = try Fixture.connected(context, .push, to: pull)
        try push.send(encoding: Order(id: 1, item: "bread"), with: PropertyListEncoder())
        #expect(try pull.receive(decoding: Order.self, with: PropertyListDecoder()) == Order(id: 1, item: "bread"))
        try push.send("not JSON")
        #expect(throws: DecodingError.self) { _ = try pull.receive(decoding: Order.self) }
    }

    @Test("Messages and multipart messages from literals; a multipart message is a collection of its parts")
    func literalsAndSubscripts() throws {
        let context = try Context()
        let router = try Fixture.bound(context, .router, "tcp://127.0.0.1:*")
        let dealer = try Fixture.connected(context, .dealer, to: router)
        let bytes: Message = [0x00, 0xFF]
        try dealer.send(["hello", bytes] as Multipart)
        var request = try router.receiveMultipart()
        #expect(request.count == 3)
        // A received part carries its MORE flag, which `==` compares: compare bodies.
        #expect(request[1].string == "hello")
        #expect(request[2].bytes == [0x00, 0xFF])
        #expect(request.last?.bytes == bytes.bytes)
        #expect(request.last == bytes, "the last part has no MORE flag, as the literal")
        request[1] = "world"
        try router.send(Array(request.prefix(2)))
        let reply = try dealer.receiveMultipart()
        #expect(reply.map(\.string) == ["world"])
        try dealer.send([[1, 2], [], [3]])
        #expect(try router.receiveMultipart().dropFirst().map(\.bytes) == [[1, 2], [], [3]])
    }

    @Test("Literal multipart messages reach pyzmq part for part")
    func literalsWithPyzmq() async throws {
        let context = try Context()
        let router = try Fixture.socket(context, .router, timeout: Self.patience)
        try router.bind("tcp://127.0.0.1:*")
        let peer = try PyzmqScript("""
            s = zmq.Context().socket(zmq.DEALER)
            s.connect(sys.argv[1])
            s.send_multipart([b"key", b"value"])
            parts = s.recv_multipart()
            assert parts == [b"ok", b"\\x01\\x02"], parts
            """, arguments: [router.lastEndpoint])
        let request = try await router.receiveMultipart(timeout: Self.patience)
        #expect(request.dropFirst().map(\.string) == ["key", "value"])
        try await router.send([request[0], "ok", [1, 2]] as Multipart)
        let finished = await peer.finish()
        #expect(finished.status == 0, "pyzmq: \(finished.output)")
    }

    @Test("poll(timeout:) on one socket: empty when nothing comes, .receive once a message waits, .send when a peer has room")
    func pollOneSocket() throws {
        let context = try Context()
        let pull = try Fixture.bound(context, .pull, "tcp://127.0.0.1:*")
        #expect(try pull.poll(timeout: .milliseconds(50)).isEmpty)
        let push = try Fixture.connected(context, .push, to: pull)
        #expect(try push.poll(.send, timeout: Self.patience) == .send)
        try push.send("ready")
        #expect(try pull.poll(timeout: Self.patience) == .receive)
        #expect(try pull.tryReceive()?.string == "ready")
    }

    @Test("poll(timeout:) suspends instead of blocking when awaited")
    func pollOneSocketAsync() async throws {
        let context = try Context()
        let pull = try Fixture.bound(context, .pull, "tcp://127.0.0.1:*")
        #expect(try await pull.poll(timeout: .zero).isEmpty)
        #expect(try await pull.poll(timeout: .milliseconds(50)).isEmpty)
        let push = try Fixture.connected(context, .push, to: pull)
        try await push.send("again")
        #expect(try await pull.poll([.receive, .send], timeout: Self.patience) == .receive)
        #expect(try await pull.receiveString() == "again")
    }

    @Test("withSocket closes the socket when the body returns and when it throws")
    func scopedClosing() async throws {
        let context = try Context()
        var kept: Socket?
        let endpoint = try context.withSocket(.pull) { socket in
            kept = socket
            try socket.bind("tcp://127.0.0.1:*")
            return socket.lastEndpoint
        }
        #expect(endpoint.hasPrefix("tcp://127.0.0.1:"))
        #expect(kept?.isClosed == true)
        kept = nil
        struct Stop: Error {}
        #expect(throws: Stop.self) {
            try context.withSocket(.push) { socket in
                kept = socket
                throw Stop()
            }
        }
        #expect(kept?.isClosed == true)
        let closedAfterAsync = try await context.withSocket(.rep) { socket in
            try socket.bind("inproc://\(Fixture.unique("scoped"))")
            try await Task.sleep(for: .milliseconds(1))
            return Handoff(socket)
        }
        #expect(closedAfterAsync.value.isClosed)
    }

    @Test("A timeout is reported as one: timedOut after a wait, wouldBlock when asked not to wait")
    func timeoutsSaySo() async throws {
        let context = try Context()
        let pull = try Fixture.bound(context, .pull, "inproc://\(Fixture.unique("timeout"))")
        #expect(Self.code { _ = try pull.receive(timeout: .milliseconds(20)) } == .timedOut)
        #expect(Self.code { _ = try pull.receive(timeout: .zero) } == .wouldBlock)
        #expect(Self.code { _ = try pull.receiveMultipart(timeout: .milliseconds(20)) } == .timedOut)
        do {
            _ = try await pull.receiveString(timeout: .milliseconds(20))
            Issue.record("nothing was sent: the receive must time out")
        } catch let error as ZeroMQError {
            #expect(error.code == .timedOut)
            #expect(error.message.contains("receive timeout"))
        }
        let push = try Fixture.socket(context, .push)
        #expect(Self.code { try push.send("nobody", timeout: .milliseconds(20)) } == .timedOut)
    }

    @Test("Every blocking convenience has an async counterpart")
    func asyncCounterparts() async throws {
        let context = try Context()
        let pull = try Fixture.bound(context, .pull, "tcp://127.0.0.1:*")
        let push = try Fixture.connected(context, .push, to: pull)
        try await push.send([1, 2, 3] as [UInt8])
        #expect(try await pull.receiveBytes() == [1, 2, 3])
        try await push.send("text")
        #expect(try await pull.receiveBytes(timeout: Self.patience) == Array("text".utf8))
        try await push.send(["a", "b"] as Multipart)
        #expect(try await pull.receiveMultipart(timeout: Self.patience).map(\.string) == ["a", "b"])
        try await push.send([[7], [8]])
        #expect(try await pull.receive(timeout: Self.patience) == Message([7], more: true))
        #expect(try await pull.receive() == [8])
        try await push.send(Message(string: "last"), timeout: Self.patience)
        #expect(try await pull.receiveString(timeout: Self.patience) == "last")
    }

    @Test("A certificate from its secret key is made by an initializer; its files say which they are")
    func certificateShapes() throws {
        let generated = try CurveCertificate.generate()
        let secret = try #require(generated.secretKey)
        let derived = try CurveCertificate(secretKey: secret)
        #expect(derived.publicKey == generated.publicKey)
        #expect(!derived.publicFileText.contains("secret-key"))
        #expect(try #require(derived.secretFileText).contains("secret-key = \"\(try #require(derived.secretKeyZ85))\""))
        #expect(derived.publicCertificate.secretFileText == nil)
        #expect(try CurveCertificate.parse(derived.publicFileText).publicKey == generated.publicKey)
    }

    @Test("TCP keepalive times are Durations and connections still work with them set")
    func keepaliveDurations() throws {
        let context = try Context()
        let pull = try Fixture.socket(context, .pull)
        pull.options.tcpKeepalive = true
        pull.options.tcpKeepaliveIdleTime = .seconds(30)
        pull.options.tcpKeepaliveProbeInterval = .milliseconds(1500)
        try pull.bind("tcp://127.0.0.1:*")
        let push = try Fixture.connected(context, .push, to: pull)
        try push.send("alive")
        #expect(try pull.receiveString() == "alive")
    }

    /// Runs `body` synchronously: inside it, the blocking overloads are chosen over the async ones.
    static func blocking<T>(_ body: () throws -> T) rethrows -> T { try body() }

    static func code(_ body: () throws -> Void) -> ZeroMQError.Code? {
        do {
            try body()
            return nil
        } catch let error as ZeroMQError {
            return error.code
        } catch {
            return nil
        }
    }
}
