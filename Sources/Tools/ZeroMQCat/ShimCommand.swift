#if Tools  // zmqcat is built with the package trait "Tools" only (Package.swift)
#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import ZeroMQ
import ZMTPSodium

/// `zmqcat shim …`: this implementation behind the zmtp-conformance shim contract
/// (Vectors/README.md, "Live runs"; Vectors/shims/libzmq-shim.py is the same for libzmq).
/// One socket connects to the runner; stdin lines are what its application does, stdout lines
/// what it sees. Frames are hex, `-` when empty.
public struct ShimCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "shim",
        abstract: "Be the target of zmtp-conformance (the shim contract of Vectors/README.md).",
        discussion: """
            stdin: 'send <frame> ...', 'subscribe <prefix>', 'unsubscribe <prefix>'; end of input closes. \
            stdout: 'recv <frame> ...', 'event handshake-succeeded', 'event handshake-failed-auth <status>', \
            'event handshake-failed-protocol <name>', 'event handshake-failed-no-detail', 'event disconnected', \
            'zap <mechanism> <domain> <identity> <credential> ...', 'send-failed <reason>', 'unsupported <reason>'. \
            With --bind instead of --connect, the socket is a running endpoint for 'zmtp-conformance --endpoint'.
            """)

    @Option(name: .customLong("type")) public var type: String
    @Option(name: .customLong("connect")) public var endpoint: String?
    /// Binds instead: a running endpoint for `zmtp-conformance --endpoint`.
    @Option(name: .customLong("bind")) public var bindEndpoint: String?
    @Option(name: .customLong("identity")) public var identity: String?
    @Option(name: .customLong("mechanism")) public var mechanism = "null"
    @Option(name: .customLong("plain-username")) public var plainUsername = "-"
    @Option(name: .customLong("plain-password")) public var plainPassword = "-"
    @Option(name: .customLong("curve-public")) public var curvePublic: String?
    @Option(name: .customLong("curve-secret")) public var curveSecret: String?
    @Option(name: .customLong("curve-serverkey")) public var curveServerKey: String?
    @Option(name: .customLong("zap-domain")) public var zapDomain: String?
    @Option(name: .customLong("zap-reply")) public var zapReply: String?
    @Option(name: .customLong("zap-user-id")) public var zapUserId = ""
    @Option(name: .customLong("heartbeat-ivl")) public var heartbeatInterval: Int?
    @Option(name: .customLong("heartbeat-ttl")) public var heartbeatTTL: Int?
    @Option(name: .customLong("heartbeat-timeout")) public var heartbeatTimeout: Int?
    @Option(name: .customLong("handshake-ivl")) public var handshakeInterval: Int?
    @Option(name: .customLong("maxmsgsize")) public var maxMessageSize: Int?

    public init() {}

    static let types: [String: SocketType] = [
        "PAIR": .pair, "PUB": .pub, "SUB": .sub, "REQ": .req, "REP": .rep, "DEALER": .dealer, "ROUTER": .router,
        "PULL": .pull, "PUSH": .push, "XPUB": .xpub, "XSUB": .xsub, "STREAM": .stream,
    ]

    func execute(_ console: Console) -> ExitStatus {
        // The ZAP handler reports from its own thread: each line is one write(2) to standard
        // output, whole (a pipe keeps writes under PIPE_BUF together).
        let say: @Sendable (String) -> Void = { line in
            let bytes = Array((line + "\n").utf8)
            var offset = 0
            while offset < bytes.count {
                let count = bytes[offset...].withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
                if count > 0 { offset += count } else if count < 0 && errno == EINTR { continue } else { return }
            }
        }
        guard let socketType = Self.types[type] else {
            say("unsupported the socket layer has no \(type) socket")
            return .success
        }
        let context: Context
        let socket: Socket
        do throws(ZeroMQError) {
            context = try Context()
            socket = try context.socket(socketType)
        } catch {
            say("unsupported cannot create the socket: \(error)")
            return .success
        }
        do {
            try configure(socket, context: context, say: say)
            switch (endpoint, bindEndpoint) {
            case (let endpoint?, nil): try socket.connect(endpoint)
            case (nil, let bindEndpoint?): try socket.bind(bindEndpoint)
            default: throw ZmqcatFailure(.usage, "give one of --connect and --bind")
            }
        } catch {
            say("unsupported cannot set the socket up: \(error)")
            return .success
        }
        run(socket, console: console, say: say)
        // A held ZAP request keeps the handler thread busy: leave without waiting for it.
        if zapReply == "hold" { Glibc.exit(0) }
        socket.close()
        context.terminate()
        return .success
    }

    private func configure(_ socket: Socket, context: Context, say: @escaping @Sendable (String) -> Void) throws {
        var options = socket.options
        options.linger = .zero
        options.receiveTimeout = .zero
        if let identity { options.routingId = try Self.bytes(identity) }
        if let heartbeatInterval { options.heartbeatInterval = .milliseconds(heartbeatInterval) }
        if let heartbeatTTL { options.heartbeatTTL = .milliseconds(heartbeatTTL) }
        if let heartbeatTimeout { options.heartbeatTimeout = .milliseconds(heartbeatTimeout) }
        if let handshakeInterval { options.handshakeInterval = handshakeInterval == 0 ? nil : .milliseconds(handshakeInterval) }
        if let maxMessageSize { options.maxMessageSize = maxMessageSize < 0 ? nil : maxMessageSize }
        let domain = try zapDomain.map { String(decoding: try Self.bytes($0), as: UTF8.self) } ?? ""
        func key(_ text: String?) throws -> [UInt8] { try CurveKeys.key(z85: text ?? "") }
        switch mechanism {
        case "null":
            options.security = .null(zapDomain: nil)
            options.zapDomain = domain
        case "plain-client":
            options.security = .plainClient(username: try Self.bytes(plainUsername), password: try Self.bytes(plainPassword))
        case "plain-server":
            options.security = .plainServer(zapDomain: domain)
        case "curve-client":
            let pair = try CurveKeyPair.from(secretKey: try key(curveSecret), crypto: SodiumCurveCrypto())
            options.security = .curveClient(serverPublicKey: try key(curveServerKey), keyPair: pair)
        case "curve-server":
            let pair = try CurveKeyPair.from(secretKey: try key(curveSecret), crypto: SodiumCurveCrypto())
            options.security = .curveServer(keyPair: pair, zapDomain: domain, authenticate: zapReply != nil)
        default:
            throw ZmqcatFailure(.usage, "unknown mechanism \(mechanism)")
        }
        socket.options = options
        if let zapReply {
            let userId = zapUserId
            let authenticator = try Authenticator(context: context)
            authenticator.decide = { request in
                let credentials = request.credentials.map { $0.isEmpty ? "-" : hexString($0) }.joined(separator: " ")
                let domainWord = request.domain.isEmpty ? "-" : hexString(Array(request.domain.utf8))
                let identityWord = request.identity.isEmpty ? "-" : hexString(request.identity)
                say("zap \(request.mechanism.rawValue) \(domainWord) \(identityWord) \(credentials)")
                // hold: the vector ends before its application answers; the handler thread
                // waits (bounded) so that no answer goes out while the runner watches.
                if zapReply == "hold" {
                    sleep(60)
                    return nil
                }
                return AuthenticationReply(statusCode: zapReply, userID: userId)
            }
        }
    }

    /// Polls the socket and stdin; prints what the socket delivers and its connection events.
    private func run(_ socket: Socket, console: Console, say: (String) -> Void) {
        var pending: [UInt8] = []
        var inputOpen = true
        while inputOpen {
            for event in socket.takeEvents().events { report(event, say) }
            while let message = receiveWhole(socket) {
                say("recv " + message.map { $0.isEmpty ? "-" : hexString($0) }.joined(separator: " "))
            }
            var fds = [pollfd(fd: 0, events: Int16(POLLIN), revents: 0), pollfd(fd: socket.fileDescriptor, events: Int16(POLLIN), revents: 0)]
            // Events have no descriptor of their own: look again every 20 ms.
            guard poll(&fds, 2, 20) >= 0 || errno == EINTR else { return }
            guard fds[0].revents != 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { inputOpen = false; break }
            pending += chunk[0..<count]
            while let end = pending.firstIndex(of: 0x0A) {
                let line = String(decoding: pending[..<end], as: UTF8.self)
                pending.removeSubrange(...end)
                perform(line, socket, say)
            }
        }
    }

    private func receiveWhole(_ socket: Socket) -> [[UInt8]]? {
        guard let first = try? socket.tryReceive() else { return nil }
        var parts = [first.bytes]
        var more = first.more
        while more, let next = try? socket.tryReceive() {
            parts.append(next.bytes)
            more = next.more
        }
        return parts
    }

    private func perform(_ line: String, _ socket: Socket, _ say: (String) -> Void) {
        let words = line.split(separator: " ").map(String.init)
        guard let verb = words.first else { return }
        do {
            let arguments = try words.dropFirst().map(Self.bytes)
            switch verb {
            case "send": try socket.send(arguments.isEmpty ? [[]] : arguments)
            case "subscribe": try socket.subscribe(arguments.first ?? [])
            case "unsubscribe": try socket.unsubscribe(arguments.first ?? [])
            default: say("send-failed unknown command \(verb)")
            }
        } catch {
            say("send-failed \(error)")
        }
    }

    private func report(_ event: MonitorEvent, _ say: (String) -> Void) {
        switch event {
        case .handshakeSucceeded:
            say("event handshake-succeeded")
        case .handshakeFailed(_, let error):
            if error.code == .authenticationFailed {
                say("event handshake-failed-auth \(Int(error.detail.prefix(3)) ?? 0)")
            } else if error.code.rawValue < 0x5A00_0000 {
                say("event handshake-failed-protocol \(error.code)")
            } else {
                say("event handshake-failed-no-detail")
            }
        case .disconnected:
            say("event disconnected")
        default:
            break
        }
    }

    /// A word of the contract: hex, or `-` for nothing.
    static func bytes(_ word: String) throws -> [UInt8] {
        if word == "-" { return [] }
        guard let bytes = decodeHex(word.utf8) else { throw ZmqcatFailure(.usage, "'\(word)' is not hex") }
        return bytes
    }
}
#endif  // Tools
