#if Metrics  // ZeroMQMetrics has content with the package trait "Metrics" only
import MetricsTestKit
import Testing
import ZeroMQ
import ZeroMQMetrics

@Suite("swift-metrics export")
struct SocketMetricsTests {
    @Test("Deltas of the statistics reach the backend's counters, with the socket's label")
    func countersFollowTheStatistics() throws {
        let backend = TestMetrics()
        let context = try Context()
        let endpoint = "inproc://metrics-\(UInt64.random(in: 0 ... .max))"
        let router = try context.socket(.router)
        router.options.linger = .zero
        try router.bind(endpoint)
        let dealer = try context.socket(.dealer)
        dealer.options.linger = .zero
        try dealer.connect(endpoint)
        var metrics = SocketMetrics(label: "edge", factory: backend)
        try dealer.send("one")
        _ = try router.receiveMultipart()
        try router.send([Message(string: "unknown"), Message(string: "dropped")])
        metrics.record(router.statistics)
        try dealer.send("two")
        _ = try router.receiveMultipart()
        metrics.record(router.statistics)
        metrics.record(router.statistics)  // nothing new: nothing added

        let received = try backend.expectCounter("zeromq_messages_received_total", [("socket", "edge")])
        #expect(received.totalValue == 2)
        let noRoute = try backend.expectCounter("zeromq_messages_dropped_total", [("socket", "edge"), ("cause", "no_route")])
        #expect(noRoute.totalValue == 1)
        let bytes = try backend.expectCounter("zeromq_bytes_received_total", [("socket", "edge")])
        #expect(bytes.totalValue == Int64(router.statistics.bytesReceived))
    }
}
#endif  // Metrics
