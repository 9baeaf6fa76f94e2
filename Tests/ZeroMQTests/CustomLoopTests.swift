#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import Testing
import ZMTP
import ZeroMQ
import ZeroMQTransport

// The code between the DRIVER and SERVICE markers is quoted verbatim in
// Sources/ZeroMQ/ZeroMQ.docc/RunningSocketsOnYourOwnEventLoop.md; the tests below fail if the
// two drift apart, and run it against pyzmq and the native sockets.

// DRIVER-BEGIN
/// An event loop on `poll(2)` that ZeroMQ sockets run on: everything an ``IODriver`` is. One
/// thread runs ``run()``; other threads reach the loop only through its ``mailbox``.
final class PollLoop: IODriver, @unchecked Sendable {
    private struct Watch {
        let fd: Int32
        var events: IOEvents
        let handler: IOHandler
    }

    // The loop's state: touched only by the thread that runs it (or will run it).
    private var watches: [UInt64: Watch] = [:]
    private var timers: [UInt64: (deadline: ZMTPInstant, action: () -> Void)] = [:]
    private var nextToken: UInt64 = 1
    private var running = true

    /// The thread inside ``run()`` (0: none), which any thread may ask about.
    private let loopThread = Atomic<UInt>(0)

    /// Where other threads post tasks; a post makes its `wakeupFD` readable.
    let mailbox: DriverMailbox
    /// One read buffer for every connection on this loop.
    let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 16)

    init() throws(TransportError) {
        mailbox = try DriverMailbox()
    }

    deinit {
        readBuffer.deallocate()
    }

    var isOnDriverThread: Bool {
        loopThread.load(ordering: .relaxed) == UInt(pthread_self())
    }

    // MARK: Descriptors and timers (the loop's thread)

    func register(fd: Int32, events: IOEvents, handler: IOHandler) throws(TransportError) -> IORegistration {
        let token = nextToken
        nextToken += 1
        watches[token] = Watch(fd: fd, events: events, handler: handler)
        return IORegistration(token: token, fd: fd)
    }

    func update(_ registration: IORegistration, events: IOEvents) throws(TransportError) {
        watches[registration.token]?.events = events
    }

    func deregister(_ registration: IORegistration) {
        watches[registration.token] = nil
    }

    func schedule(at deadline: ZMTPInstant, _ action: @escaping () -> Void) -> IOTimer {
        let token = nextToken
        nextToken += 1
        timers[token] = (deadline, action)
        return IOTimer(token: token)
    }

    func cancel(_ timer: IOTimer) {
        timers[timer.token] = nil
    }

    // MARK: The loop

    /// Runs the loop on the calling thread until ``stop()``.
    func run() {
        loopThread.store(UInt(pthread_self()), ordering: .relaxed)
        var descriptors: [pollfd] = []
        var tokens: [UInt64] = []
        while running {
            // 1. Watch the mailbox and every registered descriptor (poll(2) is level-triggered).
            descriptors.removeAll(keepingCapacity: true)
            tokens.removeAll(keepingCapacity: true)
            descriptors.append(pollfd(fd: mailbox.wakeupFD, events: Int16(POLLIN), revents: 0))
            tokens.append(0)
            for (token, watch) in watches {
                var events: Int32 = 0
                if watch.events.contains(.readable) { events |= POLLIN }
                if watch.events.contains(.writable) { events |= POLLOUT }
                descriptors.append(pollfd(fd: watch.fd, events: Int16(events), revents: 0))
                tokens.append(token)
            }
            // 2. Sleep until a descriptor is ready, a task is posted or the next timer is due,
            //    rounding up so that a timer never wakes the loop early and spins.
            var timeout: Int32 = -1
            if let next = timers.values.map(\.deadline).min() {
                let now = IOClock.now()
                timeout = next <= now ? 0 : Int32(clamping: (next.nanoseconds - now.nanoseconds + 999_999) / 1_000_000)
            }
            _ = poll(&descriptors, nfds_t(descriptors.count), timeout)
            // 3. Call the handlers of ready descriptors. A handler may deregister or change
            //    others, so each is looked up again and told only what it still watches.
            for index in descriptors.indices.dropFirst() where descriptors[index].revents != 0 {
                guard let watch = watches[tokens[index]] else { continue }
                let revents = Int32(descriptors[index].revents)
                var ready: IOEvents = []
                if revents & POLLIN != 0 { ready.insert(.readable) }
                if revents & POLLOUT != 0 { ready.insert(.writable) }
                ready.formIntersection(watch.events)
                let hangup = revents & (POLLHUP | POLLERR | POLLNVAL) != 0
                if !ready.isEmpty || hangup { watch.handler.ready(ready, hangup: hangup) }
            }
            // 4. Run the tasks other threads posted, in order.
            if descriptors[0].revents != 0 { mailbox.drain() }
            // 5. Fire the due timers, earliest first. One cancelled by an earlier action does
            //    not fire; one scheduled meanwhile waits for the next turn.
            let now = IOClock.now()
            let due = timers.filter { $0.value.deadline <= now }.sorted { $0.value.deadline < $1.value.deadline }
            for (token, timer) in due where timers.removeValue(forKey: token) != nil {
                timer.action()
            }
        }
        watches.removeAll()
        timers.removeAll()
        loopThread.store(0, ordering: .relaxed)
    }

    /// Ends ``run()`` after the tasks posted so far; later posts are refused. Any thread.
    func stop() {
        mailbox.close(after: { [unowned self] in self.running = false })
    }
}
// DRIVER-END

// SERVICE-BEGIN
/// A REP service that lives in the loop: the loop watches the socket's descriptor beside the
/// connections, and calls back on its own thread, where the non-blocking calls belong.
final class UppercaseService: IOHandler {
    private let loop: PollLoop
    private let context: Context
    private let socket: Socket
    private let requests: Int
    private(set) var answered = 0
    private var registration: IORegistration?

    /// Call on the thread that runs (or will run) `loop`: registering is the loop's business.
    init(on loop: PollLoop, endpoint: String, requests: Int) throws {
        self.loop = loop
        self.requests = requests
        context = try Context(io: .drivers([loop]))
        socket = try context.socket(.rep)
        try socket.bind(endpoint)
        registration = try loop.register(fd: socket.fileDescriptor, events: .readable, handler: self)
    }

    /// Where peers connect (the port or path the bind chose).
    var endpoint: String { socket.lastEndpoint }

    func ready(_ events: IOEvents, hangup: Bool) {
        // The descriptor says "look again", not how much: take every request waiting.
        while answered < requests, let request = try? socket.tryReceive() {
            _ = try? socket.trySend(Message(string: request.string.uppercased()))
            answered += 1
        }
        if answered == requests { finish() }
    }

    /// Closes the socket, then ends the loop once the context has terminated. `terminate()`
    /// waits for work that the loop does (LINGER, closing connections): another thread calls it.
    func finish() {
        guard let registration else { return }
        self.registration = nil
        loop.deregister(registration)
        socket.close()
        let (context, loop) = (self.context, self.loop)
        Thread {
            context.terminate()
            loop.stop()
        }.start()
    }
}
// SERVICE-END

/// The socket layer driven by a driver written here, on `poll(2)`: the seam under the sockets
/// is complete if reconnects, heartbeats, LINGER and handshakes all work on it.
@Suite("Custom loop: sockets on a poll(2) driver of the test's own")
struct CustomLoopTests {
    static let patience = Duration.seconds(30)

    @Test("The article quotes the driver and the service verbatim, and every other snippet line for line")
    func theArticleQuotesTheCompiledCode() throws {
        let here = String(#filePath)
        let root = here.components(separatedBy: "/Tests/")[0]
        let source = try String(contentsOfFile: here, encoding: .utf8)
        let article = try String(contentsOfFile: root + "/Sources/ZeroMQ/ZeroMQ.docc/RunningSocketsOnYourOwnEventLoop.md", encoding: .utf8)
        for marker in ["DRIVER", "SERVICE"] {
            let begin = try #require(source.range(of: "// \(marker)-BEGIN\n"))
            let end = try #require(source.range(of: "// \(marker)-END"))
            let quoted = String(source[begin.upperBound..<end.lowerBound])
            #expect(article.contains(quoted), "RunningSocketsOnYourOwnEventLoop.md must quote the \(marker) block verbatim")
        }
        // Every other snippet is a run of lines of this file (indentation aside).
        let trimmed = { (text: Substring) in text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.drop(while: { $0 == " " }) } }
        let sourceLines = trimmed(source[...])
        let blocks = article.components(separatedBy: "```swift\n").dropFirst().map { $0.components(separatedBy: "```")[0] }
        #expect(blocks.count >= 4)
        for block in blocks {
            let lines = Array(trimmed(block.dropLast()[...]))
            let found = sourceLines.indices.contains { start in
                start + lines.count <= sourceLines.count && Array(sourceLines[start..<start + lines.count]) == lines
            }
            #expect(found, "a snippet of the article is not in CustomLoopTests.swift: \(block)")
        }
    }

    @Test("A context made on drivers reports them, and refuses an empty list")
    func contextOnDrivers() throws {
        let loop = try PollLoop()
        let other = try PollLoop()
        let context = try Context(io: .drivers([loop]))
        #expect(context.io == .drivers([loop]))
        #expect(context.io != .drivers([other]))
        #expect(context.io != .threads)
        #expect(Context.IOMode.caller == .caller)
        #expect(throws: ZeroMQError.self) { _ = try Context(io: .drivers([])) }
        // Nothing ran on the loop: terminating waits for no connection.
        context.terminate()
    }

    // Everything on one thread: the REP's connections, its handshakes and the service's
    // handler all run in the test thread's poll(2) loop; pyzmq's REQ is in another process.
    @Test("One thread: a REP in the loop answers a pyzmq REQ", arguments: ["tcp://127.0.0.1:*", "ipc"])
    func repInTheLoopAnswersPyzmq(_ bindTo: String) throws {
        let requests = 50
        let endpoint = bindTo == "ipc" ? "ipc:///tmp/swift-zeromq-loop-\(UInt32.random(in: 0...UInt32.max)).ipc" : bindTo
        let loop = try PollLoop()
        let service = try UppercaseService(on: loop, endpoint: endpoint, requests: requests)
        let clients = try startRequesters(connectingTo: service.endpoint, requests: requests)
        // Give up after two minutes, as if done.
        _ = loop.schedule(at: IOClock.now().adding(.seconds(120))) { service.finish() }
        loop.run()   // returns once the service has finished and its context has terminated
        #expect(service.answered == requests)
        let finished = clients.finishBlocking()
        #expect(finished.status == 0, "pyzmq: \(finished.output)")
    }

    /// A pyzmq REQ that sends `requests` requests and checks each reply.
    private func startRequesters(connectingTo endpoint: String, requests: Int) throws -> PyzmqScript {
        try PyzmqScript("""
            s = zmq.Context().socket(zmq.REQ)
            s.connect(sys.argv[1])
            for i in range(int(sys.argv[2])):
                s.send_string("request %d" % i)
                reply = s.recv_string()
                assert reply == "REQUEST %d" % i, reply
            """, arguments: [endpoint, "\(requests)"])
    }

    // The loop on a thread of its own, the application's blocking calls on the test thread:
    // a DEALER on the loop reconnects (its backoff is a timer on the loop) after the ROUTER of
    // a default context goes away and another takes its endpoint.
    @Test("A DEALER on the loop reconnects to a restarted ROUTER of a default context",
          arguments: ["tcp://127.0.0.1:*", "ipc"])
    func dealerOnTheLoopReconnects(_ bindTo: String) throws {
        let loop = try PollLoop()
        let loopThread = Thread { loop.run() }
        loopThread.start()
        let custom = try Context(io: .drivers([loop]))
        let dealer = try custom.socket(.dealer)
        dealer.options.linger = .zero
        dealer.options.receiveTimeout = Self.patience
        let endpointText = bindTo == "ipc" ? "ipc:///tmp/swift-zeromq-loop-\(UInt32.random(in: 0...UInt32.max)).ipc" : bindTo

        var peerContext = try Context()
        var router = try peerContext.socket(.router)
        router.options.linger = .zero
        try router.bind(endpointText)
        let endpoint = router.lastEndpoint
        try dealer.connect(endpoint)
        try dealer.send("hello 1")
        let first = try router.receiveMultipart(timeout: Self.patience)
        #expect(first.last?.string == "hello 1")
        try router.send([first[0], Message(string: "world 1")])
        #expect(try dealer.receiveString() == "world 1")

        // The peer restarts: a new context and ROUTER on the same endpoint.
        router.close()
        peerContext.terminate()
        peerContext = try Context()
        router = try peerContext.socket(.router)
        router.options.linger = .zero
        try Self.bind(router, to: endpoint)

        // Messages sent while the DEALER has not yet noticed may go down the dead connection:
        // send until the new ROUTER hears one.
        var heard: Multipart?
        for attempt in 0..<300 where heard == nil {
            try dealer.send("hello \(attempt + 2)")
            if try router.poll(timeout: .milliseconds(100)).contains(.receive) {
                heard = try router.receiveMultipart()
            }
        }
        let request = try #require(heard)
        #expect(request.last?.string.hasPrefix("hello ") == true)
        try router.send([request[0], Message(string: "world 2")])
        #expect(try dealer.receiveString() == "world 2")

        router.close()
        peerContext.terminate()
        dealer.close()
        custom.terminate()
        loop.stop()
        while !loopThread.isFinished { usleep(1_000) }
    }

    // Heartbeats are timers on the loop: with a PING every 20 ms, and a timeout the peer would
    // hit if they stopped, the subscription and the messages still flow after many of them.
    @Test("A PUB on the loop, with heartbeats, feeds a SUB of a default context over ipc")
    func pubOnTheLoopFeedsASubscriber() throws {
        let loop = try PollLoop()
        let loopThread = Thread { loop.run() }
        loopThread.start()
        let custom = try Context(io: .drivers([loop]))
        let pub = try custom.socket(.pub)
        pub.options.linger = .zero
        pub.options.heartbeatInterval = .milliseconds(20)
        pub.options.heartbeatTimeout = .milliseconds(2_000)
        try pub.bind("ipc:///tmp/swift-zeromq-loop-\(UInt32.random(in: 0...UInt32.max)).ipc")

        let plain = try Context()
        let sub = try plain.socket(.sub)
        sub.options.linger = .zero
        try sub.subscribe("news")
        try sub.connect(pub.lastEndpoint)
        // The subscription travels after the handshake: publish until one arrives.
        var received: String?
        for index in 0..<300 where received == nil {
            try pub.send("weather \(index)")
            try pub.send("news \(index)")
            if try sub.poll(timeout: .milliseconds(100)).contains(.receive) { received = try sub.receiveString() }
        }
        #expect(received?.hasPrefix("news ") == true)
        // Many heartbeats later the connection still carries messages.
        usleep(300_000)
        try pub.send("news late")
        var last = try sub.receiveString(timeout: Self.patience)
        while last != "news late" { last = try sub.receiveString(timeout: Self.patience) }
        #expect(last == "news late")
        #expect(pub.statistics.messagesSent > 0)

        sub.close()
        plain.terminate()
        pub.close()
        custom.terminate()
        loop.stop()
        while !loopThread.isFinished { usleep(1_000) }
    }

    // ZAP runs over inproc to the Authenticator's socket; handshakes, ZAP requests and monitor
    // events of the tcp connections all go through the loop.
    @Test("PLAIN with a ZAP handler, monitor events and inproc, on a context made on the loop")
    func zapMonitorAndInprocOnTheLoop() throws {
        let loop = try PollLoop()
        let loopThread = Thread { loop.run() }
        loopThread.start()
        let context = try Context(io: .drivers([loop]))
        let auth = try Authenticator(context: context)
        auth.allowPlain(passwords: ["admin": "password"])
        let (server, refused) = try ZAPTests.pair(context, .plain, password: "wrong")
        #expect((ZAPTests.outcome(server) ?? nil)?.code == .authenticationFailed)

        let admitted = try Fixture.socket(context, .dealer)
        admitted.options.plainUsername = "admin"
        admitted.options.plainPassword = "password"
        try admitted.connect(server.lastEndpoint)
        try admitted.send("ping")
        let request = try server.receiveMultipart()
        #expect(request.last?.string == "ping")
        #expect(request.property("User-Id") == "admin")

        let pull = try Fixture.bound(context, .pull, "inproc://\(Fixture.unique("loop"))")
        let push = try Fixture.connected(context, .push, to: pull)
        try push.send("over inproc")
        #expect(try pull.receiveString() == "over inproc")

        for socket in [refused, admitted, server, push, pull] { socket.close() }
        auth.stop()
        context.terminate()
        loop.stop()
        while !loopThread.isFinished { usleep(1_000) }
    }

    /// Binds `socket` to `endpoint`, which a socket that just closed may still hold for a moment.
    private static func bind(_ socket: Socket, to endpoint: String) throws {
        for _ in 0..<200 {
            do {
                try socket.bind(endpoint)
                return
            } catch {
                guard error.code == .addressInUse else { throw error }
                usleep(50_000)
            }
        }
        try socket.bind(endpoint)
    }
}
