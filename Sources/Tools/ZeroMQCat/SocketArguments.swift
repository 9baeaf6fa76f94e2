#if Tools  // zmqcat is built with the package trait "Tools" only (Package.swift)
#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import ZeroMQ
import ZMTPSodium

/// The socket types zmqcat can be: the classic ones (the socket layer has no draft types yet).
public enum SocketKind: String, CaseIterable, Sendable, ExpressibleByArgument {
    case pair, pub, sub, req, rep, dealer, router, pull, push, xpub, xsub, stream

    /// Either case: `PUSH` and `push`.
    public init?(argument: String) { self.init(rawValue: argument.lowercased()) }

    var socketType: SocketType {
        switch self {
        case .pair: return .pair
        case .pub: return .pub
        case .sub: return .sub
        case .req: return .req
        case .rep: return .rep
        case .dealer: return .dealer
        case .router: return .router
        case .pull: return .pull
        case .push: return .push
        case .xpub: return .xpub
        case .xsub: return .xsub
        case .stream: return .stream
        }
    }
}

/// Where the socket goes and how it queues: shared by the main command and `monitor`.
public struct SocketArguments: ParsableArguments {
    @Option(name: .customLong("bind"), help: ArgumentHelp(
        "Bind ENDPOINT (tcp://*:5555, tcp://127.0.0.1:*, ipc:///tmp/feed). Repeatable; a wildcard port is printed on stderr.",
        valueName: "endpoint"))
    public var binds: [String] = []

    @Option(name: .customLong("connect"), help: ArgumentHelp(
        "Connect to ENDPOINT (tcp://host:5555, ipc:///tmp/feed). Repeatable.", valueName: "endpoint"))
    public var connects: [String] = []

    @Option(name: .customLong("identity"), help: ArgumentHelp(
        "The socket's routing id (ZMQ_ROUTING_ID), as text: how a ROUTER peer addresses it.", valueName: "id"))
    public var identity: String?

    @Option(name: .customLong("subscribe"), help: ArgumentHelp(
        "SUB/XSUB: receive messages starting with PREFIX. Repeatable; default: everything.", valueName: "prefix"))
    public var subscriptions: [String] = []

    @Option(name: .customLong("sndhwm"), help: ArgumentHelp("Send high-water mark in messages (ZMQ_SNDHWM, default 1000; 0: none).", valueName: "n"))
    public var sendHighWaterMark: Int?

    @Option(name: .customLong("rcvhwm"), help: ArgumentHelp("Receive high-water mark in messages (ZMQ_RCVHWM, default 1000; 0: none).", valueName: "n"))
    public var receiveHighWaterMark: Int?

    @Option(name: .customLong("linger"), help: ArgumentHelp(
        "How long closing waits for queued messages to go out (ZMQ_LINGER; -1: until they do). Default: --timeout if given, else the socket type's (0 for sub and xsub, -1 for the others).",
        valueName: "seconds"))
    public var linger: Double?

    @Option(name: .customLong("sockopt"), help: ArgumentHelp(
        "Set any socket option by libzmq's name: heartbeat_ivl=100ms, maxmsgsize=1024, router_mandatory=1, xpub_verbose=1, … Repeatable; applied after the options above. 'zmqcat options' lists the names and values.",
        valueName: "name=value"))
    public var socketOptions: [String] = []

    public init() {}

    public func validate() throws {
        guard !binds.isEmpty || !connects.isEmpty else {
            throw ValidationError("Give at least one --bind or --connect endpoint.")
        }
        for endpoint in binds + connects where !endpoint.contains("://") {
            throw ValidationError("'\(endpoint)' is not an endpoint: write transport://address, e.g. tcp://127.0.0.1:5555.")
        }
        if let identity, identity.utf8.isEmpty || identity.utf8.count > 255 {
            throw ValidationError("--identity must be 1 to 255 bytes.")
        }
        for value in [sendHighWaterMark, receiveHighWaterMark].compactMap({ $0 }) where value < 0 {
            throw ValidationError("A high-water mark is 0 (no limit) or more.")
        }
        if let linger, linger < 0, linger != -1 {
            throw ValidationError("--linger is a number of seconds, or -1 for no limit.")
        }
        for assignment in socketOptions { _ = try SocketOptionAssignment(parsing: assignment) }
    }

    /// Applies the options to `socket` (before its binds and connects), with `timeout`, when
    /// given, as the default LINGER (else the socket type's).
    func configure(_ socket: Socket, type: SocketKind, timeout: Duration?) throws(ZmqcatFailure) {
        var options = socket.options
        if let identity { options.routingId = Array(identity.utf8) }
        if let sendHighWaterMark { options.sendHighWaterMark = sendHighWaterMark }
        if let receiveHighWaterMark { options.receiveHighWaterMark = receiveHighWaterMark }
        if let linger {
            options.linger = linger < 0 ? nil : seconds(linger)
        } else if let timeout {
            options.linger = timeout
        }
        // Checked by validate(): parsing again cannot fail.
        for assignment in socketOptions {
            (try? SocketOptionAssignment(parsing: assignment))?.apply(to: &options)
        }
        // The loops never block inside the socket: they poll its descriptor.
        options.receiveTimeout = .zero
        socket.options = options
        if type == .sub || type == .xsub {
            do throws(ZeroMQError) {
                for prefix in subscriptions.isEmpty ? [""] : subscriptions { try socket.subscribe(prefix) }
            } catch {
                throw ZmqcatFailure(error, while: "subscribe")
            }
        } else if !subscriptions.isEmpty {
            throw ZmqcatFailure(.usage, "--subscribe is for sub and xsub sockets")
        }
    }

    /// Binds and connects; reports a bound endpoint whose port was a wildcard.
    func attach(_ socket: Socket, report: (String) -> Void, verbose: Bool) throws(ZmqcatFailure) {
        for endpoint in binds {
            do throws(ZeroMQError) {
                try socket.bind(endpoint)
            } catch {
                throw ZmqcatFailure(error, while: "bind \(endpoint)")
            }
            // With --verbose the LISTENING event says it.
            if !verbose && (endpoint.hasSuffix(":*") || endpoint.hasSuffix(":0")) {
                report("bound to \(socket.lastEndpoint)")
            }
        }
        for endpoint in connects {
            do throws(ZeroMQError) {
                try socket.connect(endpoint)
            } catch {
                throw ZmqcatFailure(error, while: "connect \(endpoint)")
            }
        }
    }
}

/// PLAIN and CURVE (RFC 24, 26): the mechanism and role, the keys, and who a server accepts.
public struct SecurityArguments: ParsableArguments {
    @Option(name: .customLong("plain-user"), help: ArgumentHelp(
        "PLAIN user name: a client sends it; a --plain-server accepts only it.", valueName: "name"))
    public var plainUser: String?

    @Option(name: .customLong("plain-password"), help: ArgumentHelp("PLAIN password (with --plain-user).", valueName: "password"))
    public var plainPassword: String?

    @Flag(name: .customLong("plain-server"), help: "Be the PLAIN server (ZMQ_PLAIN_SERVER): check --plain-user and --plain-password, or accept anyone.")
    public var plainServer = false

    @Flag(name: .customLong("curve-server"), help: "Be the CURVE server (ZMQ_CURVE_SERVER) with --curve-secret (else a fresh key pair, its public key printed on stderr).")
    public var curveServer = false

    @Option(name: .customLong("curve-secret"), help: ArgumentHelp(
        "Our CURVE secret key, Z85 (40 characters) or @FILE (a `zmqcat keygen` output or the key alone). A client without one uses a fresh pair.",
        valueName: "z85"))
    public var curveSecret: String?

    @Option(name: .customLong("curve-public"), help: ArgumentHelp(
        "Our CURVE public key, Z85 or @FILE: checked against --curve-secret (it is derived from it anyway).", valueName: "z85"))
    public var curvePublic: String?

    @Option(name: .customLong("curve-serverkey"), help: ArgumentHelp(
        "Be a CURVE client of the server with this public key (ZMQ_CURVE_SERVERKEY), Z85 or @FILE.", valueName: "z85"))
    public var curveServerKey: String?

    @Option(name: .customLong("curve-allow"), help: ArgumentHelp(
        "CURVE server: accept only clients with this public key, Z85 or @FILE. Repeatable; default: any client.", valueName: "z85"))
    public var curveAllow: [String] = []

    @Option(name: .customLong("zap-domain"), help: ArgumentHelp("The ZAP domain (ZMQ_ZAP_DOMAIN) a server reports.", valueName: "domain"))
    public var zapDomain = "global"

    public init() {}

    public func validate() throws {
        let plain = plainUser != nil || plainPassword != nil || plainServer
        let curve = curveServer || curveSecret != nil || curvePublic != nil || curveServerKey != nil || !curveAllow.isEmpty
        if plain && curve { throw ValidationError("Choose PLAIN or CURVE, not both.") }
        if plainPassword != nil && plainUser == nil { throw ValidationError("--plain-password needs --plain-user.") }
        if curve {
            if curveServer == (curveServerKey != nil) {
                throw ValidationError("CURVE needs either --curve-server or --curve-serverkey (the server's public key).")
            }
            if !curveAllow.isEmpty && !curveServer { throw ValidationError("--curve-allow is for a --curve-server.") }
            if curvePublic != nil && curveSecret == nil { throw ValidationError("--curve-public needs --curve-secret.") }
            do {
                _ = try security()
            } catch {
                throw ValidationError(error.message)
            }
        }
    }

    /// The security to set on the socket, the decision of the ZAP handler to run in its
    /// context (nil: none, libzmq's rules apply), and a generated server key pair to tell the
    /// user about.
    func security() throws(ZmqcatFailure) -> (security: SecurityMechanism, decide: Authenticator.Decision?, generated: CurveKeyPair?) {
        if plainServer {
            // With --plain-user, only that user; without, any user (zmqcat is a test tool).
            let expected: [[UInt8]]? = plainUser.map { [Array($0.utf8), Array((plainPassword ?? "").utf8)] }
            let decide: Authenticator.Decision = { request in
                guard request.mechanism == .plain, request.credentials.count == 2 else { return .deny }
                if let expected, request.credentials != expected { return .deny }
                return .accept(userID: String(decoding: request.credentials[0], as: UTF8.self))
            }
            return (.plainServer(zapDomain: zapDomain), decide, nil)
        }
        if let plainUser {
            return (.plainClient(username: Array(plainUser.utf8), password: Array((plainPassword ?? "").utf8)), nil, nil)
        }
        if curveServer {
            let generated: CurveKeyPair?
            let pair: CurveKeyPair
            if let curveSecret {
                pair = try keyPair(secret: curveSecret)
                generated = nil
            } else {
                pair = CurveKeys.generate()
                generated = pair
            }
            var allowed: Set<[UInt8]> = []
            for key in curveAllow { allowed.insert(try curveKey(key, "--curve-allow", role: .public)) }
            var decide: Authenticator.Decision?
            if !allowed.isEmpty {
                decide = { [allowed] request in
                    guard request.mechanism == .curve, let key = request.credentials.first, allowed.contains(key) else { return .deny }
                    return .accept()
                }
            }
            return (.curveServer(keyPair: pair, zapDomain: zapDomain, authenticate: !allowed.isEmpty), decide, generated)
        }
        if let curveServerKey {
            let server = try curveKey(curveServerKey, "--curve-serverkey", role: .public)
            let pair = try curveSecret.map { secret throws(ZmqcatFailure) in try keyPair(secret: secret) } ?? CurveKeys.generate()
            return (.curveClient(serverPublicKey: server, keyPair: pair), nil, nil)
        }
        return (.null(zapDomain: nil), nil, nil)
    }

    /// The pair of `--curve-secret`, checked against `--curve-public` when given.
    private func keyPair(secret: String) throws(ZmqcatFailure) -> CurveKeyPair {
        let secretKey = try curveKey(secret, "--curve-secret", role: .secret)
        let pair: CurveKeyPair
        do throws(ZMTPError) {
            pair = try CurveKeyPair.from(secretKey: secretKey, crypto: SodiumCurveCrypto())
        } catch {
            throw ZmqcatFailure(.usage, "--curve-secret: \(error.detail)")
        }
        if let curvePublic, try curveKey(curvePublic, "--curve-public", role: .public) != pair.publicKey {
            throw ZmqcatFailure(.usage, "--curve-public is not the public key of --curve-secret")
        }
        return pair
    }
}

/// Which key of a `zmqcat keygen` file an option wants.
enum KeyRole: String { case `public`, secret }

/// A 32-byte CURVE key from Z85 text, or from `@FILE`: the line of a `zmqcat keygen` output that
/// starts with `public`/`secret`, or else the first 40-character word. `@` is also a Z85 digit:
/// a 40-character value is a key unless it names a file.
func curveKey(_ value: String, _ option: String, role: KeyRole) throws(ZmqcatFailure) -> [UInt8] {
    var text = value
    if value.hasPrefix("@") {
        let path = String(value.dropFirst())
        if let contents = readSmallFile(path) {
            let lines = contents.split(whereSeparator: \.isNewline)
            let labelled = lines.first { $0.hasPrefix(role.rawValue) }.flatMap { $0.split(separator: " ").last }
            let bare = lines.flatMap { $0.split(separator: " ") }.first { $0.utf8.count == 40 }
            guard let key = labelled ?? bare else { throw ZmqcatFailure(.usage, "\(option): no Z85 key in \(path)") }
            text = String(key)
        } else if value.utf8.count != 40 {
            throw ZmqcatFailure(.usage, "\(option): cannot read \(path)")
        }
    }
    do throws(ZMTPError) {
        return try CurveKeys.key(z85: text)
    } catch {
        throw ZmqcatFailure(.usage, "\(option): \(error.detail)")
    }
}

/// The text of a file of at most 64 KiB, or nil.
func readSmallFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while bytes.count < 1 << 16 {
        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR { continue }
        guard count > 0 else { return count == 0 ? String(decoding: bytes, as: UTF8.self) : nil }
        bytes += chunk[0..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// A duration of `value` seconds.
func seconds(_ value: Double) -> Duration {
    .nanoseconds(Int64((value * 1e9).rounded()))
}
#endif  // Tools
