#if canImport(Glibc)
import Glibc
#endif
import Testing

extension FaultSuite {
    /// Slowloris: many connections that send their greeting one octet every 300 ms. With a handshake
    /// interval of 1 s each must be closed at that interval and reported, while a good client goes
    /// on being served and memory returns to where it was.
    @Suite("Slowloris greetings", .serialized)
    struct SlowlorisTests {
        @Test("Greetings dribbled an octet at a time are closed at HANDSHAKE_IVL and reported; good clients are served; memory returns",
              arguments: [PeerProcess.Implementation.swift, .libzmq])
        func slowlorisGreetings(_ server: PeerProcess.Implementation) throws {
            let connections = FaultScale.current.slowlorisConnections
            let receiver = try PeerProcess(server, ["receive", "tcp://127.0.0.1:*", "--handshake-ms", "1000"])
            let endpoint = try receiver.endpoint()
            let good = try PeerProcess(.libzmq, ["send", endpoint, "--run", "1", "--report", "1000000"], name: "good libzmq PUSH")
            try waitFor(receiver, "the good client's first 1,000 messages") { $0["received"] >= 1_000 }
            pause(1)
            let baseline = receiver.memory().resident
            let before = try receiver.mark()

            let slow = Slowloris(port: try port(of: endpoint), connections: connections)
            var peak = 0
            let bound = ContinuousClock.now + .seconds(60 + connections / 100)
            while slow.open > 0, ContinuousClock.now < bound {
                slow.dribble()
                peak = max(peak, receiver.memory().resident)
            }
            let during = try receiver.mark()
            slow.closeAll()
            pause(2)
            let after = receiver.memory().resident
            try good.quit()
            let final = try receiver.quit()

            let closeTimes = slow.closeTimes.sorted()
            let median = closeTimes.isEmpty ? 0 : closeTimes[closeTimes.count / 2]
            figure("slowloris (\(server) PULL, HANDSHAKE_IVL 1 s): \(closeTimes.count) of \(connections - slow.refused) closed by the server "
                   + "(\(slow.refused) more refused at connect three times), time to close median \(String(format: "%.2f", median)) s, "
                   + "max \(String(format: "%.2f", closeTimes.last ?? 0)) s; handshake failures \(final.fields["handshake_failures"] ?? "-"), "
                   + "errors \(final.fields["errors"] ?? "-")")
            figure("slowloris (\(server) PULL): RSS baseline \(megabytes(baseline)), peak \(megabytes(peak)), after \(megabytes(after)); "
                   + "good messages during \(during["received"] - before["received"])")
            #expect(during["received"] > before["received"], "the good client was not served during the slowloris")
            #expect(final["damaged"] == 0 && final["reordered"] == 0, "\(final)")
            if server == .swift {
                let opened = connections - slow.refused
                #expect(slow.open == 0, "\(slow.open) slow connections were still open")
                #expect(final["handshake_failures"] >= opened, "not every closed handshake was reported: \(final)")
                #expect(final.errors("HANDSHAKE_TIMEOUT") + final["events_dropped"] >= opened, "\(final)")
                #expect(after - baseline < 16 * 1_048_576, "memory stayed up: \(megabytes(baseline)) -> \(megabytes(after))")
            }
        }
    }
}

/// Raw connections that send a NULL greeting one octet per ``dribble()`` (every 300 ms), each
/// watched for the server closing it.
final class Slowloris {
    private var connections: [(connection: RawConnection, opened: ContinuousClock.Instant, sent: Int)?] = []
    /// Seconds from connect to the server's close, one per closed connection.
    private(set) var closeTimes: [Double] = []
    private(set) var refused = 0

    var open: Int { connections.count { $0 != nil } }

    init(port: UInt16, connections count: Int) {
        for _ in 0..<count {
            // Thousands of connects at once can overrun the listener's backlog; an attacker
            // tries again, and so does this one, three times.
            var attempt = 0
            while attempt < 3 {
                if let connection = RawConnection(port: port) {
                    connections.append((connection, ContinuousClock.now, 0))
                    break
                }
                attempt += 1
                usleep(50_000)
            }
            if attempt == 3 { refused += 1 }
        }
    }

    /// Sends each open connection its next greeting octet, then waits up to 300 ms for closes.
    func dribble() {
        for index in connections.indices {
            guard var entry = connections[index] else { continue }
            if entry.sent < HandBuilt.nullGreeting.count, entry.connection.send([HandBuilt.nullGreeting[entry.sent]]) == .sent {
                entry.sent += 1
            }
            connections[index] = entry
        }
        let deadline = ContinuousClock.now + .milliseconds(300)
        repeat {
            var descriptors = connections.compactMap { $0.map { pollfd(fd: $0.connection.fd, events: Int16(POLLIN), revents: 0) } }
            guard !descriptors.isEmpty, poll(&descriptors, nfds_t(descriptors.count), 50) > 0 else { continue }
            let ready = Set(descriptors.filter { $0.revents != 0 }.map(\.fd))
            for index in connections.indices {
                guard let entry = connections[index], ready.contains(entry.connection.fd) else { continue }
                if entry.connection.closedByPeer(within: 0) {
                    closeTimes.append(seconds(since: entry.opened))
                    connections[index] = nil
                }
            }
        } while ContinuousClock.now < deadline
    }

    func closeAll() { connections.removeAll() }
}
