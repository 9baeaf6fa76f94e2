// Task ventilator: pushes a batch of tasks to the workers (PUSH) and its size to the sink.
import ZeroMQExamples

let flags = Flags(usage: "taskvent [--endpoint tcp://*:5557] [--sink tcp://localhost:5558] [--tasks 100] [--workers 1] [--timeout SECONDS]")
exampleMain("taskvent") { context in
    _ = try taskVentilator(
        context: context,
        endpoint: flags.string("endpoint", default: "tcp://*:5557"),
        sink: flags.string("sink", default: "tcp://localhost:5558"),
        tasks: flags.int("tasks", default: 100),
        workers: flags.int("workers", default: 1),
        timeout: flags.seconds("timeout"),
        ready: { print("Listening for workers on \($0)") })
    return true
}
