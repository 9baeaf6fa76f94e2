// Asynchronous clients (the client half of the zguide's asyncsrv): a task group of clients, each
// a task with a DEALER of its own, each sending its requests and awaiting every reply.
// Usage: asyncclient [ENDPOINT] [CLIENTS] [REQUESTS]   (tcp://localhost:5570, 3, 5)
import ZeroMQ

let arguments = CommandLine.arguments
let endpoint = arguments.count > 1 ? arguments[1] : "tcp://localhost:5570"
let clients = arguments.count > 2 ? Int(arguments[2]) ?? 3 : 3
let requests = arguments.count > 3 ? Int(arguments[3]) ?? 5 : 5

let context = try Context()
let replies = try await withThrowingTaskGroup(of: Int.self) { group in
    for id in 1...clients {
        group.addTask { [context, endpoint, requests] in
            let client = try context.socket(.dealer)   // made inside its task: a Socket is not Sendable
            client.options.routingId = Array("client-\(id)".utf8)
            try client.connect(endpoint)
            for number in 1...requests {
                try await client.send("request #\(number)")
                let reply = try await client.receiveString()
                print("client-\(id) received \(reply)")
            }
            return requests
        }
    }
    var total = 0
    for try await answered in group { total += answered }
    return total
}
print("Received \(replies) replies")
