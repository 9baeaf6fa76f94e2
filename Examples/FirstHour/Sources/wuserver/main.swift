// Weather update server (the zguide's wuserver): binds a PUB socket and publishes random
// weather updates, "ZIPCODE TEMPERATURE HUMIDITY", until stopped. Ten zip codes rather than the
// zguide's hundred thousand, so that a client's one comes up often.
// Usage: wuserver [ENDPOINT]   (tcp://*:5556)
import ZeroMQ

let arguments = CommandLine.arguments
let endpoint = arguments.count > 1 ? arguments[1] : "tcp://*:5556"

let context = try Context()
let publisher = try context.socket(.pub)
try publisher.bind(endpoint)

while true {
    let zipcode = Int.random(in: 10000..<10010)
    let temperature = Int.random(in: -80..<135)
    let humidity = Int.random(in: 10..<60)
    try publisher.send("\(zipcode) \(temperature) \(humidity)")
}
