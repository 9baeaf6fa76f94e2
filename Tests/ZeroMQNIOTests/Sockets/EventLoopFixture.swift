#if NIO
import NIOPosix
#endif
import ZeroMQ
#if NIO
import ZeroMQNIO
#endif

extension Fixture {
    /// The context the shared socket tests (the files beside this one, linked from
    /// Tests/ZeroMQTests) run on here: sockets on SwiftNIO's event loops, every connection a
    /// NIO channel. Without the trait NIO there is no such context, and they run on the default
    /// one, as in their own target.
    static func context() throws -> Context {
#if NIO
        try Context(eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
#else
        try Context()
#endif
    }
}
