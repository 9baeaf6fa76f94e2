// Task sink: collects a batch's results from the workers (PULL) and times the batch.
import ZeroMQExamples

let flags = Flags(usage: "tasksink [--endpoint tcp://*:5558] [--timeout SECONDS]")
exampleMain("tasksink") { context in
    let report = try taskSink(
        context: context,
        endpoint: flags.string("endpoint", default: "tcp://*:5558"),
        timeout: flags.seconds("timeout"),
        ready: { print("Listening for results on \($0)") })
    return report.isComplete
}
