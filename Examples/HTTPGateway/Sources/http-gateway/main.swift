// http-gateway HTTP-PORT WORKER-ENDPOINT
//
// Serves POST /work on 127.0.0.1:HTTP-PORT (0: any free port): each request body goes to a
// ZeroMQ worker over DEALER/ROUTER, and the worker's reply is the response body (503 when no
// worker is connected, 504 when none answers in time). Workers connect to WORKER-ENDPOINT
// (bound here, e.g. tcp://127.0.0.1:5555). Prints `HTTP <port>` and `WORKERS <endpoint>` once
// both listen. Hummingbird and the ZeroMQ sockets share SwiftNIO's event loops: there is no
// ZeroMQ I/O thread in this process.
import Hummingbird
import NIOCore
import NIOPosix
import ZeroMQ
import ZeroMQNIO

#if canImport(Glibc)
import Glibc
#endif

/// Prints a line at once, unbuffered (a test reads these lines through a pipe).
func say(_ line: String) {
    var text = line + "\n"
    text.withUTF8 { _ = write(1, $0.baseAddress, $0.count) }
}

let arguments = CommandLine.arguments
guard arguments.count == 3, let port = Int(arguments[1]) else {
    say("usage: http-gateway HTTP-PORT WORKER-ENDPOINT")
    exit(1)
}

let group = MultiThreadedEventLoopGroup.singleton
let context = try Context(eventLoopGroup: group)
let backend = try Backend(context: context, endpoint: arguments[2])
say("WORKERS \(await backend.endpoint)")

let router = Router()
router.post("work") { request, _ -> Response in
    let body = try await request.body.collect(upTo: 1 << 20)
    do {
        let reply = try await backend.request(Array(buffer: body))
        return Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(bytes: reply)))
    } catch Backend.Failure.noWorker {
        return Response(status: .serviceUnavailable)
    } catch Backend.Failure.timedOut {
        return Response(status: .gatewayTimeout)
    }
}
router.get("health") { _, _ in "ok" }

let app = Application(
    router: router,
    configuration: .init(address: .hostname("127.0.0.1", port: port)),
    onServerRunning: { channel in say("HTTP \(channel.localAddress?.port ?? 0)") },
    eventLoopGroupProvider: .shared(group)
)

try await withThrowingTaskGroup(of: Void.self) { tasks in
    tasks.addTask { try await backend.run() }
    tasks.addTask { try await app.runService() }
    // Either ending ends the gateway.
    try await tasks.next()
    tasks.cancelAll()
}
