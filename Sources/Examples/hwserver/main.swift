// Hello World server: answers "World" to each "Hello" (REP).
import ZeroMQExamples

let flags = Flags(usage: "hwserver [--endpoint tcp://*:5555] [--requests N] [--idle SECONDS] [--work SECONDS]")
exampleMain("hwserver") { context in
    let answered = try helloWorldServer(
        context: context,
        endpoint: flags.string("endpoint", default: "tcp://*:5555"),
        requests: flags.int("requests"),
        idleTimeout: flags.seconds("idle"),
        work: flags.seconds("work") ?? .zero,
        ready: { print("Listening on \($0)") })
    print("Answered \(answered) request(s)")
    return true
}
