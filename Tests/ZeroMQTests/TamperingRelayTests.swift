#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
import ZMTPSodium
import ZeroMQ

/// A man in the middle between a CURVE client PUSH and a CURVE server PULL: the handshake passes
/// untouched, then the relay spoils one MESSAGE box on the first connection. The server drops that
/// connection with the error libzmq reports, no spoiled or replayed plaintext reaches the
/// application, and once the client has reconnected (the relay is honest from then on) messages
/// flow again.
@Suite("CURVE MESSAGE boxes through a tampering relay")
struct TamperingRelayTests {
    /// What the relay does to the client's MESSAGE boxes, counted from 0, on the first connection.
    enum Tampering: String, CaseIterable, Sendable, CustomTestStringConvertible {
        /// Flips the last bit of box `n` (inside the ciphertext).
        case flipBit
        /// Forwards box `n`, then box `n` again.
        case replay
        /// Holds box `n` back and forwards it after box `n + 1`.
        case reorder

        var testDescription: String { rawValue }

        /// The error the server's connection ends with (libzmq's `curve_mechanism_base_t::decode`:
        /// a nonce not above the last one is INVALID_SEQUENCE, a box that does not open CRYPTOGRAPHIC).
        var expected: ZMTPError.Code {
            switch self {
            case .flipBit: return .cryptographic
            case .replay, .reorder: return .invalidSequence
            }
        }
    }

    /// The box the relay spoils.
    static let tamperedIndex = 5

    @Test("A flipped, replayed or reordered MESSAGE box ends the connection; nothing spoiled is delivered; the reconnected client is served",
          arguments: Tampering.allCases)
    func tamperedBoxEndsTheConnection(_ tampering: Tampering) async throws {
        let context = try Context()
        let crypto = SodiumCurveCrypto()
        let serverKeys = try CurveKeyPair.generate(crypto: crypto, random: SodiumRandom())
        let server = try Fixture.socket(context, .pull, timeout: .seconds(20))
        server.options.security = .curveServer(keyPair: serverKeys, zapDomain: "", authenticate: false)
        let serverMonitor = server.monitor()
        try server.bind("tcp://127.0.0.1:*")

        let relay = try TamperingRelay(to: RawZMTP.port(of: server.lastEndpoint), tampering: tampering, at: Self.tamperedIndex)
        defer { relay.stop() }

        let client = try Fixture.socket(context, .push)
        client.options.security = .curveClient(
            serverPublicKey: serverKeys.publicKey, keyPair: try CurveKeyPair.generate(crypto: crypto, random: SodiumRandom()))
        client.options.reconnectInterval = .milliseconds(50)
        let clientMonitor = client.monitor()
        try client.connect("tcp://127.0.0.1:\(relay.port)")

        let before = Array(0..<10)
        for number in before { try await client.send("\(number)") }

        // The server, which received the spoiled box, drops the connection with libzmq's code.
        let cut = await serverMonitor.next { $0.protocolError != nil || $0.handshakeError != nil }
        let error = try #require(cut.match?.protocolError, "no protocol error among \(cut.seen)")
        #expect(error.code == tampering.expected, "\(error)")
        #expect(error.blame == .peerMisbehaved)
        #expect(relay.tampered, "the relay never reached box \(Self.tamperedIndex)")
        let clientCut = await clientMonitor.next { if case .disconnected = $0 { return true }; return false }
        #expect(clientCut.match != nil, "the client never saw its connection end: \(clientCut.seen)")
        // What the first connection delivered was in the pipe before the cut was reported; the
        // relay accepts no second connection yet, so nothing else can be mixed in (PULL queues
        // fairly across connections: only the order within one connection is promised).
        var early: [Int] = []
        while let message = try? await server.receive(timeout: .milliseconds(200)) {
            early.append(Int(message.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }) ?? -1)
        }

        // The client reconnects through the now honest relay.
        relay.allowReconnect()
        let rejoined = await serverMonitor.next { if case .handshakeSucceeded = $0 { return true }; return false }
        #expect(rejoined.match != nil, "the client never completed a second handshake: \(rejoined.seen)")
        let after = Array(100..<110)
        for number in after { try await client.send("\(number)") }
        var late: [Int] = []
        while late.last != after.last {
            guard let text = try? await server.receiveString(), let number = Int(text) else {
                Issue.record("the server stopped delivering after \(late)")
                break
            }
            late.append(number)
        }
        if let extra = try server.tryReceive() { Issue.record("delivered after the last message: \(extra)") }

        // Each connection delivered sent messages only, in order; none came twice.
        let received = early + late
        for delivered in [early, late] {
            #expect(zip(delivered, delivered.dropFirst()).allSatisfy { $0 < $1 }, "out of order or repeated: \(delivered)")
        }
        #expect(Set(early).isDisjoint(with: late), "delivered twice: \(early) then \(late)")
        #expect(received.allSatisfy { before.contains($0) || after.contains($0) }, "\(received)")
        // What came before the spoiled box arrived; what the honest connection carried arrived.
        #expect(Set(0..<Self.tamperedIndex).isSubset(of: early), "\(early)")
        #expect(Set(after).isSubset(of: late), "\(late)")
        switch tampering {
        case .flipBit:
            #expect(!received.contains(Self.tamperedIndex), "the spoiled box was delivered: \(received)")
        case .replay:
            #expect(received.filter { $0 == Self.tamperedIndex }.count == 1, "\(received)")
        case .reorder:
            // The later box opens (gaps are allowed); the held-back one comes too late.
            #expect(received.contains(Self.tamperedIndex + 1), "\(received)")
            #expect(!received.contains(Self.tamperedIndex), "the late box was delivered: \(received)")
        }
        #expect(relay.connections >= 2)
    }
}

/// Splits a client's byte stream into its greeting and its ZMTP frames (RFC 23 §Framing:
/// flags, then a 1-octet size, or an 8-octet one when LONG (0x02) is set).
struct FrameSplitter {
    enum Piece {
        case greeting([UInt8])
        /// A whole frame, header included.
        case frame(flags: UInt8, bytes: [UInt8])
    }

    private var greetingLeft = 64
    private var buffer: [UInt8] = []

    mutating func feed(_ bytes: [UInt8]) { buffer += bytes }

    /// The next whole piece, or nil until more bytes arrive.
    mutating func next() -> Piece? {
        if greetingLeft > 0 {
            guard !buffer.isEmpty else { return nil }
            let count = min(greetingLeft, buffer.count)
            greetingLeft -= count
            return .greeting(take(count))
        }
        guard let flags = buffer.first else { return nil }
        let long = flags & 0x02 != 0
        let headerSize = long ? 9 : 2
        guard buffer.count >= headerSize else { return nil }
        let size = long ? buffer[1..<9].reduce(0) { $0 << 8 | Int($1) } : Int(buffer[1])
        guard buffer.count >= headerSize + size else { return nil }
        return .frame(flags: flags, bytes: take(headerSize + size))
    }

    private mutating func take(_ count: Int) -> [UInt8] {
        defer { buffer.removeFirst(count) }
        return Array(buffer[..<count])
    }
}

/// A TCP relay on its own thread: it accepts connections, opens one to the target for each, and
/// copies bytes both ways. On the first connection it applies its ``Tampering`` to the client's
/// data frames (the MESSAGE boxes; handshake commands carry the command flag and pass); it takes
/// a second connection only after ``allowReconnect()``.
final class TamperingRelay: @unchecked Sendable {
    let port: UInt16
    private let listener: LoopbackTCP
    private let targetPort: UInt16
    private let tampering: TamperingRelayTests.Tampering
    private let index: Int
    private let stopping = Atomic<Bool>(false)
    private let reconnectAllowed = Atomic<Bool>(false)
    private let counters = Mutex<(tampered: Bool, connections: Int)>((false, 0))
    private var thread = pthread_t()

    /// Whether the spoiling happened.
    var tampered: Bool { counters.withLock { $0.tampered } }
    /// Connections accepted so far.
    var connections: Int { counters.withLock { $0.connections } }

    /// One relayed connection. Used by the relay thread only.
    private final class Link {
        let client: LoopbackTCP
        let server: LoopbackTCP
        let tampers: Bool
        var splitter = FrameSplitter()
        var boxes = 0
        var held: [UInt8]?
        var open = true

        init(client: LoopbackTCP, server: LoopbackTCP, tampers: Bool) {
            self.client = client
            self.server = server
            self.tampers = tampers
        }
    }

    init(to targetPort: UInt16, tampering: TamperingRelayTests.Tampering, at index: Int) throws {
        (listener, port) = try LoopbackTCP.listen()
        self.targetPort = targetPort
        self.tampering = tampering
        self.index = index
        let box = Unmanaged.passRetained(self).toOpaque()
        let started = pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            Unmanaged<TamperingRelay>.fromOpaque(raw).takeRetainedValue().run()
            return nil
        }, box)
        guard started == 0 else {
            Unmanaged<TamperingRelay>.fromOpaque(box).release()
            throw LoopbackError("pthread_create: \(started)")
        }
    }

    /// From now on the relay accepts more connections (until then only the first: a client's
    /// reconnect waits in the listen backlog, its bytes unread).
    func allowReconnect() { reconnectAllowed.store(true, ordering: .relaxed) }

    /// Stops the thread (within one poll slice) and closes every connection.
    func stop() {
        guard !stopping.exchange(true, ordering: .relaxed) else { return }
        pthread_join(thread, nil)
    }

    private func run() {
        var links: [Link] = []
        while !stopping.load(ordering: .relaxed) {
            let accepting = connections == 0 || reconnectAllowed.load(ordering: .relaxed)
            // poll skips a negative descriptor: the listener is left alone while closed.
            var descriptors = [pollfd(fd: accepting ? listener.fd : -1, events: Int16(POLLIN), revents: 0)]
            for link in links {
                descriptors.append(pollfd(fd: link.client.fd, events: Int16(POLLIN), revents: 0))
                descriptors.append(pollfd(fd: link.server.fd, events: Int16(POLLIN), revents: 0))
            }
            guard poll(&descriptors, nfds_t(descriptors.count), 50) > 0 else { continue }
            for (offset, link) in links.enumerated() {
                if descriptors[1 + 2 * offset].revents != 0 { pump(link, fromClient: true) }
                if link.open, descriptors[2 + 2 * offset].revents != 0 { pump(link, fromClient: false) }
            }
            links.removeAll { !$0.open }
            if descriptors[0].revents != 0, let client = try? listener.accept() {
                guard let server = try? LoopbackTCP.connect(port: targetPort) else { continue }
                let first = counters.withLock { counters -> Bool in
                    counters.connections += 1
                    return counters.connections == 1
                }
                links.append(Link(client: client, server: server, tampers: first))
            }
        }
        for link in links {
            link.client.close()
            link.server.close()
        }
        listener.close()
    }

    /// Moves what one side has to the other; an end or error on either side ends both.
    private func pump(_ link: Link, fromClient: Bool) {
        let source = fromClient ? link.client : link.server
        let sink = fromClient ? link.server : link.client
        do {
            guard let bytes = source.readSome() else { throw LoopbackError("end of stream") }
            guard fromClient else { return try sink.write(bytes) }
            link.splitter.feed(bytes)
            var out: [UInt8] = []
            while let piece = link.splitter.next() {
                switch piece {
                case .greeting(let greeting): out += greeting
                case .frame(let flags, let frame): out += forward(frame, flags: flags, on: link)
                }
            }
            try sink.write(out)
        } catch {
            link.open = false
            link.client.close()
            link.server.close()
        }
    }

    /// The bytes to send on for one client frame.
    private func forward(_ frame: [UInt8], flags: UInt8, on link: Link) -> [UInt8] {
        guard link.tampers, flags & 0x04 == 0 else { return frame }
        let box = link.boxes
        link.boxes += 1
        switch tampering {
        case .flipBit where box == index:
            markTampered()
            var spoiled = frame
            spoiled[spoiled.count - 1] ^= 0x01
            return spoiled
        case .replay where box == index:
            markTampered()
            return frame + frame
        case .reorder where box == index:
            link.held = frame
            return []
        case .reorder where box == index + 1:
            guard let held = link.held else { return frame }
            markTampered()
            link.held = nil
            return frame + held
        case .flipBit, .replay, .reorder:
            return frame
        }
    }

    private func markTampered() { counters.withLock { $0.tampered = true } }
}
