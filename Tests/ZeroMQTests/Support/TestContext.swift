import ZeroMQ

extension Fixture {
    /// The context the shared socket tests run on. This target runs them on the default
    /// context (epoll reactors on I/O threads); Tests/ZeroMQNIOTests compiles the same test
    /// files (linked, not copied) with a `context()` of its own, on SwiftNIO event loops.
    static func context() throws -> Context {
        try Context()
    }
}
