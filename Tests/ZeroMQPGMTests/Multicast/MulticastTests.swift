#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import Testing
import ZeroMQ
import ZeroMQPGM

/// PUB/SUB over `epgm://` and `pgm://` through real libpgm, inside network namespaces the tests
/// create (one namespace on 127.0.0.1, or two joined by a veth pair with addresses that exist
/// only inside them). Needs root, as CI has; elsewhere the suite is skipped and says why.
@Suite("PGM multicast", .serialized,
       .enabled(if: NetworkNamespace.available, "creating network namespaces needs root and iproute2"))
struct MulticastTests {
    private static let ports = Atomic<Int>(0)

    /// A port no other test of this process uses.
    static func port() -> Int { 24_000 + Int(getpid() % 500) * 40 + ports.add(1, ordering: .relaxed).oldValue }

    /// A context with both PGM transports.
    static func context() throws -> Context {
        let context = try Context()
        context.register(PGMTransport.epgm)
        context.register(PGMTransport.pgm)
        return context
    }

    /// A PUB or SUB with a rate that moves test volumes (libzmq's 100 kbit/s is very slow) and
    /// a receive window to match, connected to `endpoint` from inside `namespace`.
    static func socket(_ context: Context, _ type: SocketType, _ endpoint: String, in namespace: NetworkNamespace) throws -> Socket {
        let socket = try context.socket(type)
        socket.options.linger = .seconds(2)
        socket.options.receiveTimeout = .seconds(10)
        socket.options.rate = 100_000
        socket.options.recoveryInterval = .seconds(2)
        if type == .sub { try socket.subscribe("") }
        let box = Handoff(socket)
        try namespace.run { try box.value.connect(endpoint) }
        return socket
    }

    /// The messages every exchange carries: single-part, multipart with an empty part, one
    /// larger than a TPDU (3000 B over 1428-B APDUs), and a run of small ones packed together.
    static let messages: [[[UInt8]]] = {
        var list: [[[UInt8]]] = [[Array("hello".utf8)], [Array("topic".utf8), [], Array("payload".utf8)]]
        list.append([(0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }])
        for index in 0..<50 { list.append([Array("small-\(index)".utf8)]) }
        list.append([Array("end".utf8)])
        return list
    }()

    /// Publishes "warmup" until the subscriber hears one (PGM has no handshake: a subscriber
    /// hears only what is sent after it joined), then `messages`; returns what the subscriber
    /// received after the warm-ups.
    static func exchange(publish: ([[UInt8]]) throws -> Void, receive: (Duration) throws -> [[UInt8]]?) throws -> [[[UInt8]]] {
        var heard = false
        for _ in 0..<200 where !heard {
            try publish([Array("warmup".utf8)])
            heard = try receive(.milliseconds(100)) != nil
        }
        try #require(heard, "the subscriber heard nothing in 20 s")
        for message in messages { try publish(message) }
        var received: [[[UInt8]]] = []
        while received.last != messages.last {
            guard let message = try receive(.seconds(10)) else { break }
            if message != [Array("warmup".utf8)] { received.append(message) }
        }
        return received
    }

    /// The next whole message `socket` receives within `wait`, or nil.
    static func receive(_ socket: Socket, within wait: Duration) throws -> [[UInt8]]? {
        socket.options.receiveTimeout = wait
        do throws(ZeroMQError) {
            return try socket.receiveMultipart().parts.map(\.bytes)
        } catch {
            if error.code == .timedOut { return nil }
            throw error
        }
    }

    @Test("Swift PUB to Swift SUB over epgm and pgm on 127.0.0.1 in a namespace: every message whole, in order",
          arguments: ["epgm", "pgm"])
    func sameNamespace(scheme: String) throws {
        let namespace = try NetworkNamespace()
        let context = try Self.context()
        let port = Self.port()
        let endpoint = "\(scheme)://127.0.0.1;239.192.1.1:\(port)"
        let sub = try Self.socket(context, .sub, endpoint, in: namespace)
        let pub = try Self.socket(context, .pub, endpoint, in: namespace)
        // Bind means connect for PGM, and a second one is a no-op (a second sender would
        // duplicate every message, which the exact comparison below would catch).
        let again = Handoff(pub)
        try namespace.run { try again.value.bind(endpoint) }
        // An empty UDP datagram to the port (anyone on the network can send one) is skipped,
        // not the end of the subscriber.
        if scheme == "epgm" { try namespace.run { try sendEmptyDatagram(group: "239.192.1.1", port: port) } }
        let received = try Self.exchange(publish: { try pub.send($0) }, receive: { try Self.receive(sub, within: $0) })
        #expect(received == Self.messages)
        #expect(sub.statistics.dataLosses == 0)
        pub.close()
        sub.close()
        context.terminate()
    }

    @Test("Swift PUB to Swift SUB across a veth pair between two namespaces (interface by address and by name)")
    func acrossNamespaces() throws {
        let a = try NetworkNamespace(), b = try NetworkNamespace()
        let subnet = 100 + Self.ports.load(ordering: .relaxed) % 100
        let (_, there) = try a.link(to: b, address: "10.\(subnet).0.1", otherAddress: "10.\(subnet).0.2")
        let context = try Self.context()
        let port = Self.port()
        // The subscriber names its interface, the publisher gives its address: both forms work.
        let sub = try Self.socket(context, .sub, "epgm://\(there);239.192.1.2:\(port)", in: b)
        let pub = try Self.socket(context, .pub, "epgm://10.\(subnet).0.1;239.192.1.2:\(port)", in: a)
        let received = try Self.exchange(publish: { try pub.send($0) }, receive: { try Self.receive(sub, within: $0) })
        #expect(received == Self.messages)
        pub.close()
        sub.close()
        context.terminate()
    }

    @Test("libzmq PUB to Swift SUB, and Swift PUB to libzmq SUB, over epgm and pgm", arguments: ["epgm", "pgm"])
    func interop(scheme: String) throws {
        let namespace = try NetworkNamespace()
        let context = try Self.context()

        // libzmq publishes.
        let inbound = "\(scheme)://127.0.0.1;239.192.1.3:\(Self.port())"
        let sub = try Self.socket(context, .sub, inbound, in: namespace)
        let publisher = try PGMPeer(namespace, ["pub", inbound, "100000"])
        defer { publisher.stop() }
        let fromLibzmq = try Self.exchange(publish: { publisher.send($0) }, receive: { try Self.receive(sub, within: $0) })
        #expect(fromLibzmq == Self.messages)

        // libzmq subscribes.
        let outbound = "\(scheme)://127.0.0.1;239.192.1.4:\(Self.port())"
        let subscriber = try PGMPeer(namespace, ["sub", outbound, "100000"])
        defer { subscriber.stop() }
        let pub = try Self.socket(context, .pub, outbound, in: namespace)
        let toLibzmq = try Self.exchange(publish: { try pub.send($0) }, receive: { subscriber.next(within: $0) })
        #expect(toLibzmq == Self.messages)
        pub.close()
        sub.close()
        context.terminate()
    }

    @Test("At a low RATE, sends wait for libpgm's rate limit and resume: nothing is dropped")
    func rateLimited() throws {
        // Two hosts, as on a real network. A burst can overflow the SUB's kernel buffer on a busy
        // machine, and the receiver then NAKs the loss to the sender's address at the endpoint's
        // port; on one host both sockets are bound to that port (libpgm sets SO_REUSEPORT), so
        // the kernel hands each NAK to the sender or to the receiver's own socket by a hash of
        // the receiver's address. Repair then worked or not by chance (the loss surfaced only
        // after libpgm's NAK retries, some 10 s), and this test failed with 126-229 of 300.
        let a = try NetworkNamespace(), b = try NetworkNamespace()
        let subnet = 100 + Self.ports.load(ordering: .relaxed) % 100
        _ = try a.link(to: b, address: "10.\(subnet).2.1", otherAddress: "10.\(subnet).2.2")
        let context = try Self.context()
        let port = Self.port()
        let sub = try Self.socket(context, .sub, "epgm://10.\(subnet).2.2;239.192.1.7:\(port)", in: b)
        let pub = try context.socket(.pub)
        pub.options.linger = .seconds(10)
        pub.options.rate = 2_000  // 250 kB/s: 300 KiB take over a second
        let publisher = Handoff(pub)
        try a.run { try publisher.value.connect("epgm://10.\(subnet).2.1;239.192.1.7:\(port)") }
        var heard = false
        for _ in 0..<200 where !heard {
            try pub.send("warmup")
            heard = try Self.receive(sub, within: .milliseconds(100)) != nil
        }
        try #require(heard)
        let body = [UInt8](repeating: 0x5A, count: 1024)
        for index in 0..<300 { try pub.send(Message(withUnsafeBytes(of: UInt32(index).bigEndian) { Array($0) } + body)) }
        var received = 0
        while let message = try Self.receive(sub, within: .seconds(10)) {
            guard let first = message.first, first.count == 1028 else { continue }
            #expect(first.prefix(4).reduce(0) { $0 << 8 | Int($1) } == received)
            received += 1
            if received == 300 { break }
        }
        #expect(received == 300)
        #expect(pub.statistics.dropped.total == 0)
        #expect(sub.statistics.dataLosses == 0)
        pub.close()
        sub.close()
        context.terminate()
    }

    @Test("A PUB whose messages wait for the rate limit: terminate returns after about its LINGER")
    func lingerBoundsTheRateLimit() throws {
        let namespace = try NetworkNamespace()
        let context = try Self.context()
        let pub = try context.socket(.pub)
        pub.options.rate = 100  // libzmq's default: 12.5 kB/s, so 200 KiB would take 16 s
        pub.options.linger = .milliseconds(300)
        let publisher = Handoff(pub)
        try namespace.run { try publisher.value.connect("epgm://127.0.0.1;239.192.1.8:\(Self.port())") }
        let body = [UInt8](repeating: 0x33, count: 1024)
        for _ in 0..<200 { try pub.send(body) }
        pub.close()
        // On a thread of its own with a generous bound: a hang fails the test, not the suite.
        let took = Mutex<Duration?>(nil)
        let finished = DispatchSemaphore(value: 0)
        let holder = Handoff(context)
        Thread {
            let start = ContinuousClock.now
            holder.value.terminate()
            took.withLock { $0 = ContinuousClock.now - start }
            finished.signal()
        }.start()
        #expect(finished.wait(timeout: .now() + 25) == .success, "terminate hung past LINGER")
        if let took = took.withLock({ $0 }) {
            print("terminate, epgm PUB (LINGER 300 ms), 200 KiB held by RATE 100 kbit/s: \(took)")
        }
    }

    @Test("A late-joining SUB receives whole messages from its join point on, never a partial one")
    func lateJoiner() throws {
        let namespace = try NetworkNamespace()
        let context = try Self.context()
        let endpoint = "epgm://127.0.0.1;239.192.1.5:\(Self.port())"
        let pub = try Self.socket(context, .pub, endpoint, in: namespace)
        let running = Atomic<Bool>(true)
        let publisher = Handoff(pub)
        let sender = Thread {
            var index: UInt32 = 0
            while running.load(ordering: .relaxed) {
                // Three APDUs per message: a joiner lands inside one most of the time.
                var body = withUnsafeBytes(of: index.bigEndian) { Array($0) }
                body += (0..<3996).map { UInt8(truncatingIfNeeded: Int(index) &+ $0) }
                _ = try? publisher.value.send(body)
                index &+= 1
                usleep(500)
            }
        }
        sender.start()
        defer { running.store(false, ordering: .relaxed) }
        usleep(300_000)  // the stream is flowing before the subscriber joins
        let sub = try Self.socket(context, .sub, endpoint, in: namespace)
        var whole = 0
        for _ in 0..<200 {
            guard let message = try Self.receive(sub, within: .seconds(5)) else { break }
            let body = try #require(message.first)
            #expect(message.count == 1 && body.count == 4000, "a partial or merged message: \(body.count) bytes")
            let index = body.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            let intact = body.dropFirst(4).enumerated().allSatisfy { $0.element == UInt8(truncatingIfNeeded: Int(index) &+ $0.offset) }
            #expect(intact, "message \(index) arrived damaged")
            whole += 1
        }
        #expect(whole == 200)
        running.store(false, ordering: .relaxed)
        usleep(50_000)
        sub.close()
        pub.close()
        context.terminate()
    }

    /// The publisher's RECOVERY_IVL: 2 s keeps everything repairable; 1 ms leaves it a window
    /// of 8 packets, so most losses cannot be repaired and must be reported.
    @Test("5% packet loss on the veth (nftables; the kernel has no netem): repaired within RECOVERY_IVL or reported, never delivered damaged",
          arguments: [2000, 1])
    func loss(publisherRecoveryMilliseconds: Int) throws {
        let a = try NetworkNamespace(), b = try NetworkNamespace()
        let subnet = 100 + Self.ports.load(ordering: .relaxed) % 100
        _ = try a.link(to: b, address: "10.\(subnet).1.1", otherAddress: "10.\(subnet).1.2")
        let context = try Self.context()
        let port = Self.port()
        let sub = try Self.socket(context, .sub, "epgm://10.\(subnet).1.2;239.192.1.6:\(port)", in: b)
        let pub = try context.socket(.pub)
        pub.options.linger = .seconds(2)
        pub.options.rate = 100_000
        pub.options.recoveryInterval = .milliseconds(publisherRecoveryMilliseconds)
        let publisher = Handoff(pub)
        try a.run { try publisher.value.connect("epgm://10.\(subnet).1.1;239.192.1.6:\(port)") }
        var heard = false
        for _ in 0..<200 where !heard {
            try pub.send("warmup")
            heard = try Self.receive(sub, within: .milliseconds(100)) != nil
        }
        try #require(heard)
        // Drop 5% of what the publisher's namespace sends to the group: data and repairs alike.
        try a.nft("""
            table inet zmqloss {
                chain out {
                    type filter hook output priority 0; policy accept;
                    ip daddr 239.192.1.6 numgen random mod 100 < 5 counter drop
                }
            }
            """)
        let count = 2000
        for index in 0..<count {
            var body = withUnsafeBytes(of: UInt32(index).bigEndian) { Array($0) }
            body += (0..<196).map { UInt8(truncatingIfNeeded: index &+ $0) }
            try pub.send(body)
        }
        try pub.send("end")
        var indices: [Int] = []
        while true {
            guard let message = try Self.receive(sub, within: .seconds(20)) else { break }
            let body = try #require(message.first)
            if body == Array("end".utf8) { break }
            if body == Array("warmup".utf8) { continue }
            try #require(body.count == 200, "a damaged message: \(body.count) bytes")
            let index = body.prefix(4).reduce(0) { $0 << 8 | Int($1) }
            #expect(body.dropFirst(4).enumerated().allSatisfy { $0.element == UInt8(truncatingIfNeeded: index &+ $0.offset) },
                    "message \(index) damaged")
            indices.append(index)
        }
        let dropped = try a.nftDropCount()
        #expect(dropped > 0, "no packet was dropped: the test injected no loss")
        #expect(indices == indices.sorted() && Set(indices).count == indices.count, "out of order or duplicated")
        // Repaired (every message arrived) or reported: never silent.
        #expect(indices.count == count || sub.statistics.dataLosses > 0,
                "\(count - indices.count) messages missing and no dataLost event")
        if publisherRecoveryMilliseconds < 10, indices.count < count {
            #expect(sub.statistics.dataLosses > 0)
        }
        print("loss test (publisher RECOVERY_IVL \(publisherRecoveryMilliseconds) ms): \(dropped) packets dropped by nftables; \(indices.count)/\(count) delivered; data-loss events \(sub.statistics.dataLosses)")
        pub.close()
        sub.close()
        context.terminate()
    }

    @Test("Endpoints and socket types libzmq refuses (or aborts on) are typed errors from connect")
    func errors() throws {
        let context = try Self.context()
        let sub = try context.socket(.sub)
        sub.options.linger = .zero
        for endpoint in ["epgm://127.0.0.1;239.192.1.1", "epgm://127.0.0.1;239.192.1.1:0", "epgm://nosuchif0;239.192.1.1:5555",
                         "epgm://127.0.0.1;10.1.2.3:5555", "epgm://127.0.0.1;239.192.1.1:99999"] {
            #expect(throws: ZeroMQError.self, "\(endpoint)") { try sub.connect(endpoint) }
        }
        let push = try context.socket(.push)
        push.options.linger = .zero
        let error = #expect(throws: ZeroMQError.self) { try push.connect("epgm://127.0.0.1;239.192.1.1:5555") }
        #expect(error?.code == .incompatibleProtocol)
        sub.close()
        push.close()
        context.terminate()
    }
}

/// Moves a non-Sendable value into a namespace thread (the test makes sure one side uses it at
/// a time).
final class Handoff<T>: @unchecked Sendable {
    var value: T
    init(_ value: T) { self.value = value }
}

/// A pyzmq PGM peer (Peers/pgm_peer.py) running inside a namespace.
final class PGMPeer: @unchecked Sendable {
    private let process: Process
    private let input = Pipe()
    private let output = Pipe()
    private var buffer = Data()
    private var lines: [String] = []

    init(_ namespace: NetworkNamespace, _ arguments: [String]) throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Peers/pgm_peer.py").path
        process = namespace.process(["/usr/bin/python3", script] + arguments)
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        // The peer's stdout carries its own lines only (it sends libpgm's warnings to stderr),
        // so every line is whole and exact.
        while let line = next(line: .seconds(10)), line != "READY" {
            if line.hasPrefix("NOZMQ") { throw NamespaceError("the libzmq peer cannot run: \(line)") }
        }
        guard lines.last == "READY" else { throw NamespaceError("the libzmq peer did not start: \(lines)") }
    }

    func send(_ parts: [[UInt8]]) {
        let line = "SEND " + parts.map { $0.map { String(format: "%02x", $0) }.joined() }.joined(separator: "|") + "\n"
        input.fileHandleForWriting.write(Data(line.utf8))
    }

    /// The next message the peer received, or nil after `wait`.
    func next(within wait: Duration) -> [[UInt8]]? {
        var found: Substring?
        while found == nil, let line = next(line: wait) {
            if line.hasPrefix("RECV ") { found = line.dropFirst(5) }
        }
        guard let line = found else { return nil }
        return line.split(separator: "|", omittingEmptySubsequences: false).map { hex in
            var bytes: [UInt8] = []
            var index = hex.startIndex
            while index < hex.endIndex, let end = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) {
                bytes.append(UInt8(hex[index..<end], radix: 16) ?? 0)
                index = end
            }
            return bytes
        }
    }

    private func next(line wait: Duration) -> String? {
        let fd = output.fileHandleForReading.fileDescriptor
        let deadline = ContinuousClock.now + wait
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...newline)
                lines.append(line)
                return line
            }
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return nil }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(min(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1, 1000))
            guard poll(&poller, 1, milliseconds) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = read(fd, &chunk, chunk.count)
            guard n > 0 else { return nil }
            buffer.append(contentsOf: chunk[0..<n])
        }
    }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

/// Sends one zero-length UDP datagram to `group`:`port` over loopback (in the calling thread's
/// network namespace).
func sendEmptyDatagram(group: String, port: Int) throws {
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    guard fd >= 0 else { throw NamespaceError("socket: errno \(errno)") }
    defer { close(fd) }
    var interface = in_addr()
    inet_pton(AF_INET, "127.0.0.1", &interface)
    _ = setsockopt(fd, Int32(IPPROTO_IP), IP_MULTICAST_IF, &interface, socklen_t(MemoryLayout<in_addr>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    inet_pton(AF_INET, group, &address.sin_addr)
    let sent = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, nil, 0, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard sent == 0 else { throw NamespaceError("sendto: errno \(errno)") }
}
