// Request-reply client (the zguide's rrclient): a REQ connected to the broker's frontend.
// Usage: rrclient [ENDPOINT] [REQUESTS]   (tcp://localhost:5559, 10)
import ZeroMQ

let arguments = CommandLine.arguments
let endpoint = arguments.count > 1 ? arguments[1] : "tcp://localhost:5559"
let requests = arguments.count > 2 ? Int(arguments[2]) ?? 10 : 10

let context = try Context()
let requester = try context.socket(.req)
try requester.connect(endpoint)

for number in 0..<requests {
    try requester.send("Hello")
    print("Received reply \(number) [\(try requester.receiveString())]")
}
