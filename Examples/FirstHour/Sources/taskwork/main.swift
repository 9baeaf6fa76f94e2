// Task worker (the zguide's taskwork): pulls workloads from the ventilator, "works" (sleeps)
// for each, and pushes an empty result to the sink, until stopped.
// Usage: taskwork [TASKS_ENDPOINT] [SINK_ENDPOINT]   (tcp://localhost:5557, tcp://localhost:5558)
import Foundation   // Thread.sleep
import ZeroMQ

let arguments = CommandLine.arguments
let tasksEndpoint = arguments.count > 1 ? arguments[1] : "tcp://localhost:5557"
let sinkEndpoint = arguments.count > 2 ? arguments[2] : "tcp://localhost:5558"

let context = try Context()
let receiver = try context.socket(.pull)
try receiver.connect(tasksEndpoint)
let sender = try context.socket(.push)
try sender.connect(sinkEndpoint)

while true {
    let workload = try receiver.receiveString()
    print("\(workload).")
    Thread.sleep(forTimeInterval: Double(Int(workload) ?? 0) / 1000)
    try sender.send(Message.empty)
}
