#if canImport(Glibc)
import Glibc
#endif
import Testing
import ZMTP
import ZeroMQ

/// libzmq's test_heartbeats: a peer that completes the handshake and then never answers a PING
/// is dropped once HEARTBEAT_TIMEOUT passes; peers that both heartbeat stay connected.
@Suite("Heartbeats")
struct HeartbeatTests {
    /// A raw TCP peer that speaks just enough ZMTP (greeting and READY) and then stays silent.
    static func silentPeer(port: UInt16, socketType: String) throws -> Int32 {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #expect(connected == 0)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var metadata = Metadata()
        metadata.append(name: "Socket-Type", value: Array(socketType.utf8))
        let ready = try Command.ready(metadata).encoded()
        let bytes = Greeting(minor: 1, mechanism: .null).encoded() + [0x04, UInt8(ready.count)] + ready
        #expect(bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == bytes.count)
        return fd
    }

    /// Reads until the server closes the connection; true on end of stream, false on timeout.
    static func readUntilClosed(_ fd: Int32) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n == 0 { return true }
            if n < 0 { return errno == ECONNRESET }
        }
    }

    @Test("A silent peer is disconnected after HEARTBEAT_TIMEOUT")
    func silentPeerIsDropped() throws {
        let context = try Fixture.context()
        let server = try Fixture.socket(context, .router)
        server.options.heartbeatInterval = .milliseconds(100)
        server.options.heartbeatTimeout = .milliseconds(300)
        try server.bind("tcp://127.0.0.1:*")
        let port = UInt16(server.lastEndpoint.split(separator: ":").last.map(String.init) ?? "") ?? 0
        let fd = try Self.silentPeer(port: port, socketType: "DEALER")
        defer { close(fd) }
        #expect(Self.readUntilClosed(fd), "the server must close the connection of a peer that never answers PING")
    }

    @Test("Two heartbeating peers stay connected and keep exchanging messages")
    func heartbeatingPeersStay() throws {
        let context = try Fixture.context()
        let server = try Fixture.socket(context, .pair)
        let client = try Fixture.socket(context, .pair)
        for socket in [server, client] {
            socket.options.heartbeatInterval = .milliseconds(20)
            socket.options.heartbeatTimeout = .milliseconds(500)
            socket.options.heartbeatTTL = .seconds(1)
        }
        try server.bind("tcp://127.0.0.1:*")
        try client.connect(server.lastEndpoint)
        for i in 0..<10 {
            try client.send("\(i)")
            #expect(try server.receiveString() == "\(i)")
            usleep(20_000)  // several heartbeat intervals pass between messages
        }
        #expect(server.peerCount == 1)
    }

    @Test("HANDSHAKE_IVL: a peer that connects and never greets is dropped, with a typed event")
    func handshakeTimeout() throws {
        let context = try Fixture.context()
        let server = try Fixture.socket(context, .dealer)
        server.options.handshakeInterval = .milliseconds(200)
        try server.bind("tcp://127.0.0.1:*")
        let port = UInt16(server.lastEndpoint.split(separator: ":").last.map(String.init) ?? "") ?? 0
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #expect(connected == 0)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        #expect(Self.readUntilClosed(fd))
        let events = Fixture.waitFor(server) { if case .handshakeFailed = $0 { return true }; return false }
        let error = events.compactMap { event -> ZMTPError? in
            if case .handshakeFailed(_, let error) = event { return error }
            return nil
        }.first
        #expect(error?.code == .handshakeTimeout)
    }
}
