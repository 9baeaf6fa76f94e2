#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
import ZMTPConformance

/// The runner against a peer that is already running: a ROUTER bound by the test (through a
/// shim's --bind), which the runner connects to once per case. Only the cases that need a plain
/// ROUTER are played, judged on the wire; every other case is skipped with the difference.
@Suite("Running endpoint")
struct RunningEndpointTests {
    @Test("a running libzmq ROUTER passes every case that fits its set-up, and the rest are skipped with the reason")
    func libzmqRouter() throws {
        try play(peer: ["/usr/bin/python3", LiveConformanceTests.root + "/Vectors/shims/libzmq-shim.py"], implementation: "libzmq")
    }

    @Test("a running zmqcat ROUTER passes every case that fits its set-up")
    func zmqcatRouter() throws {
        let zmqcat = try #require(LiveConformanceTests.productNextToTests("zmqcat"), "zmqcat was not built next to the tests")
        try play(peer: [zmqcat, "shim"], implementation: nil)
    }

    func play(peer command: [String], implementation: String?) throws {
        signal(SIGPIPE, SIG_IGN)
        let port = try #require(Self.freePort(), "no free port on 127.0.0.1")
        let peer = Process()
        peer.executableURL = URL(fileURLWithPath: command[0])
        peer.arguments = Array(command.dropFirst()) + ["--type", "ROUTER", "--bind", "tcp://127.0.0.1:\(port)"]
        let input = Pipe()
        peer.standardInput = input
        peer.standardOutput = FileHandle.nullDevice
        peer.standardError = FileHandle.nullDevice
        try peer.run()
        defer {
            // End of input ends a shim; the signal is for one that does not listen.
            try? input.fileHandleForWriting.close()
            if peer.isRunning { peer.terminate() }
            peer.waitUntilExit()
        }
        try #require(Self.waitUntilAccepting(port), "the peer did not listen on port \(port) within 20 s")

        var options = ConformanceRunner.Options()
        options.endpoint = "tcp://127.0.0.1:\(port)"
        options.command = ["--type", "ROUTER"]
        options.implementation = implementation
        options.jobs = 4
        options.timing.patience = 15_000
        let cases = try ConformanceRunner.load(LiveConformanceTests.root + "/Vectors")
        let results = ConformanceRunner.run(cases, options: options, report: { _ in })
        #expect(results.count == cases.count)
        for result in results {
            if case .fail = result.outcome { Issue.record(Comment(rawValue: result.line(json: false))) }
        }
        let passed = results.filter { $0.outcome == .pass }
        #expect(passed.count >= 8, "only \(passed.count) cases passed against the running ROUTER")
        // What was played needs a plain ROUTER; what needs anything else says what differs.
        let mismatched = results.filter { if case .skip(let why) = $0.outcome { return why.contains("set-up differs") }; return false }
        #expect(mismatched.count > 100)
        #expect(mismatched.contains { $0.line(json: false).contains("it is a ROUTER socket, the case needs SUB") })
    }

    /// A port nothing listens on now (bound, read, released).
    static func freePort() -> UInt16? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        return ok ? UInt16(bigEndian: address.sin_port) : nil
    }

    /// Connects (and hangs up) until the port accepts, for at most 20 s.
    static func waitUntilAccepting(_ port: UInt16) -> Bool {
        for _ in 0..<400 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { return false }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = port.bigEndian
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            close(fd)
            if connected { return true }
            usleep(50_000)
        }
        return false
    }
}
