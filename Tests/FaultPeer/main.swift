#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import ZeroMQ

// fault-peer: one Swift socket in a process of its own, driven by Tests/FaultTests over lines, so
// that a test can measure its memory alone (/proc/PID/status), kill it with SIGKILL, or run it in a
// network namespace (`ip netns exec`). Tests/FaultTests/Peers/faults.py is its libzmq twin and
// speaks the same lines.
//
//   fault-peer receive ENDPOINT [options]   bind a PULL (or SUB with --sub), check every message
//   fault-peer send ENDPOINT [options]      connect a PUSH (or PUB with --pub), send numbered messages
//
// stdout, one line each, flushed at once:
//   ENDPOINT <endpoint>          the endpoint bound or connected, wildcards resolved
//   STATUS <key=value ...>       the answer to MARK (see `Tally.line`)
//   SENT <n>                     a sender's progress, every --report messages
//   DONE <key=value ...>         the answer to QUIT, just before exiting
// stdin: MARK (print STATUS), QUIT (stop, print DONE, exit). EOF on stdin counts as QUIT, so a
// peer never outlives its test.
//
// A numbered message (both sides, any size of at least 16 octets):
//   run(8, big-endian, 1..<65536) seq(8, big-endian) then octet i = (seq + i) mod 256 for i in 16..<size
// so the receiver can tell an intact message from a damaged one and spot gaps, duplicates and
// reordering per sender run.

/// The options a test passes on the command line.
struct Arguments {
    var role = ""
    var endpoint = ""
    var subscriber = false
    var publisher = false
    var highWaterMark: Int?
    var handshakeMilliseconds: Int?
    var heartbeatMilliseconds: Int?
    var heartbeatTimeoutMilliseconds: Int?
    var maxMessageSize: Int?
    var delayMicroseconds: UInt32 = 0
    var run: UInt64 = 1
    var count = 0
    var size = 64
    var report = 256
    var lingerMilliseconds = 5_000

    init(_ list: [String]) {
        var rest = list.dropFirst()
        role = rest.popFirst() ?? ""
        endpoint = rest.popFirst() ?? ""
        while let flag = rest.popFirst() {
            func number() -> Int { Int(rest.popFirst() ?? "") ?? 0 }
            switch flag {
            case "--sub": subscriber = true
            case "--pub": publisher = true
            case "--hwm": highWaterMark = number()
            case "--handshake-ms": handshakeMilliseconds = number()
            case "--heartbeat-ms": heartbeatMilliseconds = number()
            case "--heartbeat-timeout-ms": heartbeatTimeoutMilliseconds = number()
            case "--max-message-size": maxMessageSize = number()
            case "--delay-us": delayMicroseconds = UInt32(number())
            case "--run": run = UInt64(number())
            case "--count": count = number()
            case "--size": size = max(16, number())
            case "--report": report = max(1, number())
            case "--linger-ms": lingerMilliseconds = number()
            default: fail("unknown option \(flag)")
            }
        }
    }

    /// Applies the options every role shares; the rest stay the library's defaults.
    func configure(_ socket: Socket) {
        // A sender's QUIT delivers what it queued, within a bound.
        socket.options.linger = .milliseconds(lingerMilliseconds)
        if let highWaterMark {
            socket.options.sendHighWaterMark = highWaterMark
            socket.options.receiveHighWaterMark = highWaterMark
        }
        if let handshakeMilliseconds { socket.options.handshakeInterval = .milliseconds(handshakeMilliseconds) }
        if let heartbeatMilliseconds { socket.options.heartbeatInterval = .milliseconds(heartbeatMilliseconds) }
        if let heartbeatTimeoutMilliseconds { socket.options.heartbeatTimeout = .milliseconds(heartbeatTimeoutMilliseconds) }
        if let maxMessageSize { socket.options.maxMessageSize = maxMessageSize }
    }
}

func fail(_ text: String) -> Never {
    say("ERROR \(text)")
    exit(2)
}

/// Writes one line to stdout at once. Not through stdio: the command thread sits in `readLine`
/// holding stdin's lock, and `fflush(NULL)` would wait for that lock.
func say(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes[offset...].withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
        if written < 0 && errno == EINTR { continue }
        guard written > 0 else { return }
        offset += written
    }
}

/// Lines from stdin, read by a thread of their own, for the socket's thread to pick up between
/// messages (the socket stays on one thread).
final class Commands: Sendable {
    private let queue = Mutex<[String]>([])
    private let waiting = Atomic<Int>(0)

    init() {
        let thread = Thread { [self] in
            while let line = readLine() {
                queue.withLock { $0.append(line.trimmingCharacters()) }
                waiting.add(1, ordering: .releasing)
            }
            queue.withLock { $0.append("QUIT") }
            waiting.add(1, ordering: .releasing)
        }
        thread.start()
    }

    /// The commands that arrived since the last call (cheap when none did).
    func take() -> [String] {
        guard waiting.load(ordering: .acquiring) > 0 else { return [] }
        return queue.withLock { lines in
            defer { lines.removeAll() }
            waiting.store(0, ordering: .releasing)
            return lines
        }
    }
}

/// A pthread running a closure (Foundation stays out of this small tool).
final class Thread: @unchecked Sendable {
    private let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
    func start() {
        var thread = pthread_t()
        let box = Unmanaged.passRetained(self).toOpaque()
        pthread_create(&thread, nil, { raw in
            let me = Unmanaged<Thread>.fromOpaque(raw!).takeRetainedValue()
            me.body()
            return nil
        }, box)
        pthread_detach(thread)
    }
}

extension String {
    func trimmingCharacters() -> String {
        String(self.drop { $0 == " " }.reversed().drop { $0 == " " || $0 == "\r" }.reversed())
    }
}

/// What a receiver has seen: messages per sender run, and what was wrong with any of them.
struct Tally {
    /// Per run: how many arrived and the last sequence number.
    var runs: [UInt64: (received: Int, last: UInt64)] = [:]
    var received = 0
    /// Sequence numbers skipped (lost) within a run.
    var gaps = 0
    /// A sequence number at or below one already seen in the same run.
    var reordered = 0
    /// A numbered message whose body is damaged.
    var damaged = 0
    /// Messages that are not numbered at all (a hostile peer's bytes delivered as a message).
    var foreign = 0
    /// Run numbers at or above this are not a sender's.
    static let runLimit: UInt64 = 1 << 16
    /// Typed errors that ended handshakes and connections, by code name.
    var errors: [String: Int] = [:]
    var disconnected = 0
    var eventsDropped = 0

    mutating func check(_ message: Message) {
        received += 1
        enum Verdict { case numbered(run: UInt64, seq: UInt64), damaged, foreign }
        let verdict: Verdict = message.withUnsafeBytes { bytes in
            guard bytes.count >= 16 else { return .foreign }
            var run: UInt64 = 0, seq: UInt64 = 0
            for index in 0..<8 {
                run = run << 8 | UInt64(bytes[index])
                seq = seq << 8 | UInt64(bytes[8 + index])
            }
            // Senders number their runs from 1; anything else is a hostile peer's bytes that
            // parsed as a message (a ZMTP/1.0 peer's, for instance).
            guard run > 0 && run < Tally.runLimit else { return .foreign }
            for index in 16..<bytes.count where bytes[index] != UInt8(truncatingIfNeeded: seq &+ UInt64(index)) {
                return .damaged
            }
            return .numbered(run: run, seq: seq)
        }
        guard case .numbered(let run, let seq) = verdict else {
            if case .damaged = verdict { damaged += 1 } else { foreign += 1 }
            return
        }
        let verdictRun = run, verdictSeq = seq
        if let previous = runs[verdictRun] {
            if verdictSeq <= previous.last {
                reordered += 1
            } else {
                gaps += Int(verdictSeq - previous.last - 1)
            }
            runs[verdictRun] = (previous.received + 1, max(previous.last, verdictSeq))
        } else {
            gaps += Int(verdictSeq)
            runs[verdictRun] = (1, verdictSeq)
        }
    }

    mutating func take(_ events: (events: [MonitorEvent], dropped: Int)) {
        eventsDropped += events.dropped
        for event in events.events {
            switch event {
            case .handshakeFailed(_, let error): errors[error.code.description, default: 0] += 1
            case .disconnected(_, let reason):
                disconnected += 1
                switch reason {
                case .protocolError(let error): errors[error.code.description, default: 0] += 1
                case .transport: errors["TRANSPORT", default: 0] += 1
                case .closedByPeer, .local: break
                }
            default: break
            }
        }
    }

    /// `received= gaps= reordered= damaged= disconnected= events_dropped= runs=R:n:last,... errors=NAME:n,...`
    func line(_ socket: Socket) -> String {
        let statistics = socket.statistics
        let runText = runs.keys.sorted().map { "\($0):\(runs[$0]!.received):\(runs[$0]!.last)" }.joined(separator: ",")
        let errorText = errors.keys.sorted().map { "\($0):\(errors[$0]!)" }.joined(separator: ",")
        return "received=\(received) gaps=\(gaps) reordered=\(reordered) damaged=\(damaged) foreign=\(foreign) "
            + "accepted=\(statistics.connectionsAccepted) handshakes=\(statistics.handshakesSucceeded) "
            + "handshake_failures=\(statistics.handshakeFailures) disconnected=\(statistics.disconnections) "
            + "sent=\(statistics.messagesSent) pub_dropped=\(socket.droppedMessages) "
            + "events_dropped=\(eventsDropped) runs=\(runText.isEmpty ? "-" : runText) errors=\(errorText.isEmpty ? "-" : errorText)"
    }
}

/// The numbered message `seq` of `run`, `size` octets.
func numbered(run: UInt64, seq: UInt64, size: Int) -> Message {
    var bytes = [UInt8](repeating: 0, count: size)
    for index in 0..<8 {
        bytes[index] = UInt8(truncatingIfNeeded: run >> (56 - 8 * UInt64(index)))
        bytes[8 + index] = UInt8(truncatingIfNeeded: seq >> (56 - 8 * UInt64(index)))
    }
    for index in 16..<size { bytes[index] = UInt8(truncatingIfNeeded: seq &+ UInt64(index)) }
    return Message(bytes)
}

func receive(_ arguments: Arguments, _ context: Context) throws {
    let socket = try context.socket(arguments.subscriber ? .sub : .pull)
    arguments.configure(socket)
    if arguments.subscriber { try socket.subscribe("") }
    try socket.bind(arguments.endpoint)
    say("ENDPOINT \(socket.lastEndpoint)")
    let commands = Commands()
    var tally = Tally()
    var sinceCheck = 0
    while true {
        if let received = try? socket.receive(timeout: .milliseconds(20)) {
            tally.check(received)
            if arguments.delayMicroseconds > 0 { usleep(arguments.delayMicroseconds) }
            sinceCheck += 1
            if sinceCheck < 512 { continue }
        }
        sinceCheck = 0
        tally.take(socket.takeEvents())
        for command in commands.take() {
            switch command {
            case "MARK": say("STATUS \(tally.line(socket))")
            case "QUIT":
                say("DONE \(tally.line(socket))")
                socket.close()
                exit(0)
            default: say("ERROR unknown command \(command)")
            }
        }
    }
}

func send(_ arguments: Arguments, _ context: Context) throws {
    let socket = try context.socket(arguments.publisher ? .pub : .push)
    arguments.configure(socket)
    try socket.connect(arguments.endpoint)
    say("ENDPOINT \(arguments.endpoint)")
    let commands = Commands()
    var tally = Tally()
    var seq: UInt64 = 0
    var quitting = false
    while !quitting, arguments.count == 0 || seq < arguments.count {
        do {
            try socket.send(numbered(run: arguments.run, seq: seq, size: arguments.size), timeout: .milliseconds(20))
            seq += 1
            if seq % UInt64(arguments.report) == 0 { say("SENT \(seq)") }
            if seq % 512 != 0 { continue }
        } catch {
            // At the high-water mark with no peer taking messages: look at the commands, retry.
        }
        tally.take(socket.takeEvents())
        for command in commands.take() {
            switch command {
            case "MARK": say("STATUS sent_seq=\(seq) \(tally.line(socket))")
            case "QUIT": quitting = true
            default: say("ERROR unknown command \(command)")
            }
        }
    }
    say("SENT \(seq)")
    socket.close()
    context.terminate()  // delivers what is queued, within the linger
    tally.take(socket.takeEvents())
    say("DONE sent_seq=\(seq) \(tally.line(socket))")
    exit(0)
}

/// Dies with the test that started it (PR_SET_PDEATHSIG), so a killed test leaves no peer behind.
/// prctl is variadic in C, which Swift does not import: looked up with a fixed signature.
func dieWithParent() {
    typealias Prctl = @convention(c) (Int32, UInt) -> Int32
    guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "prctl") else { return }
    _ = unsafeBitCast(symbol, to: Prctl.self)(1 /* PR_SET_PDEATHSIG */, UInt(SIGKILL))
}

dieWithParent()
let arguments = Arguments(CommandLine.arguments)
do {
    let context = try Context()
    switch arguments.role {
    case "receive": try receive(arguments, context)
    case "send": try send(arguments, context)
    default: fail("usage: fault-peer receive|send ENDPOINT [options]")
    }
} catch {
    fail("\(error)")
}
