// Hello World client: sends "Hello" N times and waits for each "World" (REQ).
import ZeroMQExamples

let flags = Flags(usage: "hwclient [--endpoint tcp://localhost:5555] [--requests 10] [--timeout SECONDS]")
exampleMain("hwclient") { context in
    let requests = flags.int("requests", default: 10)
    let replies = try helloWorldClient(
        context: context,
        endpoint: flags.string("endpoint", default: "tcp://localhost:5555"),
        requests: requests,
        timeout: flags.seconds("timeout"))
    return replies.count == requests && replies.allSatisfy { $0 == "World" }
}
