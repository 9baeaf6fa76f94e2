#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation
import Synchronization
import Testing
import ZeroMQ
import ZeroMQExamples

/// The zguide's examples, end to end in one process: each role on its own thread, as it would
/// be in its own process. Every wait is bounded; nothing is timed.
@Suite("Examples", .serialized)
struct ExamplesTests {
    @Test("Hello World: N requests, N replies \"World\"", arguments: Transport.allCases)
    func helloWorld(transport: Transport) throws {
        let context = try Context()
        let server = Background { ready throws(ZeroMQError) in
            try helloWorldServer(context: context, endpoint: transport.endpoint(), requests: 5,
                                 idleTimeout: .seconds(30), ready: ready, log: quiet)
        }
        let replies = try helloWorldClient(context: context, endpoint: server.boundEndpoint(), requests: 5,
                                           timeout: .seconds(30), log: quiet)
        #expect(replies == Array(repeating: "World", count: 5))
        #expect(try server.value() == 5)
    }

    @Test("Weather updates: an average of exactly N updates, all for the zipcode", arguments: Transport.allCases)
    func weatherUpdates(transport: Transport) async throws {
        let context = try Context()
        let server = Background { ready throws(ZeroMQError) in
            try weatherServer(context: context, endpoint: transport.endpoint(), zipcodes: 10000..<10100,
                              duration: .seconds(60), ready: ready)
        }
        let report = try await weatherClient(context: context, endpoint: server.boundEndpoint(), zipcode: 10042,
                                             updates: 20, timeout: .seconds(30))
        context.shutdown()  // stops the server
        let published = try server.value()

        #expect(report.zipcode == 10042)
        #expect(report.updates.count == 20)
        #expect(report.updates.allSatisfy { $0.zipcode == 10042 })
        #expect(report.updates.allSatisfy { (-80..<135).contains($0.temperature) && (10..<60).contains($0.relativeHumidity) })
        let sum = report.updates.map(\.temperature).reduce(0, +)
        #expect(report.averageTemperature == Double(sum) / 20)
        #expect(published >= 20)
    }

    @Test("Divide and conquer: the sink gets every result, both workers work", arguments: Transport.allCases)
    func divideAndConquer(transport: Transport) throws {
        let context = try Context()
        let sink = Background { ready throws(ZeroMQError) in
            try taskSink(context: context, endpoint: transport.endpoint(), timeout: .seconds(30), ready: ready, log: quiet)
        }
        let results = try sink.boundEndpoint()
        // The ventilator binds too, and the workers connect to it: it runs in the background as
        // well, and the workers start once it is bound.
        let ventilator = Background { ready throws(ZeroMQError) in
            try taskVentilator(context: context, endpoint: transport.endpoint(), sink: results, tasks: 20,
                               workload: 1...10, workers: 2, timeout: .seconds(30), ready: ready, log: quiet)
        }
        let tasks = try ventilator.boundEndpoint()
        let workers = (0..<2).map { _ in
            Background { _ throws(ZeroMQError) in
                try taskWorker(context: context, tasks: tasks, sink: results, log: quiet)
            }
        }
        let total = try ventilator.value()
        let report = try sink.value()
        context.shutdown()  // stops the workers
        let done = try workers.map { try $0.value() }

        #expect(report.expected == 20)
        #expect(report.collected == 20)
        #expect(report.isComplete)
        #expect(done.reduce(0, +) == 20)
        #expect(done.allSatisfy { $0 > 0 }, "each worker got some tasks: \(done)")
        #expect(total >= .milliseconds(20) && total <= .milliseconds(200))
    }

    @Test("Weather updates print and parse back")
    func weatherUpdateText() {
        let update = WeatherUpdate(zipcode: 1234, temperature: -5, relativeHumidity: 42)
        #expect(update.description == "01234 -5 42")
        #expect(WeatherUpdate(update.description) == update)
        #expect(WeatherUpdate.topic(zipcode: 10001) == "10001 ")
        #expect(WeatherUpdate("10001 hot") == nil)
        #expect(WeatherUpdate("10001 x 3 4") == nil)
    }

    @Test("Command-line flags")
    func flags() {
        let flags = Flags(["tool", "--requests", "5", "--timeout", "1.5", "--endpoint", "ipc://@x"], usage: "tool")
        #expect(flags.int("requests", default: 10) == 5)
        #expect(flags.int("missing", default: 10) == 10)
        #expect(flags.int("missing") == nil)
        #expect(flags.seconds("timeout") == .milliseconds(1500))
        #expect(flags.string("endpoint", default: "") == "ipc://@x")
    }
}

/// Discards an example's log lines.
let quiet: @Sendable (String) -> Void = { _ in }

/// How the test's roles reach each other: what the binding ones bind to (the connecting ones
/// use what they report as bound).
enum Transport: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case tcp, ipc, inproc

    var testDescription: String { rawValue }

    private static let counter = Atomic<Int>(0)

    func endpoint() -> String {
        let name = "swift-zeromq-examples-\(getpid())-\(Self.counter.add(1, ordering: .relaxed).oldValue)"
        switch self {
        case .tcp: return "tcp://127.0.0.1:*"
        case .ipc: return "ipc://@\(name)"
        case .inproc: return "inproc://\(name)"
        }
    }
}

/// Runs one role of an example on a thread of its own, as if in a process of its own.
final class Background<T: Sendable>: Sendable {
    private let result = Mutex<Result<T, ZeroMQError>?>(nil)
    private let finished = DispatchSemaphore(value: 0)
    private let bound = Mutex<String?>(nil)
    private let boundSignal = DispatchSemaphore(value: 0)

    /// Starts `body`, which passes its `ready` argument on to the example.
    init(_ body: @escaping @Sendable (_ ready: (String) -> Void) throws(ZeroMQError) -> T) {
        let thread = Thread { [self] in
            let outcome = Result { () throws(ZeroMQError) in
                try body { endpoint in
                    bound.withLock { $0 = endpoint }
                    boundSignal.signal()
                }
            }
            result.withLock { $0 = outcome }
            finished.signal()
            boundSignal.signal()  // an example that failed before binding wakes the waiter
        }
        thread.start()
    }

    /// The endpoint the role bound, once it has (waiting at most `timeout`).
    func boundEndpoint(timeout: Duration = .seconds(30)) throws -> String {
        guard Self.wait(boundSignal, timeout), let endpoint = bound.withLock({ $0 }) else {
            if case .failure(let error)? = result.withLock({ $0 }) { throw error }
            throw ZeroMQError(.timedOut, "the role did not bind in \(timeout)")
        }
        return endpoint
    }

    /// The role's result, waiting at most `timeout` for it.
    func value(timeout: Duration = .seconds(60)) throws -> T {
        guard Self.wait(finished, timeout) else {
            throw ZeroMQError(.timedOut, "the role did not finish in \(timeout)")
        }
        finished.signal()  // for a later call
        return try result.withLock { $0! }.get()
    }

    private static func wait(_ semaphore: DispatchSemaphore, _ timeout: Duration) -> Bool {
        semaphore.wait(timeout: .now() + .seconds(Int(timeout.components.seconds))) == .success
    }
}
