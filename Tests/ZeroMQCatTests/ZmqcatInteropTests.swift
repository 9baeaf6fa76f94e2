#if Tools  // zmqcat is built with the package trait "Tools" only (Package.swift)
import Foundation
import Testing
import ZeroMQCat

/// zmqcat run in-process (its streams in memory) against real libzmq peers (pyzmq on Debian's
/// libzmq 4.3, `Peers/zmq_peer.py`). One test at a time: each starts a python process, and the
/// machine has two cores. Every wait is bounded; nothing asserts on time.
@Suite("zmqcat", .serialized) enum ZmqcatTests {}

extension ZmqcatTests {
    @Suite("Talking to libzmq") struct Interop {
        @Test("zmqcat PUSH sends each stdin line to a libzmq PULL")
        func pushSendsLinesToLibzmq() async throws {
            let (peer, endpoint) = try LibzmqPeer.bound(["--type", "PULL"])
            defer { peer.stop() }
            let run = await zmqcat(["push", "--connect", endpoint, "--timeout", "10"], stdin: "one\ntwo\nthree\n")
            #expect(run.status == .success, "\(run.stderr)")
            #expect(try peer.waitForMessages(3) == [[bytes("one")], [bytes("two")], [bytes("three")]])
        }

        @Test("zmqcat PULL prints a libzmq PUSH's messages, frames joined by TAB")
        func pullPrintsLibzmqMessages() async throws {
            let (peer, endpoint) = try LibzmqPeer.bound(
                ["--type", "PUSH", "--send", hex(bytes("hello")), "--send", hex(bytes("a")) + "|" + hex(bytes("b"))])
            defer { peer.stop() }
            let run = await zmqcat(["pull", "--connect", endpoint, "-n", "2", "--timeout", "10"])
            #expect(run.status == .success, "\(run.stderr)")
            #expect(run.lines == ["hello", "a\tb"])
        }

        @Test("zmqcat PULL binds and a libzmq PUSH connects to it (ipc)")
        func pullBindsForLibzmq() async throws {
            let endpoint = freshIPC()
            defer { removeIPC(endpoint) }
            let peer = try LibzmqPeer(["--type", "PUSH", "--connect", endpoint, "--send", hex(bytes("over ipc"))])
            defer { peer.stop() }
            try peer.waitForLine("STARTED")
            let run = await zmqcat(["pull", "--bind", endpoint, "-n", "1", "--timeout", "10"])
            #expect(run.status == .success, "\(run.stderr)")
            #expect(run.lines == ["over ipc"])
        }

        @Test("zmqcat REQ sends each -m and prints a libzmq REP's replies")
        func requestPrintsReplies() async throws {
            let (peer, endpoint) = try LibzmqPeer.bound(["--type", "REP", "--echo"])
            defer { peer.stop() }
            let run = await zmqcat(["req", "--connect", endpoint, "-m", "ping", "-m", "pong", "--timeout", "10"])
            #expect(run.status == .success, "\(run.stderr)")
            #expect(run.lines == ["ping", "pong"])
            #expect(try peer.waitForMessages(2) == [[bytes("ping")], [bytes("pong")]])
        }

        @Test("a libzmq REQ gets zmqcat REP's -m reply; without -m, REP echoes")
        func replyAnswersLibzmq() async throws {
            for (replyArguments, expected) in [(["-m", "answer"], "answer"), ([], "question")] {
                let endpoint = freshIPC()
                defer { removeIPC(endpoint) }
                let peer = try LibzmqPeer(["--type", "REQ", "--connect", endpoint, "--send", hex(bytes("question"))])
                defer { peer.stop() }
                try peer.waitForLine("STARTED")
                let run = await zmqcat(["rep", "--bind", endpoint, "-n", "1", "--timeout", "10"] + replyArguments)
                #expect(run.status == .success, "\(run.stderr)")
                #expect(run.lines == ["question"])
                #expect(try peer.waitForMessages(1) == [[bytes(expected)]])
            }
        }

        @Test("zmqcat DEALER sends a --multipart message to a libzmq ROUTER and prints its echo")
        func dealerMultipartRoundTrip() async throws {
            let (peer, endpoint) = try LibzmqPeer.bound(["--type", "ROUTER", "--echo"])
            defer { peer.stop() }
            let run = await zmqcat(["dealer", "--connect", endpoint, "--identity", "cat", "--multipart",
                                    "-m", "a", "-m", "", "-m", "c", "-n", "1", "--timeout", "10"])
            #expect(run.status == .success, "\(run.stderr)")
            #expect(run.lines == ["a\t\tc"])
            // The ROUTER saw our routing id first.
            #expect(try peer.waitForMessages(1) == [[bytes("cat"), bytes("a"), [], bytes("c")]])
        }

        @Test("stdin with --multipart: lines up to an empty line are one message")
        func multipartFromStdin() async throws {
            let (peer, endpoint) = try LibzmqPeer.bound(["--type", "PULL"])
            defer { peer.stop() }
            let run = await zmqcat(["push", "--connect", endpoint, "--multipart", "--timeout", "10"],
                                   stdin: "a\nb\n\nc\n")
            #expect(run.status == .success, "\(run.stderr)")
            #expect(try peer.waitForMessages(2) == [[bytes("a"), bytes("b")], [bytes("c")]])
        }

        @Test("--input hex and --separator turn a line into frames")
        func hexAndSeparatorInput() async throws {
            let (peer, endpoint) = try LibzmqPeer.bound(["--type", "PULL"])
            defer { peer.stop() }
            let hexRun = await zmqcat(["push", "--connect", endpoint, "--input", "hex", "--timeout", "10"],
                                      stdin: "6869 00ff\n")
            #expect(hexRun.status == .success, "\(hexRun.stderr)")
            let textRun = await zmqcat(["push", "--connect", endpoint, "-s", ",", "-m", "x,,y", "--timeout", "10"])
            #expect(textRun.status == .success, "\(textRun.stderr)")
            #expect(try peer.waitForMessages(2) == [[bytes("hi"), [0x00, 0xFF]], [bytes("x"), [], bytes("y")]])
        }

        @Test("zmqcat SUB prints only the topics it subscribed to")
        func subscribeFilters() async throws {
            let endpoint = freshIPC()
            defer { removeIPC(endpoint) }
            // The PUB keeps publishing (the subscription reaches it some time after connecting).
            let messages = (0..<200).flatMap { [hex(bytes("other \($0)")), hex(bytes("news \($0)"))] }
            let peer = try LibzmqPeer(["--type", "PUB", "--connect", endpoint, "--send-interval", "0.02"]
                                      + messages.flatMap { ["--send", $0] })
            defer { peer.stop() }
            let run = await zmqcat(["sub", "--bind", endpoint, "--subscribe", "news", "-n", "3", "--timeout", "10"])
            #expect(run.status == .success, "\(run.stderr)")
            #expect(run.lines.count == 3)
            #expect(run.lines.allSatisfy { $0.hasPrefix("news ") }, "\(run.lines)")
        }
    }

    @Suite("Count and rate") struct Counting {
        @Test("-n repeats -m: zmqcat PUSH sends exactly COUNT messages; --rate reports them")
        func pushCount() async throws {
            let (peer, endpoint) = try LibzmqPeer.bound(["--type", "PULL"])
            defer { peer.stop() }
            let run = await zmqcat(["push", "--connect", endpoint, "-m", "x", "-m", "y", "-n", "50", "--rate", "--timeout", "10"])
            #expect(run.status == .success, "\(run.stderr)")
            let received = try peer.waitForMessages(50)
            #expect(received.count == 50)
            #expect(received.prefix(4) == [[bytes("x")], [bytes("y")], [bytes("x")], [bytes("y")]])
            #expect(run.stderr.contains("sent 50 messages"), "\(run.stderr)")
        }

        @Test("-n stops a PULL after COUNT messages; -q prints none, --rate counts them")
        func pullCountQuiet() async throws {
            let sends = (1...5).flatMap { ["--send", hex(bytes("m\($0)"))] }
            let (peer, endpoint) = try LibzmqPeer.bound(["--type", "PUSH"] + sends)
            defer { peer.stop() }
            let run = await zmqcat(["pull", "--connect", endpoint, "-n", "3", "-q", "--rate", "--timeout", "10"])
            #expect(run.status == .success, "\(run.stderr)")
            #expect(run.output.data.isEmpty)
            #expect(run.stderr.contains("received 3 messages"), "\(run.stderr)")
        }
    }

    @Suite("Output formats") struct Formats {
        @Test("--format hex prints each frame in hex, joined by the separator")
        func hexFormat() async throws {
            let (peer, endpoint) = try LibzmqPeer.bound(["--type", "PUSH", "--send", hex(bytes("hello")) + "|00ff"])
            defer { peer.stop() }
            let run = await zmqcat(["pull", "--connect", endpoint, "-n", "1", "-f", "hex", "--timeout", "10"])
            #expect(run.status == .success, "\(run.stderr)")
            #expect(run.lines == ["68656c6c6f\t00ff"])
        }

        @Test("--format json: one object per message, its parts in UTF-8 or hex, with the peer's properties")
        func jsonFormat() async throws {
            let (peer, endpoint) = try LibzmqPeer.bound(
                ["--type", "PUSH", "--send", hex(bytes("hi \"you\"\n")) + "|" + hex(bytes("x")), "--send", "00ff"])
            defer { peer.stop() }
            let run = await zmqcat(["pull", "--connect", endpoint, "-n", "2", "-f", "json", "--timeout", "10"])
            #expect(run.status == .success, "\(run.stderr)")
            try #require(run.lines.count == 2, "\(run.lines)")
            let text = try #require(jsonObject(run.lines[0]), "\(run.lines[0])")
            #expect(text["encoding"] as? String == "utf-8")
            #expect(text["parts"] as? [String] == ["hi \"you\"\n", "x"])
            let properties = try #require(text["properties"] as? [String: String])
            #expect(properties["Socket-Type"] == "PUSH")
            let binary = try #require(jsonObject(run.lines[1]), "\(run.lines[1])")
            #expect(binary["encoding"] as? String == "hex")
            #expect(binary["parts"] as? [String] == ["00ff"])
            #expect((binary["properties"] as? [String: String])?["Socket-Type"] == "PUSH")
        }

        @Test("--format json from a ROUTER: the binary routing id makes the parts hex; a binary Identity is a hex property")
        func jsonFromRouter() async throws {
            let (peer, endpoint) = try LibzmqPeer.bound(["--type", "DEALER", "--identity", "00ff", "--send", hex(bytes("hi"))])
            defer { peer.stop() }
            let run = await zmqcat(["router", "--connect", endpoint, "--recv", "-n", "1", "-f", "json", "--timeout", "10"])
            #expect(run.status == .success, "\(run.stderr)")
            let object = try #require(run.lines.first.flatMap(jsonObject), "\(run.lines)")
            #expect(object["encoding"] as? String == "hex")
            #expect(object["parts"] as? [String] == ["00ff", hex(bytes("hi"))])
            #expect((object["properties"] as? [String: String])?["Socket-Type"] == "DEALER")
            #expect((object["hex_properties"] as? [String: String])?["Identity"] == "00ff")
        }
    }
}
#endif  // Tools
