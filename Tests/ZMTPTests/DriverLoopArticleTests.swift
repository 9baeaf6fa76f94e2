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
            config.heartbeatInterval = 20
            var connection = Connection(configuration: config, random: SeededRandom(seed: 1), now: monotonicNow())
            _ = drive(fd: serverFD, &connection, clock: monotonicNow,
                      onEvent: { event, _ in if case .message(let m) = event { received.withLock { $0.append(m) } } },
                      done: { _ in received.withLock { !$0.isEmpty } })
        }
        server.start()
        var config = Connection.Configuration(socketType: .dealer)
        config.heartbeatInterval = 20
        var client = Connection(configuration: config, random: SeededRandom(seed: 2), now: monotonicNow())
        try client.send(Message(string: "hello"))
        let error = drive(fd: fds[0], &client, clock: monotonicNow, onEvent: { _, _ in },
                          done: { _ in received.withLock { !$0.isEmpty } })
        while !server.isFinished { usleep(1_000) }
        #expect(error == nil)
        #expect(received.withLock { $0 } == [Message(string: "hello")])
        #expect(client.peer?.socketType == .router)
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
