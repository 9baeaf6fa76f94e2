#if Tools  // zmqcat is built with the package trait "Tools" only (Package.swift)
import ArgumentParser
import Synchronization
import ZeroMQ

/// `zmqcat monitor <type> …`: binds or connects a socket and prints its connection events
/// (the `socket.monitor()` sequence) as they happen, one line each. It sends and receives
/// nothing: it shows whether a peer is there, and whether handshakes and authentication work.
public struct MonitorCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "Print a socket's connection events: listening, connected, handshakes, failures.",
        discussion: """
            Events use libzmq's names (ZMQ_EVENT_ without the prefix): LISTENING, ACCEPTED, \
            CONNECT_DELAYED, CONNECTED, CONNECT_RETRIED, HANDSHAKE_SUCCEEDED, HANDSHAKE_FAILED, \
            DISCONNECTED, CLOSED, …, each with its endpoint and the peer's address or the error.

            Stops after -n events, after --timeout without one, at the first handshake's outcome \
            with --until-handshake, or on SIGINT. Exit status: 0 when events were printed (with \
            --until-handshake: a handshake succeeded), 2 when nothing happened within --timeout, \
            3 when a handshake failed (--until-handshake) or only failures were seen.
            """)

    @Argument(help: ArgumentHelp("The socket type (it decides which peers may complete a handshake).", valueName: "type"))
    public var type: SocketKind

    @OptionGroup(title: "Endpoints and socket options")
    public var socket: SocketArguments

    @OptionGroup(title: "Security (PLAIN, CURVE)")
    public var security: SecurityArguments

    @Option(name: [.customShort("n"), .customLong("count")], help: ArgumentHelp("Stop after COUNT events.", valueName: "count"))
    public var count: Int?

    @Option(name: [.customShort("t"), .customLong("timeout")], help: ArgumentHelp(
        "Stop after SECONDS without an event (with --until-handshake: SECONDS in all). Default: no limit.",
        valueName: "seconds"))
    public var timeout: Double?

    @Option(name: [.customShort("f"), .customLong("format")], help: ArgumentHelp("text or json (one object per line).", valueName: "format"))
    public var format: OutputFormat = .text

    @Flag(name: .customLong("until-handshake"), help: "Stop at the first handshake that succeeds (status 0) or fails (status 3).")
    public var untilHandshake = false

    public init() {}

    public func validate() throws {
        if let count, count < 1 { throw ValidationError("--count is 1 or more.") }
        if let timeout, !(0...1e9).contains(timeout) { throw ValidationError("--timeout is a number of seconds, 0 or more.") }
        if format == .hex { throw ValidationError("monitor prints text or json.") }
    }

    /// Why the wait for events ended, set by the watchdog task.
    private enum Stop: Int { case running, idle, interrupted }

    /// What the reader and the watchdog task share.
    private final class WatchdogState: Sendable {
        let lastEvent: Mutex<ContinuousClock.Instant>
        let stop = Atomic<Int>(Stop.running.rawValue)
        init(now: ContinuousClock.Instant) { lastEvent = Mutex(now) }
    }

    func execute(_ console: Console) async -> ExitStatus {
        let output = Writer(console.output)
        let errors = Writer(console.errors)
        let timeout = timeout.map(seconds)
        let context: Context
        let socket: Socket
        do {
            (context, socket) = try makeSocket(type, self.socket, security, timeout: timeout, errors: errors)
        } catch {
            Zmqcat.complain(error.message, errors)
            return error.status
        }
        let monitor = socket.monitor()
        do {
            try self.socket.attach(socket, report: { Zmqcat.complain($0, errors) }, verbose: false)
        } catch {
            monitor.stop()
            socket.options.linger = .zero
            socket.close()
            context.terminate()
            Zmqcat.complain(error.message, errors)
            return error.status
        }

        let clock = ContinuousClock()
        let state = WatchdogState(now: clock.now)
        var watch = ConnectionWatch()
        var printed = 0
        var handshakeFailed = false
        await withTaskGroup(of: Void.self) { group in
            // The watchdog: ends the event sequence on silence or a signal. Stopping the monitor
            // (rather than cancelling the reader) loses no event that was already taken.
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(50))
                    if console.interrupted() {
                        state.stop.store(Stop.interrupted.rawValue, ordering: .relaxed)
                    } else if let timeout, clock.now - state.lastEvent.withLock({ $0 }) >= timeout {
                        state.stop.store(Stop.idle.rawValue, ordering: .relaxed)
                    } else {
                        continue
                    }
                    monitor.stop()
                    return
                }
            }
            for await event in monitor {
                if case .monitorStopped = event { break }
                // With --until-handshake the time limit counts from the start: a peer that
                // refuses makes a CONNECT_RETRIED event every reconnect interval.
                if !untilHandshake { state.lastEvent.withLock { $0 = clock.now } }
                watch.observe(event)
                let line = EventLine(event)
                output.write((format == .json ? line.json : line.text) + "\n")
                output.flush()
                printed += 1
                if let count, printed >= count { break }
                if untilHandshake {
                    if case .handshakeSucceeded = event { break }
                    if case .handshakeFailed = event {
                        handshakeFailed = true
                        break
                    }
                }
            }
            group.cancelAll()
        }
        monitor.stop()
        socket.options.linger = .zero
        socket.close()
        context.terminate()

        switch Stop(rawValue: state.stop.load(ordering: .relaxed)) ?? .running {
        case .interrupted:
            Zmqcat.complain("interrupted", errors)
            return .interrupted
        case .idle, .running:
            break
        }
        if handshakeFailed || (untilHandshake && watch.handshakes == 0 && watch.failedWithoutPeer) {
            Zmqcat.complain("no handshake succeeded" + (watch.lastFailure.map { ": \($0)" } ?? ""), errors)
            return .connectionFailed
        }
        if untilHandshake && watch.handshakes == 0 {
            Zmqcat.complain("no handshake within \(fixed(timeout?.seconds ?? 0, 3)) s", errors)
            return .timeout
        }
        if printed == 0 {
            Zmqcat.complain("no event within \(fixed(timeout?.seconds ?? 0, 3)) s", errors)
            return .timeout
        }
        if watch.failedWithoutPeer && count == nil {
            Zmqcat.complain("no peer connected: \(watch.lastFailure ?? "")", errors)
            return .connectionFailed
        }
        return .success
    }
}
#endif  // Tools
