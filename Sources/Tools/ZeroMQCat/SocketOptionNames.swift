#if Tools  // zmqcat is built with the package trait "Tools" only (Package.swift)
import ArgumentParser
import ZeroMQ

/// `--sockopt NAME=VALUE`: any socket option by libzmq's name (`zmq_setsockopt(3)` without the
/// `ZMQ_` prefix, in lowercase), with libzmq's units, so that a script written for libzmq's
/// tools carries over. `zmqcat options` prints this table.
struct SocketOptionName {
    /// libzmq's name, lowercase (`heartbeat_ivl`).
    let name: String
    /// How the value is read and where it goes.
    let setter: Setter
    /// One line for `zmqcat options`.
    let summary: String

    /// The value types, each with the `SocketOptions` property it sets.
    enum Setter {
        /// A whole number, 0 or more.
        case count(WritableKeyPath<SocketOptions, Int>)
        /// A whole number, 0 or more; the raw values in `none` mean "not set" (libzmq's -1).
        case optionalCount(WritableKeyPath<SocketOptions, Int?>, none: Set<Int>)
        /// 0 or 1 (also `true`/`false`, `on`/`off`).
        case flag(WritableKeyPath<SocketOptions, Bool>)
        /// -1 (the system's default), 0 or 1.
        case optionalFlag(WritableKeyPath<SocketOptions, Bool?>)
        /// Milliseconds (libzmq's integer), or a number with a unit: `250ms`, `2s`, `500us`.
        case duration(WritableKeyPath<SocketOptions, Duration>)
        /// As `duration`; the raw integers in `none` mean "off" or "forever" (nil).
        case optionalDuration(WritableKeyPath<SocketOptions, Duration?>, none: Set<Int>)
        /// Whole seconds (libzmq's unit for the TCP keepalive timers); -1: the system's.
        case optionalSeconds(WritableKeyPath<SocketOptions, Duration?>)
        /// Bytes: the text itself, or `0x` and hex digits; `lengths` bounds the byte count.
        case bytes(WritableKeyPath<SocketOptions, [UInt8]>, lengths: ClosedRange<Int>)
        /// As `bytes`; nil when not given.
        case optionalBytes(WritableKeyPath<SocketOptions, [UInt8]?>, lengths: ClosedRange<Int>)
        /// `X-Name:value`: one application property sent in READY (repeatable).
        case metadata
        /// An option zmqcat sets itself; the text says what to use instead.
        case reserved(String)

        /// How the value is written, for `zmqcat options`.
        var valueSyntax: String {
            switch self {
            case .count: return "n"
            case .optionalCount(_, let none): return "n|" + none.sorted().map(String.init).joined(separator: "|")
            case .flag: return "0|1"
            case .optionalFlag: return "-1|0|1"
            case .duration: return "ms"
            case .optionalDuration(_, let none): return "ms|" + none.sorted().map(String.init).joined(separator: "|")
            case .optionalSeconds: return "s|-1"
            case .bytes, .optionalBytes: return "text|0xhex"
            case .metadata: return "X-name:value"
            case .reserved: return "-"
            }
        }
    }

    /// Every name zmqcat knows, in `zmq_setsockopt(3)`'s groups. Security options have flags of
    /// their own (`--plain-*`, `--curve-*`, `--zap-domain`).
    static var all: [SocketOptionName] {
        [
            .init(name: "sndhwm", setter: .count(\.sendHighWaterMark), summary: "messages queued per peer for sending (0: no limit; default 1000)"),
            .init(name: "rcvhwm", setter: .count(\.receiveHighWaterMark), summary: "messages queued per peer for receiving (0: no limit; default 1000)"),
            .init(name: "linger", setter: .optionalDuration(\.linger, none: [-1]), summary: "how long closing waits for queued messages (-1: until they go)"),
            .init(name: "maxmsgsize", setter: .optionalCount(\.maxMessageSize, none: [-1]), summary: "a larger inbound message drops the connection (-1: no limit)"),
            .init(name: "conflate", setter: .flag(\.conflate), summary: "keep only the last message"),
            .init(name: "reconnect_ivl", setter: .optionalDuration(\.reconnectInterval, none: [-1]), summary: "wait before reconnecting (-1: never reconnect; default 100)"),
            .init(name: "reconnect_ivl_max", setter: .optionalDuration(\.reconnectIntervalMax, none: [0]), summary: "double the reconnect wait up to this (0: do not)"),
            .init(name: "handshake_ivl", setter: .optionalDuration(\.handshakeInterval, none: [0]), summary: "the handshake must end within this (0: no limit; default 30000)"),
            .init(name: "immediate", setter: .flag(\.immediate), summary: "queue only for peers whose connection is complete"),
            .init(name: "backlog", setter: .count(\.backlog), summary: "pending connections a listener keeps (default 100)"),
            .init(name: "tcp_keepalive", setter: .optionalFlag(\.tcpKeepalive), summary: "SO_KEEPALIVE (-1: the system's)"),
            .init(name: "tcp_keepalive_cnt", setter: .optionalCount(\.tcpKeepaliveCount, none: [-1]), summary: "TCP_KEEPCNT (-1: the system's)"),
            .init(name: "tcp_keepalive_idle", setter: .optionalSeconds(\.tcpKeepaliveIdleTime), summary: "TCP_KEEPIDLE, seconds (-1: the system's)"),
            .init(name: "tcp_keepalive_intvl", setter: .optionalSeconds(\.tcpKeepaliveProbeInterval), summary: "TCP_KEEPINTVL, seconds (-1: the system's)"),
            .init(name: "heartbeat_ivl", setter: .optionalDuration(\.heartbeatInterval, none: [0]), summary: "send a ZMTP PING this often (0: off)"),
            .init(name: "heartbeat_ttl", setter: .optionalDuration(\.heartbeatTTL, none: [0]), summary: "the peer drops us after this much silence (0: off)"),
            .init(name: "heartbeat_timeout", setter: .optionalDuration(\.heartbeatTimeout, none: [-1]), summary: "drop a peer silent this long after a PING (-1: heartbeat_ivl)"),
            .init(name: "rate", setter: .count(\.rate), summary: "multicast rate, kbit/s (default 100)"),
            .init(name: "recovery_ivl", setter: .duration(\.recoveryInterval), summary: "multicast recovery window (default 10000)"),
            .init(name: "multicast_hops", setter: .count(\.multicastHops), summary: "multicast TTL (default 1)"),
            .init(name: "multicast_maxtpdu", setter: .count(\.multicastMaxTPDU), summary: "largest multicast packet, bytes (default 1500)"),
            .init(name: "multicast_loop", setter: .flag(\.multicastLoop), summary: "accepted; PGM never loops back, as in libzmq"),
            .init(name: "sndbuf", setter: .optionalCount(\.sendBufferSize, none: [-1, 0]), summary: "kernel send buffer of multicast sockets (-1: the system's)"),
            .init(name: "rcvbuf", setter: .optionalCount(\.receiveBufferSize, none: [-1, 0]), summary: "kernel receive buffer of multicast sockets (-1: the system's)"),
            .init(name: "routing_id", setter: .bytes(\.routingId, lengths: 1...255), summary: "our routing id for ROUTER peers (also: identity)"),
            .init(name: "identity", setter: .bytes(\.routingId, lengths: 1...255), summary: "libzmq's old name of routing_id"),
            .init(name: "connect_routing_id", setter: .optionalBytes(\.connectRoutingId, lengths: 1...255), summary: "ROUTER/STREAM: the routing id of the next connect's peer"),
            .init(name: "metadata", setter: .metadata, summary: "a property sent in READY, X-Name:value (repeatable)"),
            .init(name: "router_mandatory", setter: .flag(\.routerMandatory), summary: "ROUTER: an unroutable send fails (zmqcat exits 4) instead of dropping"),
            .init(name: "router_handover", setter: .flag(\.routerHandover), summary: "ROUTER: a new peer takes over a routing id in use"),
            .init(name: "probe_router", setter: .flag(\.probeRouter), summary: "ROUTER, DEALER, REQ: send an empty message on connect"),
            .init(name: "req_correlate", setter: .flag(\.requestCorrelate), summary: "REQ: match replies to requests by id"),
            .init(name: "req_relaxed", setter: .flag(\.requestRelaxed), summary: "REQ: a new request may go before the reply"),
            .init(name: "xpub_verbose", setter: .flag(\.xpubVerbose), summary: "XPUB: pass on every subscribe, not only new ones"),
            .init(name: "xpub_verboser", setter: .flag(\.xpubVerboser), summary: "XPUB: pass on every subscribe and unsubscribe"),
            .init(name: "xpub_manual", setter: .flag(\.xpubManual), summary: "XPUB: the application decides subscriptions"),
            .init(name: "xpub_nodrop", setter: .flag(\.xpubNoDrop), summary: "XPUB/PUB: wait at the HWM instead of dropping"),
            .init(name: "xpub_welcome_msg", setter: .optionalBytes(\.xpubWelcomeMessage, lengths: 0...Int(Int32.max)), summary: "XPUB: sent to each new subscriber"),
            .init(name: "invert_matching", setter: .flag(\.invertMatching), summary: "PUB/SUB: deliver what does not match"),
            .init(name: "stream_notify", setter: .flag(\.streamNotify), summary: "STREAM: deliver [id][] on connect and disconnect (default 1)"),
            .init(name: "receive_memory_limit", setter: .count(\.receiveMemoryLimit), summary: "swift-zeromq's own: bytes held for unfinished messages (default 16 MiB)"),
            .init(name: "rcvtimeo", setter: .reserved("zmqcat never blocks in the socket: use --timeout"), summary: "set by zmqcat: use --timeout"),
            .init(name: "sndtimeo", setter: .reserved("zmqcat never blocks in the socket: use --timeout"), summary: "set by zmqcat: use --timeout"),
        ]
    }

    /// The option named `name` (either case, with or without `ZMQ_`), or nil.
    static func named(_ name: String) -> SocketOptionName? {
        var key = name.lowercased()
        if key.hasPrefix("zmq_") { key.removeFirst(4) }
        return all.first { $0.name == key }
    }

    /// The `zmqcat options` listing: a line per name.
    static var listing: String {
        let width = all.map(\.name.count).max() ?? 0
        let syntaxWidth = all.map(\.setter.valueSyntax.count).max() ?? 0
        var text = """
            Socket options for --sockopt NAME=VALUE (repeatable), by libzmq's names (zmq_setsockopt(3)).
            Durations are libzmq's integer milliseconds or take a unit (250ms, 2s, 500us); the
            numbers after | are libzmq's values for "off" or "no limit"; flags are 0 or 1; bytes are
            text, or 0x and hex digits. Security has its own flags (--plain-*, --curve-*).

            """
        for option in all {
            let syntax = option.setter.valueSyntax
            text += "  " + option.name + String(repeating: " ", count: width - option.name.count + 2)
                + syntax + String(repeating: " ", count: syntaxWidth - syntax.count + 2) + option.summary + "\n"
        }
        return text
    }
}

/// One `--sockopt NAME=VALUE`, checked when the command line is parsed: applying it cannot fail.
struct SocketOptionAssignment {
    let option: SocketOptionName
    let value: Value

    /// A value read for an option's setter.
    enum Value {
        case integer(Int)
        case optionalInteger(Int?)
        case flag(Bool)
        case optionalFlag(Bool?)
        case duration(Duration)
        case optionalDuration(Duration?)
        case bytes([UInt8])
        case property(name: String, value: [UInt8])
    }

    /// Reads `NAME=VALUE`.
    /// - Throws: `ValidationError` naming the option and what it takes.
    init(parsing text: String) throws {
        guard let equals = text.firstIndex(of: "=") else {
            throw ValidationError("--sockopt '\(text)': write NAME=VALUE, e.g. --sockopt heartbeat_ivl=100ms ('zmqcat options' lists the names).")
        }
        let name = String(text[..<equals])
        let raw = String(text[text.index(after: equals)...])
        guard let option = SocketOptionName.named(name) else {
            throw ValidationError("--sockopt: unknown socket option '\(name)' ('zmqcat options' lists the names).")
        }
        func bad(_ expected: String) -> ValidationError {
            ValidationError("--sockopt \(option.name)=\(raw): \(expected).")
        }
        self.option = option
        switch option.setter {
        case .count:
            guard let number = Int(raw), number >= 0 else { throw bad("expected a whole number, 0 or more") }
            value = .integer(number)
        case .optionalCount(_, let none):
            guard let number = Int(raw), number >= 0 || none.contains(number) else {
                throw bad("expected a whole number, 0 or more, or \(none.sorted().map(String.init).joined(separator: " or "))")
            }
            value = .optionalInteger(none.contains(number) ? nil : number)
        case .flag:
            guard let flag = parseFlag(raw) else { throw bad("expected 0 or 1") }
            value = .flag(flag)
        case .optionalFlag:
            if raw == "-1" {
                value = .optionalFlag(nil)
            } else {
                guard let flag = parseFlag(raw) else { throw bad("expected -1, 0 or 1") }
                value = .optionalFlag(flag)
            }
        case .duration:
            guard let duration = parseDuration(raw, bareUnit: .milliseconds), duration >= .zero else {
                throw bad("expected milliseconds, or a duration such as 250ms or 2s")
            }
            value = .duration(duration)
        case .optionalDuration(_, let none):
            if let number = Int(raw), none.contains(number) {
                value = .optionalDuration(nil)
            } else {
                guard let duration = parseDuration(raw, bareUnit: .milliseconds), duration >= .zero else {
                    throw bad("expected milliseconds, a duration such as 250ms or 2s, or \(none.sorted().map(String.init).joined(separator: " or "))")
                }
                value = .optionalDuration(duration)
            }
        case .optionalSeconds:
            if raw == "-1" {
                value = .optionalDuration(nil)
            } else {
                let duration = Int(raw).map { Duration.seconds($0) } ?? parseDuration(raw, bareUnit: .seconds)
                guard let duration, duration >= .zero, duration.components.attoseconds == 0 else {
                    throw bad("expected whole seconds, or -1")
                }
                value = .optionalDuration(duration)
            }
        case .bytes(_, let lengths), .optionalBytes(_, let lengths):
            guard let bytes = parseBytes(raw) else { throw bad("expected text, or 0x and an even number of hex digits") }
            guard lengths.contains(bytes.count) else { throw bad("expected \(lengths.lowerBound) to \(lengths.upperBound) bytes") }
            value = .bytes(bytes)
        case .metadata:
            guard let colon = raw.firstIndex(of: ":"), Metadata.isValidName(Array(raw[..<colon].utf8)) else {
                throw bad("expected X-Name:value")
            }
            let property = String(raw[..<colon])
            guard property.lowercased().hasPrefix("x-") else { throw bad("an application property's name starts with X-") }
            value = .property(name: property, value: Array(raw[raw.index(after: colon)...].utf8))
        case .reserved(let reason):
            throw bad(reason)
        }
    }

    /// Sets the option in `options`.
    func apply(to options: inout SocketOptions) {
        switch (option.setter, value) {
        case (.count(let path), .integer(let number)):
            options[keyPath: path] = number
        case (.optionalCount(let path, _), .optionalInteger(let number)):
            options[keyPath: path] = number
        case (.flag(let path), .flag(let flag)):
            options[keyPath: path] = flag
        case (.optionalFlag(let path), .optionalFlag(let flag)):
            options[keyPath: path] = flag
        case (.duration(let path), .duration(let duration)):
            options[keyPath: path] = duration
        case (.optionalDuration(let path, _), .optionalDuration(let duration)), (.optionalSeconds(let path), .optionalDuration(let duration)):
            options[keyPath: path] = duration
        case (.bytes(let path, _), .bytes(let bytes)):
            options[keyPath: path] = bytes
        case (.optionalBytes(let path, _), .bytes(let bytes)):
            options[keyPath: path] = bytes
        case (.metadata, .property(let name, let bytes)):
            options.metadata.append(name: name, value: bytes)
        default:
            // The initializer pairs each setter with its value; nothing else is built.
            preconditionFailure("--sockopt \(option.name): a value of the wrong kind")
        }
    }
}

private func parseFlag(_ text: String) -> Bool? {
    switch text.lowercased() {
    case "1", "true", "on", "yes": return true
    case "0", "false", "off", "no": return false
    default: return nil
    }
}

/// The bytes of `text`: the text itself, or the bytes of `0x…` hex.
private func parseBytes(_ text: String) -> [UInt8]? {
    guard text.hasPrefix("0x") || text.hasPrefix("0X") else { return Array(text.utf8) }
    return decodeHex(Array(text.utf8.dropFirst(2)))
}

/// The unit of a number written without one.
enum BareUnit { case milliseconds, seconds }

/// `250ms`, `2s`, `1.5s`, `500us`, `1m`; a bare number is in `bareUnit`. Nil for anything else
/// (negative numbers included).
func parseDuration(_ text: String, bareUnit: BareUnit) -> Duration? {
    let units: [(suffix: String, seconds: Double)] = [("us", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60)]
    var number = Substring(text)
    var scale = bareUnit == .seconds ? 1.0 : 1e-3
    for unit in units where text.hasSuffix(unit.suffix) {
        number = text.dropLast(unit.suffix.count)
        scale = unit.seconds
        break
    }
    guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
          let value = Double(number), value.isFinite, value * scale <= 1e9 else { return nil }
    return .nanoseconds(Int64((value * scale * 1e9).rounded()))
}

/// A duration given on the command line: seconds (`0.1`) or with a unit (`100ms`, `2s`).
public struct DurationArgument: ExpressibleByArgument, Sendable {
    public let duration: Duration

    public init?(argument: String) {
        guard let duration = parseDuration(argument, bareUnit: .seconds) else { return nil }
        self.duration = duration
    }
}
#endif  // Tools
