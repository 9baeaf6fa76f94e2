// Task sink (the zguide's tasksink): binds a PULL socket, waits for the start of a batch, then
// collects one result per task. Usage: tasksink [ENDPOINT] [TASKS]   (tcp://*:5558, 100)
import ZeroMQ

let arguments = CommandLine.arguments
let endpoint = arguments.count > 1 ? arguments[1] : "tcp://*:5558"
let tasks = arguments.count > 2 ? Int(arguments[2]) ?? 100 : 100

let context = try Context()
let receiver = try context.socket(.pull)
try receiver.bind(endpoint)

_ = try receiver.receive()   // the start of the batch
let start = ContinuousClock.now
for _ in 0..<tasks {
    _ = try receiver.receive()
}
print("Collected \(tasks) results")
print("Total elapsed time: \(ContinuousClock.now - start)")
