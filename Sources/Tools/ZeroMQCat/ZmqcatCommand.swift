#if Tools  // zmqcat is built with the package trait "Tools" only (Package.swift)
import ArgumentParser
import ZeroMQ

/// The entry point: parses a command line, runs it against a ``Console``, and says how it
/// ended. The executable passes its arguments and the standard streams; tests pass memory.
public enum Zmqcat {
    /// The subcommands: the first argument names them (else it is a socket type).
    static let subcommands = ["keygen", "monitor", "options", "shim"]

    /// Runs `zmqcat` with `arguments` (without the program name).
    public static func main(_ arguments: [String], console: Console) async -> ExitStatus {
        // The socket type is a positional argument of the root command, which swift-argument-parser
        // would take for a subcommand's name: the subcommands are parsed under a root of their own.
        var arguments = arguments
        if arguments.first == "help" {
            arguments = Array(arguments.dropFirst()) + ["--help"]
        }
        // `--then` starts a further step: its message options run on the same socket once the
        // step before has ended.
        var steps = arguments.split(separator: "--then", omittingEmptySubsequences: false).map(Array.init)
        arguments = steps.removeFirst()
        let command: any ParsableCommand
        let root: any ParsableCommand.Type
        if let first = arguments.first, subcommands.contains(first) {
            root = SubcommandRoot.self
        } else {
            root = ZmqcatCommand.self
        }
        do {
            command = try root.parseAsRoot(arguments)
        } catch {
            return report(error, root, console)
        }
        if !steps.isEmpty && !(command is ZmqcatCommand) {
            return report(ValidationError("--then is for zmqcat <type>, not its subcommands."), root, console)
        }
        switch command {
        case let cat as ZmqcatCommand:
            var parsedSteps: [MessageArguments] = []
            for step in steps {
                do {
                    parsedSteps.append(try cat.step(step))
                } catch {
                    return report(error, ZmqcatCommand.self, console)
                }
            }
            return CatSession.run(cat, steps: parsedSteps, console: console)
        case let keygen as KeygenCommand:
            return keygen.execute(console)
        case let monitor as MonitorCommand:
            return await monitor.execute(console)
        case let options as OptionsCommand:
            return options.execute(console)
        case let shim as ShimCommand:
            return shim.execute(console)
        default:
            do {
                var command = command
                try command.run()
                return .success
            } catch {
                return report(error, root, console)
            }
        }
    }

    /// Help goes to standard output with status 0; a usage error to standard error with 1.
    static func report(_ error: any Error, _ root: any ParsableCommand.Type, _ console: Console) -> ExitStatus {
        let message = root.fullMessage(for: error)
        if root.exitCode(for: error) == .success {
            console.output.write(Array((message + "\n").utf8))
            return .success
        }
        console.errors.write(Array((message + "\n").utf8))
        return .usage
    }

    /// Writes `zmqcat: <message>` on standard error.
    static func complain(_ message: String, _ errors: Writer) {
        errors.write("zmqcat: \(message)\n")
        errors.flush()
    }
}

/// The root that `zmqcat keygen` and `zmqcat monitor` are parsed under (their help then reads
/// `zmqcat keygen …`).
struct SubcommandRoot: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zmqcat", subcommands: [KeygenCommand.self, MonitorCommand.self, OptionsCommand.self, ShimCommand.self])
}

/// `zmqcat <type> …`: one socket, bound or connected, sending and receiving from a shell.
public struct ZmqcatCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "zmqcat",
        abstract: "Talk to any ZeroMQ peer (libzmq, pyzmq, JeroMQ, swift-zeromq) from a shell.",
        usage: """
            zmqcat <type> (--bind <endpoint> | --connect <endpoint>)... [<options>]
            zmqcat <type> … [--then <message options>]...
            zmqcat keygen [--secret <z85>] [--format <format>]
            zmqcat options
            zmqcat monitor <type> (--bind <endpoint> | --connect <endpoint>)... [<options>]
            """,
        discussion: """
            A socket of TYPE sends the lines of standard input (or each -m) and prints each \
            message it receives, one line per message. 'zmqcat keygen --help' and 'zmqcat \
            monitor --help' describe the subcommands.

            WHAT EACH TYPE DOES BY DEFAULT:
              push, pub      send each line of stdin, or each -m
              pull, sub      print each message received (sub: all unless --subscribe)
              req            send each line or -m, print each reply
              rep            print each request; reply with the next -m, or echo it
              dealer, pair,  both: send stdin lines (or -m) and print what arrives;
              router, xpub,  a router's first frame is the routing id; --send or
              xsub, stream   --recv for one way only; --echo (router, stream,
                             dealer, pair): send each message back as it came

            PUB waits for its first subscriber before sending (it runs as an XPUB to \
            see subscriptions): up to --timeout, else 10 s, then exits 2 with the \
            messages unsent. --no-wait sends at once to whoever is subscribed (as a \
            plain PUB; a message nobody is subscribed to is gone).

            MESSAGES: a line (or -m) is one message; --separator splits it into frames and \
            joins printed frames (TAB by default). --multipart makes the -m values, or the \
            stdin lines up to an empty line, the frames of one message. --input hex reads \
            frames in hex; --input raw sends all of stdin as one message. -n stops after COUNT \
            messages (sent by push and pub, received otherwise; -m values are repeated to make \
            COUNT). --timeout gives up after that much silence while waiting for the network, \
            and bounds LINGER at exit. --interval paces the sends. In hex output an empty \
            frame is '-' (and '-' reads as one in hex input).

            STEPS: '--then' starts another step on the same socket, once the one before \
            has ended (sent its -m values, or received its -n messages): \
            'zmqcat dealer --connect EP --recv -n 1 --then --send -m answer'. A step \
            takes the message options (--send/--recv, --echo, -m, -n, --multipart, \
            --delay, --interval, --timeout); formats, -q and -v are the first part's.

            SOCKET OPTIONS: --sockopt NAME=VALUE sets any option by libzmq's name \
            (heartbeat_ivl=100ms, maxmsgsize=1024, router_mandatory=1, xpub_verbose=1); \
            'zmqcat options' lists them.

            JSON: -f json prints one object per message: {"encoding": "utf-8" or "hex", \
            "parts": [string, ...], "properties": {name: text}, and "hex_properties" \
            when a property value is not UTF-8}.

            EXAMPLES:
              zmqcat pull --bind 'tcp://*:5555'
              seq 3 | zmqcat push --connect tcp://localhost:5555
              zmqcat req --connect tcp://localhost:5555 -m ping --timeout 5
              zmqcat sub --connect tcp://localhost:5556 --subscribe x -n 10 -f json
              zmqcat push --connect tcp://localhost:5555 -m x -n 100000 --rate
              zmqcat router --bind 'tcp://*:5555' --echo --sockopt heartbeat_ivl=1s
              zmqcat pub --bind 'tcp://*:5556' -m tick -n 10 --interval 100ms --timeout 30
              zmqcat keygen > server.key
              zmqcat rep --bind 'tcp://*:5555' --curve-server --curve-secret @server.key
              zmqcat monitor dealer --connect tcp://localhost:5555 --until-handshake

            \(ExitStatus.summary)
            """)

    @Argument(help: ArgumentHelp("The socket type.", valueName: "type"))
    public var type: SocketKind

    @OptionGroup(title: "Endpoints and socket options")
    public var socket: SocketArguments

    @OptionGroup(title: "Security (PLAIN, CURVE)")
    public var security: SecurityArguments

    @OptionGroup(title: "Messages")
    public var messages: MessageArguments

    public init() {}

    public func validate() throws {
        try Self.check(type, messages)
    }

    /// The checks of a step's message options against the socket type.
    static func check(_ type: SocketKind, _ messages: MessageArguments) throws {
        switch (type, messages.direction) {
        case (.req, .some), (.rep, .some):
            throw ValidationError("req and rep alternate send and receive: --send and --recv are for the other types.")
        case (.push, .recv), (.pub, .recv):
            throw ValidationError("\(type.rawValue) sockets only send.")
        case (.pull, .send), (.sub, .send):
            throw ValidationError("\(type.rawValue) sockets only receive.")
        default:
            break
        }
        if !messages.messages.isEmpty && messages.input == .raw {
            throw ValidationError("--input raw reads standard input: give no -m.")
        }
        if messages.echo {
            guard [.router, .stream, .dealer, .pair].contains(type) else {
                throw ValidationError("--echo is for router, stream, dealer and pair (rep echoes without -m).")
            }
            if messages.direction != nil || !messages.messages.isEmpty {
                throw ValidationError("--echo sends back what arrives: give no --send, --recv or -m.")
            }
        }
        if messages.noWait && type != .pub {
            throw ValidationError("--no-wait is for pub.")
        }
    }

    /// The message options of a `--then` step: its own, with the output and input formats, -q
    /// and -v of the first part, and its --timeout unless it has one.
    func step(_ arguments: [String]) throws -> MessageArguments {
        var step = try MessageArguments.parse(arguments)
        step.format = messages.format
        step.input = messages.input
        step.separator = messages.separator
        step.quiet = messages.quiet
        step.verbose = messages.verbose
        step.noProgress = messages.noProgress
        step.rate = messages.rate
        if step.timeout == nil { step.timeout = messages.timeout }
        try Self.check(type, step)
        return step
    }

    /// What this run does with its socket.
    var role: Role { Self.role(type, messages) }

    /// What a step does with a socket of `type`.
    static func role(_ type: SocketKind, _ messages: MessageArguments) -> Role {
        if messages.echo { return .echo }
        switch messages.direction {
        case .send: return .send
        case .recv: return .receive
        case nil: break
        }
        switch type {
        case .push, .pub: return .send
        case .pull, .sub: return .receive
        case .req: return .request
        case .rep: return .reply
        case .pair, .dealer, .router, .stream, .xpub, .xsub: return .both
        }
    }

    func execute(_ console: Console) -> ExitStatus {
        CatSession.run(self, steps: [], console: console)
    }
}

/// Which way messages go.
enum Role {
    /// Send input, receive nothing (push, pub, --send).
    case send
    /// Print what arrives (pull, sub, --recv).
    case receive
    /// Both at once (dealer, router, pair, stream, xpub, xsub).
    case both
    /// REQ: send one, print its reply, then the next.
    case request
    /// REP: print a request, send the reply.
    case reply
    /// --echo: send each message back as it came (a ROUTER's or STREAM's routing id first, so
    /// it goes back to its sender).
    case echo
}

/// Send only or receive only.
public enum Direction: String, EnumerableFlag, Sendable {
    case send, recv

    public static func help(for value: Direction) -> ArgumentHelp? {
        switch value {
        case .send: return "Only send (dealer, router, pair, …): nothing is read from the socket."
        case .recv: return "Only receive (dealer, router, pair, …): standard input is not read."
        }
    }
}

/// What to send, what to print, when to stop.
public struct MessageArguments: ParsableArguments {
    @Option(name: [.customShort("m"), .customLong("message")], help: ArgumentHelp(
        "A message to send instead of reading stdin (rep: a reply). Repeatable.", valueName: "message"))
    public var messages: [String] = []

    @Flag(help: "The -m values (or the stdin lines up to an empty line) are the frames of one message.")
    public var multipart = false

    @Option(name: [.customShort("s"), .customLong("separator")], help: ArgumentHelp(
        "Splits input lines into frames and joins printed frames (\\t for TAB). Default: no split; TAB when printing.",
        valueName: "sep"))
    public var separator: String?

    @Option(name: .customLong("input"), help: ArgumentHelp("How -m and stdin are read: text, hex or raw.", valueName: "format"))
    public var input: InputFormat = .text

    @Option(name: [.customShort("f"), .customLong("format")], help: ArgumentHelp(
        "How received messages are printed: text, hex or json (one object per line).", valueName: "format"))
    public var format: OutputFormat = .text

    @Flag(help: "Send only, or receive only.")
    public var direction: Direction?

    @Flag(help: "router, stream, dealer, pair: send each message back as it came (with its routing id); -n counts them.")
    public var echo = false

    @Option(help: ArgumentHelp(
        "Wait this long between sends: seconds, or with a unit (100ms, 2s).", valueName: "duration"))
    public var interval: DurationArgument?

    @Flag(name: .customLong("no-wait"), help: "pub: send at once, without waiting for a first subscriber.")
    public var noWait = false

    @Option(name: [.customShort("n"), .customLong("count")], help: ArgumentHelp(
        "Stop after COUNT messages: sent by push and pub (--send), echoed by --echo, received otherwise; -m values still waiting (on --delay or --interval) are sent first.",
        valueName: "count"))
    public var count: Int?

    @Option(name: [.customShort("t"), .customLong("timeout")], help: ArgumentHelp(
        "Give up after SECONDS without a message while waiting for the network (exit status 2 or 3). Default: wait forever.",
        valueName: "seconds"))
    public var timeout: Double?

    @Option(help: ArgumentHelp(
        "Wait SECONDS after binding and connecting before the first send (lets subscribers join a pub).", valueName: "seconds"))
    public var delay: Double?

    @Flag(name: [.customShort("q"), .customLong("quiet")], help: "Do not print received messages (count them).")
    public var quiet = false

    @Flag(help: "At the end, print counts, bytes and rates on stderr.")
    public var rate = false

    @Flag(name: .customLong("no-progress"), help: "No progress line on a terminal's stderr.")
    public var noProgress = false

    @Flag(name: [.customShort("v"), .customLong("verbose")], help: "Print connection events (connects, handshakes, failures) on stderr.")
    public var verbose = false

    public init() {}

    public func validate() throws {
        if let count, count < 1 { throw ValidationError("--count is 1 or more.") }
        for (name, value) in [("--timeout", timeout), ("--delay", delay)] {
            if let value, !(0...1e9).contains(value) { throw ValidationError("\(name) is a number of seconds, 0 or more.") }
        }
        if let separator, separator.isEmpty { throw ValidationError("--separator cannot be empty.") }
    }

    var codec: MessageCodec {
        MessageCodec(output: format, input: input, separator: separator.map(unescapeSeparator))
    }
}
#endif  // Tools
