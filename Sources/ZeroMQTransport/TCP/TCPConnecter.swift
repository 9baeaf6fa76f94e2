#if canImport(Glibc)
import Glibc
#endif

/// One non-blocking TCP connection attempt on a reactor: resolves the endpoint, connects, and
/// reports the connected descriptor or the error. Retrying (RECONNECT_IVL and its backoff)
/// belongs to the session that owns it. Reactor thread only.
public final class TCPConnecter: IOHandler, @unchecked Sendable {
    private let endpoint: String
    private let reactor: Reactor
    private var completion: ((Result<Int32, TransportError>) -> Void)?
    private var fd: Int32 = -1
    private var registration: Reactor.Registration?
    private let options: TransportOptions

    public init(endpoint: String, reactor: Reactor, options: TransportOptions = TransportOptions(), completion: @escaping (Result<Int32, TransportError>) -> Void) {
        self.endpoint = endpoint
        self.reactor = reactor
        self.options = options
        self.completion = completion
    }

    /// Starts the attempt.
    public func start() {
        do throws(TransportError) {
            let parsed = try TCPEndpoint(endpoint)
            guard parsed.port != nil else { throw TransportError.invalidEndpoint(endpoint, "cannot connect to port *") }
            guard let address = try parsed.resolve(passive: false).first else {
                throw TransportError.invalidEndpoint(endpoint, "no address")
            }
            fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw TransportError.system("socket", errno) }
            if let source = parsed.source {
                let local = try TCPEndpoint(source.contains(":") ? source : source + ":0")
                guard let from = try local.resolve(passive: true).first(where: { $0.family == address.family }) else {
                    throw TransportError.invalidEndpoint(endpoint, "no source address of the destination's family")
                }
                var one: Int32 = 1
                setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
                guard from.withSockaddr({ bind(fd, $0, $1) }) == 0 else { throw TransportError.system("bind \(from)", errno) }
            }
            if address.withSockaddr({ connect(fd, $0, $1) }) == 0 {
                finish(.success(fd))
                return
            }
            guard errno == EINPROGRESS else { throw TransportError.system("connect \(address)", errno) }
            registration = try reactor.register(fd: fd, events: .writable, handler: self)
        } catch {
            finish(.failure(error))
        }
    }

    /// Abandons the attempt.
    public func cancel() {
        completion = nil
        if let registration { reactor.deregister(registration) }
        registration = nil
        if fd >= 0 { close(fd) }
        fd = -1
    }

    public func ready(_ events: IOEvents, hangup: Bool) {
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        if let registration { reactor.deregister(registration) }
        registration = nil
        if error == 0 {
            finish(.success(fd))
        } else {
            finish(.failure(.system("connect \(endpoint)", error)))
        }
    }

    private func finish(_ result: Result<Int32, TransportError>) {
        switch result {
        case .success(let connected):
            TCPOptions.configure(connected, options)
            fd = -1  // handed over
        case .failure:
            if fd >= 0 { close(fd) }
            fd = -1
        }
        let completion = self.completion
        self.completion = nil
        completion?(result)
    }
}
