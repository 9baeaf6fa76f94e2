#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
import ZeroMQ

/// The poller (libzmq's `zmq_poller`/`zmq_poll`, test_poller and test_zmq_poll_fd) and the
/// `Socket.fileDescriptor` contract, against real sockets on every transport.
///
/// "Ready" is checked by doing what it promises: every socket reported readable is received from
/// with `tryReceive()`, which must succeed. Waits that must end are bounded by 10 s so a lost
/// wake-up fails the test instead of hanging it; no assertion depends on how long anything takes.
@Suite("Poller")
struct PollerTests {
    static let transports = ["inproc", "tcp", "ipc"]

    /// A fresh endpoint to bind to on `transport`; connect to `lastEndpoint`.
    static func endpoint(_ transport: String) -> String {
        switch transport {
        case "inproc": return "inproc://\(Fixture.unique("poller"))"
        case "ipc": return "ipc://@\(Fixture.unique("poller"))"
        default: return "tcp://127.0.0.1:*"
        }
    }

    /// A bound socket of `type` and a socket of `peerType` connected to it.
    static func pair(_ context: Context, _ type: SocketType, _ peerType: SocketType,
                     over transport: String) throws -> (bound: Socket, connected: Socket) {
        let bound = try Fixture.socket(context, type)
        try bound.bind(endpoint(transport))
        let connected = try Fixture.socket(context, peerType)
        try connected.connect(bound.lastEndpoint)
        return (bound, connected)
    }

    /// The rest of a message whose first part was just received, as text (the last part).
    static func lastPart(after first: Message, on socket: Socket) throws -> String {
        var last = first
        while socket.hasMore, let next = try socket.tryReceive() { last = next }
        return last.string
    }

    /// A pipe: (read end, write end).
    static func makePipe() -> (read: Int32, write: Int32) {
        var ends: [Int32] = [-1, -1]
        _ = pipe(&ends)
        return (ends[0], ends[1])
    }

    /// Whether `fd` turns readable within 10 s, as seen by `poll(2)`.
    static func turnsReadable(_ fd: Int32) -> Bool {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while true {
            let count = poll(&descriptor, 1, 10_000)
            if count < 0 && errno == EINTR { continue }
            return count == 1 && descriptor.revents & Int16(POLLIN) != 0
        }
    }

    /// A wait that something must end, bounded by ``wakeBound``. One that runs to that deadline
    /// is a lost wake-up even if it then finds events: they were there all along.
    static func woken(_ poller: Poller) throws -> [Poller.Event] {
        let start = ContinuousClock.now
        let events = try poller.wait(timeout: wakeBound)
        if ContinuousClock.now - start >= wakeBound - .seconds(5) { Issue.record("lost wake-up: the wait ran to its deadline") }
        return events
    }

    /// The async ``woken(_:)``.
    nonisolated(nonsending)
    static func woken(_ poller: Poller) async throws -> [Poller.Event] {
        let start = ContinuousClock.now
        let events = try await poller.wait(timeout: wakeBound)
        if ContinuousClock.now - start >= wakeBound - .seconds(5) { Issue.record("lost wake-up: the wait ran to its deadline") }
        return events
    }

    /// How long a wait that something must end may take. Generous: on a busy machine a task
    /// whose wait has ended can wait many seconds for a thread of the cooperative pool (tests
    /// beside it block theirs), and that delay is not a lost wake-up. A lost one still fails,
    /// at this deadline.
    static let wakeBound = Duration.seconds(60)

    /// Runs `body` on a thread of its own; join the thread returned.
    static func spawn(_ body: @escaping @Sendable () -> Void) -> pthread_t {
        var thread = pthread_t()
        let box = Unmanaged.passRetained(Handoff(body)).toOpaque()
        pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            Unmanaged<Handoff<@Sendable () -> Void>>.fromOpaque(raw).takeRetainedValue().value()
            return nil
        }, box)
        return thread
    }

    /// Publishes "sync" until `subscriber` (subscribed to it) has one.
    static func synchronise(_ publisher: Socket, _ subscriber: Socket) throws -> Bool {
        for _ in 0..<500 {
            try publisher.send("sync")
            if let received = try? subscriber.receive(timeout: .milliseconds(20)), received.string == "sync" { return true }
        }
        return false
    }

    // MARK: Readable means a receive succeeds

    @Test("Over PULL, SUB, ROUTER, REP, DEALER, PAIR and a pipe, whatever is reported readable can be read")
    func mixedSocketsAndADescriptor() throws {
        let context = try Context()
        let (pull, push) = try Self.pair(context, .pull, .push, over: "tcp")
        let (publisher, sub) = try Self.pair(context, .pub, .sub, over: "inproc")
        try sub.subscribe("a")
        try sub.subscribe("sync")
        #expect(try Self.synchronise(publisher, sub))
        let (router, dealerToRouter) = try Self.pair(context, .router, .dealer, over: "ipc")
        let (rep, req) = try Self.pair(context, .rep, .req, over: "inproc")
        let (dealer, dealerPeer) = try Self.pair(context, .dealer, .dealer, over: "tcp")
        let (pairSocket, pairPeer) = try Self.pair(context, .pair, .pair, over: "ipc")
        let pipe = Self.makePipe()
        defer { close(pipe.read); close(pipe.write) }

        let poller = Poller()
        for socket in [pull, sub, router, rep, dealer, pairSocket] { try poller.add(socket, for: .receive) }
        try poller.add(fileDescriptor: pipe.read, for: .receive)
        #expect(poller.count == 7)
        #expect(try poller.wait(timeout: .zero).isEmpty)

        try push.send("pull")
        try publisher.send("b-filtered-out")
        try publisher.send("a-sub")
        try dealerToRouter.send("router")
        try req.send("rep")
        try dealerPeer.send([Message(string: "first"), Message(string: "dealer")])
        try pairPeer.send("pair")
        var byte: UInt8 = 7
        #expect(write(pipe.write, &byte, 1) == 1)

        var received: Set<String> = []
        var rounds = 0
        while received.count < 7, rounds < 1000 {
            rounds += 1
            let events = try Self.woken(poller)
            #expect(!events.isEmpty, "still waiting for \(7 - received.count) of 7")
            if events.isEmpty { break }
            for event in events {
                #expect(event.events == .receive)
                if let socket = event.socket {
                    let first = try socket.tryReceive()
                    #expect(first != nil, "a \(socket.type) was reported readable, but a receive found nothing")
                    if let first { received.insert(try Self.lastPart(after: first, on: socket)) }
                } else {
                    #expect(event.fileDescriptor == pipe.read)
                    #expect(read(pipe.read, &byte, 1) == 1)
                    received.insert("pipe")
                }
            }
        }
        #expect(received == ["pull", "a-sub", "router", "rep", "dealer", "pair", "pipe"])
        // The SUB's filtered message and everything received are not reported again.
        #expect(try poller.wait(timeout: .zero).isEmpty)
    }

    @Test("A wake-up that changes nothing (messages a SUB filters out) is never reported")
    func spuriousWakeUpsAreNotReported() throws {
        let context = try Context()
        let (publisher, sub) = try Self.pair(context, .pub, .sub, over: "inproc")
        try sub.subscribe("a")
        try sub.subscribe("sync")
        #expect(try Self.synchronise(publisher, sub))
        let poller = Poller()
        try poller.add(sub, for: .receive)
        #expect(try poller.wait(timeout: .zero).isEmpty)
        // Filtered messages arrive while the poller sleeps: each wakes it, none may be reported.
        let sender = Self.spawn { [publisher = Handoff(publisher)] in
            for index in 0..<200 {
                try? publisher.value.send("b-\(index)")
                if index % 10 == 0 { usleep(500) }
            }
            try? publisher.value.send("a-end")
        }
        let events = try Self.woken(poller)
        pthread_join(sender, nil)
        #expect(events.count == 1)
        #expect(events.first?.socket === sub)
        #expect(try sub.tryReceive()?.string == "a-end")
        #expect(try poller.wait(timeout: .zero).isEmpty)
    }

    // MARK: Writable

    @Test("PUSH is writable with a peer and not without, and again once a full peer makes room", arguments: transports)
    func pushWritability(transport: String) throws {
        let context = try Context()
        let push = try Fixture.socket(context, .push)
        push.options.sendHighWaterMark = 2
        try push.bind(Self.endpoint(transport))
        let poller = Poller()
        try poller.add(push, for: .send)
        #expect(try poller.wait(timeout: .zero).isEmpty, "no peer: a send would block")

        let pull = try Fixture.socket(context, .pull)
        pull.options.receiveHighWaterMark = 2
        try pull.connect(push.lastEndpoint)
        let events = try Self.woken(poller)
        #expect(events.count == 1 && events.first?.socket === push && events.first?.events == .send)

        // Fill every queue on the way (pipes and, over tcp/ipc, the kernel's buffers), until a
        // wait finds no room. A wait that does report room must be right.
        let big = Message([UInt8](repeating: 1, count: 64 * 1024))
        var sent = 0
        var full = false
        for _ in 0..<100 {
            while sent < 100_000, try push.trySend(big) { sent += 1 }
            if try poller.wait(timeout: .milliseconds(100)).isEmpty {
                full = true
                break
            }
            #expect(try push.trySend(big), "reported writable, but a send would block")
            sent += 1
        }
        #expect(full)
        for _ in 0..<sent { _ = try pull.receive() }
        let again = try Self.woken(poller)
        #expect(again.count == 1 && again.first?.events == .send)
        #expect(try push.trySend(big))
    }

    // MARK: Timeouts, descriptors, misuse

    @Test("A wait that times out returns no events")
    func timeoutReturnsNothing() throws {
        let context = try Context()
        let pull = try Fixture.bound(context, .pull, Self.endpoint("inproc"))
        let pipe = Self.makePipe()
        defer { close(pipe.read); close(pipe.write) }
        let poller = Poller()
        try poller.add(pull, for: [.receive, .send])
        try poller.add(fileDescriptor: pipe.read, for: .receive)
        #expect(try poller.wait(timeout: .zero).isEmpty)
        #expect(try poller.wait(timeout: .milliseconds(30)).isEmpty)
        #expect(try Poller().wait(timeout: .milliseconds(1)).isEmpty)
    }

    @Test("Plain descriptors: writable at once, readable once written, a hung-up pipe reads end of file")
    func plainDescriptors() throws {
        let pipe = Self.makePipe()
        defer { close(pipe.read) }
        let wake = Self.makePipe()
        defer { close(wake.read); close(wake.write) }
        let poller = Poller()
        try poller.add(fileDescriptor: pipe.read, for: .receive)
        try poller.add(fileDescriptor: pipe.write, for: [.receive, .send])
        try poller.add(fileDescriptor: wake.read, for: .receive)
        let writable = try Self.woken(poller)
        #expect(writable.count == 1 && writable.first?.fileDescriptor == pipe.write && writable.first?.events == .send)
        try poller.modify(fileDescriptor: pipe.write, for: [])

        var byte: UInt8 = 1
        #expect(write(wake.write, &byte, 1) == 1)
        let woken = try Self.woken(poller)
        #expect(woken.map(\.fileDescriptor) == [wake.read])
        #expect(read(wake.read, &byte, 1) == 1)
        #expect(try poller.wait(timeout: .zero).isEmpty)

        try poller.remove(fileDescriptor: pipe.write)
        close(pipe.write)
        let hungUp = try Self.woken(poller)
        #expect(hungUp.count == 1 && hungUp.first?.fileDescriptor == pipe.read && hungUp.first?.events == .receive)
        #expect(read(pipe.read, &byte, 1) == 0)
    }

    @Test("Misuse is a typed error: duplicates, unknown members, closed sockets and descriptors, endless empty waits")
    func misuse() throws {
        let context = try Context()
        let pull = try Fixture.socket(context, .pull)
        let poller = Poller()
        #expect(throws: ZeroMQError.self) { _ = try poller.wait(timeout: nil) }
        try poller.add(pull, for: .receive)
        #expect(throws: ZeroMQError.self) { try poller.add(pull, for: .send) }
        #expect(throws: ZeroMQError.self) { try poller.add(fileDescriptor: -1, for: .receive) }
        #expect(throws: ZeroMQError.self) { try poller.remove(fileDescriptor: 0) }
        #expect(throws: ZeroMQError.self) { try poller.modify(try Fixture.socket(context, .push), for: .send) }

        // A descriptor number far above the ones other tests open (each takes the lowest free
        // number), so that none of them reopens it between its close and the wait.
        let pipe = Self.makePipe()
        let closed = fcntl(pipe.read, F_DUPFD, 3000)
        #expect(closed >= 3000)
        close(pipe.write)
        close(pipe.read)
        try poller.add(fileDescriptor: closed, for: .receive)
        close(closed)
        do throws(ZeroMQError) {
            _ = try poller.wait(timeout: .zero)
            Issue.record("a closed descriptor must be an error")
        } catch {
            #expect(error.code == .invalidArgument)
        }
        try poller.remove(fileDescriptor: closed)

        pull.close()
        do throws(ZeroMQError) {
            _ = try poller.wait(timeout: .zero)
            Issue.record("a closed socket must be an error")
        } catch {
            #expect(error.code == .closed)
        }
        try poller.remove(pull)
        #expect(poller.count == 0)
        #expect(throws: ZeroMQError.self) { try poller.add(pull, for: .receive) }
    }

    @Test("A terminated context ends a wait with .terminated")
    func terminatedContext() throws {
        let context = try Context()
        let pull = try Fixture.socket(context, .pull)
        let poller = Poller()
        try poller.add(pull, for: .receive)
        context.shutdown()
        do throws(ZeroMQError) {
            _ = try poller.wait(timeout: .seconds(10))
            Issue.record("the context was shut down")
        } catch {
            #expect(error.code == .terminated)
        }
    }

    // MARK: async

    @Test("The async wait wakes when a message arrives on one of several sockets")
    func asyncWakesOnOneOfSeveral() async throws {
        let context = try Context()
        let endpoints = (0..<3).map { _ in Self.endpoint("inproc") }
        let pulls = try endpoints.map { endpoint in
            let pull = try Fixture.bound(context, .pull, endpoint)
            return pull
        }
        let waiting = Task { [pulls = Handoff(pulls)] () async throws -> (Int, String?) in
            let poller = Poller()
            for pull in pulls.value { try poller.add(pull, for: .receive) }
            let events = try await Self.woken(poller)
            guard events.count == 1, let socket = events[0].socket,
                  let index = pulls.value.firstIndex(where: { $0 === socket }) else { return (-1, nil) }
            return (index, try socket.tryReceive()?.string)
        }
        try await Task.sleep(for: .milliseconds(20))
        let push = try Fixture.socket(context, .push)
        try push.connect(endpoints[1])
        try await push.send("hello")
        let (index, message) = try await waiting.value
        #expect(index == 1)
        #expect(message == "hello")
    }

    @Test("Cancelling an async wait throws CancellationError and leaves the poller and its sockets as they were")
    func asyncCancellation() async throws {
        let context = try Context()
        let endpoint = Self.endpoint("tcp")
        let pull = try Fixture.bound(context, .pull, endpoint)
        let wake = Self.makePipe()
        defer { close(wake.read); close(wake.write) }
        let poller = Poller()
        try poller.add(pull, for: .receive)
        try poller.add(fileDescriptor: wake.read, for: .receive)
        let shared = Handoff(poller)
        for _ in 0..<20 {
            let waiting = Task { [shared] () async throws -> Int in
                try await shared.value.wait(timeout: nil).count
            }
            try await Task.sleep(for: .milliseconds(5))
            waiting.cancel()
            switch await waiting.result {
            case .success(let count): Issue.record("nothing was ready, yet \(count) events came back")
            case .failure(let error): #expect(error is CancellationError)
            }
        }
        // Cancelled before it starts: still no wait.
        let early = Task { [shared] () async throws -> Int in
            withUnsafeCurrentTask { $0?.cancel() }
            return try await shared.value.wait(timeout: nil).count
        }
        await #expect(throws: CancellationError.self) { _ = try await early.value }

        let push = try Fixture.connected(context, .push, to: pull)
        try await push.send("after")
        let events = try await Self.woken(poller)
        #expect(events.count == 1 && events.first?.socket === pull)
        #expect(try pull.tryReceive()?.string == "after")
        #expect(try await poller.wait(timeout: .milliseconds(20)).isEmpty)
    }

    @Test("The async wait times out empty-handed, and needs a socket to borrow an I/O thread")
    func asyncTimeout() async throws {
        let context = try Context()
        let pull = try Fixture.bound(context, .pull, Self.endpoint("inproc"))
        let poller = Poller()
        try poller.add(pull, for: .receive)
        #expect(try await poller.wait(timeout: .milliseconds(20)).isEmpty)
        #expect(try await poller.wait(timeout: .zero).isEmpty)
        let descriptorsOnly = Poller()
        let pipe = Self.makePipe()
        defer { close(pipe.read); close(pipe.write) }
        try descriptorsOnly.add(fileDescriptor: pipe.read, for: .receive)
        await #expect(throws: ZeroMQError.self) { _ = try await descriptorsOnly.wait(timeout: .milliseconds(1)) }
    }

    @Test("Two async waits on the same descriptor at once both wake when it is written")
    func asyncSharedDescriptor() async throws {
        let context = try Context()
        let wake = Self.makePipe()
        defer { close(wake.read); close(wake.write) }
        var tasks: [Task<[Int32?], any Error>] = []
        for _ in 0..<2 {
            let pull = try Fixture.bound(context, .pull, Self.endpoint("inproc"))
            let poller = Poller()
            try poller.add(pull, for: .receive)
            try poller.add(fileDescriptor: wake.read, for: .receive)
            tasks.append(Task { [poller = Handoff(poller)] in
                try await Self.woken(poller.value).map(\.fileDescriptor)
            })
        }
        try await Task.sleep(for: .milliseconds(20))
        var byte: UInt8 = 1
        #expect(write(wake.write, &byte, 1) == 1)
        for task in tasks { #expect(try await task.value == [wake.read]) }
    }

    // MARK: Socket.fileDescriptor

    @Test("fileDescriptor: after events lacks .receive, it turns readable once a peer sends, then events has .receive",
          arguments: transports)
    func fileDescriptorContract(transport: String) throws {
        let context = try Context()
        let (pull, push) = try Self.pair(context, .pull, .push, over: transport)
        for index in 0..<300 {
            #expect(!pull.events.contains(.receive))
            try push.send("m\(index)")
            // Readable may be spurious (events still without .receive), never missing.
            var rounds = 0
            while !pull.events.contains(.receive), rounds < 100 {
                rounds += 1
                guard Self.turnsReadable(pull.fileDescriptor) else {
                    Issue.record("message \(index): the descriptor never turned readable")
                    return
                }
            }
            #expect(try pull.tryReceive()?.string == "m\(index)")
        }
    }

    @Test("fileDescriptor: after events lacks .send, it turns readable once the full peer makes room", arguments: transports)
    func fileDescriptorContractForSend(transport: String) throws {
        let context = try Context()
        let push = try Fixture.socket(context, .push)
        push.options.sendHighWaterMark = 1
        try push.bind(Self.endpoint(transport))
        let pull = try Fixture.socket(context, .pull)
        pull.options.receiveHighWaterMark = 1
        try pull.connect(push.lastEndpoint)
        let big = Message([UInt8](repeating: 2, count: 64 * 1024))
        for _ in 0..<5 {
            // Send until a send fails and events agrees there is no room.
            var sent = 0
            for _ in 0..<100_000 {
                if try push.trySend(big) {
                    sent += 1
                } else if push.events.contains(.send) {
                    continue
                } else if sent > 0 {
                    break
                } else if !Self.turnsReadable(push.fileDescriptor) {
                    // No peer yet: its arrival must be announced too.
                    Issue.record("the peer's arrival was not announced")
                    return
                }
            }
            for _ in 0..<sent { _ = try pull.receive() }
            var rounds = 0
            while !push.events.contains(.send), rounds < 100 {
                rounds += 1
                guard Self.turnsReadable(push.fileDescriptor) else {
                    Issue.record("the descriptor never turned readable")
                    return
                }
            }
            #expect(push.events.contains(.send))
        }
    }

    @Test("fileDescriptor and the poller lose no wake-up while a peer sends concurrently", arguments: transports)
    func noWakeUpLostUnderConcurrentSends(transport: String) throws {
        let context = try Context()
        let count = 2000
        // The descriptor alone: tryReceive until nil, then sleep on the descriptor.
        let (pull, push) = try Self.pair(context, .pull, .push, over: transport)
        let sender = Self.spawn { [push = Handoff(push)] in
            for index in 0..<count {
                try? push.value.send("\(index)")
                if index % 64 == 0 { usleep(200) } else if index % 7 == 0 { sched_yield() }
            }
        }
        var received = 0
        while received < count {
            while try pull.tryReceive() != nil { received += 1 }
            if received == count { break }
            guard Self.turnsReadable(pull.fileDescriptor) else {
                Issue.record("lost wake-up after \(received) of \(count)")
                break
            }
        }
        pthread_join(sender, nil)

        // The poller over three sockets fed by three threads.
        let pairs = try (0..<3).map { _ in try Self.pair(context, .pull, .push, over: transport) }
        let poller = Poller()
        for (pull, _) in pairs { try poller.add(pull, for: .receive) }
        let senders = pairs.map { _, push in
            Self.spawn { [push = Handoff(push)] in
                for index in 0..<count / 4 {
                    try? push.value.send("\(index)")
                    if index % 32 == 0 { usleep(300) }
                }
            }
        }
        var total = 0
        while total < 3 * (count / 4) {
            let events = try Self.woken(poller)
            guard !events.isEmpty else {
                Issue.record("lost wake-up after \(total) of \(3 * (count / 4))")
                break
            }
            for event in events {
                guard let socket = event.socket else { continue }
                #expect(try socket.tryReceive() != nil, "reported readable, yet nothing to receive")
                total += 1
                while try socket.tryReceive() != nil { total += 1 }
            }
        }
        for thread in senders { pthread_join(thread, nil) }
    }
}
