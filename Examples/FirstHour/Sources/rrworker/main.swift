// Request-reply worker (the zguide's rrworker): a REP connected to the broker's backend that
// answers "World" to every request, until stopped.
// Usage: rrworker [ENDPOINT]   (tcp://localhost:5560)
import ZeroMQ

let arguments = CommandLine.arguments
let endpoint = arguments.count > 1 ? arguments[1] : "tcp://localhost:5560"

let context = try Context()
let responder = try context.socket(.rep)
try responder.connect(endpoint)

while true {
    print("Received request: [\(try responder.receiveString())]")
    try responder.send("World")
}
