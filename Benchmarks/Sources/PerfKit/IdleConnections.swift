import Foundation
import ZeroMQ
import ZMTP

extension PerfTool {
    /// `idle_conns <bind-endpoint> <connections>`: a ROUTER binds and prints `bound: <endpoint>`;
    /// once `connections` peers have each sent one message (Benchmarks/Tools/idle_clients.py
    /// makes them), it waits half a second and prints its resident memory against the baseline
    /// taken after binding.
    public static func idleConns(_ args: ArraySlice<String>) throws {
        let a = try arguments(args, "idle_conns <bind-endpoint> <connections>", count: 2)
        let connections = try positive(a[1], "connections")
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        limit.rlim_cur = limit.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)

        let context = try Context()
        let router = try context.socket(.router)
        router.options.linger = .zero
        try router.bind(a[0])
        var peers = Set<[UInt8]>()
        peers.reserveCapacity(connections)
        let baseline = ResidentMemory.current
        print("bound: \(router.lastEndpoint)")
        fflush(nil)
        while peers.count < connections {
            let parts = try router.receiveMultipart().parts
            if let id = parts.first { peers.insert(id.bytes) }
        }
        Thread.sleep(forTimeInterval: 0.5)
        let resident = ResidentMemory.current
        print("connections: \(connections)")
        print("baseline rss: \(baseline) [KiB]")
        print("rss: \(resident) [KiB]")
        print("peak rss: \(ResidentMemory.peak) [KiB]")
        print(String(format: "per connection: %.1f [KiB]", Double(resident - baseline) / Double(connections)))
        fflush(nil)
        router.close()
        context.terminate()
    }
}
