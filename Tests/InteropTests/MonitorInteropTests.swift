import Testing
import ZeroMQ

extension LibzmqInterop {
    /// libzmq's monitor format, published by a Swift socket and read by pyzmq's own parser.
    @Suite("Monitor in libzmq's format")
    struct MonitorFormat {
        @Test("pyzmq's parse_monitor_message reads our events: listening, accepted, handshake, disconnected, monitor stopped")
        func pyzmqReadsOurMonitor() throws {
            let context = try Context()
            let watched = try context.socket(.pull)
            watched.options.linger = .zero
            watched.options.receiveTimeout = .seconds(10)
            let monitorEndpoint = try watched.monitor(endpoint: "tcp://127.0.0.1:*")
            let reader = try LibzmqPeer(["--type", "PAIR", "--connect", monitorEndpoint, "--monitor-reader"])
            defer { reader.stop() }
            _ = try reader.waitForLine("STARTED")
            // Events before the reader's connection is up are dropped (as libzmq's are): bind
            // until one LISTENING reaches it.
            var bound = ""
            var heard = false
            for _ in 0..<100 where !heard {
                try watched.bind("tcp://127.0.0.1:*")
                bound = watched.lastEndpoint
                heard = (try? reader.waitForLine("MONEVENT LISTENING 0 \(bound)", timeoutMs: 200)) != nil
            }
            #expect(heard, "a LISTENING event reaches pyzmq")
            let client = try context.socket(.push)
            client.options.linger = .zero
            try client.connect(bound)
            try client.send("hello")
            #expect(try watched.receiveString() == "hello")
            client.close()
            _ = try reader.waitForLine("MONEVENT DISCONNECTED")
            watched.close()
            _ = try reader.waitForLine("MONEVENT MONITOR_STOPPED")
            let names = reader.lines("MONEVENT").map { $0.split(separator: " ")[1] }
            for expected in ["ACCEPTED", "HANDSHAKE_SUCCEEDED", "DISCONNECTED", "MONITOR_STOPPED"] {
                #expect(names.contains { $0 == expected }, "\(expected) in \(names)")
            }
            context.terminate()
        }
    }
}
