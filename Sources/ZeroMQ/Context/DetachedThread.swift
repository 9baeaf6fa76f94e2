#if canImport(Glibc)
import Glibc
#endif

/// A POSIX thread of the library's own, detached (nothing joins it): for the loops that must
/// keep running when the application blocks every thread of Swift's cooperative pool with
/// blocking socket calls (the libzmq-format monitor publisher, the Authenticator's handler).
enum DetachedThread {
    private final class Job {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    /// Runs `body` on a new detached thread; returns the thread.
    /// - Throws: ``ZeroMQError/Code/system`` with pthread_create's error.
    @discardableResult
    static func start(_ body: @escaping @Sendable () -> Void) throws(ZeroMQError) -> pthread_t {
        var thread = pthread_t()
        let box = Unmanaged.passRetained(Job(body)).toOpaque()
        let started = pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            Unmanaged<Job>.fromOpaque(raw).takeRetainedValue().body()
            return nil
        }, box)
        guard started == 0 else {
            Unmanaged<Job>.fromOpaque(box).release()
            throw ZeroMQError(.system, "pthread_create", systemCode: started)
        }
        pthread_detach(thread)
        return thread
    }
}
