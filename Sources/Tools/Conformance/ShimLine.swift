/// One line a shim writes on its standard output (Vectors/README.md, "Live runs").
public enum ShimLine: Equatable, Sendable {
    /// `recv <frame> ...`: the application received a message.
    case received([[UInt8]])
    /// `event handshake-succeeded`.
    case handshakeSucceeded
    /// `event handshake-failed-auth <status>`.
    case handshakeFailedAuthentication(Int)
    /// `event handshake-failed-protocol <name>` (libzmq's ZMQ_PROTOCOL_ERROR_ name without the prefix).
    case handshakeFailedProtocol(String)
    /// `event handshake-failed-no-detail`.
    case handshakeFailedNoDetail
    /// `event disconnected`.
    case disconnected
    /// `zap <mechanism> <domain> <identity> <credential> ...`: the ZAP handler got a request.
    case authenticationRequest(mechanism: String, domain: [UInt8], identity: [UInt8], credentials: [[UInt8]])
    /// `send-failed <reason>`: the application's send, subscribe or unsubscribe failed.
    case sendFailed(String)
    /// `unsupported <reason>`: the shim cannot set this case up (the case is skipped).
    case unsupported(String)

    /// The longest line a shim may write: a message of the vectors is far smaller.
    public static let maxLineLength = 1 << 21

    /// A frame or byte string as one word: hex, or `-` when empty.
    public static func word(_ bytes: [UInt8]) -> String {
        bytes.isEmpty ? "-" : VectorValues.hexString(bytes)
    }

    /// The octets of one word (`-` is empty).
    static func bytes(_ word: Substring, _ line: String) throws(FormatError) -> [UInt8] {
        if word == "-" { return [] }
        return try VectorValues.hex(String(word), "shim line \"\(abbreviate(line))\"")
    }

    static func abbreviate(_ line: String) -> String {
        line.count > 80 ? String(line.prefix(80)) + "…" : line
    }

    /// Parses one line (without its newline); a line that breaks the contract is an error
    /// that says which rule, never a trap.
    public init(parsing line: String) throws(FormatError) {
        guard line.utf8.count <= Self.maxLineLength else { throw FormatError("a shim line longer than \(Self.maxLineLength) octets") }
        let words = line.split(separator: " ", omittingEmptySubsequences: true)
        guard let head = words.first else { throw FormatError("an empty shim line") }
        let rest = words.dropFirst()
        func text() -> String { rest.joined(separator: " ") }
        switch head {
        case "recv":
            guard !rest.isEmpty else { throw FormatError("\"recv\" without frames (an empty frame is written -)") }
            var frames: [[UInt8]] = []
            for word in rest { frames.append(try Self.bytes(word, line)) }
            self = .received(frames)
        case "event":
            guard let name = rest.first else { throw FormatError("\"event\" without a name") }
            let arguments = rest.dropFirst()
            switch (name, arguments.count) {
            case ("handshake-succeeded", 0): self = .handshakeSucceeded
            case ("handshake-failed-no-detail", 0): self = .handshakeFailedNoDetail
            case ("disconnected", 0): self = .disconnected
            case ("handshake-failed-auth", 1):
                guard let word = arguments.first, let status = Int(word), (0...999).contains(status) else {
                    throw FormatError("\"event handshake-failed-auth\" needs a status code, got \"\(Self.abbreviate(line))\"")
                }
                self = .handshakeFailedAuthentication(status)
            case ("handshake-failed-protocol", 1):
                self = .handshakeFailedProtocol(arguments.first.map(String.init) ?? "")
            default:
                throw FormatError("unknown event line \"\(Self.abbreviate(line))\"")
            }
        case "zap":
            guard rest.count >= 3 else { throw FormatError("\"zap\" needs a mechanism, a domain and an identity") }
            let items = Array(rest)
            var credentials: [[UInt8]] = []
            for word in items[3...] { credentials.append(try Self.bytes(word, line)) }
            self = .authenticationRequest(mechanism: String(items[0]), domain: try Self.bytes(items[1], line),
                                          identity: try Self.bytes(items[2], line), credentials: credentials)
        case "send-failed":
            self = .sendFailed(text())
        case "unsupported":
            self = .unsupported(text())
        default:
            throw FormatError("unknown shim line \"\(Self.abbreviate(line))\" (recv, event, zap, send-failed, unsupported)")
        }
    }
}
