import ZeroMQ

// Divide and conquer (the zguide's PUSH/PULL pipeline): a ventilator pushes tasks to any
// number of workers, which push their results to a sink.
//
//                 ventilator (PUSH, binds :5557)
//                 /        |        \
//         worker (PULL)  worker   worker …   each: PULL from the ventilator, PUSH to the sink
//                 \        |        /
//                    sink (PULL, binds :5558)
//
// The ventilator first tells the sink how many tasks make the batch (the batch size, as text),
// then sends each task: a workload in milliseconds, as text. Workers answer each task with an
// empty result.

/// The ventilator: binds a PUSH socket at `endpoint` for the workers, waits for `workers` of
/// them, tells the sink at `sink` the batch size, and pushes `tasks` random workloads
/// (milliseconds) to the workers, round-robin.
///
/// - Parameters:
///   - workers: how many workers to wait for before sending. PUSH deals tasks only to the workers
///     connected so far, so the first one to connect would otherwise get the whole batch.
///   - timeout: how long to wait for them (nil: forever); then it throws
///     ``ZeroMQError/Code/timedOut``.
///   - ready: called once bound, with the endpoint to connect to (``Socket/lastEndpoint``: a
///     `*` port resolved).
/// - Returns: the total workload: how long one worker alone would take.
public func taskVentilator(
    context: Context,
    endpoint: String = "tcp://*:5557",
    sink: String = "tcp://localhost:5558",
    tasks: Int = 100,
    workload: ClosedRange<Int> = 1...100,
    workers: Int = 1,
    timeout: Duration? = nil,
    ready: (_ endpoint: String) -> Void = { _ in },
    log: (String) -> Void = { print($0) }
) throws(ZeroMQError) -> Duration {
    let sender = try context.socket(.push)
    try sender.bind(endpoint)
    ready(sender.lastEndpoint)
    let batch = try context.socket(.push)
    try batch.connect(sink)

    log("Waiting for \(workers) worker(s)…")
    try waitForPeers(workers, on: sender, timeout: timeout)

    // The signal to start the batch, with its size.
    try batch.send(String(tasks))
    var total = Duration.zero
    for _ in 0..<tasks {
        let milliseconds = Int.random(in: workload)
        total += .milliseconds(milliseconds)
        try sender.send(String(milliseconds))
    }
    log("Sent \(tasks) tasks; total expected cost: \(total.milliseconds) ms")
    // Returning closes the sockets; the queued tasks still go out, within LINGER.
    return total
}

/// Waits until `count` peers are connected to `socket`.
func waitForPeers(_ count: Int, on socket: Socket, timeout: Duration?) throws(ZeroMQError) {
    let clock = ContinuousClock()
    let deadline = timeout.map { clock.now + $0 }
    while true {
        _ = socket.events  // polling the socket takes in the connections made meanwhile
        if socket.peerCount >= count { return }
        if let deadline, clock.now >= deadline {
            throw ZeroMQError(.timedOut, "\(socket.peerCount) of \(count) peers connected")
        }
        sleep(for: .milliseconds(10))
    }
}
