// Weather update client (the zguide's wuclient): connects a SUB socket, subscribes to one zip
// code and averages the temperature over a number of updates.
// Usage: wuclient [ENDPOINT] [ZIPCODE] [UPDATES]   (tcp://localhost:5556, 10001, 100)
import ZeroMQ

let arguments = CommandLine.arguments
let endpoint = arguments.count > 1 ? arguments[1] : "tcp://localhost:5556"
let zipcode = arguments.count > 2 ? arguments[2] : "10001"
let updates = arguments.count > 3 ? Int(arguments[3]) ?? 100 : 100

let context = try Context()
print("Collecting updates from weather server…")
let subscriber = try context.socket(.sub)
try subscriber.connect(endpoint)
try subscriber.subscribe(zipcode + " ")   // the space: 10001 must not match 100010

var total = 0
for _ in 0..<updates {
    let fields = try subscriber.receiveString().split(separator: " ")
    total += Int(fields[1]) ?? 0
}
print("Average temperature for zipcode '\(zipcode)' was \(total / updates)F")
