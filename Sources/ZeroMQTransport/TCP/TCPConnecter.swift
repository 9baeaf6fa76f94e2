#if canImport(Glibc)
import Glibc
#endif

/// One non-blocking TCP connection attempt on a reactor: resolves the endpoint, connects, and
/// reports the connected descriptor or the error. Retrying (RECONNECT_IVL and its backoff)
/// belongs to the session that owns it. Reactor thread only.
public final class TCPConnecter: @unchecked Sendable {
    private let endpoint: String
    private let options: TransportOptions
    private let attempt: StreamConnectAttempt

    /// Starts connecting to `endpoint` on `reactor`; `completion` runs once, on the reactor's
    /// thread, with the connected descriptor or the error.
    public init(endpoint: String, reactor: any IODriver, options: TransportOptions = TransportOptions(), completion: @escaping (Result<Int32, TransportError>) -> Void) {
        self.endpoint = endpoint
        self.options = options
        attempt = StreamConnectAttempt(reactor: reactor, label: "connect \(endpoint)") { result in
            if case .success(let fd) = result { TCPOptions.configure(fd, options) }
            completion(result)
        }
    }

    /// Starts the attempt.
    public func start() {
        let endpoint = endpoint
        attempt.start { (fd: inout Int32) throws(TransportError) -> Int32 in
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
                let socket = fd
                guard from.withSockaddr({ bind(socket, $0, $1) }) == 0 else { throw TransportError.system("bind \(from)", errno) }
            }
            let socket = fd
            return address.withSockaddr { connect(socket, $0, $1) }
        }
    }

    /// Abandons the attempt.
    public func cancel() {
        attempt.cancel()
    }
}
