#if Tools  // zmqcat is built with the package trait "Tools" only (Package.swift)
import Foundation
import Testing
import ZeroMQCat
import ZMTPSodium

extension ZmqcatTests {
    @Suite("keygen, CURVE and PLAIN") struct Security {
        @Test("keygen: the printed secret key gives the printed public key, here and in libzmq")
        func keygenRoundTrip() async throws {
            let run = await zmqcat(["keygen"])
            #expect(run.status == .success, "\(run.stderr)")
            let keys = try #require(keyPair(run), "\(run.lines)")
            #expect(keys.public.count == 40 && keys.secret.count == 40)
            #expect(try CurveKeys.publicKey(z85SecretKey: keys.secret) == keys.public)
            // libzmq's zmq_curve_public agrees.
            let libzmqPublic = try python("import sys, zmq; print(zmq.curve_public(sys.argv[1].encode()).decode())", [keys.secret])
            #expect(libzmqPublic == keys.public)
            // keygen --secret prints the same pair again.
            let again = await zmqcat(["keygen", "--secret", keys.secret])
            #expect(keyPair(again)?.public == keys.public)
            #expect(keyPair(again)?.secret == keys.secret)
            // Two runs make different pairs.
            let other = try #require(keyPair(await zmqcat(["keygen"])))
            #expect(other.secret != keys.secret)
        }

        @Test("a Z85 key that starts with '@' is a key, not a file name")
        func keyStartingWithAt() async throws {
            // 0xfc05fc01 = 81 × 85⁴: its first Z85 digit is 81, which is "@".
            let secret = try CurveKeys.z85([0xFC, 0x05, 0xFC, 0x01] + (1...28).map { UInt8($0) })
            try #require(secret.hasPrefix("@"))
            let run = await zmqcat(["keygen", "--secret", secret])
            #expect(run.status == .success, "\(run.stderr)")
            #expect(keyPair(run)?.public == (try CurveKeys.publicKey(z85SecretKey: secret)))
        }

        @Test("keygen --format json")
        func keygenJSON() async throws {
            let run = await zmqcat(["keygen", "--format", "json"])
            let object = try #require(run.lines.first.flatMap(jsonObject), "\(run.lines)")
            let secret = try #require(object["secret"] as? String)
            #expect(try CurveKeys.publicKey(z85SecretKey: secret) == object["public"] as? String)
        }

        @Test("zmqcat CURVE client (keys from keygen) talks to a libzmq CURVE server")
        func curveClientToLibzmqServer() async throws {
            let server = try #require(keyPair(await zmqcat(["keygen"])))
            let (peer, endpoint) = try LibzmqPeer.bound(["--type", "REP", "--echo", "--curve-server-secret=" + server.secret])
            defer { peer.stop() }
            let run = await zmqcat(["req", "--connect", endpoint, "--curve-serverkey=" + server.public,
                                    "-m", "secret message", "--timeout", "10", "-v"])
            #expect(run.status == .success, "\(run.stderr)")
            #expect(run.lines == ["secret message"])
            #expect(run.stderr.contains("HANDSHAKE_SUCCEEDED"), "\(run.stderr)")
        }

        @Test("a libzmq CURVE client talks to a zmqcat CURVE server whose keys are in a keygen file")
        func libzmqClientToCurveServer() async throws {
            let keygen = await zmqcat(["keygen"])
            let server = try #require(keyPair(keygen))
            let keyFile = "/tmp/zmqcat-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).key"
            try keygen.output.text.write(toFile: keyFile, atomically: true, encoding: .utf8)
            defer { unlink(keyFile) }
            let endpoint = freshIPC()
            defer { removeIPC(endpoint) }
            let peer = try LibzmqPeer(["--type", "REQ", "--connect", endpoint, "--curve-server-key=" + server.public,
                                       "--send", hex(bytes("hello"))])
            defer { peer.stop() }
            try peer.waitForLine("STARTED")
            let run = await zmqcat(["rep", "--bind", endpoint, "--curve-server", "--curve-secret", "@" + keyFile,
                                    "-m", "world", "-n", "1", "--timeout", "10"])
            #expect(run.status == .success, "\(run.stderr)")
            #expect(run.lines == ["hello"])
            #expect(try peer.waitForMessages(1) == [[bytes("world")]])
        }

        @Test("a zmqcat CURVE server with --curve-allow serves the allowed client and refuses another (status 3)")
        func curveAllow() async throws {
            let server = try #require(keyPair(await zmqcat(["keygen"])))
            let allowed = try #require(keyPair(await zmqcat(["keygen"])))
            let stranger = try #require(keyPair(await zmqcat(["keygen"])))
            for (client, served) in [(allowed, true), (stranger, false)] {
                let endpoint = freshIPC()
                defer { removeIPC(endpoint) }
                let peer = try LibzmqPeer(["--type", "REQ", "--connect", endpoint, "--curve-server-key=" + server.public,
                                           "--curve-secret=" + client.secret, "--send", hex(bytes("knock"))])
                defer { peer.stop() }
                try peer.waitForLine("STARTED")
                let run = await zmqcat(["rep", "--bind", endpoint, "--curve-server", "--curve-secret=" + server.secret,
                                        "--curve-allow=" + allowed.public, "-n", "1", "--timeout", served ? "10" : "1"])
                if served {
                    #expect(run.status == .success, "\(run.stderr)")
                    #expect(run.lines == ["knock"])
                    #expect(try peer.waitForMessages(1) == [[bytes("knock")]])
                } else {
                    #expect(run.status == .connectionFailed, "\(run.stderr)")
                    #expect(run.stderr.contains("HANDSHAKE_FAILED"), "\(run.stderr)")
                    #expect(run.lines.isEmpty)
                }
            }
        }

        @Test("the wrong CURVE server key: the handshake fails, exit status 3")
        func wrongServerKey() async throws {
            let server = try #require(keyPair(await zmqcat(["keygen"])))
            let impostor = try #require(keyPair(await zmqcat(["keygen"])))
            let (peer, endpoint) = try LibzmqPeer.bound(["--type", "REP", "--echo", "--curve-server-secret=" + server.secret])
            defer { peer.stop() }
            let run = await zmqcat(["req", "--connect", endpoint, "--curve-serverkey=" + impostor.public,
                                    "-m", "hello", "--timeout", "1"])
            #expect(run.status == .connectionFailed, "\(run.stderr)")
            #expect(run.lines.isEmpty)
            #expect(peer.received.isEmpty)
        }

        @Test("PLAIN against libzmq with ZAP: the right password is served, a wrong one exits 3")
        func plainAgainstLibzmq() async throws {
            let (peer, endpoint) = try LibzmqPeer.bound(["--type", "REP", "--echo", "--plain-server", "admin", "s3cret"])
            defer { peer.stop() }
            let good = await zmqcat(["req", "--connect", endpoint, "--plain-user", "admin", "--plain-password", "s3cret",
                                     "-m", "let me in", "--timeout", "10"])
            #expect(good.status == .success, "\(good.stderr)")
            #expect(good.lines == ["let me in"])
            let bad = await zmqcat(["req", "--connect", endpoint, "--plain-user", "admin", "--plain-password", "guess",
                                    "-m", "let me in", "--timeout", "1"])
            #expect(bad.status == .connectionFailed, "\(bad.stderr)")
            #expect(bad.lines.isEmpty)
            try peer.waitForLine("ZAP PLAIN 400")
        }

        @Test("a bad CURVE key is a usage error (status 1), before anything connects")
        func badKeyIsUsage() async throws {
            let run = await zmqcat(["req", "--connect", "tcp://127.0.0.1:5555", "--curve-serverkey", "not-a-key", "-m", "x"])
            #expect(run.status == .usage)
            #expect(run.stderr.contains("40 characters"), "\(run.stderr)")
        }
    }
}
#endif  // Tools
