#if NIO
import NIOCore
import ZeroMQ
import ZeroMQTransport

extension Context {
    /// A context whose sockets run on the event loops of `eventLoopGroup`, with no thread of the
    /// library's own: each connection and listener is a NIO channel on one of the group's loops
    /// (round robin), and its engine, session, timers and reconnects run on that loop.
    ///
    /// The sockets are the same as on any context: every pattern, inproc, NULL, PLAIN and CURVE,
    /// ZAP, monitors, the blocking and async calls. The group stays the application's: shut it
    /// down after ``/ZeroMQ/Context/terminate()``. As on any context with drivers of the application's, never
    /// make a call that waits (a blocking send or receive, a poll with a timeout, ``/ZeroMQ/Context/terminate()``)
    /// on one of the group's loops: it would wait for work that loop does. Use the async calls,
    /// or the `try…` forms, there.
    ///
    /// - Parameters:
    ///   - eventLoopGroup: the loops to run on, such as `MultiThreadedEventLoopGroup.singleton`.
    ///   - transports: transports of your own, by scheme, besides `tcp` and `ipc` (which are
    ///     ``ChannelTransport``s).
    public convenience init(eventLoopGroup: any EventLoopGroup, transports: [any Transport] = []) throws(ZeroMQError) {
        let drivers: [any IODriver] = eventLoopGroup.makeIterator().map { EventLoopDriver(eventLoop: $0) }
        try self.init(io: .drivers(drivers), transports: [ChannelTransport.tcp, ChannelTransport.ipc] + transports)
    }
}
#endif
