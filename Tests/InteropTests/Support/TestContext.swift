import ZeroMQ

/// The contexts the libzmq interop matrix runs on. This target makes them as the test asks
/// (`io`); Tests/ZeroMQNIOTests compiles the same matrix (its files linked, not copied) with a
/// `TestContext` of its own, on SwiftNIO event loops.
enum TestContext {
    static func make(io: Context.IOMode) throws -> Context {
        try Context(io: io)
    }
}
