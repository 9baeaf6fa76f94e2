#if canImport(Glibc)
import Glibc
#endif

/// What every stream transport's connect shares: a non-blocking `connect(2)` that completes at
/// once or when the descriptor turns writable (its `SO_ERROR` then says how it went), and
/// abandoning it. The transport opens the socket and issues the connect; this does the rest.
/// Reactor thread only.
final class StreamConnectAttempt: IOHandler {
    private let reactor: any IODriver
    /// Names the attempt in errors (`connect tcp://…`).
    private let label: String
    private var completion: ((Result<Int32, TransportError>) -> Void)?
    private var fd: Int32 = -1
    private var registration: IORegistration?

    init(reactor: any IODriver, label: String, completion: @escaping (Result<Int32, TransportError>) -> Void) {
        self.reactor = reactor
        self.label = label
        self.completion = completion
    }

    /// Runs `open`, which creates the socket into its argument (closed here on any failure)
    /// and returns what `connect(2)` returned.
    func start(_ open: (inout Int32) throws(TransportError) -> Int32) {
        do throws(TransportError) {
            if try open(&fd) == 0 {
                finish(.success(fd))
                return
            }
            guard errno == EINPROGRESS || errno == EAGAIN else { throw TransportError.system(label, errno) }
            registration = try reactor.register(fd: fd, events: .writable, handler: self)
        } catch {
            finish(.failure(error))
        }
    }

    func cancel() {
        completion = nil
        if let registration { reactor.deregister(registration) }
        registration = nil
        if fd >= 0 { close(fd) }
        fd = -1
    }

    func ready(_ events: IOEvents, hangup: Bool) {
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        if let registration { reactor.deregister(registration) }
        registration = nil
        finish(error == 0 ? .success(fd) : .failure(.system(label, error)))
    }

    private func finish(_ result: Result<Int32, TransportError>) {
        if case .failure = result, fd >= 0 { close(fd) }
        fd = -1  // closed, or handed over
        let completion = self.completion
        self.completion = nil
        completion?(result)
    }
}
