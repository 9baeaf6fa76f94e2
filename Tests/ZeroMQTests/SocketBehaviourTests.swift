#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import ZeroMQ

/// libzmq's behaviour tests for queues, connection management and shutdown, reproduced.
@Suite("Socket behaviour")
struct SocketBehaviourTests {
    /// How many messages a PUSH can queue toward a PULL that never reads, over inproc.
    static func inprocCapacity(sendHWM: Int, receiveHWM: Int, bindFirst: Bool = true, limit: Int = 10_000) throws -> Int {
        let context = try Fixture.context()
        let pull = try Fixture.socket(context, .pull)
        let push = try Fixture.socket(context, .push)
        pull.options.receiveHighWaterMark = receiveHWM
        push.options.sendHighWaterMark = sendHWM
        let endpoint = "inproc://\(Fixture.unique("hwm"))"
        if bindFirst {
            try pull.bind(endpoint)
            try push.connect(endpoint)
        } else {
            try push.connect(endpoint)
            try pull.bind(endpoint)
        }
        var sent = 0
        while sent < limit, try push.trySend(Message(string: "x")) { sent += 1 }
        return sent
    }

    @Test("test_hwm: 2000 messages with the default HWMs over inproc (they add up), 2 with 1 and 1, no limit with 0")
    func highWaterMarks() throws {
        #expect(try Self.inprocCapacity(sendHWM: 1000, receiveHWM: 1000) == 2000)
        #expect(try Self.inprocCapacity(sendHWM: 1, receiveHWM: 1) == 2)
        #expect(try Self.inprocCapacity(sendHWM: 0, receiveHWM: 0) == 10_000)
    }

    @Test("test_hwm: connect before bind queues up to the connecter's SNDHWM")
    func connectBeforeBindHighWaterMark() throws {
        #expect(try Self.inprocCapacity(sendHWM: 1, receiveHWM: 1, bindFirst: false) == 1)
    }

    @Test("test_hwm: an inproc connecter that fills its pipe and closes before anyone binds loses nothing")
    func inprocConnectAndCloseFirst() throws {
        let context = try Fixture.context()
        let endpoint = "inproc://\(Fixture.unique("close-first"))"
        var sent = 0
        do {
            let push = try Fixture.socket(context, .push)
            push.options.sendHighWaterMark = 5
            try push.connect(endpoint)
            while try push.trySend(Message(string: "\(sent)")) { sent += 1 }
            push.close()
        }
        #expect(sent == 5)
        let pull = try Fixture.bound(context, .pull, endpoint)
        for i in 0..<sent { #expect(try pull.receiveString() == "\(i)") }
        #expect(try pull.tryReceive() == nil)
    }

    @Test("PUSH with no peer blocks: a send with no time to wait fails with wouldBlock")
    func pushWithoutPeersWouldBlock() throws {
        let context = try Fixture.context()
        let push = try Fixture.socket(context, .push)
        #expect(throws: ZeroMQError.self) { try push.send(Message(string: "x"), timeout: .zero) }
        #expect(try push.trySend(Message(string: "x")) == false)
    }

    @Test("test_bind_after_connect: messages sent before the peer binds arrive, in order", arguments: ["push", "dealer"])
    func bindAfterConnect(kind: String) throws {
        let context = try Fixture.context()
        let endpoint = "tcp://127.0.0.1:\(Fixture.freePort())"
        let sender = try Fixture.socket(context, kind == "push" ? .push : .dealer)
        sender.options.reconnectInterval = .milliseconds(20)
        try sender.connect(endpoint)
        for i in 1...3 { try sender.send("message \(i)") }
        let receiver = try Fixture.socket(context, kind == "push" ? .pull : .dealer)
        try receiver.bind(endpoint)
        for i in 1...3 { #expect(try receiver.receiveString() == "message \(i)") }
    }

    @Test("A connect survives its peer restarting: the session reconnects and the queue goes on")
    func reconnectsAfterThePeerRestarts() throws {
        let context = try Fixture.context()
        let first = try Fixture.bound(context, .pull, "tcp://127.0.0.1:*")
        let endpoint = first.lastEndpoint
        let push = try Fixture.socket(context, .push)
        push.options.reconnectInterval = .milliseconds(20)
        try push.connect(endpoint)
        try push.send("before")
        #expect(try first.receiveString() == "before")
        first.close()
        let second = try Fixture.socket(context, .pull)
        // The old port may linger briefly in the kernel; retry the bind.
        #expect(Fixture.eventually { (try? second.bind(endpoint)) != nil })
        try push.send("after")
        #expect(try second.receiveString() == "after")
    }

    @Test("RECONNECT_IVL = nil (libzmq's -1): no reconnection after the peer goes away")
    func noReconnectWhenDisabled() throws {
        let context = try Fixture.context()
        let first = try Fixture.bound(context, .pair, "tcp://127.0.0.1:*")
        let endpoint = first.lastEndpoint
        let client = try Fixture.socket(context, .pair)
        client.options.reconnectInterval = nil
        try client.connect(endpoint)
        try client.send("hello")
        #expect(try first.receiveString() == "hello")
        first.close()
        // The client's only peer goes away for good: its pipe is dropped.
        #expect(Fixture.eventually { client.peerCount == 0 })
        let second = try Fixture.socket(context, .pair, timeout: .milliseconds(300))
        #expect(Fixture.eventually { (try? second.bind(endpoint)) != nil })
        #expect(try client.trySend(Message(string: "lost")) == false)
        #expect(throws: ZeroMQError.self) { _ = try second.receive() }
    }

    @Test("Reconnect backoff doubles up to RECONNECT_IVL_MAX and resets after a connection")
    func reconnectBackoff() {
        var backoff = ReconnectBackoff(interval: .milliseconds(100), maximum: .milliseconds(700))
        #expect(backoff.waits(5) == [100, 200, 400, 700, 700])
        backoff.reset()
        #expect(backoff.waits(2) == [100, 200])
        var constant = ReconnectBackoff(interval: .milliseconds(100), maximum: nil)
        #expect(constant.waits(3) == [100, 100, 100])
        var never = ReconnectBackoff(interval: nil, maximum: nil)
        #expect(never.waits(1) == [])
    }

    @Test("test_immediate: without IMMEDIATE half the messages queue for a dead peer; with it, all reach the live one", arguments: [false, true])
    func immediate(on: Bool) throws {
        let context = try Fixture.context()
        let live = try Fixture.socket(context, .pull, timeout: .seconds(2))
        try live.bind("tcp://127.0.0.1:*")
        let push = try Fixture.socket(context, .push)
        push.options.immediate = on
        try push.connect("tcp://127.0.0.1:\(Fixture.freePort())")  // nobody there
        try push.connect(live.lastEndpoint)
        // Wait until the live connection is up (with IMMEDIATE, it is the only pipe).
        #expect(Fixture.eventually { push.events.contains(.send) && push.peerCount == (on ? 1 : 2) })
        for i in 0..<10 { try push.send(Message(string: "\(i)"), timeout: .seconds(5)) }
        // The live peer gets every message with IMMEDIATE, half without (the other half wait in
        // the pipe of the connect that never completes, so no sixth can come late).
        let expected = on ? 10 : 5
        for _ in 0..<expected { _ = try live.receive(timeout: .seconds(10)) }
        #expect(throws: ZeroMQError.self) { _ = try live.receive(timeout: .milliseconds(300)) }
    }

    @Test("LINGER: a closed socket's queued messages still reach a peer that binds later")
    func lingerDeliversAfterClose() throws {
        let context = try Fixture.context()
        let endpoint = "tcp://127.0.0.1:\(Fixture.freePort())"
        do {
            let push = try context.socket(.push)
            push.options.linger = .seconds(30)
            push.options.reconnectInterval = .milliseconds(20)
            try push.connect(endpoint)
            try push.send("last words")
            push.close()
        }
        let pull = try Fixture.bound(context, .pull, endpoint)
        #expect(try pull.receiveString() == "last words")
    }

    @Test("LINGER runs out on a connection whose peer never reads: the context terminates")
    func lingerExpiresOnAStuckConnection() throws {
        let receiving = try Fixture.context()
        let pull = try Fixture.socket(receiving, .pull)
        pull.options.receiveHighWaterMark = 1
        try pull.bind("tcp://127.0.0.1:*")
        let sending = Handoff<Context?>(try Fixture.context())
        do {
            guard let context = sending.value else { return }
            let push = try context.socket(.push)
            push.options.sendHighWaterMark = 1
            push.options.linger = .milliseconds(100)
            try push.connect(pull.lastEndpoint)
            let big = Message([UInt8](repeating: 1, count: 1 << 20))
            // Fill the pipe, the engine and the kernel's buffers: the peer never reads.
            var sent = 0
            while sent < 64, (try? push.send(big, timeout: .seconds(2))) != nil { sent += 1 }
            #expect(sent < 64)
            push.close()
        }
        // Terminate on another thread; a bounded wait turns a hang into a failure.
        let took = Fixture.terminate(sending)
        #expect(took != nil, "terminate must return once LINGER runs out")
        if let took { print("terminate, PUSH (LINGER 100 ms), connected peer never reads: \(Fixture.milliseconds(took)) ms") }
        _ = pull
    }

    @Test("LINGER 0: closing discards the queue and context termination returns")
    func lingerZeroDiscards() throws {
        let context = try Fixture.context()
        let push = try context.socket(.push)
        push.options.linger = .zero
        try push.connect("tcp://127.0.0.1:\(Fixture.freePort())")
        try push.send("dropped")
        push.close()
        context.terminate()
    }

    @Test("Context shutdown wakes a receive blocked on another thread with .terminated")
    func shutdownWakesBlockedReceive() throws {
        let context = try Fixture.context()
        let socket = Handoff(try context.socket(.pull))
        let outcome = Handoff<ZeroMQError.Code?>(nil)
        let done = Handoff(false)
        var thread = pthread_t()
        let box = Unmanaged.passRetained(Handoff((socket, outcome, done))).toOpaque()
        pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            let items = Unmanaged<Handoff<(Handoff<Socket>, Handoff<ZeroMQError.Code?>, Handoff<Bool>)>>.fromOpaque(raw).takeRetainedValue().value
            do throws(ZeroMQError) {
                _ = try items.0.value.receive()
            } catch {
                items.1.value = error.code
            }
            items.0.value.close()
            return nil
        }, box)
        usleep(50_000)
        context.shutdown()
        pthread_join(thread, nil)
        #expect(outcome.value == .terminated)
        _ = done
    }

    @Test("CONFLATE: a PULL keeps only the newest message")
    func conflate() throws {
        let context = try Fixture.context()
        let pull = try Fixture.socket(context, .pull)
        pull.options.conflate = true
        let endpoint = "inproc://\(Fixture.unique("conflate"))"
        try pull.bind(endpoint)
        let push = try Fixture.socket(context, .push)
        try push.connect(endpoint)
        for i in 0..<20 { try push.send("\(i)") }
        #expect(try pull.receiveString() == "19")
        #expect(try pull.tryReceive() == nil)
    }

    @Test("Endpoint errors are typed: bad syntax, unknown scheme, address in use, unbind of nothing")
    func endpointErrors() throws {
        let context = try Fixture.context()
        let socket = try Fixture.socket(context, .pull)
        func code(_ body: () throws -> Void) -> ZeroMQError.Code? {
            do { try body(); return nil } catch let error as ZeroMQError { return error.code } catch { return nil }
        }
        #expect(code { try socket.bind("tcp//127.0.0.1:5555") } == .invalidArgument)
        #expect(code { try socket.bind("bogus://x") } == .protocolNotSupported)
        #expect(code { try socket.connect("tcp://127.0.0.1:notaport") } == .invalidArgument)
        try socket.bind("tcp://127.0.0.1:*")
        let other = try Fixture.socket(context, .pull)
        #expect(code { try other.bind(socket.lastEndpoint) } == .addressInUse)
        let name = "inproc://\(Fixture.unique("taken"))"
        try socket.bind(name)
        #expect(code { try other.bind(name) } == .addressInUse)
        #expect(code { try other.unbind("tcp://127.0.0.1:1") } == .endpointNotFound)
        #expect(code { try other.disconnect("tcp://127.0.0.1:1") } == .endpointNotFound)
        socket.close()
        #expect(code { try socket.bind("tcp://127.0.0.1:*") } == .closed)
        #expect(throws: ZeroMQError.self) { _ = try context.socket(SocketType(rawValue: 14)!) }  // RADIO, a draft type
    }

    @Test("Multipart messages arrive whole across a connection that breaks and comes back")
    func multipartAtomicityAcrossReconnects() throws {
        let context = try Fixture.context()
        let first = try Fixture.bound(context, .pull, "tcp://127.0.0.1:*")
        let endpoint = first.lastEndpoint
        let push = try Fixture.socket(context, .push)
        push.options.reconnectInterval = .milliseconds(20)
        push.options.sendHighWaterMark = 10
        try push.connect(endpoint)
        let parts = (0..<3).map { Message([UInt8](repeating: UInt8($0), count: 100_000)) }
        for _ in 0..<20 { try push.send(parts, timeout: .seconds(5)) }
        // Read a few, then drop the connection with messages in flight.
        for _ in 0..<2 { #expect(try first.receiveMultipart().parts.count == 3) }
        first.close()
        let second = try Fixture.socket(context, .pull)
        #expect(Fixture.eventually { (try? second.bind(endpoint)) != nil })
        try push.send(parts, timeout: .seconds(5))
        // At least the message sent after the restart arrives; every one that arrives is whole.
        var whole = try second.receiveMultipart()
        while true {
            #expect(whole.parts.count == 3)
            #expect(whole.parts.map(\.count) == [100_000, 100_000, 100_000])
            second.options.receiveTimeout = .milliseconds(300)
            guard let next = try? second.receiveMultipart() else { break }
            whole = next
        }
    }
}

extension Socket {
    /// Sends a multipart message with a timeout per part.
    func send(_ parts: [Message], timeout: Duration?) throws(ZeroMQError) {
        for (index, part) in parts.enumerated() {
            var part = part
            part.more = index < parts.count - 1
            try send(part, timeout: timeout)
        }
    }
}

extension ReconnectBackoff {
    /// The next `count` waits, in milliseconds.
    mutating func waits(_ count: Int) -> [Int] {
        var result: [Int] = []
        for _ in 0..<count {
            guard let wait = next() else { break }
            result.append(Int(wait.components.seconds * 1000 + wait.components.attoseconds / 1_000_000_000_000_000))
        }
        return result
    }
}
