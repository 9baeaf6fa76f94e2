#if Tools  // zmqcat is built with the package trait "Tools" only (Package.swift)
import Foundation
import Testing
import ZeroMQCat

extension ZmqcatTests {
    @Suite("Exit statuses") struct ExitStatuses {
        @Test("nothing received within --timeout: status 2")
        func nothingReceived() async throws {
            let endpoint = freshIPC()
            defer { removeIPC(endpoint) }
            let run = await zmqcat(["pull", "--bind", endpoint, "--timeout", "0.3"])
            #expect(run.status == .timeout)
            #expect(run.stderr.contains("nothing received"), "\(run.stderr)")
        }

        @Test("fewer than COUNT messages within --timeout: status 2, the ones that came printed")
        func fewerThanCount() async throws {
            let (peer, endpoint) = try LibzmqPeer.bound(["--type", "PUSH", "--send", hex(bytes("only one"))])
            defer { peer.stop() }
            let run = await zmqcat(["pull", "--connect", endpoint, "-n", "2", "--timeout", "1"])
            #expect(run.status == .timeout)
            #expect(run.lines == ["only one"])
            #expect(run.stderr.contains("received 1 of 2"), "\(run.stderr)")
        }

        @Test("a REQ whose peer never replies: status 2")
        func noReply() async throws {
            // A ROUTER that takes requests and answers none.
            let (peer, endpoint) = try LibzmqPeer.bound(["--type", "ROUTER"])
            defer { peer.stop() }
            let run = await zmqcat(["req", "--connect", endpoint, "-m", "anyone?", "--timeout", "0.5"])
            #expect(run.status == .timeout)
            #expect(run.stderr.contains("no reply"), "\(run.stderr)")
            #expect(try peer.waitForMessages(1).first?.last == bytes("anyone?"))
        }

        @Test("a PUSH bound with no peer: the send times out, status 2")
        func noPeerToSendTo() async throws {
            let endpoint = freshIPC()
            defer { removeIPC(endpoint) }
            let run = await zmqcat(["push", "--bind", endpoint, "-m", "lost", "--timeout", "0.3"])
            #expect(run.status == .timeout)
            #expect(run.stderr.contains("no peer took"), "\(run.stderr)")
        }

        @Test("connection refused: status 3, for a receiver and for a sender")
        func connectionRefused() async throws {
            let endpoint = "ipc:///tmp/zmqcat-test-\(getpid())-nobody-there.ipc"
            let receiver = await zmqcat(["pull", "--connect", endpoint, "--timeout", "0.5"])
            #expect(receiver.status == .connectionFailed, "\(receiver.stderr)")
            #expect(receiver.stderr.contains("CONNECT_RETRIED"), "\(receiver.stderr)")
            let sender = await zmqcat(["push", "--connect", endpoint, "-m", "lost", "--timeout", "0.5"])
            #expect(sender.status == .connectionFailed, "\(sender.stderr)")
            #expect(sender.stderr.contains("not delivered"), "\(sender.stderr)")
        }

        @Test("an address in use: status 3")
        func addressInUse() async throws {
            let (peer, endpoint) = try LibzmqPeer.bound(["--type", "PULL"])
            defer { peer.stop() }
            let run = await zmqcat(["pull", "--bind", endpoint, "--timeout", "0.2"])
            #expect(run.status == .connectionFailed, "\(run.stderr)")
        }

        @Test("bad usage: status 1 and a message on stderr", arguments: [
            ["bogus", "--connect", "tcp://127.0.0.1:5555"],   // not a socket type
            ["push"],                                         // no endpoint
            ["push", "--connect", "localhost:5555"],          // not an endpoint
            ["push", "--connect", "tcp://127.0.0.1:5555", "--frobnicate"],
            ["pull", "--connect", "tcp://127.0.0.1:5555", "--send"],
            ["req", "--connect", "tcp://127.0.0.1:5555", "--recv"],
            ["push", "--connect", "tcp://127.0.0.1:5555", "--subscribe", "x"],
            ["pull", "--connect", "tcp://127.0.0.1:5555", "-n", "0"],
            ["push", "--connect", "tcp://127.0.0.1:5555", "--plain-user", "u", "--curve-serverkey", "x"],
            ["push", "--connect", "nope://somewhere", "-m", "x"],
            ["monitor", "pull"],
            ["keygen", "--secret", "short"],
        ])
        func badUsage(arguments: [String]) async throws {
            let run = await zmqcat(arguments)
            #expect(run.status == .usage)
            #expect(!run.stderr.isEmpty)
            #expect(run.output.data.isEmpty)
        }

        @Test("--help prints the usage, the defaults by type and the exit statuses: status 0")
        func help() async throws {
            for arguments in [["--help"], ["help"], ["help", "monitor"], ["keygen", "--help"]] {
                let run = await zmqcat(arguments)
                #expect(run.status == .success)
                #expect(run.output.text.contains("USAGE: zmqcat"), "\(arguments)")
            }
            let help = await zmqcat(["--help"]).output.text
            #expect(help.contains("EXIT STATUS"))
            #expect(help.contains("130"))
            #expect(help.contains("--curve-serverkey"))
        }

        @Test("malformed hex input: status 4, after the good lines went out")
        func badInput() async throws {
            let (peer, endpoint) = try LibzmqPeer.bound(["--type", "PULL"])
            defer { peer.stop() }
            let run = await zmqcat(["push", "--connect", endpoint, "--input", "hex", "--linger", "5"], stdin: "6869\nzz\n")
            #expect(run.status == .failure)
            #expect(run.stderr.contains("not hex"), "\(run.stderr)")
            #expect(try peer.waitForMessages(1) == [[bytes("hi")]])
        }
    }

    @Suite("monitor") struct Monitor {
        @Test("monitor prints LISTENING, ACCEPTED and HANDSHAKE_SUCCEEDED for a libzmq peer's connection")
        func monitorBound() async throws {
            let endpoint = freshIPC()
            defer { removeIPC(endpoint) }
            let peer = try LibzmqPeer(["--type", "PUSH", "--connect", endpoint])
            defer { peer.stop() }
            try peer.waitForLine("STARTED")
            let run = await zmqcat(["monitor", "pull", "--bind", endpoint, "-n", "3", "--timeout", "10"])
            #expect(run.status == .success, "\(run.stderr)")
            #expect(run.lines.map { String($0.prefix { $0 != " " }) } == ["LISTENING", "ACCEPTED", "HANDSHAKE_SUCCEEDED"])
            #expect(run.lines.allSatisfy { $0.contains(endpoint) }, "\(run.lines)")
        }

        @Test("monitor --until-handshake --format json: ends at the handshake with status 0")
        func monitorUntilHandshake() async throws {
            let (peer, endpoint) = try LibzmqPeer.bound(["--type", "ROUTER"])
            defer { peer.stop() }
            let run = await zmqcat(["monitor", "dealer", "--connect", endpoint, "--until-handshake", "-f", "json", "--timeout", "10"])
            #expect(run.status == .success, "\(run.stderr)")
            let events = run.lines.compactMap { jsonObject($0)?["event"] as? String }
            #expect(events.count == run.lines.count, "\(run.lines)")
            #expect(events.last == "HANDSHAKE_SUCCEEDED")
            #expect(events.contains("CONNECTED"))
        }

        @Test("monitor --until-handshake with nobody there: the retries are printed, status 3")
        func monitorRefused() async throws {
            let endpoint = "ipc:///tmp/zmqcat-test-\(getpid())-nobody-there.ipc"
            let run = await zmqcat(["monitor", "dealer", "--connect", endpoint, "--until-handshake", "--timeout", "0.5"])
            #expect(run.status == .connectionFailed, "\(run.stderr)")
            #expect(run.lines.contains { $0.hasPrefix("CONNECT_RETRIED") }, "\(run.lines)")
        }

        @Test("-v prints the connection events of a run on stderr")
        func verboseEvents() async throws {
            let (peer, endpoint) = try LibzmqPeer.bound(["--type", "PULL"])
            defer { peer.stop() }
            let run = await zmqcat(["push", "--connect", endpoint, "-m", "x", "-v", "--timeout", "10"])
            #expect(run.status == .success, "\(run.stderr)")
            #expect(run.stderr.contains("zmqcat: HANDSHAKE_SUCCEEDED \(endpoint)"), "\(run.stderr)")
        }
    }
}
#endif  // Tools
