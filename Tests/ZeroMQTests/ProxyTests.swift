#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
@testable import ZeroMQ

/// `proxy(frontend:backend:capture:control:)` against real sockets: libzmq's test_proxy,
/// test_proxy_single_socket, test_proxy_steerable, test_proxy_terminate and test_proxy_hwm, in
/// spirit. The proxy runs on a thread of its own (``ProxyRunner``); every test ends it, with
/// TERMINATE or a context shutdown, and a bounded wait turns a hang into a failure.
@Suite("Proxy")
struct ProxyTests {
    static func inproc(_ name: String) -> String { "inproc://\(Fixture.unique(name))" }

    /// Sends `command` on a REQ or PAIR connected to the proxy's control socket and returns the
    /// answer's parts.
    static func steer(_ control: Socket, _ command: ProxyCommand) throws -> [Message] {
        try control.send(command.message)
        return try control.receiveMultipart().parts
    }

    /// Asks for STATISTICS and decodes the answer.
    static func statistics(_ control: Socket) throws -> ProxyStatistics? {
        ProxyStatistics(reply: try steer(control, .statistics))
    }

    // MARK: Topologies

    @Test("ROUTER/DEALER queue: requests from REQ clients reach REP workers, each reply reaches its own client")
    func sharedQueue() throws {
        let context = try Fixture.context()
        defer { context.shutdown() }
        let frontend = try Fixture.bound(context, .router, Self.inproc("queue-front"))
        let backend = try Fixture.bound(context, .dealer, "tcp://127.0.0.1:*")
        let workers = try (0..<2).map { _ in try Fixture.socket(context, .rep) }
        for worker in workers { try worker.connect(backend.lastEndpoint) }
        let clients = try (0..<3).map { _ in try Fixture.socket(context, .req) }
        for client in clients { try client.connect(frontend.lastEndpoint) }
        let runner = ProxyRunner(frontend: frontend, backend: backend)
        defer { runner.stop(context) }

        for (index, client) in clients.enumerated() { try client.send("request \(index)") }
        var answered = 0
        let served = try Fixture.eventually {
            for (index, worker) in workers.enumerated() {
                guard let request = try worker.tryReceive() else { continue }
                try worker.send("worker \(index) answers \(request.string)")
                answered += 1
            }
            return answered == clients.count
        }
        #expect(served)
        for (index, client) in clients.enumerated() {
            #expect(try client.receiveString().hasSuffix("answers request \(index)"))
        }
    }

    @Test("XSUB/XPUB forwarder: subscriptions flow upstream, messages downstream, each SUB gets only its topic")
    func forwarder() throws {
        let context = try Fixture.context()
        defer { context.shutdown() }
        let frontend = try Fixture.bound(context, .xsub, "tcp://127.0.0.1:*")
        let backend = try Fixture.bound(context, .xpub, Self.inproc("forwarder-back"))
        let publisher = try Fixture.connected(context, .pub, to: frontend)
        let weather = try Fixture.socket(context, .sub)
        let sports = try Fixture.socket(context, .sub)
        for (subscriber, topic) in [(weather, "weather"), (sports, "sports")] {
            try subscriber.subscribe(topic)
            try subscriber.connect(backend.lastEndpoint)
        }
        let runner = ProxyRunner(frontend: frontend, backend: backend)
        defer { runner.stop(context) }

        // The publisher filters: a topic's messages leave it only once the subscription has
        // come up through the proxy. Publish a marker until it arrives.
        for (subscriber, topic) in [(weather, "weather"), (sports, "sports")] {
            #expect(try Self.publish("\(topic) sync", on: publisher, until: subscriber))
        }
        for round in 0..<5 {
            try publisher.send(Message(string: "weather \(round)"))
            try publisher.send(Message(string: "sports \(round)"))
            try publisher.send(Message(string: "news \(round)"))
        }
        try publisher.send("weather end")
        try publisher.send("sports end")
        #expect(try Self.collect(weather, until: "weather end") == (0..<5).map { "weather \($0)" })
        #expect(try Self.collect(sports, until: "sports end") == (0..<5).map { "sports \($0)" })
    }

    /// Publishes `marker` until `subscriber` receives it (a bounded number of tries).
    static func publish(_ marker: String, on publisher: Socket, until subscriber: Socket) throws -> Bool {
        for _ in 0..<500 {
            try publisher.send(marker)
            if let received = try? subscriber.receive(timeout: .milliseconds(20)), received.string == marker { return true }
        }
        return false
    }

    /// What `subscriber` receives up to `end`, without late markers (`… sync`).
    static func collect(_ subscriber: Socket, until end: String) throws -> [String] {
        var received: [String] = []
        while true {
            let text = try subscriber.receiveString()
            if text == end { return received }
            if !text.hasSuffix(" sync") { received.append(text) }
        }
    }

    @Test("PULL/PUSH streamer: every message reaches one worker, once and whole")
    func streamer() throws {
        let context = try Fixture.context()
        defer { context.shutdown() }
        let frontend = try Fixture.bound(context, .pull, Self.inproc("streamer-front"))
        let backend = try Fixture.bound(context, .push, "tcp://127.0.0.1:*")
        let producer = try Fixture.connected(context, .push, to: frontend)
        let consumers = try (0..<2).map { _ in try Fixture.socket(context, .pull) }
        for consumer in consumers { try consumer.connect(backend.lastEndpoint) }
        let runner = ProxyRunner(frontend: frontend, backend: backend)
        defer { runner.stop(context) }

        let count = 100
        for index in 0..<count { try producer.send([Array("task \(index)".utf8), [UInt8(index)], []]) }
        var received: [String] = []
        let all = try Fixture.eventually {
            for consumer in consumers {
                while consumer.events.contains(.receive) {
                    let parts = try consumer.receiveMultipart().parts
                    #expect(parts.count == 3)
                    received.append(parts[0].string)
                }
            }
            return received.count >= count
        }
        #expect(all)
        #expect(received.sorted() == (0..<count).map { "task \($0)" }.sorted())
    }

    @Test("A single socket as both frontend and backend: a ROUTER's messages go back through it (echo)")
    func singleSocket() throws {
        let context = try Fixture.context()
        defer { context.shutdown() }
        let router = try Fixture.bound(context, .router, Self.inproc("single"))
        let client = try Fixture.connected(context, .req, to: router)
        let runner = ProxyRunner(frontend: router, backend: router)
        defer { runner.stop(context) }
        for index in 0..<3 {
            try client.send("ping \(index)")
            #expect(try client.receiveString() == "ping \(index)")
        }
    }

    // MARK: Capture

    @Test("The capture socket gets a copy of every message, whole, in the order the proxy took them")
    func capture() throws {
        let context = try Fixture.context()
        defer { context.shutdown() }
        let frontend = try Fixture.bound(context, .pull, Self.inproc("capture-front"))
        let backend = try Fixture.bound(context, .push, Self.inproc("capture-back"))
        let observer = try Fixture.bound(context, .pull, Self.inproc("capture"))
        let capture = try Fixture.connected(context, .push, to: observer)
        let producer = try Fixture.connected(context, .push, to: frontend)
        let consumer = try Fixture.connected(context, .pull, to: backend)
        let runner = ProxyRunner(frontend: frontend, backend: backend, capture: capture)
        defer { runner.stop(context) }

        let messages = (0..<20).map { index in index % 3 == 0 ? ["multi \(index)", "part", ""] : ["single \(index)"] }
        for message in messages { try producer.send(message.map { Message(string: $0) }) }
        for message in messages {
            #expect(try consumer.receiveMultipart().parts.map(\.string) == message)
            #expect(try observer.receiveMultipart().parts.map(\.string) == message)
        }
    }

    @Test("A capture socket with no room misses messages instead of stalling the proxy")
    func captureNeverBlocks() throws {
        let context = try Fixture.context()
        defer { context.shutdown() }
        let frontend = try Fixture.bound(context, .pull, Self.inproc("slow-capture-front"))
        let backend = try Fixture.bound(context, .push, Self.inproc("slow-capture-back"))
        // A PUSH capture with no peer can never send.
        let capture = try Fixture.socket(context, .push)
        let producer = try Fixture.connected(context, .push, to: frontend)
        let consumer = try Fixture.connected(context, .pull, to: backend)
        let runner = ProxyRunner(frontend: frontend, backend: backend, capture: capture)
        defer { runner.stop(context) }
        for index in 0..<10 { try producer.send("message \(index)") }
        for index in 0..<10 { #expect(try consumer.receiveString() == "message \(index)") }
    }

    // MARK: Control

    @Test("PAUSE stops the traffic (messages wait in the queues), RESUME lets it through, nothing is lost")
    func pauseAndResume() throws {
        let context = try Fixture.context()
        defer { context.shutdown() }
        let (frontend, backend, producer, consumer) = try Self.streamerSockets(context, "pause")
        let control = try Fixture.bound(context, .rep, Self.inproc("pause-control"))
        let steering = try Fixture.connected(context, .req, to: control)
        let runner = ProxyRunner(frontend: frontend, backend: backend, control: control)
        defer { runner.stop(context) }

        try producer.send("before")
        #expect(try consumer.receiveString() == "before")
        #expect(try Self.steer(steering, .pause).map(\.count) == [0], "REP answers every command with an empty part")
        for index in 0..<5 { try producer.send("while paused \(index)") }
        // Give the proxy every chance to move them; it must not.
        #expect(try Self.statistics(steering)?.frontend.receivedMessages == 1)
        usleep(50_000)
        #expect(try consumer.tryReceive() == nil)
        #expect(try Self.statistics(steering)?.frontend.receivedMessages == 1)
        #expect(try Self.steer(steering, .resume).map(\.count) == [0])
        for index in 0..<5 { #expect(try consumer.receiveString() == "while paused \(index)") }
        #expect(try Self.steer(steering, .terminate).map(\.count) == [0])
        #expect(try runner.finish()?.get().frontend.receivedMessages == 6)
    }

    @Test("STATISTICS answers eight 8-byte counters: parts and bytes received and sent, frontend then backend")
    func statistics() throws {
        let context = try Fixture.context()
        defer { context.shutdown() }
        let frontend = try Fixture.bound(context, .router, Self.inproc("stats-front"))
        let backend = try Fixture.bound(context, .dealer, Self.inproc("stats-back"))
        let worker = try Fixture.connected(context, .rep, to: backend)
        let client = try Fixture.connected(context, .req, to: frontend)
        let control = try Fixture.bound(context, .pair, Self.inproc("stats-control"))
        let steering = try Fixture.connected(context, .pair, to: control)
        let runner = ProxyRunner(frontend: frontend, backend: backend, control: control)
        defer { runner.stop(context) }

        let requests = ["a", "bb", "ccc"]
        for request in requests {
            try client.send(request)
            #expect(try worker.receiveString() == request)
            try worker.send(request + "!")
            #expect(try client.receiveString() == request + "!")
        }
        let reply = try Self.steer(steering, .statistics)
        #expect(reply.count == 8)
        #expect(reply.allSatisfy { $0.count == 8 })
        // Each request crosses as [routing id][empty][body] from the ROUTER and leaves the DEALER
        // as the same three parts; each reply the reverse. libzmq counts parts.
        let requestBytes = UInt64(requests.map { $0.utf8.count }.reduce(0, +))
        let replyBytes = requestBytes + UInt64(requests.count)
        let statistics = try #require(ProxyStatistics(reply: reply))
        let parts = UInt64(3 * requests.count)
        let routingIds = statistics.frontend.receivedBytes - requestBytes
        #expect(statistics.frontend.receivedMessages == parts)
        #expect(statistics.backend.sentMessages == parts)
        #expect(statistics.backend.sentBytes == statistics.frontend.receivedBytes)
        #expect(statistics.backend.receivedMessages == parts)
        #expect(statistics.frontend.sentMessages == parts)
        #expect(statistics.backend.receivedBytes == replyBytes + routingIds)
        #expect(statistics.frontend.sentBytes == statistics.backend.receivedBytes)
        #expect(routingIds == UInt64(requests.count * 5), "a ROUTER's generated routing ids are 5 bytes")
        #expect(statistics.counters == [statistics.frontend.receivedMessages, statistics.frontend.receivedBytes,
                                        statistics.frontend.sentMessages, statistics.frontend.sentBytes,
                                        statistics.backend.receivedMessages, statistics.backend.receivedBytes,
                                        statistics.backend.sentMessages, statistics.backend.sentBytes])
        // A PAIR answers STATISTICS only: TERMINATE gets no answer.
        try steering.send(ProxyCommand.terminate.message)
        #expect(try runner.finish()?.get() == statistics)
    }

    @Test("STATISTICS counters are little-endian uint64s in libzmq's order")
    func statisticsEncoding() throws {
        let statistics = ProxyStatistics(frontend: .init(receivedMessages: 1, receivedBytes: 2, sentMessages: 3, sentBytes: 4),
                                         backend: .init(receivedMessages: 5, receivedBytes: 6, sentMessages: 7, sentBytes: 0x0102_0304_0506_0708))
        let reply = statistics.reply
        #expect(reply.map(\.more) == [true, true, true, true, true, true, true, false])
        #expect(reply[0].bytes == [1, 0, 0, 0, 0, 0, 0, 0])
        #expect(reply[7].bytes == [8, 7, 6, 5, 4, 3, 2, 1])
        #expect(ProxyStatistics(reply: reply) == statistics)
        #expect(ProxyStatistics(reply: Array(reply.prefix(7))) == nil)
    }

    @Test("TERMINATE makes the proxy return; unknown commands are answered and ignored")
    func terminate() throws {
        let context = try Fixture.context()
        defer { context.shutdown() }
        let (frontend, backend, _, _) = try Self.streamerSockets(context, "terminate")
        let control = try Fixture.bound(context, .rep, Self.inproc("terminate-control"))
        let steering = try Fixture.connected(context, .req, to: control)
        let runner = ProxyRunner(frontend: frontend, backend: backend, control: control)
        defer { runner.stop(context) }
        try steering.send("HELLO")
        #expect(try steering.receiveMultipart().parts.map(\.count) == [0])
        try steering.send([Array("TERMINATE".utf8), []])
        #expect(try steering.receiveMultipart().parts.map(\.count) == [0], "a multipart message is no command")
        #expect(try Self.steer(steering, .terminate).map(\.count) == [0])
        let outcome = runner.finish()
        #expect(outcome != nil, "the proxy must return after TERMINATE")
        #expect((try? outcome?.get()) != nil)
    }

    @Test("Context shutdown ends the proxy with .terminated (libzmq's ETERM)")
    func contextShutdown() throws {
        let context = try Fixture.context()
        let (frontend, backend, _, _) = try Self.streamerSockets(context, "shutdown")
        let runner = ProxyRunner(frontend: frontend, backend: backend)
        context.shutdown()
        let outcome = runner.finish()
        #expect(outcome != nil, "the proxy must end when the context shuts down")
        if case .failure(let error)? = outcome {
            #expect(error.code == .terminated)
        } else {
            Issue.record("the proxy returned instead of throwing .terminated")
        }
    }

    @Test("Bad capture and control sockets are refused")
    func refusesUnusableSockets() throws {
        let context = try Fixture.context()
        defer { context.shutdown() }
        let frontend = try Fixture.socket(context, .pull)
        let backend = try Fixture.socket(context, .push)
        let pull = try Fixture.socket(context, .pull)
        let push = try Fixture.socket(context, .push)
        #expect(throws: ZeroMQError.self) { try proxy(frontend: frontend, backend: backend, capture: pull) }
        #expect(throws: ZeroMQError.self) { try proxy(frontend: frontend, backend: backend, control: push) }
    }

    // MARK: High-water marks

    @Test("A blocking backend at its HWM: the proxy stops taking from the frontend, and every message arrives once")
    func blockingBackendPushesBack() throws {
        let context = try Fixture.context()
        defer { context.shutdown() }
        let frontend = try Fixture.bound(context, .pull, Self.inproc("hwm-front"))
        let backend = try Fixture.socket(context, .push)
        backend.options.sendHighWaterMark = 1
        try backend.bind(Self.inproc("hwm-back"))
        let consumer = try Fixture.socket(context, .pull)
        consumer.options.receiveHighWaterMark = 1
        try consumer.connect(backend.lastEndpoint)
        let producer = try Fixture.connected(context, .push, to: frontend)
        let control = try Fixture.bound(context, .pair, Self.inproc("hwm-control"))
        let steering = try Fixture.connected(context, .pair, to: control)
        let runner = ProxyRunner(frontend: frontend, backend: backend, control: control)
        defer { runner.stop(context) }

        let count = 50
        for index in 0..<count { try producer.send("message \(index)") }
        // The pipe to the consumer holds 2 (SNDHWM 1 + RCVHWM 1 over inproc); the rest must stay
        // in the frontend's queue, not be taken and dropped.
        #expect(try Fixture.eventually { try Self.statistics(steering)?.backend.sentMessages == 2 })
        // Give the proxy every chance to take more; it must not.
        usleep(20_000)
        let settled = try #require(try Self.statistics(steering))
        #expect(settled.backend.sentMessages == 2)
        #expect(settled.frontend.receivedMessages == settled.backend.sentMessages, "nothing taken that could not go on")
        for index in 0..<count { #expect(try consumer.receiveString() == "message \(index)") }
        #expect(try consumer.tryReceive() == nil)
    }

    @Test("XPUB_NODROP backend at its HWM: the proxy waits with the message it took instead of dropping it")
    func noDropBackendWaits() throws {
        let context = try Fixture.context()
        defer { context.shutdown() }
        let frontend = try Fixture.bound(context, .xsub, Self.inproc("nodrop-front"))
        let backend = try Fixture.socket(context, .xpub)
        backend.options.xpubNoDrop = true
        backend.options.sendHighWaterMark = 1
        try backend.bind(Self.inproc("nodrop-back"))
        let subscriber = try Fixture.socket(context, .sub)
        subscriber.options.receiveHighWaterMark = 1
        try subscriber.subscribe("t")
        try subscriber.connect(backend.lastEndpoint)
        let publisher = try Fixture.connected(context, .pub, to: frontend)
        let runner = ProxyRunner(frontend: frontend, backend: backend)
        defer { runner.stop(context) }

        #expect(try Self.publish("t sync", on: publisher, until: subscriber))
        // Late markers may still be on their way: drain until quiet.
        while (try? subscriber.receive(timeout: .milliseconds(100))) != nil {}
        let count = 30
        for index in 0..<count { try publisher.send("t \(index)") }
        try publisher.send("t end")
        #expect(try Self.collect(subscriber, until: "t end") == (0..<count).map { "t \($0)" })
    }

    @Test("One direction blocked at its HWM does not hold up the other")
    func directionsAreIndependent() throws {
        let context = try Fixture.context()
        defer { context.shutdown() }
        let frontend = try Fixture.bound(context, .pair, Self.inproc("both-front"))
        let backend = try Fixture.socket(context, .pair)
        backend.options.sendHighWaterMark = 1
        try backend.bind(Self.inproc("both-back"))
        let client = try Fixture.connected(context, .pair, to: frontend)
        let server = try Fixture.socket(context, .pair)
        server.options.receiveHighWaterMark = 1
        try server.connect(backend.lastEndpoint)
        let runner = ProxyRunner(frontend: frontend, backend: backend)
        defer { runner.stop(context) }

        // The server does not read: requests pile up behind the backend's HWM.
        for index in 0..<20 { try client.send("request \(index)") }
        for index in 0..<20 { try server.send("reply \(index)") }
        for index in 0..<20 { #expect(try client.receiveString() == "reply \(index)") }
        for index in 0..<20 { #expect(try server.receiveString() == "request \(index)") }
    }

    /// A PULL frontend and PUSH backend over inproc, with a producer and a consumer.
    static func streamerSockets(_ context: Context, _ name: String) throws -> (Socket, Socket, Socket, Socket) {
        let frontend = try Fixture.bound(context, .pull, inproc("\(name)-front"))
        let backend = try Fixture.bound(context, .push, inproc("\(name)-back"))
        let producer = try Fixture.connected(context, .push, to: frontend)
        let consumer = try Fixture.connected(context, .pull, to: backend)
        return (frontend, backend, producer, consumer)
    }
}

/// A proxy running on a thread of its own. The sockets are moved there (the test does not use
/// them afterwards) and closed when the proxy ends.
final class ProxyRunner: @unchecked Sendable {
    private var sockets: (frontend: Socket, backend: Socket, capture: Socket?, control: Socket?)?
    private var outcome: Result<ProxyStatistics, ZeroMQError>?
    private let finished = Atomic<Bool>(false)
    private var joined = false
    private var thread = pthread_t()

    init(frontend: Socket, backend: Socket, capture: Socket? = nil, control: Socket? = nil) {
        sockets = (frontend, backend, capture, control)
        let box = Unmanaged.passRetained(self).toOpaque()
        pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            Unmanaged<ProxyRunner>.fromOpaque(raw).takeRetainedValue().body()
            return nil
        }, box)
    }

    private func body() {
        guard let sockets else { return }
        do throws(ZeroMQError) {
            outcome = .success(try proxy(frontend: sockets.frontend, backend: sockets.backend,
                                         capture: sockets.capture, control: sockets.control))
        } catch {
            outcome = .failure(error)
        }
        for socket in [sockets.frontend, sockets.backend, sockets.capture, sockets.control] { socket?.close() }
        self.sockets = nil
        finished.store(true, ordering: .releasing)
    }

    /// Waits (at most 10 s) for the proxy to end: its outcome, or nil while it still runs.
    func finish() -> Result<ProxyStatistics, ZeroMQError>? {
        guard !joined else { return outcome }
        guard Fixture.eventually({ finished.load(ordering: .acquiring) }) else { return nil }
        pthread_join(thread, nil)
        joined = true
        return outcome
    }

    /// Ends the proxy if it still runs (shutting `context` down) and waits for its thread.
    func stop(_ context: Context) {
        context.shutdown()
        #expect(finish() != nil, "the proxy must end when its context shuts down")
    }
}
