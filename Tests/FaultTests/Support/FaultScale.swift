#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// How long and how large each fault test runs: CI's short versions by default, the issue's
/// long versions with `SWIFT_ZEROMQ_LONG_FAULTS=1` (scripts/faults.sh --long).
struct FaultScale: Sendable {
    /// Seconds of garbage flood.
    var floodSeconds: Double
    /// Hostile clients in the flood.
    var floodClients: Int
    /// Seconds of the soak, and how often it samples memory.
    var soakSeconds: Double
    var soakSampleSeconds: Double
    /// Slowloris connections held open at once.
    var slowlorisConnections: Int
    /// Seconds the slow consumer runs.
    var slowConsumerSeconds: Double

    static let current: FaultScale = {
        if let value = getenv("SWIFT_ZEROMQ_LONG_FAULTS"), String(cString: value) == "1" {
            return FaultScale(floodSeconds: 30, floodClients: 50, soakSeconds: 600, soakSampleSeconds: 10,
                              slowlorisConnections: 5_000, slowConsumerSeconds: 60)
        }
        return FaultScale(floodSeconds: 10, floodClients: 50, soakSeconds: 30, soakSampleSeconds: 2,
                          slowlorisConnections: 200, slowConsumerSeconds: 8)
    }()

    var isLong: Bool { soakSeconds > 60 }
}

/// The memory target for a socket under hostile load (issue 13: "the server stays under 64 MB").
let hostileMemoryBound = 64 * 1_048_576

/// Polls `peer`'s counters (MARK) every 100 ms until `condition` holds; the last counters. Throws
/// when `timeout` passes first: the bound is generous, never a measurement.
@discardableResult
func waitFor(_ peer: PeerProcess, within timeout: Duration = .seconds(60), _ what: String,
             _ condition: (PeerStatus) -> Bool) throws -> PeerStatus {
    let deadline = ContinuousClock.now + timeout
    while true {
        let status = try peer.mark()
        if condition(status) { return status }
        guard ContinuousClock.now < deadline else { throw FaultError("\(peer.name): \(what) did not happen within \(timeout); last \(status)") }
        usleep(100_000)
    }
}

/// Seconds since `start`, as a Double, for rates.
func seconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

/// The port of a `tcp://host:port` endpoint.
func port(of endpoint: String) throws -> UInt16 {
    guard let text = endpoint.split(separator: ":").last, let port = UInt16(text) else { throw FaultError("no port in \(endpoint)") }
    return port
}

/// Sleeps `seconds` (a test's phase length: a figure's window, never an assertion).
func pause(_ seconds: Double) { usleep(UInt32(seconds * 1_000_000)) }
