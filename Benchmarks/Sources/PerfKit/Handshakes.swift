import Foundation
import ZeroMQ
import ZMTP

extension PerfTool {
    /// `curve_handshakes <bind-endpoint> <count>`: a CURVE ROUTER echoes on a thread; the main
    /// thread makes `count` DEALERs one after another, each connecting, completing the CURVE
    /// handshake, making one round trip and closing. Prints the rate.
    public static func curveHandshakes(_ args: ArraySlice<String>) throws {
        let a = try arguments(args, "curve_handshakes <bind-endpoint> <count>", count: 2)
        let count = try positive(a[1], "count")
        let context = try Context()
        let router = try context.socket(.router)
        router.options.security = try CurveKeys.server()
        router.options.linger = .zero
        try router.bind(a[0])
        let endpoint = router.lastEndpoint
        let server = ServerThread(router)

        let client = try CurveKeys.client()
        let body = Message(Array("x".utf8))
        let watch = Stopwatch()
        for _ in 0..<count {
            let dealer = try context.socket(.dealer)
            dealer.options.security = client
            dealer.options.linger = .zero
            try dealer.connect(endpoint)
            try dealer.send(body)
            try check(try dealer.receive(), size: 1)
            dealer.close()
        }
        let elapsed = watch.elapsedMicroseconds
        let stopper = try context.socket(.dealer)
        stopper.options.security = client
        stopper.options.linger = .zero
        try stopper.connect(endpoint)
        try stopper.send(Message(Array("STOP".utf8)))
        try server.join()
        stopper.close()
        print("handshakes: \(count)")
        print(String(format: "mean rate: %.1f [handshakes/s]", Double(count) * 1_000_000 / Double(max(elapsed, 1))))
        context.terminate()
    }
}

/// The echoing ROUTER of `curve_handshakes`, on its own thread until a "STOP".
private final class ServerThread: Sendable {
    private let thread: BenchThread

    init(_ router: sending Socket) {
        let box = SocketBox(router)
        thread = BenchThread {
            guard let router = box.take() else { return }
            defer { router.close() }
            while true {
                let parts = try router.receiveMultipart().parts
                if parts.count == 2, parts[1].string == "STOP" { return }
                try router.send(parts)
            }
        }
    }

    func join() throws { try thread.join() }
}
