#if NIO
import NIOCore
import NIOPosix
import Testing
import ZeroMQ
import ZeroMQNIO

@Suite("Sockets on SwiftNIO event loops")
struct EventLoopContextTests {
    @Test("PUSH to PULL over tcp and ipc, both sockets on NIO channels", arguments: ["tcp://127.0.0.1:*", "ipc://*"])
    func pushPull(endpoint: String) throws {
        let context = try Context(eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
        defer { context.terminate() }
        let pull = try context.socket(.pull)
        pull.options.linger = .zero
        pull.options.receiveTimeout = .seconds(10)
        try pull.bind(endpoint)
        let push = try context.socket(.push)
        push.options.linger = .zero
        try push.connect(pull.lastEndpoint)
        for index in 0..<1000 { try push.send("message \(index)") }
        for index in 0..<1000 { #expect(try pull.receiveString() == "message \(index)") }
    }
}
#endif
