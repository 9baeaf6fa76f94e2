#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import ZeroMQTransport

/// The schedule a listener follows when accept runs out of resources (the listener itself is
/// exercised, out of descriptors for real, by ZeroMQTests' AcceptExhaustionTests).
@Suite("Accept back-off")
struct AcceptBackoffTests {
    @Test("only running out of descriptors or memory pauses the listener")
    func exhaustionErrors() {
        for code in [EMFILE, ENFILE, ENOBUFS, ENOMEM] { #expect(AcceptBackoff.isExhaustion(code), "errno \(code)") }
        for code in [EAGAIN, EINTR, ECONNABORTED, EPROTO, EPERM, EINVAL] { #expect(!AcceptBackoff.isExhaustion(code), "errno \(code)") }
    }

    @Test("pauses double from the initial pause up to the cap while attempts fail, and start short after an accept succeeds")
    func pausesGrowAndReset() {
        var episode = AcceptBackoff(error: .system("accept", EMFILE))
        var pauses = [episode.pauseMilliseconds]
        for _ in 0..<6 {
            episode.failedAgain()
            pauses.append(episode.pauseMilliseconds)
        }
        #expect(pauses == [100, 200, 400, 800, 1000, 1000, 1000])
        #expect(episode.failedAccepts == 7)
        episode.madeProgress()
        #expect(episode.pause == AcceptBackoff.initialPause)
        #expect(episode.failedAccepts == 7, "the episode's count survives progress: it ends when the backlog is drained")
        #expect(episode.error == .system("accept", EMFILE))
    }
}
