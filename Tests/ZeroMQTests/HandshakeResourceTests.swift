#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
import ZMTPSodium
import ZeroMQ

/// Resource bounds of a CURVE server under attack: connections that never finish the handshake
/// are closed at the handshake interval, and neither they nor a flood of invalid HELLOs leave the
/// heap bigger than it was. The heap is measured in a child process running one test alone
/// (``HeapProbe``); the parent asserts the child passed and checks its figures.
@Suite("CURVE handshake resources under attack")
struct HandshakeResourceTests {
    /// The heap may keep this much more than its baseline after an attack (about a tenth of what
    /// 1,000 half-open connections take at their peak): the baseline is taken after a first
    /// attack of the same size, so tables, buffers and thread caches that grow once are in it.
    static let heapBound = 256 * 1024
    static let halfOpenCount = 1000
    /// Waves per half of the flood: 6,000 connections before the baseline, 6,000 after.
    static let floodWaves = 30
    static let floodWaveSize = 200

    @Test("1,000 half-open connections are all closed at the handshake interval, each reported, and the heap returns to its baseline")
    func halfOpenConnections() async throws {
        try await HeapProbe.runAlone("half-open", test: "halfOpenConnections", bound: Self.heapBound) {
            try await Self.halfOpenFigures()
        }
    }

    @Test("12,000 connections sending a greeting and an invalid HELLO are all refused, and the heap does not grow")
    func invalidHelloFlood() async throws {
        // The socket is never called here: a refused connection must leave nothing behind in
        // its mailbox (it once left a `.sessionEnded` command, 64 bytes per refused peer).
        try await HeapProbe.runAlone("hello-flood", test: "invalidHelloFlood", bound: Self.heapBound) {
            try await Self.floodFigures()
        }
    }

    // MARK: Measurements (run in the child)

    static func halfOpenFigures() async throws -> HeapProbe.Figures {
        try raiseDescriptorLimit(to: 2 * halfOpenCount + 512)
        let context = try Context()
        let (server, port, monitor) = try curveServer(context, handshakeInterval: .seconds(1))
        // A first round of the same size, so what grows to the attack's size once and is reused
        // (tables, buffers, thread caches) is in the baseline; the second round shows what stays.
        _ = try await halfOpenRound(halfOpenCount, port: port, server: server, monitor: monitor)
        _ = server.takeEvents()
        let baseline = HeapProbe.settled()
        let peak = try await halfOpenRound(halfOpenCount, port: port, server: server, monitor: monitor)
        _ = server.takeEvents()
        let after = HeapProbe.settled()
        #expect(server.statistics.handshakeFailures == UInt64(2 * halfOpenCount))
        #expect(server.statistics.handshakesSucceeded == 0)
        return HeapProbe.Figures(baseline: baseline, peak: peak, after: after)
    }

    /// Opens `count` connections (even ones send a CURVE greeting, odd ones nothing), takes the
    /// heap once the server has accepted them all, then checks the server closes every one and
    /// reports each as a handshake timeout. Returns the heap while they were all open.
    static func halfOpenRound(_ count: Int, port: UInt16, server: Socket, monitor: SocketMonitor) async throws -> Int {
        let acceptedBefore = server.statistics.connectionsAccepted
        var peers: [LoopbackTCP] = []
        for index in 0..<count {
            let peer = try LoopbackTCP.connect(port: port)
            if index.isMultiple(of: 2) { try peer.write(RawZMTP.greeting("CURVE")) }
            peers.append(peer)
        }
        let allAccepted = Fixture.eventually(attempts: 3000) {
            server.statistics.connectionsAccepted >= acceptedBefore + UInt64(count)
        }
        #expect(allAccepted, "accepted \(server.statistics.connectionsAccepted - acceptedBefore) of \(count)")
        let peak = HeapProbe.inUse()
        #expect(countClosed(peers, within: .seconds(60)) == count, "the server left connections open")
        let failures = await handshakeFailures(monitor, count: count)
        #expect(failures.count == count)
        #expect(failures.allSatisfy { $0.code == .handshakeTimeout }, "\(Set(failures.map(\.code)))")
        for peer in peers { peer.close() }
        return peak
    }

    static func floodFigures() async throws -> HeapProbe.Figures {
        try raiseDescriptorLimit(to: 2 * floodWaveSize + 512)
        let context = try Context()
        let (server, port, monitor) = try curveServer(context, handshakeInterval: .seconds(1))
        let client = try HandBuiltCurveClient(serverKey: try CurveKeyPair.generate(crypto: SodiumCurveCrypto(), random: SodiumRandom()).publicKey)
        let hellos = [
            RawZMTP.command(RawZMTP.name("HELLO")),  // 6 octets: MALFORMED_COMMAND_HELLO
            RawZMTP.command(client.hello(version: 2)),  // version 2.0: MALFORMED_COMMAND_HELLO
            RawZMTP.command(client.hello()),  // boxed for another server: CRYPTOGRAPHIC
        ]
        // As many connections before the baseline as after it: a structure that keeps something
        // per connection must double its storage in the second half, so it cannot hide in
        // capacity reserved during the first.
        for _ in 0..<floodWaves { try await floodWave(port: port, monitor: monitor, hellos: hellos) }
        _ = server.takeEvents()
        let baseline = HeapProbe.settled()
        var peak = baseline
        for _ in 0..<floodWaves {
            try await floodWave(port: port, monitor: monitor, hellos: hellos)
            peak = max(peak, HeapProbe.inUse())
        }
        _ = server.takeEvents()
        let after = HeapProbe.settled()
        #expect(server.statistics.handshakeFailures == UInt64(2 * floodWaves * floodWaveSize))
        #expect(server.statistics.handshakesSucceeded == 0)
        return HeapProbe.Figures(baseline: baseline, peak: peak, after: after)
    }

    /// `floodWaveSize` connections at once, each sending a greeting and one of `hellos`; the
    /// server must close every one and report why.
    static func floodWave(port: UInt16, monitor: SocketMonitor, hellos: [[UInt8]]) async throws {
        var peers: [LoopbackTCP] = []
        for index in 0..<floodWaveSize {
            let peer = try LoopbackTCP.connect(port: port)
            try peer.write(RawZMTP.greeting("CURVE") + hellos[index % hellos.count])
            peers.append(peer)
        }
        #expect(countClosed(peers, within: .seconds(60)) == floodWaveSize, "the server left connections open")
        let failures = await handshakeFailures(monitor, count: floodWaveSize)
        #expect(failures.count == floodWaveSize)
        #expect(failures.allSatisfy { [.malformedCommandHello, .cryptographic].contains($0.code) }, "\(Set(failures.map(\.code)))")
        for peer in peers { peer.close() }
    }

    // MARK: Helpers

    /// A CURVE server PULL with `handshakeInterval`, its port, and its monitor.
    static func curveServer(_ context: Context, handshakeInterval: Duration) throws -> (Socket, UInt16, SocketMonitor) {
        let server = try Fixture.socket(context, .pull)
        server.options.security = .curveServer(
            keyPair: try CurveKeyPair.generate(crypto: SodiumCurveCrypto(), random: SodiumRandom()), zapDomain: "", authenticate: false)
        server.options.handshakeInterval = handshakeInterval
        server.options.backlog = 1024
        let monitor = server.monitor(capacity: 4 * halfOpenCount)
        try server.bind("tcp://127.0.0.1:*")
        return (server, try RawZMTP.port(of: server.lastEndpoint), monitor)
    }

    /// How many of `peers` saw their stream end (the server closed or reset it) within `timeout`;
    /// whatever the server sent first is read and dropped.
    static func countClosed(_ peers: [LoopbackTCP], within timeout: Duration) -> Int {
        var open = Array(peers.indices)
        let deadline = ContinuousClock.now + timeout
        while !open.isEmpty, ContinuousClock.now < deadline {
            var descriptors = open.map { pollfd(fd: peers[$0].fd, events: Int16(POLLIN), revents: 0) }
            guard poll(&descriptors, nfds_t(descriptors.count), 100) > 0 else { continue }
            var ended = Set<Int>()
            for (slot, descriptor) in descriptors.enumerated() where descriptor.revents != 0 {
                if peers[open[slot]].readSome() == nil { ended.insert(open[slot]) }
            }
            open.removeAll { ended.contains($0) }
        }
        return peers.count - open.count
    }

    /// The errors of the next `count` handshake failures the monitor reports (bounded wait).
    static func handshakeFailures(_ monitor: SocketMonitor, count: Int) async -> [ZMTPError] {
        let counted = Counter()
        let read = await monitor.next(within: .seconds(60)) { event in
            event.handshakeError != nil && counted.increment() == count
        }
        return read.seen.compactMap(\.handshakeError)
    }

    /// Raises the soft RLIMIT_NOFILE to at least `needed` (the default soft limit may be 1024).
    static func raiseDescriptorLimit(to needed: Int) throws {
        var limit = rlimit()
        getrlimit(openFilesResource, &limit)
        guard limit.rlim_cur < rlim_t(needed) else { return }
        try #require(limit.rlim_max >= rlim_t(needed), "RLIMIT_NOFILE hard limit \(limit.rlim_max) is below \(needed)")
        limit.rlim_cur = rlim_t(needed)
        try #require(setrlimit(openFilesResource, &limit) == 0, "setrlimit: errno \(errno)")
    }

    /// RLIMIT_NOFILE as getrlimit takes it (Glibc imports the constant as an enum case).
    static var openFilesResource: __rlimit_resource_t { __rlimit_resource_t(RLIMIT_NOFILE.rawValue) }
}

/// A counter a `@Sendable` closure can bump.
private final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    func increment() -> Int { value.add(1, ordering: .relaxed).newValue }
}
