#if canImport(Glibc)
import Glibc
#endif
import Testing
import ZeroMQ

/// STREAM: libzmq's `test_stream`, `test_stream_empty`, `test_stream_disconnect` and the STREAM
/// part of `test_connect_rid`, with a plain TCP socket on the other side.
@Suite("STREAM")
struct StreamTests {
    static func port(of endpoint: String) throws -> UInt16 {
        try #require(endpoint.split(separator: ":").last.flatMap { UInt16($0) })
    }

    /// Receives `[id][data]` messages from `id` until `count` bytes came.
    static func receiveBytes(_ stream: Socket, from id: [UInt8], count: Int) throws -> [UInt8] {
        var bytes: [UInt8] = []
        while bytes.count < count {
            let message = try stream.receiveMultipart().parts
            #expect(message.count == 2)
            #expect(message[0].bytes == id)
            #expect(message[1].count > 0)
            bytes += message[1].bytes
        }
        return bytes
    }

    @Test("test_stream: [id][\"\"] on connect with Peer-Address, the client's bytes as [id][data], replies reach it, [id][\"\"] when it leaves")
    func serverWithRawClient() throws {
        let context = try Context()
        let stream = try Fixture.bound(context, .stream, "tcp://127.0.0.1:*")
        let client = try LoopbackTCP.connect(port: Self.port(of: stream.lastEndpoint))

        let hello = try stream.receiveMultipart()
        #expect(hello.parts.count == 2)
        #expect(hello.parts[1].count == 0)
        #expect(hello.property("Peer-Address") == "127.0.0.1")
        let id = hello.parts[0].bytes
        #expect(id.count == 5 && id.first == 0)

        try client.write("Hello, STREAM")
        #expect(try Self.receiveBytes(stream, from: id, count: 13) == Array("Hello, STREAM".utf8))
        try stream.send([Message(id), Message(string: "Hello, client")])
        #expect(try client.read(exactly: 13) == Array("Hello, client".utf8))

        // A large write arrives in pieces, all of it.
        let large = String(repeating: "0123456789", count: 20_000)
        try client.write(large)
        #expect(try Self.receiveBytes(stream, from: id, count: large.utf8.count) == Array(large.utf8))

        client.close()
        let goodbye = try stream.receiveMultipart().parts
        #expect(goodbye.map(\.bytes) == [id, []])
        #expect(Routing.errorCode { try stream.send([Message(id), Message(string: "gone")]) } == .hostUnreachable)
    }

    @Test("test_stream_empty: sending [id][\"\"] closes the client's connection")
    func emptyMessageClosesTheConnection() throws {
        let context = try Context()
        let stream = try Fixture.bound(context, .stream, "tcp://127.0.0.1:*")
        let client = try LoopbackTCP.connect(port: Self.port(of: stream.lastEndpoint))
        let id = try stream.receiveMultipart().parts[0].bytes

        try stream.send([Message(id), Message(string: "last words")])
        try stream.send([Message(id), Message.empty])
        #expect(try client.read(exactly: 10) == Array("last words".utf8))
        #expect(client.readUntilClosed() == (bytes: [], closed: true))
        // The id is gone at once.
        #expect(Routing.errorCode { try stream.send([Message(id), Message(string: "more")]) } == .hostUnreachable)
        // The socket lets go of the pipe.
        #expect(Fixture.eventually {
            _ = stream.events
            return stream.peerCount == 0
        })
    }

    @Test("STREAM_NOTIFY off: no connect or disconnect notifications, only data")
    func notifyOff() throws {
        let context = try Context()
        let stream = try Fixture.socket(context, .stream)
        stream.options.streamNotify = false
        try stream.bind("tcp://127.0.0.1:*")
        let client = try LoopbackTCP.connect(port: Self.port(of: stream.lastEndpoint))
        try client.write("data")
        let message = try stream.receiveMultipart().parts
        #expect(message.count == 2)
        #expect(message[1].string == "data")
        client.close()
        #expect(Fixture.eventually {
            _ = stream.events
            return stream.peerCount == 0
        })
        #expect(!stream.events.contains(.receive))
    }

    @Test("STREAM as a client of a raw TCP listener, its connection named by CONNECT_ROUTING_ID")
    func clientOfRawListener() throws {
        let (listener, port) = try LoopbackTCP.listen()
        let context = try Context()
        let stream = try Fixture.socket(context, .stream)
        stream.options.connectRoutingId = Array("server".utf8)
        try stream.connect("tcp://127.0.0.1:\(port)")
        let server = try listener.accept()

        #expect(try Routing.receive(stream) == ["server", ""])
        try Routing.send(stream, to: Array("server".utf8), ["ping"])
        #expect(try server.read(exactly: 4) == Array("ping".utf8))
        try server.write("pong")
        #expect(try Self.receiveBytes(stream, from: Array("server".utf8), count: 4) == Array("pong".utf8))
    }

    @Test("test_connect_rid: STREAM to STREAM, the connect's peer named by CONNECT_ROUTING_ID")
    func streamToStream() throws {
        let context = try Context()
        let server = try Fixture.bound(context, .stream, "tcp://127.0.0.1:*")
        let client = try Fixture.socket(context, .stream)
        client.options.connectRoutingId = Array("conn1".utf8)
        try client.connect(server.lastEndpoint)

        #expect(try Routing.receive(client) == ["conn1", ""])
        let serverSide = try server.receiveMultipart().parts
        #expect(serverSide.count == 2 && serverSide[1].count == 0)
        let id = serverSide[0].bytes

        try Routing.send(client, to: Array("conn1".utf8), ["Hello"])
        #expect(try Self.receiveBytes(server, from: id, count: 5) == Array("Hello".utf8))
        try server.send([Message(id), Message(string: "World")])
        #expect(try Self.receiveBytes(client, from: Array("conn1".utf8), count: 5) == Array("World".utf8))
    }

    @Test("STREAM: an unknown routing id fails with hostUnreachable")
    func unknownIdIsUnreachable() throws {
        let context = try Context()
        let stream = try Fixture.bound(context, .stream, "tcp://127.0.0.1:*")
        #expect(Routing.errorCode { try stream.send([Message(string: "nobody"), Message(string: "x")]) } == .hostUnreachable)
        #expect(stream.events.contains(.send))
    }
}

extension StreamTests {
    /// A STREAM connect whose connection drops must tell the application, and reconnect (libzmq
    /// pushes the empty notifications through the pipe it keeps; here a raw connect gives up its
    /// pipe when the connection goes and gets a new one with the next).
    @Test("STREAM client: the listener closing the connection gives [id][\"\"], and the reconnection another")
    func clientSeesTheListenerClose() throws {
        let (listener, port) = try LoopbackTCP.listen()
        let context = try Context()
        let stream = try Fixture.socket(context, .stream)
        stream.options.reconnectInterval = .milliseconds(10)
        stream.options.connectRoutingId = Array("server".utf8)
        try stream.connect("tcp://127.0.0.1:\(port)")
        let server = try listener.accept()
        #expect(try Routing.receive(stream) == ["server", ""])
        server.close()
        #expect(try Routing.receive(stream) == ["server", ""])
        let again = try listener.accept()
        #expect(try Routing.receive(stream) == ["server", ""])
        try again.write("after")
        #expect(try Self.receiveBytes(stream, from: Array("server".utf8), count: 5) == Array("after".utf8))
    }

    /// libzmq ends a raw session whose pipe the socket terminated: no reconnect.
    @Test("STREAM client: [id][\"\"] from the application closes the connection for good")
    func clientClosesForGood() throws {
        let (listener, port) = try LoopbackTCP.listen()
        let context = try Context()
        let stream = try Fixture.socket(context, .stream)
        stream.options.reconnectInterval = .milliseconds(10)
        stream.options.connectRoutingId = Array("server".utf8)
        try stream.connect("tcp://127.0.0.1:\(port)")
        let server = try listener.accept()
        #expect(try Routing.receive(stream) == ["server", ""])
        try stream.send([Message(string: "server"), Message.empty])
        #expect(server.readUntilClosed() == (bytes: [], closed: true))
        #expect(Fixture.eventually {
            _ = stream.events
            return stream.peerCount == 0
        })
        // A reconnection would announce itself.
        #expect(Routing.errorCode { _ = try stream.receive(timeout: .milliseconds(300)) } == .timedOut)
    }
}
