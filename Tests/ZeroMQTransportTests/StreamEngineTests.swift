#if canImport(Glibc)
import Glibc
#endif
import Testing
@_spi(Testing) import ZMTP
@testable import ZeroMQTransport

/// Stands in for a session: records what the engine reports.
final class RecordingDelegate: StreamEngineDelegate, @unchecked Sendable {
    let peers = Shared<[PeerInfo]>([])
    let stops = Shared<[EngineStop]>([])

    func engine(_ engine: StreamEngine, completedHandshakeWith peer: PeerInfo) { peers.withLock { $0.append(peer) } }
    func engine(_ engine: StreamEngine, needsAuthentication request: AuthenticationRequest) { engine.completeAuthentication(.accept()) }
    func engine(_ engine: StreamEngine, stoppedWith reason: EngineStop) { stops.withLock { $0.append(reason) } }
}

/// Two engines on one reactor, joined by a socket pair; the test plays both sockets through the
/// socket-side ends of their pipes.
final class EnginePair: @unchecked Sendable {
    let reactor: Reactor
    let clientSocket: PipeEnd, serverSocket: PipeEnd
    let clientSink: RecordingSink, serverSink: RecordingSink
    let clientSignal: WakeupSignal, serverSignal: WakeupSignal
    let clientDelegate = RecordingDelegate(), serverDelegate = RecordingDelegate()
    var engines: [StreamEngine] = []

    /// Over a socket pair.
    convenience init(client: Connection.Configuration, server: Connection.Configuration, hwm: Int = 1000) throws {
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else { throw TransportError.system("socketpair", errno) }
        try self.init(client: client, server: server, hwm: hwm, reactor: try Reactor(), fds: (fds[0], fds[1]))
    }

    /// Over two connected descriptors (the reactor is started here).
    init(client: Connection.Configuration, server: Connection.Configuration, hwm: Int = 1000,
         reactor: Reactor, fds: (Int32, Int32)) throws {
        self.reactor = reactor
        try reactor.start()
        let (clientSocket, clientSession) = PipeEnd.makePair(hwmAB: hwm, hwmBA: hwm)
        let (serverSocket, serverSession) = PipeEnd.makePair(hwmAB: hwm, hwmBA: hwm)
        self.clientSocket = clientSocket
        self.serverSocket = serverSocket
        clientSignal = try WakeupSignal()
        serverSignal = try WakeupSignal()
        clientSink = RecordingSink(signal: clientSignal)
        serverSink = RecordingSink(signal: serverSignal)
        clientSocket.setSink(clientSink)
        serverSocket.setSink(serverSink)
        let now = Reactor.now()
        let clientEngine = StreamEngine(fd: fds.0, reactor: reactor,
                                        connection: Connection(configuration: client, random: SeededRandom(seed: 1), now: now),
                                        pipe: clientSession, delegate: clientDelegate)
        let serverEngine = StreamEngine(fd: fds.1, reactor: reactor,
                                        connection: Connection(configuration: server, random: SeededRandom(seed: 2), now: now),
                                        pipe: serverSession, delegate: serverDelegate)
        engines = [clientEngine, serverEngine]
        reactor.post { clientEngine.start(); serverEngine.start() }
    }

    func stop() {
        let engines = self.engines
        reactor.post { for e in engines { e.stop() } }
        reactor.stop()
    }

    /// Sends a multipart message from the client socket (waiting for room, bounded).
    func send(_ parts: [String], from end: PipeEnd, signal: WakeupSignal) -> Bool {
        let deadline = Reactor.now().adding(.milliseconds(10_000))
        while !end.checkWrite() {
            if Reactor.now() >= deadline { return false }
            var pfd = pollfd(fd: signal.fd, events: Int16(POLLIN), revents: 0)
            _ = poll(&pfd, 1, 50)
            signal.drain()
        }
        for (i, part) in parts.enumerated() { end.write(Message(string: part, more: i < parts.count - 1)) }
        end.flush()
        return true
    }

    /// Receives `count` whole messages at a socket end (bounded wait).
    func receive(_ count: Int, at end: PipeEnd, signal: WakeupSignal) -> [[String]] {
        var messages: [[String]] = []
        var current: [String] = []
        let deadline = Reactor.now().adding(.milliseconds(20_000))
        while messages.count < count, Reactor.now() < deadline {
            while let part = end.read() {
                current.append(part.string)
                if !part.more { messages.append(current); current = [] }
            }
            if messages.count >= count { break }
            var pfd = pollfd(fd: signal.fd, events: Int16(POLLIN), revents: 0)
            _ = poll(&pfd, 1, 50)
            signal.drain()
        }
        return messages
    }
}

@Suite("Stream engine", .serialized)
struct StreamEngineTests {
    @Test func twoEnginesHandshakeAndCarryMultipartMessagesBothWays() throws {
        let pair = try EnginePair(client: .init(socketType: .dealer), server: .init(socketType: .router))
        defer { pair.stop() }
        #expect(pair.send(["A", "", "hello"], from: pair.clientSocket, signal: pair.clientSignal))
        #expect(pair.receive(1, at: pair.serverSocket, signal: pair.serverSignal) == [["A", "", "hello"]])
        #expect(pair.send(["world"], from: pair.serverSocket, signal: pair.serverSignal))
        #expect(pair.receive(1, at: pair.clientSocket, signal: pair.clientSignal) == [["world"]])
        #expect(pair.serverDelegate.peers.value.first?.socketType == .dealer)
        #expect(pair.clientDelegate.peers.value.first?.socketType == .router)
    }

    @Test func aSlowReaderPushesBackWithoutLosingOrReorderingAnything() throws {
        // A small high-water mark on the receiving pipe: the engine must stop reading the stream
        // while the socket is behind, and resume when it catches up.
        let pair = try EnginePair(client: .init(socketType: .push), server: .init(socketType: .pull), hwm: 10)
        defer { pair.stop() }
        let total = 5_000
        let sent = Shared(0)
        let job = TestThread {
            for i in 0..<total {
                guard pair.send(["\(i)", String(repeating: "x", count: i % 300)], from: pair.clientSocket, signal: pair.clientSignal) else { return }
                sent.withLock { $0 += 1 }
            }
        }
        let received = pair.receive(total, at: pair.serverSocket, signal: pair.serverSignal)
        job.join()
        #expect(sent.value == total)
        #expect(received.count == total)
        let wrong = received.enumerated().first { $0.element != ["\($0.offset)", String(repeating: "x", count: $0.offset % 300)] }
        #expect(wrong == nil, "message \(wrong?.offset ?? -1) is \(wrong.map { $0.element.map { $0.prefix(12) + "… (\($0.count))" } } ?? [])")
    }

    @Test func anIncompatiblePeerStopsBothEnginesWithATypedError() throws {
        let pair = try EnginePair(client: .init(socketType: .push), server: .init(socketType: .pub))
        defer { pair.stop() }
        let deadline = Reactor.now().adding(.milliseconds(10_000))
        while pair.serverDelegate.stops.value.isEmpty || pair.clientDelegate.stops.value.isEmpty, Reactor.now() < deadline {
            usleep(1_000)
        }
        #expect(pair.serverDelegate.stops.value == [.protocolError(ZMTPError(.incompatibleSocketType, blame: .peerIncompatible, "peer socket type PUSH cannot talk to PUB"))])
        #expect(pair.clientDelegate.stops.value.count == 1)
        #expect(pair.serverDelegate.peers.value.isEmpty)
    }
}
