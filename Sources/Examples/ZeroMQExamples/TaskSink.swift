import ZeroMQ

/// What the sink saw of a batch.
public struct BatchReport: Sendable {
    /// The batch size the ventilator announced (nil if its signal never came).
    public var expected: Int?
    /// The results collected.
    public var collected: Int
    /// From the first message of the batch to the last result.
    public var elapsed: Duration

    /// Every announced result came.
    public var isComplete: Bool { expected == collected }
}

/// The sink of the divide-and-conquer pipeline (see
/// ``taskVentilator(context:endpoint:sink:tasks:workload:workers:timeout:ready:log:)``): binds a
/// PULL socket at `endpoint`, learns the batch size from the ventilator, collects that many
/// results from the workers, and reports how long the batch took.
///
/// The ventilator's signal and the workers' results come over different connections, so they
/// may arrive in any order: the sink counts results whenever they come.
///
/// - Parameters:
///   - timeout: give up when nothing comes for this long (nil: wait forever); the report then
///     tells what was collected.
///   - ready: called once bound, with the endpoint to connect to (``Socket/lastEndpoint``: a
///     `*` port resolved).
public func taskSink(
    context: Context,
    endpoint: String = "tcp://*:5558",
    timeout: Duration? = nil,
    ready: (_ endpoint: String) -> Void = { _ in },
    log: (String) -> Void = { print($0) }
) throws(ZeroMQError) -> BatchReport {
    let receiver = try context.socket(.pull)
    receiver.options.receiveTimeout = timeout
    try receiver.bind(endpoint)
    ready(receiver.lastEndpoint)

    let clock = ContinuousClock()
    var started: ContinuousClock.Instant?
    var report = BatchReport(expected: nil, collected: 0, elapsed: .zero)
    do throws(ZeroMQError) {
        while report.expected.map({ report.collected < $0 }) ?? true {
            let message = try receiver.receive()
            if started == nil { started = clock.now }
            if message.count == 0 {
                report.collected += 1
            } else {
                report.expected = Int(message.string)  // the ventilator's signal: the batch size
            }
        }
    } catch where error.code == .timedOut {
        log("Timed out with \(report.collected) result(s)")
    }
    report.elapsed = started.map { clock.now - $0 } ?? .zero
    log("Collected \(report.collected) result(s); total elapsed time: \(report.elapsed.milliseconds) ms")
    return report
}
