#if Tools  // zmqcat is built with the package trait "Tools" only (Package.swift)
import Foundation
import Testing
import ZeroMQ
@testable import ZeroMQCat

/// What a script driving zmqcat against libzmq peers needs: any socket option by libzmq's
/// name, echo servers, paced sends, steps, explicit empty frames, a PUB that does not publish
/// into the void, and JSON that other tools read.
extension ZmqcatTests {
    @Suite("--sockopt") struct SocketOptionNames {
        @Test("libzmq's names and units set the typed options")
        func namesMapToOptions() throws {
            var options = SocketOptions()
            for text in ["heartbeat_ivl=100ms", "heartbeat_timeout=250", "heartbeat_ttl=2s", "maxmsgsize=1024",
                         "ZMQ_SNDHWM=7", "rcvhwm=0", "linger=-1", "xpub_verbose=1", "router_mandatory=true",
                         "tcp_keepalive=1", "tcp_keepalive_idle=30", "tcp_keepalive_intvl=-1", "reconnect_ivl=-1",
                         "handshake_ivl=0", "routing_id=0x00ff", "connect_routing_id=peer", "metadata=X-Role:probe",
                         "stream_notify=0", "recovery_ivl=1500"] {
                try SocketOptionAssignment(parsing: text).apply(to: &options)
            }
            #expect(options.heartbeatInterval == .milliseconds(100))
            #expect(options.heartbeatTimeout == .milliseconds(250))
            #expect(options.heartbeatTTL == .seconds(2))
            #expect(options.maxMessageSize == 1024)
            #expect(options.sendHighWaterMark == 7)
            #expect(options.receiveHighWaterMark == 0)
            #expect(options.linger == nil)
            #expect(options.xpubVerbose)
            #expect(options.routerMandatory)
            #expect(options.tcpKeepalive == true)
            #expect(options.tcpKeepaliveIdleTime == .seconds(30))
            #expect(options.tcpKeepaliveInterval == nil)
            #expect(options.reconnectInterval == nil)
            #expect(options.handshakeInterval == nil)
            #expect(options.routingId == [0x00, 0xFF])
            #expect(options.connectRoutingId == bytes("peer"))
            #expect(options.metadata.string("X-Role") == "probe")
            #expect(!options.streamNotify)
            #expect(options.recoveryInterval == .milliseconds(1500))
        }

        @Test("an unknown name or a bad value: status 1 and a message that names it")
        func badNamesAndValues() async {
            let cases = [("no_such_option=1", "unknown socket option 'no_such_option'"),
                         ("heartbeat_ivl=soon", "heartbeat_ivl=soon"),
                         ("sndhwm=-5", "sndhwm=-5"),
                         ("router_mandatory=maybe", "expected 0 or 1"),
                         ("routing_id=0xzz", "routing_id=0xzz"),
                         ("linger", "NAME=VALUE"),
                         ("rcvtimeo=10", "--timeout")]
            for (assignment, complaint) in cases {
                let run = await zmqcat(["dealer", "--connect", "tcp://127.0.0.1:1", "--sockopt", assignment])
                #expect(run.status == .usage, "\(assignment)")
                #expect(run.stderr.contains(complaint), "\(assignment): \(run.stderr)")
            }
        }

        @Test("'zmqcat options' lists every name; --help points to it")
        func listing() async {
            let run = await zmqcat(["options"])
            #expect(run.status == .success)
            for name in ["heartbeat_ivl", "maxmsgsize", "xpub_verbose", "router_mandatory", "sndhwm", "rcvhwm",
                         "linger", "routing_id", "tcp_keepalive_idle"] {
                #expect(run.lines.contains { $0.hasPrefix("  \(name) ") }, "\(name)")
            }
            let help = await zmqcat(["--help"])
            #expect(help.output.text.contains("zmqcat options"))
        }

        @Test("routing_id set by --sockopt, in text or 0x hex, is what a libzmq ROUTER sees")
        func routingIdReachesLibzmq() async throws {
            let (peer, endpoint) = try LibzmqPeer.bound(["--type", "ROUTER"])
            defer { peer.stop() }
            for value in ["cat", "0x00ff"] {
                let run = await zmqcat(["dealer", "--connect", endpoint, "--sockopt", "routing_id=\(value)",
                                        "--send", "-m", "hi", "--timeout", "10"])
                #expect(run.status == .success, "\(run.stderr)")
            }
            let received = try peer.waitForMessages(2)
            #expect(Set(received.map { $0.first ?? [] }) == [bytes("cat"), [0x00, 0xFF]])
        }

        @Test("xpub_verbose=1: zmqcat XPUB passes on a second libzmq SUB's subscription to the same topic")
        func xpubVerbose() async throws {
            for verbose in [true, false] {
                let endpoint = freshIPC()
                defer { removeIPC(endpoint) }
                let subscribers = try (0..<2).map { _ in
                    try LibzmqPeer(["--type", "SUB", "--connect", endpoint, "--subscribe", hex(bytes("t"))])
                }
                defer { subscribers.forEach { $0.stop() } }
                for subscriber in subscribers { try subscriber.waitForLine("STARTED") }
                let run = await zmqcat(["xpub", "--bind", endpoint, "--recv", "-n", "2", "-f", "hex", "--timeout", verbose ? "10" : "3"]
                                       + (verbose ? ["--sockopt", "xpub_verbose=1"] : []))
                if verbose {
                    #expect(run.status == .success, "\(run.stderr)")
                    #expect(run.lines == ["0174", "0174"])
                } else {
                    // libzmq's default: a topic already subscribed to is not passed on again.
                    #expect(run.status == .timeout, "\(run.stderr)")
                    #expect(run.lines == ["0174"])
                }
            }
        }

        @Test("router_mandatory=1: a send to an unknown routing id fails (status 3) instead of vanishing")
        func routerMandatory() async throws {
            let endpoint = freshIPC()
            defer { removeIPC(endpoint) }
            let dropped = await zmqcat(["router", "--bind", endpoint, "-s", ",", "--send", "-m", "nobody,x", "--timeout", "5"])
            #expect(dropped.status == .success, "\(dropped.stderr)")
            let refused = await zmqcat(["router", "--bind", endpoint, "-s", ",", "--send", "-m", "nobody,x", "--timeout", "5",
                                        "--sockopt", "router_mandatory=1"])
            #expect(refused.status == .connectionFailed, "\(refused.stderr)")
            #expect(refused.stderr.contains("no peer with routing id"), "\(refused.stderr)")
        }

        @Test("maxmsgsize: a libzmq PUSH's message over the limit never arrives; the next connection's small one does")
        func maxMessageSize() async throws {
            let (large, largeEndpoint) = try LibzmqPeer.bound(["--type", "PUSH", "--send", hex(Array(repeating: 0x61, count: 100))])
            defer { large.stop() }
            let refused = await zmqcat(["pull", "--connect", largeEndpoint, "-n", "1", "--timeout", "2", "--sockopt", "maxmsgsize=64"])
            #expect(refused.status == .timeout, "\(refused.stderr)")
            #expect(refused.lines.isEmpty)
            let (small, smallEndpoint) = try LibzmqPeer.bound(["--type", "PUSH", "--send", hex(bytes("small"))])
            defer { small.stop() }
            let accepted = await zmqcat(["pull", "--connect", smallEndpoint, "-n", "1", "--timeout", "10", "--sockopt", "maxmsgsize=64"])
            #expect(accepted.status == .success, "\(accepted.stderr)")
            #expect(accepted.lines == ["small"])
        }
    }

    @Suite("--echo") struct Echo {
        @Test("zmqcat ROUTER --echo returns a libzmq DEALER's multipart message, empty frame included")
        func routerEcho() async throws {
            let endpoint = freshIPC()
            defer { removeIPC(endpoint) }
            let peer = try LibzmqPeer(["--type", "DEALER", "--connect", endpoint,
                                       "--send", hex(bytes("a")) + "||" + hex(bytes("b")), "--send", hex(bytes("x"))])
            defer { peer.stop() }
            try peer.waitForLine("STARTED")
            let run = await zmqcat(["router", "--bind", endpoint, "--echo", "-n", "2", "--timeout", "10", "-q"])
            #expect(run.status == .success, "\(run.stderr)")
            #expect(try peer.waitForMessages(2) == [[bytes("a"), [], bytes("b")], [bytes("x")]])
        }

        @Test("zmqcat DEALER --echo returns what a libzmq DEALER sends")
        func dealerEcho() async throws {
            let (peer, endpoint) = try LibzmqPeer.bound(["--type", "DEALER", "--send", hex(bytes("p")) + "|" + hex(bytes("q"))])
            defer { peer.stop() }
            let run = await zmqcat(["dealer", "--connect", endpoint, "--echo", "-n", "1", "--timeout", "10"])
            #expect(run.status == .success, "\(run.stderr)")
            #expect(run.lines == ["p\tq"])
            #expect(try peer.waitForMessages(1) == [[bytes("p"), bytes("q")]])
        }

        @Test("zmqcat STREAM --echo returns a plain TCP client's bytes (the connect notice is not echoed)")
        func streamEcho() async throws {
            let client = try RawTCPClient(send: "hello stream")
            defer { client.stop() }
            let run = await zmqcat(["stream", "--connect", "tcp://127.0.0.1:\(client.port)", "--echo", "-n", "1", "--timeout", "10", "-f", "hex"])
            #expect(run.status == .success, "\(run.stderr)")
            #expect(try client.reply() == "hello stream")
            // [id][] on connect, then [id][data].
            #expect(run.lines.count == 2)
            #expect(run.lines.first?.hasSuffix("\t-") == true, "\(run.lines)")
        }

        @Test("--echo is refused for types that cannot echo, and with -m")
        func echoValidation() async {
            for arguments in [["push", "--echo"], ["dealer", "--echo", "-m", "x"], ["router", "--echo", "--send"]] {
                let run = await zmqcat(arguments + ["--connect", "tcp://127.0.0.1:1"])
                #expect(run.status == .usage, "\(arguments)")
                #expect(run.stderr.contains("--echo"), "\(run.stderr)")
            }
        }
    }

    @Suite("Several messages, pacing, steps") struct Sequencing {
        @Test("-n counts echoes but no longer cuts off -m values waiting on --delay and --interval")
        func countWaitsForPendingMessages() async throws {
            let (peer, endpoint) = try LibzmqPeer.bound(["--type", "ROUTER", "--echo"])
            defer { peer.stop() }
            let run = await zmqcat(["dealer", "--connect", endpoint, "-m", "a", "-m", "b", "-m", "c",
                                    "--delay", "0.2", "--interval", "100ms", "-n", "1", "--timeout", "10"])
            #expect(run.status == .success, "\(run.stderr)")
            #expect(run.lines.first == "a")
            #expect(try peer.waitForMessages(3).map { $0.last ?? [] } == [bytes("a"), bytes("b"), bytes("c")])
        }

        @Test("a PUB with -n and --interval: a libzmq SUB gets every message (the PUB waited for it)")
        func pubIntervalReachesSubscriber() async throws {
            let (peer, endpoint) = try LibzmqPeer.bound(["--type", "SUB", "--subscribe", ""])
            defer { peer.stop() }
            let run = await zmqcat(["pub", "--connect", endpoint, "-m", "tick", "-m", "tock", "-n", "5",
                                    "--interval", "20ms", "--timeout", "10"])
            #expect(run.status == .success, "\(run.stderr)")
            #expect(try peer.waitForMessages(5) == [[bytes("tick")], [bytes("tock")], [bytes("tick")], [bytes("tock")], [bytes("tick")]])
        }

        @Test("--then: a DEALER receives a libzmq DEALER's question, then sends its answer")
        func receiveThenSend() async throws {
            let (peer, endpoint) = try LibzmqPeer.bound(["--type", "DEALER", "--send", hex(bytes("question"))])
            defer { peer.stop() }
            let run = await zmqcat(["dealer", "--connect", endpoint, "--recv", "-n", "1", "--timeout", "10",
                                    "--then", "--send", "-m", "answer", "-m", "more"])
            #expect(run.status == .success, "\(run.stderr)")
            #expect(run.lines == ["question"])
            #expect(try peer.waitForMessages(2) == [[bytes("answer")], [bytes("more")]])
        }

        @Test("--then: a ROUTER learns a libzmq DEALER's routing id, then (router_mandatory) addresses it")
        func routerReplyAfterReceive() async throws {
            let endpoint = freshIPC()
            defer { removeIPC(endpoint) }
            let peer = try LibzmqPeer(["--type", "DEALER", "--connect", endpoint, "--identity", hex(bytes("known")),
                                       "--send", hex(bytes("hello"))])
            defer { peer.stop() }
            try peer.waitForLine("STARTED")
            let run = await zmqcat(["router", "--bind", endpoint, "-s", ",", "--sockopt", "router_mandatory=1",
                                    "--recv", "-n", "1", "--timeout", "10", "--then", "--send", "-m", "known,welcome"])
            #expect(run.status == .success, "\(run.stderr)")
            #expect(run.lines == ["known,hello"])
            #expect(try peer.waitForMessages(1) == [[bytes("welcome")]])
        }

        @Test("a --then step is checked like the first part: status 1")
        func stepValidation() async {
            let run = await zmqcat(["pull", "--connect", "tcp://127.0.0.1:1", "--then", "--send", "-m", "x"])
            #expect(run.status == .usage)
            #expect(run.stderr.contains("only receive"), "\(run.stderr)")
            let subcommand = await zmqcat(["keygen", "--then", "-m", "x"])
            #expect(subcommand.status == .usage)
        }
    }

    @Suite("Empty frames in hex") struct EmptyHexFrames {
        @Test("-f hex prints an empty frame as '-'; --input hex reads '-' as one")
        func emptyFrameToken() async throws {
            let (pushPeer, pushEndpoint) = try LibzmqPeer.bound(["--type", "PUSH", "--send", "|" + hex(bytes("a")) + "|", "--send", ""])
            defer { pushPeer.stop() }
            let printed = await zmqcat(["pull", "--connect", pushEndpoint, "-n", "2", "-f", "hex", "--timeout", "10"])
            #expect(printed.status == .success, "\(printed.stderr)")
            #expect(printed.lines == ["-\t61\t-", "-"])

            let (pullPeer, pullEndpoint) = try LibzmqPeer.bound(["--type", "PULL"])
            defer { pullPeer.stop() }
            let sent = await zmqcat(["push", "--connect", pullEndpoint, "--input", "hex", "--timeout", "10"], stdin: "- 61 -\n-\n")
            #expect(sent.status == .success, "\(sent.stderr)")
            #expect(try pullPeer.waitForMessages(2) == [[[], bytes("a"), []], [[]]])
        }
    }

    @Suite("A PUB with nobody to send to") struct LonelyPublisher {
        @Test("no subscriber within --timeout: status 2, and stderr says nothing was sent")
        func waitsThenFails() async {
            let endpoint = freshIPC()
            defer { removeIPC(endpoint) }
            let run = await zmqcat(["pub", "--bind", endpoint, "-m", "into the void", "--timeout", "0.5"])
            #expect(run.status == .timeout)
            #expect(run.stderr.contains("no subscriber"), "\(run.stderr)")
        }

        @Test("--no-wait sends at once: status 0, with a warning that it went to nobody")
        func noWaitWarns() async {
            let endpoint = freshIPC()
            defer { removeIPC(endpoint) }
            let run = await zmqcat(["pub", "--bind", endpoint, "-m", "into the void", "--no-wait"])
            #expect(run.status == .success, "\(run.stderr)")
            #expect(run.stderr.contains("went to nobody"), "\(run.stderr)")
        }

        @Test("a PUB waits for a libzmq SUB that connects late, then delivers; -v shows the subscription")
        func waitsForLateSubscriber() async throws {
            let endpoint = freshIPC()
            defer { removeIPC(endpoint) }
            async let run = zmqcat(["pub", "--bind", endpoint, "-m", "first", "-v", "--timeout", "120"])
            let peer = try LibzmqPeer(["--type", "SUB", "--connect", endpoint, "--subscribe", ""])
            defer { peer.stop() }
            // zmqcat first: the peer's wait blocks this thread, and zmqcat's run needs one of the
            // cooperative pool's (two, here), which the suite's other blocking tests may hold.
            let result = await run
            #expect(try peer.waitForMessages(1) == [[bytes("first")]])
            #expect(result.status == .success, "\(result.stderr)")
            #expect(result.stderr.contains("subscribe ''"), "\(result.stderr)")
        }
    }

    @Suite("JSON lines") struct JSONLines {
        @Test("every -f json line parses with python3's json module, frames intact")
        func pythonReadsJSON() async throws {
            let awkward = ["quote \" backslash \\ slash /", "tab\tnewline\ncr\r", "\u{01}\u{1F}\u{7F}", "é ✓ 🚀", ""]
            let (peer, endpoint) = try LibzmqPeer.bound(["--type", "PUSH",
                                                         "--send", awkward.map { hex(bytes($0)) }.joined(separator: "|"),
                                                         "--send", "00ff|",
                                                         "--send", ""])
            defer { peer.stop() }
            let run = await zmqcat(["pull", "--connect", endpoint, "-n", "3", "-f", "json", "--timeout", "10"])
            #expect(run.status == .success, "\(run.stderr)")
            try #require(run.lines.count == 3, "\(run.lines)")
            // python3 reads each line, and answers with what it understood (parts re-encoded in hex).
            let code = """
                import json, sys
                for line in sys.argv[1:]:
                    o = json.loads(line)
                    assert set(o) <= {"encoding", "parts", "properties", "hex_properties"}, o
                    assert isinstance(o["properties"], dict)
                    parts = [p.encode("utf-8") if o["encoding"] == "utf-8" else bytes.fromhex(p) for p in o["parts"]]
                    print(o["encoding"], "|".join(p.hex() for p in parts), o["properties"]["Socket-Type"])
                """
            let understood = try python(code, run.lines).split(separator: "\n").map(String.init)
            #expect(understood == ["utf-8 " + awkward.map { hex(bytes($0)) }.joined(separator: "|") + " PUSH",
                                   "hex 00ff| PUSH",
                                   "utf-8  PUSH"])
        }

        @Test("monitor -f json and keygen -f json lines parse with python3's json module")
        func pythonReadsEventsAndKeys() async throws {
            let (peer, endpoint) = try LibzmqPeer.bound(["--type", "ROUTER"])
            defer { peer.stop() }
            let events = await zmqcat(["monitor", "dealer", "--connect", endpoint, "--until-handshake", "-f", "json", "--timeout", "10"])
            #expect(events.status == .success, "\(events.stderr)")
            let keys = await zmqcat(["keygen", "-f", "json"])
            #expect(keys.status == .success)
            let code = """
                import json, sys
                for line in sys.argv[1:]:
                    o = json.loads(line)
                    print(o.get("event") or ("keys" if set(o) == {"public", "secret"} else "?"))
                """
            let understood = try python(code, events.lines + keys.lines).split(separator: "\n").map(String.init)
            #expect(understood.last == "keys")
            #expect(understood.contains("HANDSHAKE_SUCCEEDED"), "\(understood)")
            #expect(!understood.contains("?"))
        }
    }
}

/// A plain TCP client in Debian's python (no ZeroMQ): it listens on a free port, takes one
/// connection (from a zmqcat STREAM), sends its text, and prints what comes back.
final class RawTCPClient {
    private let process = Process()
    private let output = Pipe()
    let port: Int

    init(send text: String) throws {
        let code = """
            import socket, sys
            server = socket.socket(); server.bind(("127.0.0.1", 0)); server.listen(1); server.settimeout(20)
            print(server.getsockname()[1], flush=True)
            connection, _ = server.accept(); connection.settimeout(20)
            connection.sendall(sys.argv[1].encode())
            received = b""
            while len(received) < len(sys.argv[1].encode()):
                chunk = connection.recv(4096)
                if not chunk: break
                received += chunk
            print(received.decode(), flush=True)
            """
        process.executableURL = URL(fileURLWithPath: LibzmqPeer.python)
        process.arguments = ["-c", code, text]
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PYTHON") }
        process.standardOutput = output
        try process.run()
        var line: [UInt8] = []
        while !line.contains(0x0A) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line += chunk
        }
        guard let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            throw PeerFailure("the TCP client printed no port")
        }
        self.port = port
    }

    /// What the client got back (it waits up to 20 s for it, then ends).
    func reply() throws -> String {
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}
#endif  // Tools
