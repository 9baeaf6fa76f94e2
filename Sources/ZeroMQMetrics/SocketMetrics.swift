// swift-metrics is a dependency only for those who enable the package trait "Metrics"
// (`.package(url: …, from: …, traits: ["Metrics"])`); without it this module is empty.
#if Metrics
import CoreMetrics
import ZeroMQ

/// Exports a socket's ``/ZeroMQ/SocketStatistics`` through swift-metrics, to whatever backend
/// the application bootstrapped (Prometheus, StatsD, OpenTelemetry, …). With no backend, the
/// counters go nowhere and cost next to nothing.
///
/// The socket counts on its own thread; call ``record(_:)`` with `socket.statistics` when it
/// suits you (every second from the loop that owns the socket, say). Each call adds what
/// happened since the previous one to the counters, all with the dimension `socket` set to the
/// label you chose:
///
/// | Counter | What |
/// |---|---|
/// | `zeromq_messages_sent_total`, `zeromq_messages_received_total` | whole messages |
/// | `zeromq_bytes_sent_total`, `zeromq_bytes_received_total` | bytes of every part |
/// | `zeromq_messages_dropped_total` (`cause`: `hwm`, `no_route`) | drops the pattern allows |
/// | `zeromq_connections_total` (`side`: `accepted`, `connected`) | connections made |
/// | `zeromq_reconnects_total` | connect attempts retried |
/// | `zeromq_handshakes_total` (`result`: `succeeded`, `failed`) | ZMTP handshakes |
/// | `zeromq_disconnections_total` | connections that ended |
/// | `zeromq_accept_failures_total` | failed attempts to accept a pending connection |
/// | `zeromq_accept_exhaustions_total` | episodes of accept running out of descriptors or memory |
///
/// ```swift
/// var metrics = SocketMetrics(label: "orders")
/// metrics.record(socket.statistics)
/// ```
public struct SocketMetrics {
    private struct Counters {
        let messagesSent, messagesReceived, bytesSent, bytesReceived: Counter
        let droppedAtHighWaterMark, droppedNoRoute: Counter
        let accepted, connected, reconnects, handshakesSucceeded, handshakesFailed, disconnections: Counter
        let acceptFailures, acceptExhaustions: Counter
    }

    /// The value of the `socket` dimension.
    public let label: String
    private let counters: Counters
    private var last = SocketStatistics()

    /// Creates the socket's counters in `factory`, all at zero until the first ``record(_:)``.
    ///
    /// - Parameters:
    ///   - label: the value of every metric's `socket` dimension, so one backend can tell
    ///     sockets apart; keep it stable across restarts.
    ///   - factory: where the counters go (the bootstrapped backend by default).
    public init(label: String, factory: any MetricsFactory = MetricsSystem.factory) {
        self.label = label
        func counter(_ name: String, _ extra: [(String, String)] = []) -> Counter {
            Counter(label: name, dimensions: [("socket", label)] + extra, factory: factory)
        }
        counters = Counters(
            messagesSent: counter("zeromq_messages_sent_total"),
            messagesReceived: counter("zeromq_messages_received_total"),
            bytesSent: counter("zeromq_bytes_sent_total"),
            bytesReceived: counter("zeromq_bytes_received_total"),
            droppedAtHighWaterMark: counter("zeromq_messages_dropped_total", [("cause", "hwm")]),
            droppedNoRoute: counter("zeromq_messages_dropped_total", [("cause", "no_route")]),
            accepted: counter("zeromq_connections_total", [("side", "accepted")]),
            connected: counter("zeromq_connections_total", [("side", "connected")]),
            reconnects: counter("zeromq_reconnects_total"),
            handshakesSucceeded: counter("zeromq_handshakes_total", [("result", "succeeded")]),
            handshakesFailed: counter("zeromq_handshakes_total", [("result", "failed")]),
            disconnections: counter("zeromq_disconnections_total"),
            acceptFailures: counter("zeromq_accept_failures_total"),
            acceptExhaustions: counter("zeromq_accept_exhaustions_total"))
    }

    /// Adds to the counters what `statistics` counts beyond the previous call's.
    public mutating func record(_ statistics: SocketStatistics) {
        Self.add(statistics.messagesSent, last.messagesSent, to: counters.messagesSent)
        Self.add(statistics.messagesReceived, last.messagesReceived, to: counters.messagesReceived)
        Self.add(statistics.bytesSent, last.bytesSent, to: counters.bytesSent)
        Self.add(statistics.bytesReceived, last.bytesReceived, to: counters.bytesReceived)
        Self.add(UInt64(statistics.dropped.atHighWaterMark), UInt64(last.dropped.atHighWaterMark), to: counters.droppedAtHighWaterMark)
        Self.add(UInt64(statistics.dropped.noRoute), UInt64(last.dropped.noRoute), to: counters.droppedNoRoute)
        Self.add(statistics.connectionsAccepted, last.connectionsAccepted, to: counters.accepted)
        Self.add(statistics.connectionsMade, last.connectionsMade, to: counters.connected)
        Self.add(statistics.reconnects, last.reconnects, to: counters.reconnects)
        Self.add(statistics.handshakesSucceeded, last.handshakesSucceeded, to: counters.handshakesSucceeded)
        Self.add(statistics.handshakeFailures, last.handshakeFailures, to: counters.handshakesFailed)
        Self.add(statistics.disconnections, last.disconnections, to: counters.disconnections)
        Self.add(statistics.acceptFailures, last.acceptFailures, to: counters.acceptFailures)
        Self.add(statistics.acceptExhaustions, last.acceptExhaustions, to: counters.acceptExhaustions)
        last = statistics
    }

    private static func add(_ now: UInt64, _ before: UInt64, to counter: Counter) {
        guard now > before else { return }
        counter.increment(by: Int64(clamping: now - before))
    }
}
#else
#warning("ZeroMQMetrics is empty: enable the package trait \"Metrics\" (.package(url: …, from: …, traits: [\"Metrics\"]))")
#endif
