import Testing
import ZeroMQ

/// The shapes the README shows, compiled and run against real peers: one socket per task, a
/// server loop in a task group fed a socket made elsewhere, and a socket owned by an actor. None
/// of them needs an `@unchecked Sendable` box: sockets move between tasks as `sending` values.
@Suite("Sockets in structured concurrency")
struct StructuredConcurrencyTests {
    /// How long a wait for a peer or another task may take on a busy machine before the test
    /// fails (a bound, never an expectation). Generous: these tests wait for child tasks, which
    /// need a thread of the cooperative pool, and on a busy 2-core machine the suite's blocking
    /// tests can hold both of its threads for minutes (seen: 195 s of queueing).
    static let patience: Duration = .seconds(900)

    /// A REP socket made and bound in a function and returned `sending`, as a server's set-up
    /// would be, so that its caller can hand it to a child task.
    static func makeServer(_ context: Context) throws -> sending Socket {
        let server = try context.socket(.rep)
        server.options.linger = .zero
        server.options.receiveTimeout = patience
        try server.bind("tcp://127.0.0.1:*")
        return server
    }

    /// The server loop a child task runs: it owns the socket it was given.
    static func serve(_ server: Socket, requests: Int) async throws {
        for _ in 0..<requests {
            let request = try await server.receiveString()
            try await server.send("echo " + request)
        }
        server.close()
    }

    @Test("A socket made in a function goes into a task group's child, which serves pyzmq clients")
    func serverLoopInTaskGroup() async throws {
        let context = try Context()
        try await withThrowingTaskGroup(of: Void.self) { group in
            // Made inside the group's body, the socket belongs to no one yet and can be sent to
            // the child; one captured from outside the body belongs to the calling task.
            let server = try Self.makeServer(context)
            let peer = try PyzmqScript("""
                s = zmq.Context().socket(zmq.REQ)
                s.connect(sys.argv[1])
                for i in range(5):
                    s.send_string(f"request {i}")
                    reply = s.recv_string()
                    assert reply == f"echo request {i}", reply
                """, arguments: [server.lastEndpoint])
            group.addTask { try await Self.serve(server, requests: 5) }
            try await group.waitForAll()
            let finished = await peer.finish()
            #expect(finished.status == 0, "pyzmq: \(finished.output)")
        }
    }

    @Test("A socket made before any task is handed to one with Task { }, and serves there")
    func socketIntoUnstructuredTask() async throws {
        let context = try Context()
        let server = try Self.makeServer(context)
        let endpoint = server.lastEndpoint
        let serving = Task { try await Self.serve(server, requests: 1) }
        let client = try Fixture.socket(context, .req, timeout: Self.patience)
        try client.connect(endpoint)
        try await client.send("ping")
        #expect(try await client.receiveString() == "echo ping")
        try await serving.value
    }

    @Test("One socket per task: each child makes its own from the shared Context")
    func socketPerTask() async throws {
        let context = try Context()
        let workers = 4
        try await withThrowingTaskGroup(of: Void.self) { group in
            let sink = try Self.makeSink(context)
            let endpoint = sink.lastEndpoint
            for worker in 0..<workers {
                group.addTask {
                    try await context.withSocket(.push) { push in
                        try push.connect(endpoint)
                        try await push.send("worker \(worker)")
                    }
                }
            }
            group.addTask {
                var seen: Set<String> = []
                while seen.count < workers { seen.insert(try await sink.receiveString()) }
                #expect(seen == Set((0..<workers).map { "worker \($0)" }))
            }
            try await group.waitForAll()
        }
    }

    static func makeSink(_ context: Context) throws -> sending Socket {
        let sink = try context.socket(.pull)
        sink.options.receiveTimeout = Self.patience
        try sink.bind("tcp://127.0.0.1:*")
        return sink
    }

    /// A socket owned by an actor: the actor's methods use it, nobody else can.
    actor Publisher {
        private let socket: Socket
        private(set) var published = 0

        init(context: Context) throws {
            socket = try context.socket(.pub)
            socket.options.linger = .zero
            try socket.bind("tcp://127.0.0.1:*")
        }

        /// An actor can also adopt a socket made elsewhere, when it is handed over `sending`.
        init(adopting socket: sending Socket) {
            self.socket = socket
        }

        var endpoint: String { socket.lastEndpoint }

        func publish(_ text: String) async throws {
            try await socket.send(text)
            published += 1
        }
    }

    @Test("A socket owned by an actor publishes to a pyzmq subscriber")
    func socketOwnedByActor() async throws {
        let context = try Context()
        let publisher = try Publisher(context: context)
        let peer = try PyzmqScript("""
            s = zmq.Context().socket(zmq.SUB)
            s.setsockopt(zmq.SUBSCRIBE, b"")
            s.connect(sys.argv[1])
            while s.recv_string() != "last":
                pass
            """, arguments: [await publisher.endpoint])
        // A PUB drops what it sends before the subscription arrives: publish until the
        // subscriber has seen "last" and left.
        var rounds = 0
        while !peer.hasEnded, rounds < 3000 {
            try await publisher.publish("tick")
            try await publisher.publish("last")
            try await Task.sleep(for: .milliseconds(10))
            rounds += 1
        }
        let finished = await peer.finish()
        #expect(finished.status == 0, "pyzmq: \(finished.output)")
        #expect(await publisher.published >= 2)

        let adopted = Publisher(adopting: try context.socket(.pub))
        #expect(await adopted.published == 0)
    }
}
