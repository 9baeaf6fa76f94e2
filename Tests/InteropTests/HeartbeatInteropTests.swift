import Testing
import ZMTP
import ZMTPSodium

extension LibzmqInterop {
    /// PING/PONG (RFC 37 §Connection Heartbeating) with libzmq's ZMQ_HEARTBEAT_* options, in
    /// plaintext and inside CURVE MESSAGE boxes.
    ///
    /// The tests idle for one second. Each side's heartbeat timeout is 300 ms, so a side that
    /// did not answer would be dropped well inside that second (the control test shows libzmq
    /// does); the assertions are on what happened (PINGs and PONGs on the wire, no disconnect),
    /// never on when.
    @Suite("Heartbeats") struct Heartbeats {
        static let idleMs = 1_000

        /// One connection setup: who connects, and NULL or CURVE (libzmq is the CURVE server).
        struct Case: Sendable, CustomTestStringConvertible {
            var direction: Direction
            var curve: Bool

            var testDescription: String { "\(curve ? "CURVE" : "NULL"), \(direction.testDescription)" }

            static let all = [
                Case(direction: .swiftConnects, curve: false),
                Case(direction: .libzmqConnects, curve: false),
                Case(direction: .swiftConnects, curve: true),
            ]

            func configuration() throws -> Connection.Configuration {
                guard curve else { return Connection.Configuration(socketType: .dealer) }
                return Connection.Configuration(
                    socketType: .dealer,
                    security: .curveClient(serverPublicKey: try CurveKeys.key(z85: ExampleKeys.serverPublic),
                                           keyPair: try ExampleKeys.client()))
            }

            var peerSecurity: [String] { curve ? ["--curve-server-secret=" + ExampleKeys.serverSecret] : [] }

            func start(peer arguments: [String], configuration: Connection.Configuration) throws -> (LibzmqPeer, BlockingDriver) {
                try startSession(
                    direction, peer: arguments + peerSecurity, configuration: configuration,
                    crypto: curve ? SodiumCurveCrypto() : nil)
            }

            /// A PING with TTL 0 and no context: a plaintext command, or a 40-byte MESSAGE data
            /// frame (16 header + 16 MAC + flags + `04 PING ttl`) over CURVE (libzmq.md §2.8).
            func isPing(_ frame: WireFrame) -> Bool {
                curve ? isMessageBox(frame, size: 40) : frame.isCommand && frame.body == [4] + utf8("PING") + [0, 0]
            }

            /// A PONG with no context: `04 PONG`, or a 38-byte MESSAGE data frame over CURVE.
            func isPong(_ frame: WireFrame) -> Bool {
                curve ? isMessageBox(frame, size: 38) : frame.isCommand && frame.body == [4] + utf8("PONG")
            }

            private func isMessageBox(_ frame: WireFrame, size: Int) -> Bool {
                frame.flags == 0 && frame.body.count == size && frame.body.starts(with: [7] + utf8("MESSAGE"))
            }
        }

        /// Frames that look like heartbeats but are not (every frame, for failure messages).
        static func describe(_ frames: [WireFrame]) -> String {
            frames.map { "\(hex([$0.flags])):\($0.body.count)" }.joined(separator: " ")
        }

        @Test("the core answers libzmq's PINGs with PONGs and libzmq stays connected", arguments: Case.all)
        func coreAnswersLibzmqPings(_ setup: Case) throws {
            let (peer, driver) = try setup.start(
                peer: ["--type", "ROUTER", "--heartbeat-ivl", "100", "--heartbeat-timeout", "300", "--monitor"],
                configuration: try setup.configuration())
            defer { peer.stop() }

            try #require(driver.run(
                until: { $0.peerInfo != nil && peer.events.contains { $0.name == "HANDSHAKE_SUCCEEDED" } }, "the handshake"))
            driver.idle(forMs: Self.idleMs)

            let pings = driver.framesReceived.filter(setup.isPing)
            let pongs = driver.framesSent.filter(setup.isPong)
            #expect(pings.count >= 2, "libzmq sent \(pings.count) PINGs: \(Self.describe(driver.framesReceived))")
            // Every PING read was answered in the same driver step.
            #expect(pongs.count == pings.count, "\(pongs.count) PONGs: \(Self.describe(driver.framesSent))")
            #expect(driver.failure == nil)
            #expect(!driver.streamClosed)

            // Still connected: a message goes through, and libzmq never reported a disconnect.
            driver.send([utf8("still"), utf8("here")])
            try #require(driver.run(until: { _ in peer.received.count >= 1 }, "a message after idling"))
            #expect(peer.received.first.map { Array($0.dropFirst()) } == [utf8("still"), utf8("here")])
            #expect(!peer.events.contains { $0.name == "DISCONNECTED" })
        }

        /// The control for the test above: the same libzmq settings do drop a peer that does not
        /// answer, so "no DISCONNECTED" there means the PONGs worked.
        @Test("control: libzmq drops a core that is no longer driven and so never answers its PINGs")
        func undrivenCoreIsDropped() throws {
            let (peer, driver) = try startSession(
                .swiftConnects,
                peer: ["--type", "ROUTER", "--heartbeat-ivl", "100", "--heartbeat-timeout", "300", "--monitor"],
                configuration: Connection.Configuration(socketType: .dealer))
            defer { peer.stop() }

            try #require(driver.run(
                until: { $0.peerInfo != nil && peer.events.contains { $0.name == "HANDSHAKE_SUCCEEDED" } }, "the handshake"))
            // From here on only the peer's output is read: the core sees no PING, sends no PONG.
            try peer.waitForLine("EVENT DISCONNECTED")
            #expect(driver.framesSent.filter { $0.isCommand && $0.body.starts(with: [4] + utf8("PONG")) }.isEmpty)
        }

        @Test("libzmq answers the core's PINGs, so the core's heartbeat timeout never fires", arguments: Case.all)
        func libzmqAnswersCorePings(_ setup: Case) throws {
            var configuration = try setup.configuration()
            configuration.heartbeatInterval = .milliseconds(100)
            configuration.heartbeatTimeout = .milliseconds(300)
            let (peer, driver) = try setup.start(peer: ["--type", "ROUTER", "--monitor"], configuration: configuration)
            defer { peer.stop() }

            try #require(driver.run(until: { $0.peerInfo != nil }, "the handshake"))
            driver.idle(forMs: Self.idleMs)

            let pings = driver.framesSent.filter(setup.isPing)
            let pongs = driver.framesReceived.filter(setup.isPong)
            #expect(pings.count >= 2, "the core sent \(pings.count) PINGs: \(Self.describe(driver.framesSent))")
            #expect(pongs.count >= 1, "libzmq answered \(pongs.count) PINGs: \(Self.describe(driver.framesReceived))")
            #expect(driver.failure == nil, "the heartbeat timeout fired: \(String(describing: driver.failure))")
            #expect(driver.connection.isReady)
            #expect(!driver.streamClosed)
            #expect(!peer.events.contains { $0.name == "DISCONNECTED" })
        }
    }
}
