#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import ZeroMQTransport

extension Context {
    /// How long a socket whose LINGER is forever (the default for most types) may keep the
    /// program from ending while it delivers what it sent: 1 second.
    ///
    /// When the program ends (the end of `main.swift`, or `exit`), sockets that were never
    /// closed would lose what they had queued: top-level variables are never released, so
    /// LINGER never runs. The library therefore runs an exit handler that closes the sockets
    /// the exiting thread made (the main thread, for top-level code), each with its own LINGER
    /// or, when that is forever, this limit, and then waits until every closed socket's
    /// connections have handed their messages to the operating system, or given up.
    ///
    /// The limit keeps the promise pyzmq users rely on (a program that ends does not hang on a
    /// peer that is gone) while a reply to a connected peer, which leaves at once, always
    /// arrives. A finite LINGER you set is honoured in full. Sockets made by other threads are
    /// not touched (they may be in use); close them, or call ``Context/terminate()``, before
    /// the program ends, and what they queued gets the same wait.
    public static let lingerLimitAtExit: Duration = .seconds(1)
}

/// The exit handler behind ``Context/lingerLimitAtExit``: every live context, weakly.
enum ExitFlush {
    private struct Tracked: Sendable {
        weak var core: ContextCore?
    }

    private static let cores = Mutex<[ObjectIdentifier: Tracked]>([:])
    private static let installed = Atomic<Bool>(false)

    static func track(_ core: ContextCore) {
        if !installed.exchange(true, ordering: .acquiringAndReleasing) {
            atexit { ExitFlush.run() }
        }
        cores.withLock { $0[ObjectIdentifier(core)] = Tracked(core: core) }
    }

    static func untrack(_ core: ContextCore) {
        _ = cores.withLock { $0.removeValue(forKey: ObjectIdentifier(core)) }
    }

    /// Closes the exiting thread's sockets, then waits for every context's lingering sessions.
    static func run() {
        let live = cores.withLock { $0.values.compactMap(\.core) }
        let thread = pthread_self()
        var deadline = IOClock.now()
        for core in live {
            deadline = max(deadline, core.closeSockets(madeBy: thread, limit: Context.lingerLimitAtExit))
        }
        for core in live { core.waitForLingeringSessions(until: deadline) }
    }
}
