import ZeroMQ

/// A worker of the divide-and-conquer pipeline (see
/// ``taskVentilator(context:endpoint:sink:tasks:workload:workers:timeout:ready:log:)``): pulls
/// tasks from the ventilator at `tasks`, "works" (sleeps) for each task's workload, and pushes
/// an empty result to the sink at `sink`.
///
/// - Parameters:
///   - limit: stop after this many tasks (nil: no limit).
///   - idleTimeout: stop when no task comes for this long (nil: wait forever).
/// - Returns: the number of tasks done. Stops without error when the context shuts down.
public func taskWorker(
    context: Context,
    tasks: String = "tcp://localhost:5557",
    sink: String = "tcp://localhost:5558",
    limit: Int? = nil,
    idleTimeout: Duration? = nil,
    log: (String) -> Void = { print($0) }
) throws(ZeroMQError) -> Int {
    let receiver = try context.socket(.pull)
    receiver.options.receiveTimeout = idleTimeout
    try receiver.connect(tasks)
    let sender = try context.socket(.push)
    try sender.connect(sink)

    var done = 0
    do throws(ZeroMQError) {
        while done < limit ?? .max {
            let workload = try receiver.receiveString()
            log("\(workload) ms")
            sleep(for: .milliseconds(Int(workload) ?? 0))
            try sender.send(Message.empty)
            done += 1
        }
    } catch where error.code == .timedOut || error.code == .terminated {
        // Idle for `idleTimeout`, or the context is shutting down: the worker is done.
    }
    return done
}
