// Asynchronous server (the zguide's asyncsrv), in a task group: a ROUTER faces the clients, a
// DEALER faces the workers over inproc, and each worker is a task with a DEALER of its own that
// echoes every request back to the client that sent it.
// Usage: asyncsrv [ENDPOINT] [WORKERS]   (tcp://*:5570, 5); it serves until stopped.
//
// A Socket is not Sendable (one task uses it at a time), the Context is: each task makes its
// sockets from the context, inside the task. Top-level variables belong to the main actor, so
// the tasks take copies of them in their capture lists.
import ZeroMQ

let arguments = CommandLine.arguments
let endpoint = arguments.count > 1 ? arguments[1] : "tcp://*:5570"
let workers = arguments.count > 2 ? Int(arguments[2]) ?? 5 : 5

/// Moves every message that arrives on either socket to the other, waiting (without holding a
/// thread) for the next one: the zguide's zmq_proxy, as a task.
func shuttle(between frontend: Socket, and backend: Socket) async throws {
    let poller = Poller()
    try poller.add(frontend, for: .receive)
    try poller.add(backend, for: .receive)
    while true {
        for event in try await poller.wait(timeout: nil) {
            let (from, to) = event.socket === frontend ? (frontend, backend) : (backend, frontend)
            while let first = try from.tryReceive() {   // a message arrives whole: its other parts are there
                var parts = [first]
                while from.hasMore { parts.append(try await from.receive()) }
                try await to.send(parts)
            }
        }
    }
}

let context = try Context()
try await withThrowingTaskGroup(of: Void.self) { group in
    group.addTask { [context, endpoint] in
        let frontend = try context.socket(.router)
        try frontend.bind(endpoint)
        let backend = try context.socket(.dealer)
        try backend.bind("inproc://backend")
        try await shuttle(between: frontend, and: backend)
    }
    for id in 1...workers {
        group.addTask { [context] in
            let worker = try context.socket(.dealer)
            try worker.connect("inproc://backend")
            for try await request in worker.messages {   // [client identity, request]
                print("Worker \(id) received \(request.parts[1].string) from \(request.parts[0].string)")
                try await worker.send(request.parts)
            }
        }
    }
    try await group.next()   // a task ends only by failing: the server stops with it
}
