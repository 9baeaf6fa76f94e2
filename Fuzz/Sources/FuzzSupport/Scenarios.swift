@_spi(Testing) @_spi(Draft) import ZMTP

// The connection harnesses' set-ups, shared by the targets (what to fuzz) and their seed writers
// (what a valid peer would send).

/// One message the application queues before any byte arrives, so that every run also checks
/// that queued parts go out (sealed, under CURVE) once the handshake completes.
public let queuedMessage = Message(Array(utf8: "queued by the application"))

// MARK: - PLAIN server

public enum PlainServerHarness {
    public static let socketType = SocketType.router
    public static let peerType = SocketType.dealer

    public static var configuration: Connection.Configuration {
        var configuration = Connection.Configuration(socketType: socketType, security: .plainServer(zapDomain: "fuzz"))
        configuration.peerAddress = "fuzz-peer"
        return configuration
    }

    /// The valid 64-byte PLAIN greeting every input follows.
    public static let greeting = Wire.greeting(.plain)

    /// Replies keyed on the request index and the username's length, so the fuzzer chooses:
    /// accept, deny (400), temporary failure (300, closes silently), internal error (500).
    public static let authenticator: Authenticator = { index, request in
        switch (index + (request.credentials.first?.count ?? 0)) % 4 {
        case 0: return .accept(userID: "fuzz", metadata: ["X-Fuzz": "1"])
        case 1: return .deny
        case 2: return AuthenticationReply(statusCode: "300", statusText: "Try later")
        default: return AuthenticationReply(statusCode: "500", statusText: "Internal")
        }
    }

    public static var scenario: ConnectionScenario {
        var scenario = ConnectionScenario(
            make: { Connection(configuration: configuration, random: $0, now: .zero) },
            authenticator: authenticator)
        scenario.queuedMessages = [queuedMessage]
        scenario.prefixUnits = [greeting]
        scenario.snapshotKey = 0
        return scenario
    }

    /// What a PLAIN client sends after its greeting, in a real exchange.
    public static func seeds() -> [[UInt8]] {
        var seeds: [[UInt8]] = []
        for (user, password) in [("admin", "secret"), ("user", "pw"), ("", ""), ("u", "p"), ("abc", "")] {
            var client = Connection.Configuration(socketType: peerType,
                                                  security: .plainClient(username: Array(utf8: user), password: Array(utf8: password)))
            client.identity = Array(utf8: "peer-id")
            let run = exchange(
                client: Connection(configuration: client, random: SeededRandom(seed: FuzzSeeds.peer), now: .zero),
                server: Connection(configuration: configuration, random: SeededRandom(seed: FuzzSeeds.underTest), now: .zero),
                afterReady: { c, _ in sampleTraffic(&c, peerType: socketType) })
            let afterGreeting = Array(run.clientUnits.dropFirst())
            seeds.append(afterGreeting.joined().map { $0 })
            seeds.append(afterGreeting.prefix(1).joined().map { $0 })      // HELLO only
            seeds.append(afterGreeting.prefix(2).joined().map { $0 })      // HELLO, INITIATE
        }
        // Hand-made oddities: HELLO with trailing bytes, ERROR instead of HELLO, libzmq 4.3.4's
        // malformed ERROR, INITIATE first, a data frame first.
        let hello = Wire.commandBody("HELLO", [2] + Array(utf8: "ab") + [2] + Array(utf8: "cd"))
        seeds.append(Wire.command(hello + [0]))
        seeds.append(Wire.command(Wire.commandBody("ERROR", [3] + Array(utf8: "400"))))
        seeds.append(Wire.command([0x5E] + Array(utf8: "RROR") + [3] + Array(utf8: "500")))
        seeds.append(Wire.command(Wire.commandBody("INITIATE", Wire.metadata([("Socket-Type", Array(utf8: "DEALER"))]))))
        seeds.append(Wire.message(Array(utf8: "data")))
        seeds.append(Wire.command(hello) + Wire.command(Wire.commandBody("INITIATE", Wire.metadata([("Socket-Type", Array(utf8: "PUB"))]))))
        return seeds
    }
}

// MARK: - CURVE server and client

/// The CURVE harnesses: the connection under test (server or client) gets the recorded stream of
/// a real peer up to a splice point, then the fuzz input, or, in sealed mode, the whole recorded
/// handshake and then fuzz records sealed into MESSAGE boxes.
///
/// Mode byte (the input's first byte):
/// ```
/// bits 0-2  splice point k = value % 5: 0 = before the peer's greeting, 1 = after it,
///           2 = after its first handshake command (HELLO / WELCOME), 3 = after the second
///           (INITIATE / READY), 4 = after the first data-phase frame. The input replaces the rest.
/// bit 3     sealed mode: the input after the handshake is `kind len payload` records, sealed
///           by the harness (see CurveSealer.sealRecords); k is ignored.
/// bits 4-5  socket pair (server side first): ROUTER/DEALER, PUB/SUB, REP/REQ, SERVER/CLIENT.
/// bit 6     server: authenticate the client (answer the request); client: heartbeats on.
/// bit 7     server: deny first (else accept first); client: maxMessageSize 64.
/// ```
public enum CurveHarness {
    public enum Role: Sendable { case server, client }

    /// (server-side type, client-side type).
    public static let pairs: [(server: SocketType, client: SocketType)] = [
        (.router, .dealer), (.pub, .sub), (.rep, .req), (.server, .client),
    ]
    /// Units of the peer's stream up to the end of the handshake: greeting and two commands.
    public static let handshakeUnits = 3

    public static func serverConfiguration(_ type: SocketType, authenticate: Bool) -> Connection.Configuration {
        var configuration = Connection.Configuration(
            socketType: type, security: .curveServer(keyPair: FuzzKeys.server, zapDomain: "fuzz", authenticate: authenticate))
        configuration.identity = Array(utf8: "server-id")
        configuration.peerAddress = "fuzz-peer"
        return configuration
    }

    public static func clientConfiguration(_ type: SocketType) -> Connection.Configuration {
        var configuration = Connection.Configuration(
            socketType: type, security: .curveClient(serverPublicKey: FuzzKeys.server.publicKey, keyPair: FuzzKeys.client))
        configuration.identity = Array(utf8: "client-id")
        configuration.properties = ["X-Fuzz": "client"]
        return configuration
    }

    /// A recorded peer stream and a sealer speaking as that peer.
    public struct Script: Sendable {
        public var peerUnits: [[UInt8]]
        public var sealer: CurveSealer
    }

    static func makeScript(_ role: Role, pair: Int) -> Script {
        let (serverType, clientType) = pairs[pair]
        let server = Connection(configuration: serverConfiguration(serverType, authenticate: false), crypto: FuzzKeys.crypto,
                                random: SeededRandom(seed: role == .server ? FuzzSeeds.underTest : FuzzSeeds.peer), now: .zero)
        let client = Connection(configuration: clientConfiguration(clientType), crypto: FuzzKeys.crypto,
                                random: SeededRandom(seed: role == .client ? FuzzSeeds.underTest : FuzzSeeds.peer), now: .zero)
        let run = exchange(client: client, server: server, afterReady: { c, s in
            sampleTraffic(&c, peerType: serverType)
            sampleTraffic(&s, peerType: clientType)
        })
        guard run.clientReady, run.serverReady, run.clientUnits.count > handshakeUnits, run.serverUnits.count > handshakeUnits else {
            fatalError("CURVE transcript for pair \(pair) did not complete: \(run.clientUnits.count) / \(run.serverUnits.count) units")
        }
        let sealer = CurveSealer(hello: commandBody(run.clientUnits[1]), welcome: commandBody(run.serverUnits[1]),
                                 serverPublicKey: FuzzKeys.server.publicKey, fromClient: role == .server)
        return Script(peerUnits: role == .server ? run.clientUnits : run.serverUnits, sealer: sealer)
    }

    /// Built once per process (global lets are initialised lazily and once).
    public static let serverScripts: [Script] = (0..<pairs.count).map { makeScript(.server, pair: $0) }
    public static let clientScripts: [Script] = (0..<pairs.count).map { makeScript(.client, pair: $0) }

    /// The scenario (with the recorded prefix) and the fuzz stream for one input.
    public static func setup(_ role: Role, input: [UInt8]) -> (ConnectionScenario, [UInt8]) {
        var mode = input.first ?? 0
        let rest = input.dropFirst()
        let pair = Int(mode >> 4) & 3
        let script = role == .server ? serverScripts[pair] : clientScripts[pair]

        let prefix: [[UInt8]]
        let stream: [UInt8]
        if mode & 0x08 != 0 {
            mode &= ~0x07   // k is ignored: one snapshot for all its values
            var sealer = script.sealer
            prefix = Array(script.peerUnits.prefix(handshakeUnits))
            stream = sealer.sealRecords(rest)
        } else {
            let k = Int(mode & 0x07) % 5
            prefix = Array(script.peerUnits.prefix(k))
            stream = Array(rest)
        }

        var configuration: Connection.Configuration
        var authenticator = alternating(denyFirst: false)
        switch role {
        case .server:
            configuration = serverConfiguration(pairs[pair].server, authenticate: mode & 0x40 != 0)
            authenticator = alternating(denyFirst: mode & 0x80 != 0)
        case .client:
            configuration = clientConfiguration(pairs[pair].client)
            if mode & 0x40 != 0 {
                configuration.heartbeatInterval = .seconds(1)
                configuration.heartbeatTTL = .seconds(5)
                configuration.heartbeatTimeout = .seconds(2)
            }
            if mode & 0x80 != 0 { configuration.maxMessageSize = 64 }
        }
        let fixed = configuration
        var scenario = ConnectionScenario(
            make: { Connection(configuration: fixed, crypto: FuzzKeys.crypto, random: $0, now: .zero) },
            authenticator: authenticator)
        scenario.queuedMessages = [queuedMessage]
        scenario.prefixUnits = prefix
        scenario.snapshotKey = (role == .server ? 0x100 : 0x200) + Int(mode)
        // Under CURVE the limit applies to the MESSAGE frame; the payload is smaller still.
        scenario.maxMessageSize = configuration.maxMessageSize
        return (scenario, stream)
    }

    /// Valid continuations for every splice point and pair, and sealed records of every kind.
    public static func seeds(_ role: Role) -> [[UInt8]] {
        var seeds: [[UInt8]] = []
        let scripts = role == .server ? serverScripts : clientScripts
        let flagVariants: [UInt8] = role == .server ? [0x00, 0x40, 0xC0] : [0x00, 0x40, 0x80]
        for pair in 0..<pairs.count {
            let units = scripts[pair].peerUnits
            for k in 0...4 {
                for flags in flagVariants {
                    let mode = UInt8(k) | UInt8(pair << 4) | flags
                    seeds.append([mode] + units.dropFirst(k).joined())
                }
                // Only the next unit: the connection stalls mid-handshake.
                seeds.append([UInt8(k) | UInt8(pair << 4)] + units.dropFirst(k).prefix(1).joined())
            }
            for flags in flagVariants {
                let mode = 0x08 | UInt8(pair << 4) | flags
                seeds.append([mode] + sealedRecordsSeed)
            }
        }
        return seeds
    }

    /// Records of every kind: data parts (single, multipart, empty, large), commands (PING with
    /// a TTL, PONG, SUBSCRIBE, CANCEL, JOIN, LEAVE, ERROR, READY, unknown), reserved flag bits,
    /// and the same in command frames.
    static let sealedRecordsSeed: [UInt8] = {
        var r: [UInt8] = []
        r += sealRecord(flags: 0x00, Array(utf8: "single part"))
        r += sealRecord(flags: 0x01, Array(utf8: "first of two"))
        r += sealRecord(flags: 0x00, [])
        r += sealRecord(flags: 0x00, [0x01] + Array(utf8: "topic"))
        r += sealRecord(flags: 0x00, Array(repeating: 0x43, count: 200))
        r += sealRecord(flags: 0x02, Wire.commandBody("PING", [0x00, 0x32] + Array(utf8: "context")))
        r += sealRecord(flags: 0x02, Wire.commandBody("PONG", Array(utf8: "context")))
        r += sealRecord(flags: 0x02, Wire.commandBody("SUBSCRIBE", Array(utf8: "topic")))
        r += sealRecord(flags: 0x02, Wire.commandBody("CANCEL", Array(utf8: "topic")))
        r += sealRecord(flags: 0x02, Wire.commandBody("JOIN", Array(utf8: "group")))
        r += sealRecord(flags: 0x02, Wire.commandBody("LEAVE", Array(utf8: "group")))
        r += sealRecord(flags: 0x02, Wire.commandBody("X-UNKNOWN", [1, 2, 3]))
        r += sealRecord(flags: 0x06, Wire.commandBody("PING", [0x00, 0x00]))
        r += sealRecord(flags: 0x02, commandFrame: true, Wire.commandBody("PONG", []))
        r += sealRecord(flags: 0x00, commandFrame: true, Array(utf8: "data in a command frame"))
        r += sealRecord(flags: 0x02, Wire.commandBody("READY", Wire.metadata([("Socket-Type", Array(utf8: "DEALER"))])))
        r += sealRecord(flags: 0x02, Wire.commandBody("ERROR", [3] + Array(utf8: "400")))
        return r
    }()
}

// MARK: - Whole connection

/// FuzzConnection's set-up from the input's first two bytes:
/// ```
/// byte 0: socket type = SocketType.allCases[b % 21]; mechanism = (b / 21) % 6:
///         0 NULL, 1 NULL with ZAP domain (authenticates), 2 PLAIN server, 3 PLAIN client,
///         4 CURVE server, 5 CURVE client (insecure crypto); acceptLegacyPeers = b >= 126.
/// byte 1: bit 0 heartbeats, bit 1 advertise ZMTP 3.0, bits 2-3 maxMessageSize
///         (none, 0, 32, 300), bit 4 identity, bit 5 CURVE server authenticates,
///         bit 6 deny first, bit 7 extra metadata property.
/// ```
public enum ConnectionHarness {
    public static let mechanisms = 6

    public static func configuration(_ b0: UInt8, _ b1: UInt8) -> Connection.Configuration {
        let types = SocketType.allCases
        let type = types[Int(b0) % types.count]
        let security: Security
        switch (Int(b0) / types.count) % mechanisms {
        case 0: security = .null(zapDomain: nil)
        case 1: security = .null(zapDomain: "fuzz")
        case 2: security = .plainServer(zapDomain: "fuzz")
        case 3: security = .plainClient(username: Array(utf8: "user"), password: Array(utf8: "password"))
        case 4: security = .curveServer(keyPair: FuzzKeys.server, zapDomain: "fuzz", authenticate: b1 & 0x20 != 0)
        default: security = .curveClient(serverPublicKey: FuzzKeys.server.publicKey, keyPair: FuzzKeys.client)
        }
        var configuration = Connection.Configuration(socketType: type, security: security)
        configuration.acceptLegacyPeers = b0 >= 126
        if b1 & 0x01 != 0 {
            configuration.heartbeatInterval = .seconds(1)
            configuration.heartbeatTTL = .seconds(5)
            configuration.heartbeatTimeout = .seconds(2)
        }
        if b1 & 0x02 != 0 { configuration.greetingMinorVersion = 0 }
        configuration.maxMessageSize = [nil, 0, 32, 300][Int(b1 >> 2) & 3]
        if b1 & 0x10 != 0 { configuration.identity = Array(utf8: "fuzz-identity") }
        if b1 & 0x80 != 0 { configuration.properties = ["X-Fuzz": "yes", "X-Empty": ""] }
        configuration.peerAddress = "fuzz-peer"
        return configuration
    }

    public static func setup(input: [UInt8]) -> (ConnectionScenario, [UInt8]) {
        let b0 = input.first ?? 0
        let b1 = input.dropFirst().first ?? 0
        let configuration = configuration(b0, b1)
        var scenario = ConnectionScenario(
            make: { Connection(configuration: configuration, crypto: FuzzKeys.crypto, random: $0, now: .zero) },
            authenticator: alternating(denyFirst: b1 & 0x40 != 0))
        scenario.queuedMessages = [queuedMessage]
        scenario.maxMessageSize = configuration.maxMessageSize
        // The fresh connection (set up, its message queued) is made once per pair of set-up bytes.
        scenario.snapshotKey = 0x1_0000 + Int(b0) << 8 + Int(b1)
        return (scenario, Array(input.dropFirst(2)))
    }

    /// The configuration of a peer that completes a handshake with `configuration`'s side.
    static func peerConfiguration(for configuration: Connection.Configuration) -> Connection.Configuration? {
        guard let peerType = configuration.socketType.compatiblePeers.min(by: { $0.rawValue < $1.rawValue }) else { return nil }
        let security: Security
        switch configuration.security {
        case .null: security = .null(zapDomain: nil)
        case .plainServer: security = .plainClient(username: Array(utf8: "user"), password: Array(utf8: "password"))
        case .plainClient: security = .plainServer(zapDomain: "peer")
        case .curveServer: security = .curveClient(serverPublicKey: FuzzKeys.server.publicKey, keyPair: FuzzKeys.client)
        case .curveClient: security = .curveServer(keyPair: FuzzKeys.server, zapDomain: "peer", authenticate: false)
        }
        var peer = Connection.Configuration(socketType: peerType, security: security)
        peer.identity = Array(utf8: "peer")
        return peer
    }

    /// For a spread of set-up bytes: a real peer's whole stream, and its first units alone.
    /// Plus hand-made ZMTP 1.0 and 2.0 peers for the legacy set-ups.
    public static func seeds() -> [[UInt8]] {
        var seeds: [[UInt8]] = []
        let types = SocketType.allCases.count
        for mechanism in 0..<mechanisms {
            for type in [SocketType.pub, .sub, .req, .rep, .dealer, .router, .pull, .push, .xpub, .pair, .server, .radio, .dish, .stream] {
                let b0 = UInt8(mechanism * types + Int(type.rawValue))
                for b1 in [0x00, 0x01, 0x22, 0x0C, 0x93] as [UInt8] {
                    let configuration = configuration(b0, b1)
                    guard let peer = peerConfiguration(for: configuration) else {
                        seeds.append([b0, b1] + Wire.greeting(configuration.security.mechanism))
                        continue
                    }
                    let run = exchange(
                        client: Connection(configuration: peer, crypto: FuzzKeys.crypto, random: SeededRandom(seed: FuzzSeeds.peer), now: .zero),
                        server: Connection(configuration: configuration, crypto: FuzzKeys.crypto, random: SeededRandom(seed: FuzzSeeds.underTest), now: .zero),
                        afterReady: { p, _ in sampleTraffic(&p, peerType: configuration.socketType) })
                    seeds.append([b0, b1] + run.clientUnits.joined())
                    if b1 == 0 { seeds.append([b0, b1] + run.clientUnits.prefix(2).joined()) }
                }
            }
        }
        // Legacy peers, against NULL with acceptLegacyPeers (b0 >= 126 and mechanism 0):
        // 126 + 21k + type, i.e. for k = 0 (mechanism (126 / 21) % 6 = 0).
        let legacyBase = 126
        for type in [SocketType.dealer, .pub, .sub, .pair, .push] {
            let b0 = UInt8(legacyBase + Int(type.rawValue))
            let peerType = type.compatiblePeers.min(by: { $0.rawValue < $1.rawValue })!.rawValue
            // ZMTP 2.0: signature, revision 1, socket type, identity frame, messages.
            var v2 = Greeting.signature(identityLength: 0) + [0x01, peerType]
            v2 += Wire.message([], version: .zmtp2) + Wire.message(Array(utf8: "hello"), more: true, version: .zmtp2)
                + Wire.message(Array(repeating: 7, count: 300), version: .zmtp2)
            seeds.append([b0, 0] + v2)
            // ZMTP 1.0 with a signature (revision 0).
            var v1 = Greeting.signature(identityLength: 0) + [0x00, peerType]
            v1 += Wire.message(Array(utf8: "id"), version: .zmtp1) + Wire.message(Array(utf8: "hello"), version: .zmtp1)
            seeds.append([b0, 0] + v1)
            // Unversioned ZMTP 1.0: the identity frame first.
            seeds.append([b0, 0] + Wire.message(Array(utf8: "legacy"), version: .zmtp1) + Wire.message(Array(repeating: 1, count: 260), version: .zmtp1))
            // libzmq's own signature with an identity length, then revision 3.
            seeds.append([b0, 0] + Greeting.signature(identityLength: 4) + Array(Wire.greeting(.null).dropFirst(10)))
        }
        return seeds
    }
}
