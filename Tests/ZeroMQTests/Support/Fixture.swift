#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import ZeroMQ

/// Shared set-ups for the socket tests.
enum Fixture {
    private static let counter = Atomic<Int>(0)

    /// A name no other test uses (for inproc and abstract ipc endpoints).
    static func unique(_ prefix: String) -> String {
        "\(prefix)-\(getpid())-\(counter.add(1, ordering: .relaxed).oldValue)"
    }

    /// The three transports, with a fresh endpoint each: bind to it, connect to `lastEndpoint`.
    static func endpoints(_ prefix: String) -> [String] {
        ["inproc://\(unique(prefix))", "tcp://127.0.0.1:*", "ipc://@\(unique(prefix))"]
    }

    /// A TCP port that was free a moment ago (for tests that must connect before anything binds).
    static func freePort() -> UInt16 {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                _ = bind(fd, pointer, length)
                return getsockname(fd, pointer, &length)
            }
        }
        return UInt16(bigEndian: address.sin_port)
    }

    /// A socket with test-friendly options: LINGER 0 (the context never waits at the end) and a
    /// generous receive timeout (a failure fails the test instead of hanging it).
    static func socket(_ context: Context, _ type: SocketType, timeout: Duration = .seconds(10)) throws -> Socket {
        let socket = try context.socket(type)
        socket.options.linger = .zero
        socket.options.receiveTimeout = timeout
        return socket
    }

    /// A test-friendly socket bound at `endpoint`.
    static func bound(_ context: Context, _ type: SocketType, _ endpoint: String) throws -> Socket {
        let made = try Fixture.socket(context, type)
        try made.bind(endpoint)
        return made
    }

    /// A test-friendly socket connected to what `peer` last bound.
    static func connected(_ context: Context, _ type: SocketType, to peer: Socket) throws -> Socket {
        let made = try Fixture.socket(context, type)
        try made.connect(peer.lastEndpoint)
        return made
    }

    /// Polls `condition` until it holds or `attempts` × 10 ms pass; returns whether it held.
    static func eventually(attempts: Int = 1000, _ condition: () throws -> Bool) rethrows -> Bool {
        for _ in 0..<attempts {
            if try condition() { return true }
            usleep(10_000)
        }
        return false
    }
}

/// Moves a value into a thread or task in tests (the socket is not Sendable; the test makes
/// sure only one side uses it at a time).
final class Handoff<T>: @unchecked Sendable {
    var value: T
    init(_ value: T) { self.value = value }
}

extension Fixture {
    /// Collects events until one matches or the attempts run out.
    static func waitFor(_ socket: Socket, _ match: (MonitorEvent) -> Bool) -> [MonitorEvent] {
        var seen: [MonitorEvent] = []
        _ = Fixture.eventually {
            seen += socket.takeEvents().events
            return seen.contains(where: match)
        }
        return seen
    }

    /// How long a terminate may take before the test calls it a hang: far beyond any LINGER
    /// used here, so only a hang (or a machine stalled for that long) trips it.
    static let hangBound: Duration = .seconds(25)

    /// Terminates the context `holder` owns on a thread of its own and waits up to
    /// ``hangBound``; returns how long terminate took, or nil if it had not returned.
    static func terminate(_ holder: Handoff<Context?>) -> Duration? {
        let result = Handoff<Duration?>(nil)
        let box = Unmanaged.passRetained(Handoff((holder, result))).toOpaque()
        var thread = pthread_t()
        guard pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            let items = Unmanaged<Handoff<(Handoff<Context?>, Handoff<Duration?>)>>.fromOpaque(raw).takeRetainedValue().value
            let start = ContinuousClock.now
            items.0.value?.terminate()
            let took = ContinuousClock.now - start
            items.0.value = nil
            items.1.value = took
            return nil
        }, box) == 0 else { return nil }
        let deadline = ContinuousClock.now + hangBound
        while result.value == nil, ContinuousClock.now < deadline { usleep(5_000) }
        guard let took = result.value else {
            // Left running: it holds only the context it is stuck in.
            pthread_detach(thread)
            return nil
        }
        pthread_join(thread, nil)
        return took
    }

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }
}
