// Hello World server (the zguide's hwserver): binds a REP socket and answers "World" to each
// "Hello". Usage: hwserver [ENDPOINT] [REQUESTS]   (tcp://*:5555, forever)
//
// After its last reply it simply ends: no close, no terminate. The library delivers the reply
// before the process exits (bounded by LINGER).
import ZeroMQ

let arguments = CommandLine.arguments
let endpoint = arguments.count > 1 ? arguments[1] : "tcp://*:5555"
let requests = arguments.count > 2 ? Int(arguments[2]) ?? 1 : Int.max

let context = try Context()
let responder = try context.socket(.rep)
try responder.bind(endpoint)

for _ in 0..<requests {
    let request = try responder.receiveString()
    print("Received \(request)")
    try responder.send("World")
}
