#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif
import ZeroMQ

/// The `--name value` flags of an example's command line: just enough for the examples, with
/// no dependency. A malformed command line prints the usage and exits with status 2.
///
/// ```swift
/// let flags = Flags(usage: "hwclient [--endpoint E] [--requests N]")
/// let requests = flags.int("requests", default: 10)
/// ```
public struct Flags: Sendable {
    private var values: [String: String] = [:]
    private let usage: String

    public init(_ arguments: [String] = CommandLine.arguments, usage: String) {
        self.usage = usage
        var rest = arguments.dropFirst()
        while let flag = rest.popFirst() {
            if flag == "--help" || flag == "-h" { Self.quit(0, "usage: \(usage)") }
            guard flag.hasPrefix("--"), let value = rest.popFirst() else {
                Self.quit(2, "usage: \(usage)")
            }
            values[String(flag.dropFirst(2))] = value
        }
    }

    /// The text given to `--name`, or `fallback`.
    public func string(_ name: String, default fallback: String) -> String {
        values[name] ?? fallback
    }

    /// The integer given to `--name`, or `fallback`.
    public func int(_ name: String, default fallback: Int) -> Int {
        int(name) ?? fallback
    }

    /// The integer given to `--name`, if any.
    public func int(_ name: String) -> Int? {
        guard let text = values[name] else { return nil }
        guard let value = Int(text) else { Self.quit(2, "--\(name) takes an integer\nusage: \(usage)") }
        return value
    }

    /// The number of seconds (decimals allowed) given to `--name`, if any.
    public func seconds(_ name: String) -> Duration? {
        guard let text = values[name] else { return nil }
        guard let value = Double(text), value >= 0 else { Self.quit(2, "--\(name) takes seconds\nusage: \(usage)") }
        return .milliseconds(Int(value * 1000))
    }

    private static func quit(_ status: Int32, _ text: String) -> Never {
        if status == 0 { print(text) } else { fputs(text + "\n", stderr) }
        fflush(stdout)
        exit(status)
    }
}

/// Runs an example's `main`: gives `body` a context, terminates the context afterwards (so that
/// what the sockets queued gets out, within their LINGER), and exits with status 0 if `body`
/// returns true, 1 if it returns false or throws.
public func exampleMain(_ name: String, _ body: (Context) throws -> Bool) -> Never {
    setvbuf(stdout, nil, _IOLBF, 0)  // one line at a time, even into a pipe
    var succeeded = false
    do {
        let context = try Context()
        succeeded = try body(context)
        context.terminate()
    } catch {
        fputs("\(name): \(error)\n", stderr)
    }
    exit(succeeded ? 0 : 1)
}

/// ``exampleMain(_:_:)`` for an async `body`.
public func exampleMain(_ name: String, _ body: (Context) async throws -> Bool) async -> Never {
    setvbuf(stdout, nil, _IOLBF, 0)
    var succeeded = false
    do {
        let context = try Context()
        succeeded = try await body(context)
        context.terminate()
    } catch {
        fputs("\(name): \(error)\n", stderr)
    }
    exit(succeeded ? 0 : 1)
}

/// Blocks the calling thread for `duration`.
func sleep(for duration: Duration) {
    let (seconds, attoseconds) = duration.components
    guard seconds > 0 || attoseconds > 0 else { return }
    var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 { request = remaining }
}

extension Duration {
    /// Whole milliseconds, for printing.
    public var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
