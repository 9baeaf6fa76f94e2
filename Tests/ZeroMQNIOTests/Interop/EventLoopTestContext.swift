#if NIO
import NIOPosix
#endif
import ZeroMQ
#if NIO
import ZeroMQNIO
#endif

/// The contexts the libzmq interop matrix (the files beside this one, linked from
/// Tests/InteropTests) runs on here: sockets on SwiftNIO's event loops, every connection to
/// libzmq a NIO channel. The matrix asks for the default I/O mode only; the caller-mode suite
/// is not linked here.
enum TestContext {
    static func make(io: Context.IOMode) throws -> Context {
#if NIO
        precondition(io == .threads, "the event-loop matrix runs the default-mode tests only")
        return try Context(eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
#else
        return try Context(io: io)
#endif
    }
}
