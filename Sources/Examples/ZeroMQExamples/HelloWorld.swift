import ZeroMQ

// Hello World (the zguide's first example): a REP server answers "World" to every "Hello" a REQ
// client sends. REQ and REP take turns: send, receive, send, receive…

/// The Hello World server: binds a REP socket at `endpoint` and answers each request with
/// "World".
///
/// - Parameters:
///   - requests: stop after answering this many (nil: no limit).
///   - idleTimeout: stop when no request comes for this long (nil: wait forever).
///   - work: how long each request takes to "process".
///   - ready: called once bound, with the endpoint to connect to (``Socket/lastEndpoint``: a
///     `*` port resolved).
///   - log: where to report each request.
/// - Returns: the number of requests answered. Stops without error when the context shuts down.
public func helloWorldServer(
    context: Context,
    endpoint: String = "tcp://*:5555",
    requests: Int? = nil,
    idleTimeout: Duration? = nil,
    work: Duration = .zero,
    ready: (_ endpoint: String) -> Void = { _ in },
    log: (String) -> Void = { print($0) }
) throws(ZeroMQError) -> Int {
    let responder = try context.socket(.rep)
    responder.options.receiveTimeout = idleTimeout
    try responder.bind(endpoint)
    ready(responder.lastEndpoint)

    var answered = 0
    do throws(ZeroMQError) {
        while answered < requests ?? .max {
            let request = try responder.receiveString()
            log("Received \(request)")
            sleep(for: work)  // the "work"
            try responder.send("World")
            answered += 1
        }
    } catch where error.code == .timedOut || error.code == .terminated {
        // Idle for `idleTimeout`, or the context is shutting down: the server is done.
    }
    return answered
}

/// The Hello World client: connects a REQ socket to `endpoint`, sends "Hello" `requests` times
/// and waits for each reply.
///
/// - Parameter timeout: give up (throwing ``ZeroMQError/Code/timedOut``) when a reply takes
///   longer than this (nil: wait forever).
/// - Returns: the replies, in order.
public func helloWorldClient(
    context: Context,
    endpoint: String = "tcp://localhost:5555",
    requests: Int = 10,
    timeout: Duration? = nil,
    log: (String) -> Void = { print($0) }
) throws(ZeroMQError) -> [String] {
    let requester = try context.socket(.req)
    requester.options.receiveTimeout = timeout
    try requester.connect(endpoint)

    var replies: [String] = []
    for number in 0..<requests {
        log("Sending Hello \(number)…")
        try requester.send("Hello")
        let reply = try requester.receiveString()
        log("Received \(reply) \(number)")
        replies.append(reply)
    }
    return replies
}
