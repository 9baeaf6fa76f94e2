import Testing
import ZeroMQ

@Suite("async/await")
struct AsyncTests {
    @Test("async send and receive across tasks")
    func asyncRoundTrip() async throws {
        let context = try Context()
        let endpoint = "inproc://\(Fixture.unique("async"))"
        let server = try Fixture.bound(context, .rep, endpoint)
        let serverTask = Task { [server = Handoff(server)] in
            for _ in 0..<3 {
                let request = try await server.value.receiveString()
                try await server.value.send("echo " + request)
            }
        }
        let client = try Fixture.socket(context, .req)
        try client.connect(endpoint)
        for i in 0..<3 {
            try await client.send("\(i)")
            #expect(try await client.receiveString() == "echo \(i)")
        }
        try await serverTask.value
    }

    @Test("An AsyncSequence of multipart messages")
    func messageSequence() async throws {
        let context = try Context()
        let pull = try Fixture.bound(context, .pull, "tcp://127.0.0.1:*")
        let push = try Fixture.connected(context, .push, to: pull)
        for i in 0..<5 { try await push.send([Message(string: "part"), Message(string: "\(i)")]) }
        var seen: [String] = []
        for try await message in pull.messages {
            #expect(message.parts.count == 2)
            seen.append(message.parts[1].withUnsafeBytes { String(decoding: $0, as: UTF8.self) })
            if seen.count == 5 { break }
        }
        #expect(seen == ["0", "1", "2", "3", "4"])
    }

    @Test("Cancelling a waiting receive loses no message")
    func cancellationLosesNothing() async throws {
        let context = try Context()
        let endpoint = "inproc://\(Fixture.unique("cancel"))"
        let pull = Handoff(try Fixture.socket(context, .pull))
        try pull.value.bind(endpoint)
        let waiting = Task { [pull] () async throws -> Message in
            try await pull.value.receive()
        }
        // Let the task suspend, then cancel it.
        try await Task.sleep(nanoseconds: 20_000_000)
        waiting.cancel()
        let outcome = await waiting.result
        switch outcome {
        case .success: Issue.record("nothing was sent: the receive must not succeed")
        case .failure(let error): #expect(error is CancellationError)
        }
        let push = try Fixture.socket(context, .push)
        try push.connect(endpoint)
        try await push.send("kept")
        #expect(try await pull.value.receiveString() == "kept")
    }

    @Test("An async receive with RCVTIMEO ends with timedOut")
    func asyncTimeout() async throws {
        let context = try Context()
        let pull = try Fixture.socket(context, .pull, timeout: .milliseconds(50))
        try pull.bind("inproc://\(Fixture.unique("timeout"))")
        let error = await #expect(throws: ZeroMQError.self) { _ = try await pull.receive() }
        #expect(error?.code == .timedOut)
    }

    @Test("A socket moves to another task whole: region-based isolation checks the handoff")
    func socketHandoff() async throws {
        let context = try Context()
        let endpoint = "inproc://\(Fixture.unique("handoff"))"
        let receiver = try Fixture.bound(context, .pull, endpoint)
        // `receiver` is sent into the task; using it here afterwards would not compile.
        let task = Task.detached { () async throws -> String in
            try await receiver.receiveString()
        }
        let sender = try Fixture.socket(context, .push)
        try sender.connect(endpoint)
        try await sender.send("moved")
        #expect(try await task.value == "moved")
    }
}
