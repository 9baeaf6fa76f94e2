#if Tools  // zmqcat is built with the package trait "Tools" only (Package.swift)
import ArgumentParser
import ZeroMQ

/// The entry point: parses a command line, runs it against a ``Console``, and says how it
/// ended. The executable passes its arguments and the standard streams; tests pass memory.
public enum Zmqcat {
    /// The subcommands: the first argument names them (else it is a socket type).
    static let subcommands = ["keygen", "monitor", "shim"]

    /// Runs `zmqcat` with `arguments` (without the program name).
    public static func main(_ arguments: [String], console: Console) async -> ExitStatus {
        // The socket type is a positional argument of the root command, which swift-argument-parser
        // would take for a subcommand's name: the subcommands are parsed under a root of their own.
        var arguments = arguments
        if arguments.first == "help" {
            arguments = Array(arguments.dropFirst()) + ["--help"]
        }
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
        switch command {
        case let cat as ZmqcatCommand:
            return cat.execute(console)
        case let keygen as KeygenCommand:
            return keygen.execute(console)
        case let monitor as MonitorCommand:
            return await monitor.execute(console)
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
        commandName: "zmqcat", subcommands: [KeygenCommand.self, MonitorCommand.self, ShimCommand.self])
}

/// `zmqcat <type> …`: one socket, bound or connected, sending and receiving from a shell.
public struct ZmqcatCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "zmqcat",
        abstract: "Talk to any ZeroMQ peer (libzmq, pyzmq, JeroMQ, swift-zeromq) from a shell.",
        usage: """
            zmqcat <type> (--bind <endpoint> | --connect <endpoint>)... [<options>]
            zmqcat keygen [--secret <z85>] [--format <format>]
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
              xsub, stream   --recv for one way only

            MESSAGES: a line (or -m) is one message; --separator splits it into frames and \
            joins printed frames (TAB by default). --multipart makes the -m values, or the \
            stdin lines up to an empty line, the frames of one message. --input hex reads \
            frames in hex; --input raw sends all of stdin as one message. -n stops after COUNT \
            messages (sent by push and pub, received otherwise; -m values are repeated to make \
            COUNT). --timeout gives up after that much silence while waiting for the network, \
            and bounds LINGER at exit.

            EXAMPLES:
              zmqcat pull --bind 'tcp://*:5555'
              seq 3 | zmqcat push --connect tcp://localhost:5555
              zmqcat req --connect tcp://localhost:5555 -m ping --timeout 5
              zmqcat sub --connect tcp://localhost:5556 --subscribe x -n 10 -f json
              zmqcat push --connect tcp://localhost:5555 -m x -n 100000 --rate
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
    }

    /// What this run does with its socket.
    var role: Role {
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
        CatSession.run(self, console: console)
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

    @Option(name: [.customShort("n"), .customLong("count")], help: ArgumentHelp(
        "Stop after COUNT messages: sent by push and pub (--send), received otherwise.", valueName: "count"))
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
