import Foundation
import Synchronization
import ZeroMQ
import ZMTP

extension PerfTool {
    /// `pubsub_thr <endpoint> <message-size> <message-count> <subscribers>`: an XPUB (no HWM,
    /// verbose) binds; each subscriber is a SUB on a thread of its own. Publishing starts once
    /// every subscription has arrived, and the clock stops when the last subscriber has its last
    /// message. Prints local_thr's lines for the published messages, and `subscribers: N`.
    public static func pubsubThr(_ args: ArraySlice<String>) throws {
        let a = try arguments(args, "pubsub_thr <endpoint> <message-size> <message-count> <subscribers>", count: 4)
        let size = try positive(a[1], "message size", allowZero: true)
        let count = try positive(a[2], "message count")
        let subscribers = try positive(a[3], "subscribers")
        let context = try Context()
        let publisher = try context.socket(.xpub)
        publisher.options.sendHighWaterMark = 0
        publisher.options.xpubVerbose = true
        try publisher.bind(a[0])
        let endpoint = publisher.lastEndpoint
        let finishes = Mutex<[UInt64]>([])
        let threads = (0..<subscribers).map { _ in
            BenchThread {
                let socket = try context.socket(.sub)
                socket.options.receiveHighWaterMark = 0
                try socket.connect(endpoint)
                try socket.subscribe("")
                for _ in 0..<count { try check(try socket.receive(), size: size) }
                let finish = Stopwatch.now()
                finishes.withLock { $0.append(finish) }
                socket.close()
            }
        }
        for _ in 0..<subscribers {
            let subscription = try publisher.receive()
            guard subscription.withUnsafeBytes({ $0.first }) == 1 else { throw Failure("expected a subscription, got \(subscription)") }
        }
        let start = Stopwatch.now()
        _ = try sendAll(publisher, size: size, count: count, countAllocations: false)
        for thread in threads { try thread.join() }
        let last = finishes.withLock { $0.max() ?? start }
        printThroughput(size: size, count: count, elapsedMicroseconds: last - start)
        print("subscribers: \(subscribers)")
        publisher.close()
        context.terminate()
    }

    /// `proxy_thr <frontend-endpoint> <backend-endpoint> <message-size> <message-count>`: a
    /// PUB → XSUB/XPUB proxy → SUB chain in one process (each on its own thread). The publisher
    /// sends 'W' warm-up messages until the subscriber has one, then the 'D' messages counted.
    public static func proxyThr(_ args: ArraySlice<String>) throws {
        let a = try arguments(args, "proxy_thr <frontend-endpoint> <backend-endpoint> <message-size> <message-count>", count: 4)
        let size = try positive(a[2], "message size")
        let count = try positive(a[3], "message count")
        let context = try Context()
        let control = try context.socket(.pair)
        try control.bind("inproc://proxy_control")
        let proxyThread = try ProxyThread(context: context, frontend: a[0], backend: a[1])
        let (frontendEndpoint, backendEndpoint) = proxyThread.endpoints

        let go = try context.socket(.pair)
        try go.bind("inproc://proxy_go")
        let publisherThread = BenchThread {
            let publisher = try context.socket(.pub)
            publisher.options.sendHighWaterMark = 0
            try publisher.connect(frontendEndpoint)
            let started = try context.socket(.pair)
            try started.connect("inproc://proxy_go")
            while try started.tryReceive() == nil {
                try publisher.send(Message(Array("W".utf8)))
                Thread.sleep(forTimeInterval: 0.01)
            }
            var body = [UInt8](repeating: 0, count: size)
            body[0] = UInt8(ascii: "D")
            try body.withUnsafeBytes { bytes in
                // Copied, not made uninitialised: the first byte marks a counted message.
                for _ in 0..<count { try publisher.send(Message(copying: bytes)) }
            }
            publisher.close()
            started.close()
        }

        let subscriber = try context.socket(.sub)
        subscriber.options.receiveHighWaterMark = 0
        try subscriber.connect(backendEndpoint)
        try subscriber.subscribe("")
        var first = try subscriber.receive()
        try go.send(Message(Array("go".utf8)))
        // Warm-up messages still on their way are skipped.
        while first.withUnsafeBytes({ $0.first }) != UInt8(ascii: "D") { first = try subscriber.receive() }
        try check(first, size: size)
        let watch = Stopwatch()
        for _ in 1..<count { try check(try subscriber.receive(), size: size) }
        let elapsed = watch.elapsedMicroseconds
        try publisherThread.join()
        printThroughput(size: size, count: count, elapsedMicroseconds: elapsed)
        try control.send(Message(Array("TERMINATE".utf8)))
        try proxyThread.join()
        for socket in [subscriber, go, control] { socket.close() }
        context.terminate()
    }
}

/// Runs the proxy on a thread: it makes and binds the XSUB and XPUB there, and a control PAIR
/// ends it.
private final class ProxyThread: Sendable {
    private let thread: BenchThread
    private let bound = Shared<(String, String)?>(nil)

    init(context: Context, frontend: String, backend: String) throws {
        let bound = self.bound
        let ready = DispatchSemaphore(value: 0)
        thread = BenchThread {
            var signalled = false
            defer { if !signalled { ready.signal() } }
            let sockets = (try context.socket(.xsub), try context.socket(.xpub))
            for socket in [sockets.0, sockets.1] {
                socket.options.sendHighWaterMark = 0
                socket.options.receiveHighWaterMark = 0
            }
            try sockets.0.bind(frontend)
            try sockets.1.bind(backend)
            let control = try context.socket(.pair)
            try control.connect("inproc://proxy_control")
            bound.withLock { $0 = (sockets.0.lastEndpoint, sockets.1.lastEndpoint) }
            ready.signal()
            signalled = true
            _ = try proxy(frontend: sockets.0, backend: sockets.1, control: control)
            sockets.0.close()
            sockets.1.close()
            control.close()
        }
        ready.wait()
        guard bound.withLock({ $0 }) != nil else { try thread.join(); throw PerfTool.Failure("the proxy did not start") }
    }

    var endpoints: (String, String) { bound.withLock { $0 } ?? ("", "") }

    func join() throws { try thread.join() }
}

/// A value shared between threads behind a lock.
final class Shared<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    func withLock<R>(_ body: (inout Value) -> R) -> R { value.withLock { body(&$0) } }
}
