#if canImport(Glibc)
import Glibc
#endif
import Testing
import ZMTP
@testable import ZeroMQTransport

@Suite("TCP transport", .serialized)
struct TCPTests {
    @Test("endpoints parse as libzmq's", arguments: [
        ("tcp://127.0.0.1:5555", "127.0.0.1", UInt16?(5555)),
        ("tcp://*:*", "*", nil),
        ("tcp://*:0", "*", nil),
        ("tcp://[::1]:80", "::1", 80),
        ("tcp://localhost:1", "localhost", 1),
        ("tcp://10.0.0.1;127.0.0.1:7", "127.0.0.1", 7),
    ])
    func endpoints(_ text: String, _ host: String, _ port: UInt16?) throws {
        let endpoint = try TCPEndpoint(text)
        #expect(endpoint.host == host)
        #expect(endpoint.port == port)
    }

    @Test("malformed endpoints are typed errors", arguments: ["tcp://127.0.0.1", "tcp://:5", "tcp://h:70000", "tcp://h:-1", "tcp://h:x"])
    func malformed(_ text: String) {
        #expect(throws: TransportError.self) { try TCPEndpoint(text) }
    }

    @Test func anEphemeralBindReportsItsRealPortAndAConnectionCarriesMessages() throws {
        let reactor = try Reactor()
        let accepted = Shared<Int32>(-1)
        let listener = try TCPListener(endpoint: "tcp://127.0.0.1:*", reactor: reactor) { fd, peer in
            accepted.withLock { $0 = fd }
            #expect(peer?.description.hasPrefix("127.0.0.1:") == true)
        }
        #expect(listener.boundEndpoint.hasPrefix("tcp://127.0.0.1:"))
        #expect(!listener.boundEndpoint.hasSuffix(":0"))
        try reactor.start()
        let connected = Shared<Result<Int32, TransportError>?>(nil)
        reactor.post {
            try? listener.start()
            let connecter = TCPConnecter(endpoint: listener.boundEndpoint, reactor: reactor) { result in
                connected.withLock { $0 = result }
            }
            connecter.start()
        }
        let deadline = Reactor.now().adding(.milliseconds(10_000))
        while (connected.value == nil || accepted.value < 0), Reactor.now() < deadline { usleep(1_000) }
        reactor.post { listener.close() }
        reactor.stop()
        guard case .success(let clientFD)? = connected.value, accepted.value >= 0 else {
            Issue.record("no connection: \(String(describing: connected.value))")
            return
        }
        let pair = try EnginePair(client: .init(socketType: .dealer), server: .init(socketType: .router),
                                  reactor: try Reactor(), fds: (clientFD, accepted.value))
        defer { pair.stop() }
        #expect(pair.send(["over", "tcp"], from: pair.clientSocket, signal: pair.clientSignal))
        #expect(pair.receive(1, at: pair.serverSocket, signal: pair.serverSignal) == [["over", "tcp"]])
    }

    @Test func aRefusedConnectionIsATypedError() throws {
        // Bind to learn a free port, then close it so nothing listens there.
        let reactor = try Reactor()
        let listener = try TCPListener(endpoint: "tcp://127.0.0.1:*", reactor: reactor) { _, _ in }
        let endpoint = listener.boundEndpoint
        listener.close()
        try reactor.start()
        defer { reactor.stop() }
        let result = Shared<Result<Int32, TransportError>?>(nil)
        reactor.post {
            TCPConnecter(endpoint: endpoint, reactor: reactor) { r in result.withLock { $0 = r } }.start()
        }
        let deadline = Reactor.now().adding(.milliseconds(10_000))
        while result.value == nil, Reactor.now() < deadline { usleep(1_000) }
        guard case .failure(let error)? = result.value else {
            Issue.record("expected a failure, got \(String(describing: result.value))")
            return
        }
        #expect(error.kind == .system && error.code == ECONNREFUSED)
    }
}
