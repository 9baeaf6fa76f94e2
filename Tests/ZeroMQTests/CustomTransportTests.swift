#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
import ZeroMQ
import ZeroMQTransport

/// A transport written outside the library: `socketpair://name` joins a connect to a bind of
/// the same name with a Unix socket pair, no network at all. It shows what a user's transport
/// needs: hand connected stream descriptors to the library, which runs ZMTP over them.
struct SocketPairTransport: Transport {
    /// Listeners by name (one process, so a static table will do for a test).
    static let listeners = Mutex<[String: Listener.Handle]>([:])

    final class Listener: TransportListener, @unchecked Sendable {
        struct Handle: @unchecked Sendable {
            let reactor: any IODriver
            let accept: (StreamConnection) -> Void
        }
        let boundEndpoint: String
        let name: String
        init(name: String, handle: Handle) {
            self.name = name
            self.boundEndpoint = "socketpair://" + name
            SocketPairTransport.listeners.withLock { $0[name] = handle }
        }
        func start() throws(TransportError) {}
        func close() { SocketPairTransport.listeners.withLock { $0[name] = nil } }
    }

    final class Connecter: TransportConnecter, @unchecked Sendable {
        let name: String
        let completion: (Result<StreamConnection, TransportError>) -> Void
        init(name: String, completion: @escaping (Result<StreamConnection, TransportError>) -> Void) {
            self.name = name
            self.completion = completion
        }
        func start() {
            guard let listener = SocketPairTransport.listeners.withLock({ $0[name] }) else {
                completion(.failure(.system("connect socketpair://\(name)", ECONNREFUSED)))
                return
            }
            var fds: [Int32] = [-1, -1]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else {
                completion(.failure(.system("socketpair", errno)))
                return
            }
            let theirs = StreamConnection(fd: fds[1], peerAddress: "pair")
            listener.reactor.post { listener.accept(theirs) }
            completion(.success(StreamConnection(fd: fds[0], peerAddress: "pair")))
        }
        func cancel() {}
    }

    var scheme: String { "socketpair" }

    func validate(_ address: String) throws(TransportError) {
        guard !address.isEmpty else { throw .invalidEndpoint(address, "empty name") }
    }

    func listen(at address: String, options: TransportOptions, reactor: any IODriver,
                onAccept: @escaping (StreamConnection) -> Void) throws(TransportError) -> any TransportListener {
        Listener(name: address, handle: Listener.Handle(reactor: reactor, accept: onAccept))
    }

    func connect(to address: String, options: TransportOptions, reactor: any IODriver,
                 completion: @escaping (Result<StreamConnection, TransportError>) -> Void) -> any TransportConnecter {
        Connecter(name: address, completion: completion)
    }
}

@Suite("Custom transports and I/O threads")
struct CustomTransportTests {
    @Test("A user's transport, registered by scheme, carries ZMTP like tcp does")
    func userTransport() throws {
        let context = try Context(transports: [SocketPairTransport()])
        let server = try Fixture.socket(context, .rep)
        let name = Fixture.unique("pairs")
        try server.bind("socketpair://\(name)")
        let client = try Fixture.socket(context, .req)
        try client.connect("socketpair://\(name)")
        try client.send("over a socket pair")
        let request = try server.receiveMultipart()
        #expect(request.parts.map(\.bytes) == [Array("over a socket pair".utf8)])
        #expect(request.property("Socket-Type") == "REQ")
        try server.send("reply")
        #expect(try client.receiveString() == "reply")
        #expect(throws: ZeroMQError.self) { try client.connect("unknown://x") }
    }

    @Test("Several I/O threads share the connections", arguments: [1, 3])
    func ioThreads(count: Int) throws {
        let context = try Context(ioThreads: count)
        let pull = try Fixture.bound(context, .pull, "tcp://127.0.0.1:*")
        var pushes: [Socket] = []
        for index in 0..<6 {
            let push = try Fixture.connected(context, .push, to: pull)
            try push.send("\(index)")
            pushes.append(push)
        }
        var seen: Set<String> = []
        for _ in 0..<6 { seen.insert(try pull.receiveString()) }
        #expect(seen == Set((0..<6).map(String.init)))
    }
}
