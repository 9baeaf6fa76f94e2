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

    @Test("A burst of sends is written together, and flush() writes its end")
    func burstThenFlush() throws {
        // The receiver runs on an I/O thread of its own context, so nothing it does drives the
        // caller-mode context: after flush() the sender makes no call until all have arrived.
        let receiving = try Context()
        let pull = try receiving.socket(.pull)
        pull.options.receiveTimeout = .seconds(60)
        pull.options.linger = .zero
        try pull.bind("tcp://127.0.0.1:*")
        let sending = try Context(io: .caller)
        let push = try sending.socket(.push)
        push.options.linger = .zero
        try push.connect(pull.lastEndpoint)
        // The connection first: one message whose arrival is waited for while the sender drives.
        try push.send("hello")
        var first: Message?
        for _ in 0..<60_000 where first == nil {
            push.flush()
            if try pull.poll(timeout: .milliseconds(1)).contains(.receive) { first = try pull.receive() }
        }
        #expect(first?.string == "hello")
        let count = 5_000
        for index in 0..<count { try push.send("message \(index)") }
        push.flush()
        var received = 0
        while received < count {
            let message = try pull.receive()
            #expect(message.string == "message \(received)")
            received += 1
        }
        #expect(received == count)
        #expect(push.statistics.messagesSent == UInt64(count + 1))
        push.close()
        pull.close()
        sending.terminate()
        receiving.terminate()
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
