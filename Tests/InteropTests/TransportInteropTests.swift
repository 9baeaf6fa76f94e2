#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
@_spi(Testing) import ZMTP
import ZeroMQTransport

extension LibzmqInterop {
    /// The I/O layer under the coming sockets (reactor, TCP listener and connecter, stream engine,
    /// pipes) against libzmq, with no blocking driver: everything runs on a reactor thread.
    @Suite("Transport") struct Transport {
        /// One Swift side: a reactor running an engine whose pipe's other end the test reads
        /// and writes as a socket would.
        final class SwiftSide: StreamEngineDelegate, PipeEventSink, @unchecked Sendable {
            let reactor: Reactor
            let socketEnd: PipeEnd
            let sessionEnd: PipeEnd
            let signal: WakeupSignal
            let stops = Shared<[EngineStop]>([])
            let peers = Shared<[PeerInfo]>([])

            init() throws {
                reactor = try Reactor()
                (socketEnd, sessionEnd) = PipeEnd.makePair(hwmAB: 1000, hwmBA: 1000)
                signal = try WakeupSignal()
                socketEnd.setSink(self)
                try reactor.start()
            }

            func attach(fd: Int32, configuration: Connection.Configuration) {
                var configuration = configuration
                configuration.peerAddress = "127.0.0.1"
                let engine = StreamEngine(fd: fd, reactor: reactor,
                                          connection: Connection(configuration: configuration, random: SeededRandom(seed: 3), now: Reactor.now()),
                                          pipe: sessionEnd, delegate: self)
                reactor.post { engine.start() }
            }

            func send(_ parts: [[UInt8]]) {
                for (i, part) in parts.enumerated() { socketEnd.write(Message(part, more: i < parts.count - 1)) }
                socketEnd.flush()
            }

            /// Waits (bounded) for `count` whole messages, polling the peer's output too.
            func receive(_ count: Int, peer: LibzmqPeer) -> [[[UInt8]]] {
                var messages: [[[UInt8]]] = []
                var current: [[UInt8]] = []
                let deadline = Reactor.now().adding(.milliseconds(10_000))
                while messages.count < count, Reactor.now() < deadline {
                    while let part = socketEnd.read() {
                        current.append(part.bytes)
                        if !part.more { messages.append(current); current = [] }
                    }
                    peer.drain()
                    var pfd = pollfd(fd: signal.fd, events: Int16(POLLIN), revents: 0)
                    _ = poll(&pfd, 1, 20)
                    signal.drain()
                }
                return messages
            }

            func stop() { reactor.stop() }

            func engine(_ engine: StreamEngine, completedHandshakeWith peer: PeerInfo) { peers.withLock { $0.append(peer) } }
            func engine(_ engine: StreamEngine, needsAuthentication request: AuthenticationRequest) { engine.completeAuthentication(.deny) }
            func engine(_ engine: StreamEngine, stoppedWith reason: EngineStop) { stops.withLock { $0.append(reason) } }
            func pipeBecameReadable(_ pipe: PipeID) { signal.signal() }
            func pipeBecameWritable(_ pipe: PipeID) { signal.signal() }
        }

        /// A value shared with the reactor's thread.
        final class Shared<Value: Sendable>: Sendable {
            private let lock: Mutex<Value>
            init(_ value: Value) { lock = Mutex(value) }
            func withLock<R: Sendable>(_ body: (inout Value) -> R) -> R { lock.withLock { body(&$0) } }
            var value: Value { lock.withLock { $0 } }
        }

        @Test("a Swift engine connects with TCPConnecter to a libzmq ROUTER and both directions flow")
        func engineConnectsToLibzmq() throws {
            let peer = try LibzmqPeer(["--type", "ROUTER", "--bind"])
            defer { peer.stop() }
            let line = try peer.waitForLine("PORT")
            let side = try SwiftSide()
            defer { side.stop() }
            let connected = Shared<Result<Int32, TransportError>?>(nil)
            side.reactor.post {
                TCPConnecter(endpoint: "tcp://127.0.0.1:\(line.dropFirst(5))", reactor: side.reactor) { result in
                    connected.withLock { $0 = result }
                    if case .success(let fd) = result {
                        var c = Connection.Configuration(socketType: .dealer)
                        c.identity = utf8("engine")
                        side.attach(fd: fd, configuration: c)
                    }
                }.start()
            }
            side.send([utf8("hello"), [], utf8("over the reactor")])
            let deadline = Reactor.now().adding(.milliseconds(10_000))
            while peer.received.isEmpty, Reactor.now() < deadline { peer.drain(); usleep(2_000) }
            #expect(peer.received == [[utf8("engine"), utf8("hello"), [], utf8("over the reactor")]])
            peer.send([utf8("engine"), utf8("reply")])
            #expect(side.receive(1, peer: peer) == [[utf8("reply")]])
            #expect(side.peers.value.first?.socketType == .router)
            #expect(side.stops.value.isEmpty)
        }

        @Test("a libzmq PUSH connects to a Swift TCPListener and its messages arrive through the engine")
        func libzmqConnectsToAListener() throws {
            let side = try SwiftSide()
            defer { side.stop() }
            let listener = try TCPListener(endpoint: "tcp://127.0.0.1:*", reactor: side.reactor) { fd, _ in
                side.attach(fd: fd, configuration: .init(socketType: .pull))
            }
            side.reactor.post { try? listener.start() }
            let messages = (0..<50).map { "message \($0)" }
            let peer = try LibzmqPeer(["--type", "PUSH", "--connect", listener.boundEndpoint] + messages.flatMap { ["--send", hex(utf8($0))] })
            defer { peer.stop() }
            #expect(side.receive(50, peer: peer) == messages.map { [utf8($0)] })
            side.reactor.post { listener.close() }
        }
    }
}

