#if canImport(Glibc)
import Glibc
#endif
import Testing

extension FaultSuite {
    /// A soak: a PULL serving one steady PUSH and a stream of short-lived ones (a new connection
    /// every 3 s), its memory sampled at intervals. CI runs 30 s; the long version 10 minutes.
    @Suite("Soak", .serialized)
    struct SoakTests {
        @Test("A PULL under steady traffic and connection churn keeps its memory flat and every message")
        func soakWithChurn() throws {
            let scale = FaultScale.current
            let receiver = try PeerProcess(.swift, ["receive", "tcp://127.0.0.1:*"])
            let endpoint = try receiver.endpoint()
            let steady = try PeerProcess(.swift, ["send", endpoint, "--run", "1", "--report", "1000000", "--linger-ms", "60000"], name: "steady PUSH")
            try waitFor(receiver, "the first messages") { $0["received"] >= 1_000 }

            var samples: [Int] = []
            var shortRuns = 0
            var lastSample = ContinuousClock.now - .seconds(3600)
            let start = ContinuousClock.now
            while seconds(since: start) < scale.soakSeconds {
                shortRuns += 1
                let short = try PeerProcess(.swift, ["send", endpoint, "--run", "\(1 + shortRuns)", "--count", "5000", "--report", "1000000",
                                                     "--linger-ms", "60000"], name: "short PUSH \(shortRuns)")
                _ = try short.next("DONE ", within: .seconds(120))
                _ = short.waitForExit(within: .seconds(30))
                while seconds(since: lastSample) >= scale.soakSampleSeconds || samples.isEmpty {
                    samples.append(receiver.memory().resident)
                    lastSample = ContinuousClock.now
                }
                pause(min(3, scale.soakSampleSeconds))
            }
            let sent = try steady.quit(within: .seconds(120))
            let final = try waitFor(receiver, within: .seconds(120), "every message of every run") { status in
                (status.run(1)?.received ?? 0) >= sent["sent_seq"]
                    && (2...(1 + shortRuns)).allSatisfy { (status.run($0)?.received ?? 0) >= 5_000 }
            }
            let memory = receiver.memory()
            try receiver.quit()

            let half = samples.count / 2
            let firstHalf = samples[..<max(1, half)].max() ?? 0, secondHalf = samples[half...].max() ?? 0
            figure("soak (Swift PULL, \(Int(scale.soakSeconds)) s, \(shortRuns) short-lived PUSH connections + 1 steady): RSS \(describe(samples)); "
                   + "peak \(megabytes(memory.peak)); first half max \(megabytes(firstHalf)), second half max \(megabytes(secondHalf))")
            figure("soak: \(final["received"]) messages (steady \(sent["sent_seq"])), gaps \(final["gaps"]), reordered \(final["reordered"]), "
                   + "damaged \(final["damaged"]), disconnections \(final["disconnected"])")
            #expect(final["gaps"] == 0 && final["reordered"] == 0 && final["damaged"] == 0, "\(final)")
            #expect(secondHalf - firstHalf < 8 * 1_048_576, "memory grew over the soak: \(describe(samples))")
        }
    }
}
