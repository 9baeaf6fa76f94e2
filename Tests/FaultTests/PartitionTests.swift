#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing

extension FaultSuite {
    /// A partition between two network namespaces the test makes (a veth pair), made by dropping
    /// every packet silently with nftables: the link stays up, nothing says the peer is gone. With
    /// heartbeats the connection is declared dead and made again after the partition heals; without,
    /// TCP retransmits and the traffic resumes after the heal.
    @Suite("Partitions between network namespaces", .serialized,
           .enabled(if: FaultNamespace.available, "network namespaces and nftables need root, iproute2 and nft"))
    struct PartitionTests {
        struct Case: Sendable, CustomTestStringConvertible {
            var implementation: PeerProcess.Implementation
            var heartbeats: Bool
            var testDescription: String { "\(implementation), \(heartbeats ? "heartbeats" : "no heartbeats")" }
        }

        static let cases = [Case(implementation: .swift, heartbeats: true), Case(implementation: .swift, heartbeats: false),
                            Case(implementation: .libzmq, heartbeats: true), Case(implementation: .libzmq, heartbeats: false)]
        private static let subnet = Atomic<Int>(0)

        @Test("A silent partition (nftables drop): with heartbeats declared dead and reconnected after the heal, without them resumed by TCP; nothing reordered",
              arguments: cases)
        func silentPartition(_ test: Case) throws {
            let a = try FaultNamespace(), b = try FaultNamespace()
            let net = "10.213.\(100 + Self.subnet.add(1, ordering: .relaxed).oldValue % 100)"
            try a.link(to: b, address: "\(net).1", otherAddress: "\(net).2")
            let heartbeat = test.heartbeats ? ["--heartbeat-ms", "250", "--heartbeat-timeout-ms", "1500"] : []
            let receiver = try PeerProcess(test.implementation, ["receive", "tcp://\(net).2:5555"] + heartbeat, namespace: b.name)
            _ = try receiver.endpoint()
            let sender = try PeerProcess(test.implementation, ["send", "tcp://\(net).2:5555", "--run", "1", "--report", "1000000"] + heartbeat,
                                         namespace: a.name, name: "\(test.implementation) PUSH")
            try waitFor(receiver, "the first 5,000 messages") { $0["received"] >= 5_000 }

            try a.nft("""
                table inet partition {
                    chain output { type filter hook output priority 0; policy accept; ip daddr \(net).2 drop; }
                    chain input { type filter hook input priority 0; policy accept; ip saddr \(net).2 drop; }
                }
                """)
            let partitioned = ContinuousClock.now
            var detection = "-"
            if test.heartbeats && test.implementation == .swift {
                let dead = try waitFor(sender, "the sender declaring the connection dead") { $0["disconnected"] >= 1 }
                detection = String(format: "%.1f s", seconds(since: partitioned))
                #expect(dead.errors("HEARTBEAT_TIMEOUT") >= 1, "the sender's disconnection was not a heartbeat timeout: \(dead)")
                try waitFor(receiver, "the receiver declaring the connection dead") { $0["disconnected"] >= 1 }
            } else if test.heartbeats {
                // libzmq starts HEARTBEAT_TIMEOUT only when its engine encodes a PING, and a PUSH whose
                // send buffer filled in the partition encodes nothing more: whether its sender ever
                // declares the peer dead depends on whether a PING got out first. Its receiver, which
                // sends nothing else, always does; that is what this case waits for.
                try waitFor(receiver, "the receiver declaring the connection dead") { $0["disconnected"] >= 1 }
                detection = String(format: "%.1f s (receiver)", seconds(since: partitioned))
            } else {
                pause(5)
            }
            let duringPartition = try receiver.mark()
            try a.nft("delete table inet partition")
            let healed = ContinuousClock.now
            let resumed = try waitFor(receiver, within: .seconds(180), "traffic after the heal") {
                $0["received"] >= duringPartition["received"] + 5_000
            }
            let resumeSeconds = seconds(since: healed)
            let senderStatus = try sender.mark()
            try sender.quit()
            let final = try receiver.quit()

            figure("partition (\(test.testDescription)): partitioned \(String(format: "%.1f", seconds(since: partitioned) - resumeSeconds)) s, "
                   + "dead declared after \(detection), traffic resumed \(String(format: "%.1f", resumeSeconds)) s after the heal; "
                   + "sender disconnections \(senderStatus.fields["disconnected"] ?? "-") (errors \(senderStatus.fields["errors"] ?? "-")), "
                   + "receiver disconnections \(resumed.fields["disconnected"] ?? "-"); lost \(final["gaps"]), reordered \(final["reordered"])")
            #expect(final["reordered"] == 0 && final["damaged"] == 0, "\(final)")
            if test.implementation == .swift && !test.heartbeats {
                #expect(senderStatus["disconnected"] == 0, "a connection without heartbeats was dropped: \(senderStatus)")
                // TCP carried the stream through: nothing lost, no reconnection.
                #expect(final["gaps"] == 0, "\(final)")
            }
        }
    }
}
