#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import Testing
@_spi(Testing) import ZMTP

func monotonicNow() -> ZMTPInstant {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ZMTPInstant(nanoseconds: UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec))
}

// The code between the ARTICLE markers is quoted verbatim in
// Sources/ZMTP/ZMTP.docc/DrivingTheCore.md; the test below fails if the two drift apart.

// ARTICLE-BEGIN
/// Runs one ZMTP connection over a connected, non-blocking stream socket until `done` says
/// stop or the connection fails. Returns the error, if any.
func drive(
    fd: Int32,
    _ connection: inout Connection,
    clock: () -> ZMTPInstant,
    onEvent: (ConnectionEvent, inout Connection) -> Void,
    done: (Connection) -> Bool
) -> ZMTPError? {
    let highWaterMark = 1 << 20      // stop reading while this much waits to be written
    var readBuffer = [UInt8](repeating: 0, count: 65_536)
    var writeBuffer: [UInt8] = []
    var written = 0                  // how much of writeBuffer the socket has taken
    while !done(connection) {
        // 1. Send whatever the core has queued (greeting, handshake commands, messages, PINGs).
        if written == writeBuffer.count {
            writeBuffer.removeAll(keepingCapacity: true)
            written = 0
        }
        connection.pollTransmit(into: &writeBuffer)
        while written < writeBuffer.count {
            let n = writeBuffer[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n > 0 { written += n } else if errno == EAGAIN { break } else { return connection.error }
        }
        // A failed connection has said its last word (an ERROR, perhaps): close.
        if let error = connection.error, written == writeBuffer.count { return error }

        // 2. Wait for bytes, for room to write, or for the core's next deadline. A peer that
        //    sends without reading is not read from until our output drains.
        var timeout: Int32 = -1
        if let deadline = connection.nextDeadline {
            let now = clock()
            timeout = deadline <= now ? 0 : Int32(min((deadline.nanoseconds - now.nanoseconds) / 1_000_000 + 1, 1_000))
        }
        let backlog = writeBuffer.count - written
        var pfd = pollfd(fd: fd, events: (backlog < highWaterMark ? Int16(POLLIN) : 0) | (backlog > 0 ? Int16(POLLOUT) : 0), revents: 0)
        _ = poll(&pfd, 1, timeout)

        // 3. Feed what arrived; a closed stream ends the connection.
        if pfd.revents & Int16(POLLIN | POLLHUP) != 0 {
            let n = readBuffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n == 0 { return connection.error ?? ZMTPError(.closedByPeer, blame: .transport) }
            if n > 0 { connection.receive(Array(readBuffer[0..<n]), now: clock()) }
        }

        // 4. Fire due timers: handshake timeout, heartbeat PING and timeout, the peer's TTL.
        if let deadline = connection.nextDeadline, deadline <= clock() {
            connection.handleTimeout(now: clock())
        }

        // 5. Pull every event; the handler may send messages or answer authentication.
        while let event = connection.nextEvent() {
            onEvent(event, &connection)
        }
    }
    return connection.error
}
// ARTICLE-END

// CALLBACKS-BEGIN
/// What the event loop must do after a callback into ``CallbackDriver``.
struct LoopRequest {
    /// Watch the descriptor for reading (false while too much output waits, or once it ended).
    var read: Bool
    /// Watch the descriptor for room to write.
    var write: Bool
    /// The one timer to arm, replacing the one armed before; nil: none.
    var timer: ZMTPInstant?
    /// Close the descriptor: the stream ended, or the connection failed and its last bytes
    /// (an ERROR command, perhaps) are written.
    var close: Bool
}

/// One ZMTP connection driven by the callbacks of an event loop the application owns. Every
/// callback ends in `settle()`, which says what the loop must watch next.
struct CallbackDriver {
    var connection: Connection
    let fd: Int32
    let clock: () -> ZMTPInstant
    let onEvent: (ConnectionEvent, inout Connection) -> Void
    var ended = false                // the peer closed the stream, or a write failed
    private var output: [UInt8] = []
    private var written = 0          // how much of output the socket has taken
    private var readBuffer = [UInt8](repeating: 0, count: 65_536)
    static let highWaterMark = 1 << 20

    init(fd: Int32, connection: Connection, clock: @escaping () -> ZMTPInstant,
         onEvent: @escaping (ConnectionEvent, inout Connection) -> Void) {
        self.fd = fd
        self.connection = connection
        self.clock = clock
        self.onEvent = onEvent
    }

    /// Call once the descriptor is registered: the greeting is already waiting to go.
    mutating func start() -> LoopRequest { settle() }

    /// The descriptor is readable.
    mutating func readable() -> LoopRequest {
        let fd = self.fd             // not self inside the closure: readBuffer is borrowed there
        let n = readBuffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n == 0 { ended = true }
        if n > 0 { connection.receive(Array(readBuffer[0..<n]), now: clock()) }
        return settle()
    }

    /// The descriptor has room to write.
    mutating func writable() -> LoopRequest { settle() }

    /// The timer armed from the last request fired. Loops fire timers late, and some early:
    /// the core acts only on deadlines that have passed, and `settle()` re-arms either way.
    mutating func timerFired() -> LoopRequest {
        let now = clock()
        if let deadline = connection.nextDeadline, deadline <= now { connection.handleTimeout(now: now) }
        return settle()
    }

    /// Sends a message from outside the loop's callbacks (on the loop's thread).
    mutating func send(_ message: Message) throws(ZMTPError) -> LoopRequest {
        try connection.send(message)
        return settle()
    }

    /// Events first (a handler may send), then output, then the next deadline: anything the
    /// core did in this callback may have moved it, so the timer is re-armed after every one.
    private mutating func settle() -> LoopRequest {
        while let event = connection.nextEvent() { onEvent(event, &connection) }
        if written == output.count {
            output.removeAll(keepingCapacity: true)
            written = 0
        }
        connection.pollTransmit(into: &output)
        while written < output.count, !ended {
            let n = output[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n > 0 { written += n } else if errno != EAGAIN && errno != EINTR { ended = true }
            if n <= 0 { break }
        }
        let backlog = output.count - written
        let failed = connection.error != nil
        return LoopRequest(read: !ended && !failed && backlog < Self.highWaterMark,
                           write: !ended && backlog > 0,
                           timer: ended || failed ? nil : connection.nextDeadline,
                           close: ended || (failed && backlog == 0))
    }
}
// CALLBACKS-END

/// The test's stand-in for an application's event loop: it knows nothing of ZMTP and does only
/// what the driver's last request says, calling back when the descriptor or the one timer is
/// ready. It also stops when `done` says so or after `bound` turns with nothing to do, so a
/// driver that forgot to re-arm its timer fails the test instead of hanging it.
@discardableResult
func runCallbackLoop(_ driver: inout CallbackDriver, done: (CallbackDriver, _ timerFirings: Int) -> Bool) -> Int {
    var request = driver.start()
    var timerFirings = 0
    var idleTurns = 0
    while !request.close && !done(driver, timerFirings) && idleTurns < 100 {
        var timeout: Int32 = 100
        if let deadline = request.timer {
            let now = monotonicNow()
            timeout = deadline <= now ? 0 : Int32(min((deadline.nanoseconds - now.nanoseconds) / 1_000_000 + 1, 100))
        }
        let events = (request.read ? Int16(POLLIN) : 0) | (request.write ? Int16(POLLOUT) : 0)
        var pfd = pollfd(fd: driver.fd, events: events, revents: 0)
        _ = poll(&pfd, 1, timeout)
        var acted = false
        if request.read, pfd.revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
            request = driver.readable()
            acted = true
        }
        if !request.close, request.write, pfd.revents & Int16(POLLOUT) != 0 {
            request = driver.writable()
            acted = true
        }
        if !request.close, let deadline = request.timer, deadline <= monotonicNow() {
            request = driver.timerFired()
            timerFirings += 1
            acted = true
        }
        idleTurns = acted ? 0 : idleTurns + 1
    }
    return timerFirings
}

@Suite("DocC article: driving the core from your own loop")
struct DriverLoopArticleTests {
    @Test func theArticleQuotesTheCompiledLoop() throws {
        let here = String(#filePath)
        let root = here.components(separatedBy: "/Tests/")[0]
        let source = try readFile(here)
        let article = try readFile(root + "/Sources/ZMTP/ZMTP.docc/DrivingTheCore.md")
        let begin = try #require(source.range(of: "// ARTICLE-BEGIN\n"))
        let end = try #require(source.range(of: "// ARTICLE-END"))
        let quoted = String(source[begin.upperBound..<end.lowerBound])
        #expect(article.contains(quoted), "DrivingTheCore.md must quote the loop in this file verbatim")
    }

    @Test func theLoopRunsAHandshakeOverASocketPair() throws {
        var fds: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        let serverFD = fds[1]
        let received = Mutex<[Message]>([])
        // Each end runs the article's loop on its own thread; heartbeats wake both loops up
        // regularly, so each notices when the exchange is over.
        let server = Thread {
            var config = Connection.Configuration(socketType: .router)
            config.heartbeatInterval = .milliseconds(20)
            var connection = Connection(configuration: config, random: SeededRandom(seed: 1), now: monotonicNow())
            _ = drive(fd: serverFD, &connection, clock: monotonicNow,
                      onEvent: { event, _ in if case .message(let m) = event { received.withLock { $0.append(m) } } },
                      done: { _ in received.withLock { !$0.isEmpty } })
        }
        server.start()
        var config = Connection.Configuration(socketType: .dealer)
        config.heartbeatInterval = .milliseconds(20)
        var client = Connection(configuration: config, random: SeededRandom(seed: 2), now: monotonicNow())
        try client.send(Message(string: "hello"))
        let error = drive(fd: fds[0], &client, clock: monotonicNow, onEvent: { _, _ in },
                          done: { _ in received.withLock { !$0.isEmpty } })
        while !server.isFinished { usleep(1_000) }
        #expect(error == nil)
        #expect(received.withLock { $0 } == [Message(string: "hello")])
        #expect(client.peer?.socketType == .router)
    }


    @Test func theArticleQuotesTheCompiledCallbackDriver() throws {
        let here = String(#filePath)
        let root = here.components(separatedBy: "/Tests/")[0]
        let source = try readFile(here)
        let article = try readFile(root + "/Sources/ZMTP/ZMTP.docc/DrivingTheCore.md")
        let begin = try #require(source.range(of: "// CALLBACKS-BEGIN\n"))
        let end = try #require(source.range(of: "// CALLBACKS-END"))
        let quoted = String(source[begin.upperBound..<end.lowerBound])
        #expect(article.contains(quoted), "DrivingTheCore.md must quote the callback driver in this file verbatim")
    }

    // Heartbeats every 20 ms keep both timers busy: the loops see only the deadline of the last
    // request, so a driver that did not re-arm after every callback would stop firing and the
    // loop would give up before ten firings.
    @Test func theCallbackDriverDeliversAndKeepsItsTimerArmed() throws {
        var fds: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        let serverFD = fds[1]
        let received = Mutex<[Message]>([])
        let serverFirings = Mutex(0)
        let serverError = Mutex<ZMTPError?>(nil)
        let server = Thread {
            var config = Connection.Configuration(socketType: .router)
            config.heartbeatInterval = .milliseconds(20)
            let connection = Connection(configuration: config, random: SeededRandom(seed: 1), now: monotonicNow())
            var driver = CallbackDriver(fd: serverFD, connection: connection, clock: monotonicNow,
                                        onEvent: { event, _ in if case .message(let m) = event { received.withLock { $0.append(m) } } })
            let firings = runCallbackLoop(&driver, done: { _, firings in firings >= 10 && received.withLock { !$0.isEmpty } })
            serverFirings.withLock { $0 = firings }
            serverError.withLock { $0 = driver.connection.error }
        }
        server.start()
        var config = Connection.Configuration(socketType: .dealer)
        config.heartbeatInterval = .milliseconds(20)
        var client = CallbackDriver(fd: fds[0], connection: Connection(configuration: config, random: SeededRandom(seed: 2), now: monotonicNow()),
                                    clock: monotonicNow, onEvent: { _, _ in })
        _ = try client.send(Message(string: "hello"))
        runCallbackLoop(&client, done: { _, _ in server.isFinished })
        while !server.isFinished { usleep(1_000) }
        #expect(received.withLock { $0 } == [Message(string: "hello")])
        #expect(serverFirings.withLock { $0 } >= 10)
        #expect(serverError.withLock { $0 } == nil)
        #expect(client.connection.error == nil)
        #expect(client.connection.peer?.socketType == .router)
    }

    // The server refuses the client: its driver must write the ERROR before asking to close, so
    // the client learns why (a ZAP status) instead of seeing the stream simply end.
    @Test func aRefusedPeerReadsTheErrorBeforeTheStreamCloses() throws {
        var fds: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        let serverFD = fds[1]
        let serverError = Mutex<ZMTPError?>(nil)
        let server = Thread {
            let config = Connection.Configuration(socketType: .rep, security: .plainServer(zapDomain: "test"))
            let connection = Connection(configuration: config, random: SeededRandom(seed: 1), now: monotonicNow())
            var driver = CallbackDriver(fd: serverFD, connection: connection, clock: monotonicNow, onEvent: { event, connection in
                if case .authenticationRequest = event { try? connection.completeAuthentication(.deny, now: monotonicNow()) }
            })
            runCallbackLoop(&driver, done: { _, _ in false })
            // The loop asked to close: the descriptor goes now, as an application's would.
            shutdown(serverFD, Int32(SHUT_RDWR))
            serverError.withLock { $0 = driver.connection.error }
        }
        server.start()
        let config = Connection.Configuration(socketType: .req,
                                              security: .plainClient(username: Array("user".utf8), password: Array("wrong".utf8)))
        var client = CallbackDriver(fd: fds[0], connection: Connection(configuration: config, random: SeededRandom(seed: 2), now: monotonicNow()),
                                    clock: monotonicNow, onEvent: { _, _ in })
        runCallbackLoop(&client, done: { _, _ in false })
        while !server.isFinished { usleep(1_000) }
        #expect(serverError.withLock { $0 } != nil)
        #expect(client.connection.error?.code == .authenticationFailed)
        #expect(client.connection.error?.detail == "400")
    }

    private func readFile(_ path: String) throws -> String {
        guard let file = fopen(path, "r") else { throw ZMTPError(.invalidArgument, blame: .apiMisuse, "cannot open \(path)") }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&chunk, 1, chunk.count, file)
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
