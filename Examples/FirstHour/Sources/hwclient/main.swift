// Hello World client (the zguide's hwclient): connects a REQ socket, sends "Hello" and waits
// for "World", ten times. Usage: hwclient [ENDPOINT] [REQUESTS]   (tcp://localhost:5555, 10)
import ZeroMQ

let arguments = CommandLine.arguments
let endpoint = arguments.count > 1 ? arguments[1] : "tcp://localhost:5555"
let requests = arguments.count > 2 ? Int(arguments[2]) ?? 10 : 10

let context = try Context()
print("Connecting to hello world server…")
let requester = try context.socket(.req)
try requester.connect(endpoint)

for number in 0..<requests {
    print("Sending Hello \(number)…")
    try requester.send("Hello")
    let reply = try requester.receiveString()
    print("Received \(reply) \(number)")
}
