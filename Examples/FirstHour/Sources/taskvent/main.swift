// Task ventilator (the zguide's taskvent): binds a PUSH socket for the workers, tells the sink
// that a batch starts, then sends the tasks (each a workload in milliseconds).
// Usage: taskvent [TASKS_ENDPOINT] [SINK_ENDPOINT] [TASKS]   (tcp://*:5557, tcp://localhost:5558, 100)
import ZeroMQ

let arguments = CommandLine.arguments
let endpoint = arguments.count > 1 ? arguments[1] : "tcp://*:5557"
let sinkEndpoint = arguments.count > 2 ? arguments[2] : "tcp://localhost:5558"
let tasks = arguments.count > 3 ? Int(arguments[3]) ?? 100 : 100

let context = try Context()
let sender = try context.socket(.push)
try sender.bind(endpoint)
let sink = try context.socket(.push)
try sink.connect(sinkEndpoint)

print("Press Enter when the workers are ready: ")
_ = readLine()   // at the end of input, go at once
print("Sending tasks to workers…")
try sink.send("0")   // the start of the batch

var totalCost = 0
for _ in 0..<tasks {
    let workload = Int.random(in: 1...10)
    totalCost += workload
    try sender.send(String(workload))   // waits for a worker if none is connected yet
}
print("Total expected cost: \(totalCost) msec")
