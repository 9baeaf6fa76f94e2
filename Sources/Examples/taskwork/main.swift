// Task worker: pulls tasks from the ventilator, does them, pushes results to the sink.
import ZeroMQExamples

let flags = Flags(usage: "taskwork [--tasks tcp://localhost:5557] [--sink tcp://localhost:5558] [--limit N] [--idle SECONDS]")
exampleMain("taskwork") { context in
    let done = try taskWorker(
        context: context,
        tasks: flags.string("tasks", default: "tcp://localhost:5557"),
        sink: flags.string("sink", default: "tcp://localhost:5558"),
        limit: flags.int("limit"),
        idleTimeout: flags.seconds("idle"))
    print("Did \(done) task(s)")
    return true
}
