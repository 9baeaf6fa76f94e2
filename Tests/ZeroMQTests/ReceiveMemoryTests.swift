#if canImport(Glibc)
import Glibc
#endif
import Testing
import ZeroMQ

/// The memory a peer can make a socket hold for messages it has not finished is bounded by
/// default (``SocketOptions/receiveMemoryLimit``), whatever the peer declares; messages up to
/// the limit, and larger ones once the receiver raises it, still arrive whole.
@Suite("Receive memory limit")
struct ReceiveMemoryTests {
    /// A raw peer that completes a NULL handshake as a PUSH and then writes what it likes.
    static func rawPush(to server: Socket) throws -> LoopbackTCP {
        let peer = try LoopbackTCP.connect(port: RawZMTP.port(of: server.lastEndpoint))
        let ready = RawZMTP.name("READY") + HandBuiltCurveClient.property("Socket-Type", "PUSH")
        try peer.write(RawZMTP.greeting("NULL") + RawZMTP.command(ready))
        return peer
    }

    /// A data frame header declaring `size` octets, with MORE when `more`.
    static func header(_ size: UInt64, more: Bool = false) -> [UInt8] {
        [more ? 0x03 : 0x02] + RawZMTP.bigEndian(size)
    }

    static func pullServer(_ context: Context, limit: Int? = nil) throws -> (Socket, SocketMonitor) {
        let server = try Fixture.socket(context, .pull, timeout: .seconds(30))
        if let limit { server.options.receiveMemoryLimit = limit }
        let monitor = server.monitor()
        try server.bind("tcp://127.0.0.1:*")
        return (server, monitor)
    }

    /// A good client connects and its message is the next the server delivers.
    static func assertStillServes(_ server: Socket, _ context: Context) throws {
        let good = try Fixture.connected(context, .push, to: server)
        try good.send("still served")
        #expect(try server.receiveString() == "still served")
        good.close()
    }

    static func waitForTooLarge(_ monitor: SocketMonitor) async throws -> ZMTPError {
        let ended = await monitor.next(within: .seconds(30)) { $0.protocolError != nil }
        let event = try #require(ended.match, "the connection did not end with a protocol error: \(ended.seen)")
        return try #require(event.protocolError)
    }

    @Test("A frame declared larger than the limit ends its connection at the header; nothing is delivered",
          arguments: [UInt64(1) << 62, UInt64(1) << 40, UInt64(2) << 30, UInt64(SocketOptions.defaultReceiveMemoryLimit + 1)])
    func hugeDeclaredFrame(declared: UInt64) async throws {
        let context = try Context()
        let (server, monitor) = try Self.pullServer(context)
        let peer = try Self.rawPush(to: server)
        // The header, then a stream of garbage that would be buffered if the size were believed.
        try peer.write(Self.header(declared) + [UInt8](repeating: 0xA5, count: 256 * 1024))
        let error = try await Self.waitForTooLarge(monitor)
        #expect(error.code == .messageTooLarge, "\(error)")
        #expect(error.blame == .peerMisbehaved)
        #expect(peer.readUntilClosed().closed)
        peer.close()
        #expect(throws: ZeroMQError.self) { _ = try server.receive(timeout: .milliseconds(200)) }
        try Self.assertStillServes(server, context)
    }

    @Test("A message over the limit is refused; once the receiver raises the limit, the same size arrives whole")
    func raisingTheLimit() async throws {
        let context = try Context()
        let (server, monitor) = try Self.pullServer(context, limit: 4 << 20)
        let size = 6 << 20
        let body = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let sender = try Fixture.connected(context, .push, to: server)
        try await sender.send(body)
        let error = try await Self.waitForTooLarge(monitor)
        #expect(error.code == .messageTooLarge, "\(error)")

        server.options.receiveMemoryLimit = 8 << 20
        try await sender.send(body)
        let received = try await server.receive()
        #expect(received.count == size)
        #expect(received.bytes == body)
        sender.close()
    }

    @Test("A 1 GiB message arrives whole when the receiver allows it")
    func oneGibibyte() throws {
        let context = try Context()
        let (server, _) = try Self.pullServer(context, limit: (1 << 30) + (1 << 20))
        let size = 1 << 30
        var body = [UInt8](repeating: 0, count: size)
        for index in stride(from: 0, to: size, by: 4096) { body[index] = UInt8(truncatingIfNeeded: index >> 12) }
        body[size - 1] = 0xEE
        let sender = try Fixture.connected(context, .push, to: server)
        try sender.send(Message(body))
        body = []
        let message = try server.receive(timeout: .seconds(120))
        #expect(message.count == size)
        message.withUnsafeBytes { raw in
            var intact = raw[size - 1] == 0xEE
            for index in stride(from: 0, to: size, by: 4096) where raw[index] != UInt8(truncatingIfNeeded: index >> 12) {
                intact = false
            }
            #expect(intact, "the 1 GiB message arrived damaged")
        }
        sender.close()
    }

    @Test("Two peers whose messages together exceed the limit are both served, one after the other")
    func sharedBudget() throws {
        let context = try Context()
        let (server, _) = try Self.pullServer(context, limit: 16 << 20)
        let size = 12 << 20
        let senders = try (0..<2).map { _ in try Fixture.connected(context, .push, to: server) }
        for (index, sender) in senders.enumerated() {
            try sender.send([UInt8](repeating: UInt8(index + 1), count: size))
        }
        var seen: Set<UInt8> = []
        for _ in 0..<2 {
            let message = try server.receive()
            #expect(message.count == size)
            let first = message.withUnsafeBytes { $0[0] }
            #expect(message.withUnsafeBytes { $0.allSatisfy { $0 == first } })
            seen.insert(first)
        }
        #expect(seen == [1, 2])
        for sender in senders { sender.close() }
    }

    @Test("A multipart message that never ends is cut at the limit, whether its parts are large or empty",
          arguments: [65_536, 0])
    func endlessMultipart(partSize: Int) async throws {
        let context = try Context()
        let (server, monitor) = try Self.pullServer(context, limit: 4 << 20)
        let peer = try Self.rawPush(to: server)
        // Enough parts to pass the limit: 4 MiB of 64 KiB parts, or empty parts counted at
        // their overhead (at least 64 bytes each).
        let parts = partSize > 0 ? (4 << 20) / partSize + 8 : (4 << 20) / 64 + 1_024
        let part = Self.header(UInt64(partSize), more: true) + [UInt8](repeating: 0x11, count: partSize)
        var batch: [UInt8] = []
        var failed = false
        for _ in 0..<parts where !failed {
            batch += part
            if batch.count >= 1 << 18 {
                do { try peer.write(batch) } catch { failed = true }
                batch.removeAll(keepingCapacity: true)
            }
        }
        if !batch.isEmpty && !failed { try? peer.write(batch) }
        let error = try await Self.waitForTooLarge(monitor)
        #expect(error.code == .messageTooLarge, "\(error)")
        peer.close()
        #expect(throws: ZeroMQError.self) { _ = try server.receive(timeout: .milliseconds(200)) }
        try Self.assertStillServes(server, context)
    }

    @Test("A connection that ends in the middle of a large message gives its reservation back")
    func reservationReturned() async throws {
        let context = try Context()
        let (server, monitor) = try Self.pullServer(context, limit: 16 << 20)
        let peer = try Self.rawPush(to: server)
        try peer.write(Self.header(10 << 20) + [UInt8](repeating: 0x22, count: 5 << 20))
        peer.close()
        let ended = await monitor.next(within: .seconds(30)) { if case .disconnected = $0 { return true }; return false }
        #expect(ended.match != nil, "the cut connection was not reported: \(ended.seen)")
        // Had the 10 MiB stayed reserved, this 12 MiB message would wait forever.
        let sender = try Fixture.connected(context, .push, to: server)
        try await sender.send([UInt8](repeating: 0x33, count: 12 << 20))
        #expect(try await server.receive().count == 12 << 20)
        sender.close()
    }

    @Test("A connection waiting for budget that another holds reads no more, then completes when it is free")
    func waitingForBudget() async throws {
        let context = try Context()
        let (server, _) = try Self.pullServer(context, limit: 64 << 20)
        let size = 40 << 20
        let first = try Self.rawPush(to: server)
        let second = try Self.rawPush(to: server)
        // The first peer's frame takes 40 of the 64 MiB; it sends half its body and pauses.
        try first.write(Self.header(UInt64(size)) + [UInt8](repeating: 0x01, count: size / 2))
        // The second one cannot have its 40 MiB: it is stopped at its first 64 KiB, and once
        // the kernel's buffers are full its writes block (the server would otherwise have
        // taken all of it).
        try second.write(Self.header(UInt64(size)))
        let written = second.writeUntilBlocked(upTo: size, chunk: 1 << 16, waitEach: 2_000, byte: 0x02)
        #expect(written < size, "the waiting connection's whole frame was read (\(written) bytes)")
        print("budget wait: the second peer could write \(written) of its \(size) bytes before the server stopped reading")

        // The first frame completes and is delivered; its budget passes to the second.
        try first.write([UInt8](repeating: 0x01, count: size - size / 2))
        let one = try await server.receive()
        #expect(one.count == size && one.withUnsafeBytes { $0.allSatisfy { $0 == 0x01 } })
        try second.write([UInt8](repeating: 0x02, count: size - written))
        let two = try await server.receive()
        #expect(two.count == size && two.withUnsafeBytes { $0.allSatisfy { $0 == 0x02 } })
        first.close()
        second.close()
    }
}
