#if canImport(Glibc)
import Glibc
#endif
import NIOPosix
import ZeroMQ
import ZeroMQNIO

/// The context a perf tool runs on, as `SWIFT_ZEROMQ_IO` asks, so that the tools keep libzmq's
/// command lines: `threads` (the default: one I/O thread), `caller` (the calling thread does the
/// I/O) or `nio` (one SwiftNIO event loop, every connection a NIO channel).
enum BenchContext {
    /// One loop, as the default context has one I/O thread.
    private static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    static func make() throws -> Context {
        if let value = getenv("SWIFT_ZEROMQ_IO"), String(cString: value) == "nio" {
            return try Context(eventLoopGroup: group)
        }
        return try Context(io: .fromEnvironment)
    }
}
