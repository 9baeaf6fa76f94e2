// The README's Swift snippets, each in a function of its own so that they compile as written
// (nothing calls them: the programs beside this target are the ones that run). When the README
// changes, this file changes with it.
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

// "Statistics and metrics" (the swift-metrics half needs the trait "Metrics" and ZeroMQMetrics)
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
