#if canImport(Glibc)
import Glibc
#endif
import Testing
import ZeroMQ

@Suite("Transports")
struct TransportTests {
    static func roundTrip(bind: String, connect: String? = nil) throws -> String {
        let context = try Context()
        let server = try Fixture.bound(context, .pair, bind)
        let client = try Fixture.socket(context, .pair)
        try client.connect(connect ?? server.lastEndpoint)
        try client.send("ping")
        #expect(try server.receiveString() == "ping")
        try server.send("pong")
        #expect(try client.receiveString() == "pong")
        return server.lastEndpoint
    }

    @Test("tcp: IPv4, IPv6 loopback, wildcard interface, host names, source;destination")
    func tcpForms() throws {
        let bound = try Self.roundTrip(bind: "tcp://*:*", connect: nil)
        let port = bound.split(separator: ":").last.map(String.init) ?? ""
        _ = try Self.roundTrip(bind: "tcp://127.0.0.1:\(Fixture.freePort())")
        _ = try Self.roundTrip(bind: "tcp://[::1]:*")
        let context = try Context()
        // A DEALER server: a PAIR takes one peer at a time, and the second client below may
        // arrive before the first one's departure has been seen.
        let server = try Fixture.bound(context, .dealer, "tcp://127.0.0.1:*")
        let serverPort = server.lastEndpoint.split(separator: ":").last.map(String.init) ?? ""
        let viaName = try Fixture.socket(context, .dealer)
        try viaName.connect("tcp://localhost:\(serverPort)")
        try viaName.send("by name")
        #expect(try server.receiveString() == "by name")
        viaName.close()
        let fromSource = try Fixture.socket(context, .dealer)
        try fromSource.connect("tcp://127.0.0.1:0;127.0.0.1:\(serverPort)")
        try fromSource.send("from a source address")
        let message = try server.receiveMultipart()
        #expect(message.property("Peer-Address") == "127.0.0.1")
        #expect(!port.isEmpty)
    }

    @Test("ipc: filesystem paths are removed on close; abstract names work; a stale file is replaced")
    func ipcPaths() throws {
        let path = "/tmp/\(Fixture.unique("zmq-ipc"))"
        _ = try Self.roundTrip(bind: "ipc://\(path)")
        #expect(access(path, F_OK) != 0, "the socket file is removed when the socket closes")
        _ = try Self.roundTrip(bind: "ipc://@\(Fixture.unique("abstract"))")

        // A dead process's socket file: bound, never closed (the descriptor is closed, the file stays).
        let stale = "/tmp/\(Fixture.unique("zmq-stale"))"
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in stale.utf8.enumerated() { raw[i] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        close(fd)
        #expect(access(stale, F_OK) == 0)
        _ = try Self.roundTrip(bind: "ipc://\(stale)")

        // A live one is not stolen.
        let context = try Context()
        let owner = try Fixture.socket(context, .pair)
        let live = "ipc:///tmp/\(Fixture.unique("zmq-live"))"
        try owner.bind(live)
        let thief = try Fixture.socket(context, .pair)
        #expect(throws: ZeroMQError.self) { try thief.bind(live) }
        // ipc://* picks a fresh path.
        let anywhere = try Self.roundTrip(bind: "ipc://*")
        #expect(anywhere.hasPrefix("ipc:///tmp/"))
    }

    @Test("unbind closes the listener and its connections; the endpoint can be bound again")
    func unbindThenRebind() throws {
        let context = try Context()
        let server = try Fixture.socket(context, .pull, timeout: .milliseconds(300))
        try server.bind("tcp://127.0.0.1:*")
        let endpoint = server.lastEndpoint
        try server.unbind(endpoint)
        let other = try Fixture.socket(context, .pull)
        #expect(Fixture.eventually { (try? other.bind(endpoint)) != nil })
    }

    @Test("Message properties: Socket-Type, Identity, Peer-Address and X- metadata from the peer")
    func messageProperties() throws {
        let context = try Context()
        let server = try Fixture.bound(context, .dealer, "tcp://127.0.0.1:*")
        let client = try Fixture.socket(context, .dealer)
        client.options.routingId = Array("client-7".utf8)
        client.options.metadata = ["X-Color": "blue"]
        try client.connect(server.lastEndpoint)
        try client.send("hi")
        let message = try server.receiveMultipart()
        #expect(message.property("Socket-Type") == "DEALER")
        #expect(message.property("Identity") == "client-7")
        #expect(message.property("Peer-Address") == "127.0.0.1")
        #expect(message.property("X-Color") == "blue")
    }

    @Test("Over ipc, Peer-Address is libzmq's localhost:uid:gid:pid of the other process (SO_PEERCRED)")
    func ipcPeerAddress() throws {
        let context = try Context()
        let server = try Fixture.bound(context, .dealer, "ipc://@\(Fixture.unique("peer-address"))")
        let client = try Fixture.connected(context, .dealer, to: server)
        try client.send("hi")
        let message = try server.receiveMultipart()
        #expect(message.property("Peer-Address") == "localhost:\(getuid()):\(getgid()):\(getpid())")
    }
}
