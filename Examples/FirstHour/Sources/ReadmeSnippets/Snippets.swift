// The README's Swift snippets, each in a function of its own so that they compile as written
// (nothing calls them: the programs beside this target are the ones that run). A block's `import`
// lines stand at the top of the file that holds it: this file imports ZeroMQ alone, as the README
// promises a socket user does; Multicast.swift and UsingTheCore.swift hold the blocks with other
// imports. Tests/FirstHourTests/ReadmeSnippetsTests checks that every ```swift block of README.md
// appears in this folder, whitespace aside, unless the README marks it
// `<!-- readme-snippets: skip (why) -->` (a package manifest's lines, which are no library usage).
import ZeroMQ

// "Using the sockets"
func usingTheSockets() throws {
    let context = try Context()                 // I/O threads, transports, inproc endpoints
    let server = try context.socket(.rep)
    try server.bind("tcp://*:5555")             // also ipc:///tmp/feed, ipc://@abstract, inproc://name
    let client = try context.socket(.req)
    try client.connect("tcp://localhost:5555")  // returns at once; connects (and reconnects) in the background

    try client.send("Hello")
    print(try server.receiveString())           // "Hello"
    try server.send("World")
    print(try client.receiveString())           // "World"
}

// "Sockets and structured concurrency"
func structuredConcurrency(context: Context) async throws {
    // 1. One socket per task: each child makes its own from the shared (Sendable) Context.
    try await withThrowingTaskGroup(of: Void.self) { group in
        for worker in 0..<4 {
            group.addTask {
                try await context.withSocket(.push) { push in
                    try push.connect("tcp://localhost:5558")
                    try await push.send("worker \(worker)")
                }
            }
        }
        try await group.waitForAll()
    }

    // 2. A server loop in a task group, with a socket made by a function. `context.socket(_:)`
    //    returns its socket `sending`; a function of yours that makes one says so too, and the socket
    //    moves into the child: the compiler rejects any later use of it outside. Make it inside the
    //    group's body: a socket captured from outside the body belongs to the calling task and cannot
    //    be sent (hand such a one to `Task { }` instead, or make it in the child).
    func makeServer(_ context: Context) throws -> sending Socket {
        let server = try context.socket(.rep)
        try server.bind("tcp://*:5555")
        return server
    }
    try await withThrowingTaskGroup(of: Void.self) { group in
        let server = try makeServer(context)
        group.addTask {
            while true {
                let request = try await server.receiveString()
                try await server.send("echo " + request)
            }
        }
        try await group.next()
    }

    // 3. A socket owned by an actor: only the actor's methods reach it. The async calls run on the
    //    caller's executor (`nonisolated(nonsending)`), so they stay on the actor.
    actor Publisher {
        private let socket: Socket
        init(context: Context) throws {
            socket = try context.socket(.pub)
            try socket.bind("tcp://*:5556")
        }
        init(adopting socket: sending Socket) { self.socket = socket }   // or take one made elsewhere
        func publish(_ text: String) async throws { try await socket.send(text) }
    }
}

// "The patterns"
func requestReply(context: Context) throws {
    let rep = try context.socket(.rep);  try rep.bind("tcp://*:5555")
    let req = try context.socket(.req);  try req.connect("tcp://localhost:5555")
    try req.send("ping");  _ = try rep.receive();  try rep.send("pong");  _ = try req.receive()
    try req.send("again"); try req.send("too soon")   // throws ZeroMQError(.wrongState): REQ waits for its reply
}

func dealerRouter(context: Context) throws {
    let router = try context.socket(.router);  try router.bind("tcp://*:5556")
    let dealer = try context.socket(.dealer)
    dealer.options.routingId = Array("worker-1".utf8)
    try dealer.connect("tcp://localhost:5556")
    try dealer.send("ready")
    let message = try router.receiveMultipart()      // [ "worker-1", "ready" ]
    try router.send([message.parts[0], Message(string: "job 42")])
    router.options.routerMandatory = true            // unknown ids throw .hostUnreachable instead of dropping
}

func publishSubscribe(context: Context) throws {
    let pub = try context.socket(.pub);  try pub.bind("tcp://*:5557")
    let sub = try context.socket(.sub);  try sub.connect("tcp://localhost:5557")
    try sub.subscribe("weather.")                    // prefix match; "" subscribes to everything
    try pub.send("weather.paris 21°C")               // dropped (and counted in pub.droppedMessages) at the HWM
    let xpub = try context.socket(.xpub)             // also receives "\u{1}topic" / "\u{0}topic" (un)subscriptions
    xpub.options.xpubVerbose = true
}

func pushPull(context: Context) throws {
    let pull = try context.socket(.pull);  try pull.bind("ipc:///tmp/tasks")
    let push = try context.socket(.push);  try push.connect("ipc:///tmp/tasks")
    try push.send("task 1")                          // blocks at the HWM, never drops
}

func stream(context: Context) throws {
    let stream = try context.socket(.stream);  try stream.bind("tcp://*:8080")
    let request = try stream.receiveMultipart()      // [id, "GET / HTTP/1.0\r\n…"]
    try stream.send([request.parts[0], Message(string: "HTTP/1.0 200 OK\r\n\r\nhello")])
    try stream.send([request.parts[0], Message.empty])   // close that connection
}

// "Sending and receiving": its code is inline, not in blocks; compiled here all the same.
struct Order: Codable { var id: Int }

func sendingAndReceiving(context: Context, socket: Socket, router: Socket, identity: Message, order: Order) throws {
    let m: Message = "Hello"
    let bytes: Message = [0x01, 0x02]
    try router.send([identity, "", "OK"] as Multipart)
    let request = try router.receiveMultipart()
    print(request[0], request.last as Any, request.map(\.string), m, bytes)
    try socket.send(encoding: order)
    let received = try socket.receive(decoding: Order.self)
    let ready: PollEvents = try socket.poll(timeout: .seconds(1))
    do {
        _ = try socket.receive(timeout: .seconds(1))
    } catch {
        // Not `catch where error.code == .timedOut`: in this function that clause crashes Swift
        // 6.3.1 (SILGen's ownership verifier, "Found outside of lifetime use"; a smaller function
        // does not reproduce it). Testing the code inside the clause compiles.
        guard error.code == .timedOut else { throw error }
        print("nothing within a second", received, ready)
    }
    try context.withSocket(.req) { socket in try socket.connect("tcp://localhost:5555") }
}

func sendingAndReceivingAsync(socket: Socket, order: Order) async throws {
    _ = try await socket.receiveBytes(timeout: .seconds(1))
    try await socket.send(encoding: order)
    _ = try await socket.poll(timeout: .seconds(1))
    for try await message in socket.messages { print(message[0].string) }
}

// "Security: PLAIN, CURVE and ZAP"
func curve() throws {
    let context = try Context()
    let serverCert = try CurveCertificate.generate(), clientCert = try CurveCertificate.generate()
    let auth = try Authenticator(context: context)   // a ZAP handler on a thread of its own
    auth.allowCurve(certificates: [clientCert.publicCertificate])

    let server = try context.socket(.rep)
    server.options.security = try serverCert.serverSecurity()
    try server.bind("tcp://127.0.0.1:5555")
    let client = try context.socket(.req)
    client.options.security = try clientCert.clientSecurity(server: serverCert.publicCertificate)
    try client.connect("tcp://127.0.0.1:5555")
    try client.send("Hello")
    let request = try server.receiveMultipart()      // request.property("User-Id"): the client key, Z85
    try server.send("World")
    _ = request
}

// "Monitor"
func monitor(socket: Socket) throws {
    let events = socket.monitor()                  // AsyncSequence<MonitorEvent>, Sendable, bounded
    Task {
        for await event in events { print(event) } // accepted 127.0.0.1 on tcp://…, handshake failed: …
    }
    try socket.monitor(endpoint: "tcp://127.0.0.1:5599")  // libzmq's two-frame format, for libzmq/pyzmq readers
}

// "Statistics and metrics" (the swift-metrics block needs the trait "Metrics", which this package
// leaves off so that it resolves no swift-metrics: the README marks that block)
func statistics(socket: Socket) {
    let stats = socket.statistics     // messages and bytes in and out, drops by cause, connections,
    print(stats.dropped.atHighWaterMark, stats.dropped.noRoute, stats.reconnects, stats.handshakeFailures)
}

// "Poller"
func poller(orders: Socket, signalPipe: Int32, handle: (Message) -> Void) throws {
    let poller = Poller()
    try poller.add(orders, for: .receive)
    try poller.add(fileDescriptor: signalPipe, for: .receive)   // plain descriptors too
    for event in try poller.wait(timeout: .seconds(1)) {         // [] on timeout; `await poller.wait(…)` suspends instead
        if event.socket === orders, let message = try orders.tryReceive() { handle(message) }
    }
}

// "Proxy"
func runProxy(context: Context) throws {
    let frontend = try context.socket(.router);  try frontend.bind("tcp://*:5559")
    let backend = try context.socket(.dealer);   try backend.bind("tcp://*:5560")
    let control = try context.socket(.pair);     try control.bind("inproc://proxy-control")
    let stats = try proxy(frontend: frontend, backend: backend, control: control)  // until TERMINATE
    _ = stats
}
