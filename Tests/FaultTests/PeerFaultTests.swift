#if canImport(Glibc)
import Glibc
#endif
import Testing

extension FaultSuite {
    /// Faults of a peer process: killed mid-stream, or too slow to keep up. Each socket runs in a
    /// process of its own (Swift's FaultPeer or libzmq's faults.py), so a kill is a real SIGKILL and
    /// memory is the process's own.
    @Suite("Peers killed or slow", .serialized)
    struct PeerFaultTests {
        /// What one kill -9 run measured.
        struct KillOutcome {
            var lastReported: Int
            var deliveredBeforeKill: Int
            var loss: Int { max(0, lastReported - deliveredBeforeKill) }
        }

        /// A PUSH (run 1) sends numbered messages to a PULL until SIGKILL; a restarted PUSH (run 2)
        /// sends 50,000 more and closes.
        func killMidStream(_ implementation: PeerProcess.Implementation, from senders: PeerProcess.Implementation) throws -> KillOutcome {
            let receiver = try PeerProcess(implementation, ["receive", "tcp://127.0.0.1:*"])
            let endpoint = try receiver.endpoint()
            let first = try PeerProcess(senders, ["send", endpoint, "--run", "1", "--report", "64"], name: "\(senders) PUSH run 1")
            try waitFor(receiver, "20,000 messages from run 1") { ($0.run(1)?.received ?? 0) >= 20_000 }
            first.kill9()
            let lastReported = Int(first.last("SENT ") ?? "") ?? 0
            // The PULL takes in what reached it before the kill: wait until run 1's count stops moving.
            var delivered = -1
            while true {
                pause(0.5)
                let now = try receiver.mark().run(1)?.received ?? 0
                if now == delivered { break }
                delivered = now
            }
            let second = try PeerProcess(senders, ["send", endpoint, "--run", "2", "--count", "50000", "--report", "10000",
                                                          "--linger-ms", "60000"], name: "\(senders) PUSH run 2")
            let secondDone = PeerStatus(try second.next("DONE ", within: .seconds(120)))
            let final = try waitFor(receiver, "run 2's 50,000 messages") { ($0.run(2)?.received ?? 0) >= 50_000 }
            try receiver.quit()

            let outcome = KillOutcome(lastReported: lastReported, deliveredBeforeKill: final.run(1)?.received ?? 0)
            figure("kill -9 (\(senders) PUSH -> \(implementation) PULL): sender reported \(lastReported) sent before SIGKILL, "
                   + "\(outcome.deliveredBeforeKill) delivered, loss \(outcome.loss) (the sender reports every 64); "
                   + "restarted sender: \(final.run(2)?.received ?? 0) of \(secondDone["sent_seq"]) delivered; "
                   + "gaps \(final["gaps"]), reordered \(final["reordered"]), damaged \(final["damaged"])")
            #expect(final["reordered"] == 0 && final["damaged"] == 0, "\(implementation): \(final)")
            // A TCP stream loses a tail, never a middle: what arrived of run 1 is a prefix.
            #expect(final.run(1).map { $0.last + 1 == $0.received } == true, "\(implementation): run 1 has holes: \(final)")
            #expect(final.run(2).map { $0.received == 50_000 && $0.last == 49_999 } == true, "\(implementation): \(final)")
            return outcome
        }

        @Test("kill -9 of a PUSH mid-stream: nothing duplicated or reordered, the restarted sender is served whole; loss side by side with libzmq")
        func killNineMidStream() throws {
            // Every pairing: loss is mostly the killed sender's queue, so the PULL is compared with
            // the same sender on both sides.
            var losses: [String] = []
            var swiftLoss = 0
            for (senders, receiver) in [(PeerProcess.Implementation.swift, PeerProcess.Implementation.swift), (.swift, .libzmq),
                                        (.libzmq, .swift), (.libzmq, .libzmq)] {
                let outcome = try killMidStream(receiver, from: senders)
                losses.append("\(senders) PUSH -> \(receiver) PULL \(outcome.loss)")
                if senders == .swift { swiftLoss = max(swiftLoss, outcome.loss) }
            }
            figure("kill -9: messages lost (each ± 64, SNDHWM 1000): \(losses.joined(separator: ", "))")
            // Loss is what the killed sender had queued (its pipe, bounded by SNDHWM, and its batch):
            // reported side by side, asserted only against that bound.
            #expect(swiftLoss <= 1_000 + 2 * 64 + 8_192, "a Swift PUSH lost \(swiftLoss) messages, more than its SNDHWM and batch can hold")
        }

        @Test("A consumer far slower than its PUSH: memory stays flat at the high-water mark and nothing is lost",
              arguments: [PeerProcess.Implementation.swift, .libzmq])
        func slowConsumerPushPull(_ implementation: PeerProcess.Implementation) throws {
            let scale = FaultScale.current
            let receiver = try PeerProcess(implementation, ["receive", "tcp://127.0.0.1:*", "--delay-us", "50"])
            let endpoint = try receiver.endpoint()
            let sender = try PeerProcess(implementation, ["send", endpoint, "--run", "1", "--report", "1000000", "--linger-ms", "300000"],
                                         name: "\(implementation) PUSH")
            try waitFor(receiver, "the first messages") { $0["received"] >= 1_000 }
            let (receiverSeries, senderSeries) = sampleMemory(receiver, sender, seconds: scale.slowConsumerSeconds)
            let sent = try sender.quit(within: .seconds(300))
            let final = try waitFor(receiver, within: .seconds(300), "every message sent") { ($0.run(1)?.received ?? 0) >= sent["sent_seq"] }
            try receiver.quit()

            figure("slow consumer PUSH/PULL (\(implementation)): RSS receiver \(describe(receiverSeries)), sender \(describe(senderSeries))")
            figure("slow consumer PUSH/PULL (\(implementation)): sent \(sent["sent_seq"]), delivered \(final.run(1)?.received ?? 0), "
                   + "gaps \(final["gaps"]), reordered \(final["reordered"]), damaged \(final["damaged"])")
            #expect(final["gaps"] == 0 && final["reordered"] == 0 && final["damaged"] == 0, "\(implementation): \(final)")
            if implementation == .swift {
                #expect(growth(receiverSeries) < 16 * 1_048_576, "the receiver grew: \(describe(receiverSeries))")
                #expect(growth(senderSeries) < 16 * 1_048_576, "the sender grew: \(describe(senderSeries))")
            }
        }

        @Test("A SUB far slower than its PUB: memory stays flat and the PUB counts what it drops at the high-water mark",
              arguments: [PeerProcess.Implementation.swift, .libzmq])
        func slowConsumerPubSub(_ implementation: PeerProcess.Implementation) throws {
            let scale = FaultScale.current
            let receiver = try PeerProcess(implementation, ["receive", "tcp://127.0.0.1:*", "--sub", "--delay-us", "50"])
            let endpoint = try receiver.endpoint()
            let sender = try PeerProcess(implementation, ["send", endpoint, "--pub", "--run", "1", "--report", "1000000",
                                                          "--linger-ms", "300000"], name: "\(implementation) PUB")
            try waitFor(receiver, "the first messages") { $0["received"] >= 1_000 }
            let (receiverSeries, senderSeries) = sampleMemory(receiver, sender, seconds: scale.slowConsumerSeconds)
            let sent = try sender.quit(within: .seconds(300))
            // The PUB's close delivered what it queued; the SUB takes it in, then stops moving.
            var final = try receiver.mark()
            while true {
                pause(0.5)
                let now = try receiver.mark()
                if now["received"] == final["received"] { break }
                final = now
            }
            try receiver.quit()

            let received = final["received"]
            figure("slow consumer PUB/SUB (\(implementation)): RSS receiver \(describe(receiverSeries)), sender \(describe(senderSeries))")
            figure("slow consumer PUB/SUB (\(implementation)): sent \(sent["sent_seq"]), delivered \(received), gaps seen by the SUB \(final["gaps"]), "
                   + "dropped as counted by the PUB \(sent.fields["pub_dropped"] ?? "-")"
                   + (implementation == .swift ? " (neither delivered nor counted \(sent["sent_seq"] - received - sent["pub_dropped"]))" : "")
                   + ", reordered \(final["reordered"]), damaged \(final["damaged"])")
            #expect(final["reordered"] == 0 && final["damaged"] == 0, "\(implementation): \(final)")
            if implementation == .swift {
                #expect(sent["pub_dropped"] > 0, "the PUB counted no drops: \(sent)")
                #expect(received + sent["pub_dropped"] <= sent["sent_seq"], "more delivered and dropped than sent: \(sent) \(final)")
                #expect(growth(receiverSeries) < 16 * 1_048_576, "the receiver grew: \(describe(receiverSeries))")
                #expect(growth(senderSeries) < 16 * 1_048_576, "the sender grew: \(describe(senderSeries))")
            }
        }

        /// Both processes' resident sets every half second for `seconds`, after a second's warm-up.
        func sampleMemory(_ first: PeerProcess, _ second: PeerProcess, seconds total: Double) -> ([Int], [Int]) {
            pause(1)
            var firstSeries: [Int] = [], secondSeries: [Int] = []
            let start = ContinuousClock.now
            while seconds(since: start) < total {
                firstSeries.append(first.memory().resident)
                secondSeries.append(second.memory().resident)
                pause(0.5)
            }
            return (firstSeries, secondSeries)
        }
    }
}

/// How much a series of memory samples rose above its first sample.
func growth(_ series: [Int]) -> Int {
    guard let first = series.first, let top = series.max() else { return 0 }
    return top - first
}

/// `first -> last (min..max, n samples)`.
func describe(_ series: [Int]) -> String {
    guard let first = series.first, let last = series.last, let low = series.min(), let high = series.max() else { return "no samples" }
    return "\(megabytes(first)) -> \(megabytes(last)) (min \(megabytes(low)), max \(megabytes(high)), \(series.count) samples)"
}
