import Foundation
import Synchronization
import Testing
import ZeroMQ

/// ``Context/IOMode/caller`` with several threads in calls at once: the threads share one
/// reactor, one of them runs each turn and the others wait for it, and every exchange completes.
@Suite("Caller-driven I/O, several threads")
struct CallerModeTests {
    @Test("REQ and REP on two threads of one caller-mode context", arguments: ["tcp://127.0.0.1:*", "ipc:///tmp/swift-zeromq-caller-*"])
    func twoThreadsShareTheReactor(_ bindTo: String) throws {
        let context = try Context(io: .caller)
        #expect(context.io == .caller)
        let endpointText = bindTo.hasPrefix("ipc") ? "ipc:///tmp/swift-zeromq-caller-\(UInt32.random(in: 0...UInt32.max)).ipc" : bindTo
        let rounds = 200
        let rep = try context.socket(.rep)
        rep.options.receiveTimeout = .seconds(20)
        rep.options.linger = .zero
        try rep.bind(endpointText)
        let endpoint = rep.lastEndpoint
        // A thread of its own, not a task: the blocking calls must not wait for a free thread
        // of the shared cooperative pool, which other tests' blocking calls may all hold.
        let handoff = SocketHandoff(rep)
        let failure = Mutex<String?>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread {
            do {
                try Self.echo(handoff.socket, rounds: rounds)
            } catch {
                failure.withLock { $0 = "\(error)" }
            }
            done.signal()
        }.start()
        let req = try context.socket(.req)
        req.options.receiveTimeout = .seconds(20)
        req.options.linger = .zero
        try req.connect(endpoint)
        let replies = try Self.ask(req, rounds: rounds)
        done.wait()
        #expect(failure.withLock { $0 } == nil)
        req.close()
        context.terminate()
        #expect(replies == rounds)
    }

    /// A socket handed to the thread that uses it from then on.
    final class SocketHandoff: @unchecked Sendable {
        let socket: Socket
        init(_ socket: Socket) { self.socket = socket }
    }

    /// The REP's thread: blocking calls, which run the context's I/O while they wait.
    static func echo(_ rep: Socket, rounds: Int) throws {
        for _ in 0..<rounds {
            let message = try rep.receive()
            try rep.send(message)
        }
        rep.close()
    }

    /// The REQ's thread: the number of correct replies.
    static func ask(_ req: Socket, rounds: Int) throws -> Int {
        var replies = 0
        for round in 0..<rounds {
            try req.send("request \(round)")
            if try req.receiveString() == "request \(round)" { replies += 1 }
        }
        return replies
    }
}
