#if NIO
#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix
import ZeroMQTransport

/// `tcp://` and `ipc://` over SwiftNIO channels, on the event loop of an ``EventLoopDriver``:
/// the transports of a context made with ``ZeroMQ/Context/init(eventLoopGroup:transports:)``.
///
/// Endpoints mean what they mean to the built-in transports (`zmq_tcp(7)`, `zmq_ipc(7)`):
/// wildcards and ephemeral ports, interface and host names, `source;destination` connects,
/// abstract `ipc://@name`, `ipc://*`. Binding is the built-in transports' own
/// (``/ZeroMQTransport/ListeningSocket``), so it fails at once with the same errors; NIO then
/// accepts on the bound descriptor and connects, and each connection is a NIO channel whose
/// bytes go straight to its engine.
public struct ChannelTransport: Transport {
    /// Which kind of stream.
    public enum Family: Sendable, Hashable {
        /// TCP over IPv4 or IPv6.
        case tcp
        /// Unix domain stream sockets.
        case ipc
    }

    /// Which kind of stream.
    public let family: Family

    /// `tcp://` on NIO channels.
    public static let tcp = ChannelTransport(family: .tcp)
    /// `ipc://` on NIO channels.
    public static let ipc = ChannelTransport(family: .ipc)

    /// The transport for `family`.
    public init(family: Family) {
        self.family = family
    }

    public var scheme: String { family == .tcp ? "tcp" : "ipc" }

    public func validate(_ address: String) throws(TransportError) {
        switch family {
        case .tcp: _ = try TCPEndpoint(address)
        case .ipc: _ = try IPCAddress(address)
        }
    }

    public func listen(at address: String, options: TransportOptions, reactor: any IODriver,
                       onAccept: @escaping (StreamConnection) -> Void) throws(TransportError) -> any TransportListener {
        let driver = try Self.driver(reactor)
        let socket = switch family {
        case .tcp: try ListeningSocket.tcp(address, backlog: options.backlog)
        case .ipc: try ListeningSocket.ipc(address, backlog: options.backlog)
        }
        return ChannelListener(socket: socket, family: family, options: options, eventLoop: driver.eventLoop, onAccept: onAccept)
    }

    public func connect(to address: String, options: TransportOptions, reactor: any IODriver,
                        completion: @escaping (Result<StreamConnection, TransportError>) -> Void) -> any TransportConnecter {
        ChannelConnecter(address: address, family: family, options: options, driver: reactor as? EventLoopDriver,
                         completion: completion)
    }

    static func driver(_ reactor: any IODriver) throws(TransportError) -> EventLoopDriver {
        guard let driver = reactor as? EventLoopDriver else {
            throw TransportError.system("a NIO channel transport on a driver that is not an EventLoopDriver", ENOTSUP)
        }
        return driver
    }

    /// Sets up a new connection's channel, on its loop: its options, and the handler that becomes
    /// the engine's stream and calls `onActive` once the channel is connected.
    static func prepare(_ channel: any Channel, family: Family, options: TransportOptions,
                        onActive: @escaping (ChannelByteStream, String) -> Void) -> EventLoopFuture<Void> {
        do {
            try configure(channel, family: family, options: options)
            try channel.pipeline.syncOperations.addHandler(ChannelByteStream(isLocal: family == .ipc, onActive: onActive))
            return channel.eventLoop.makeSucceededVoidFuture()
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
    }

    /// Channel options every connection gets: reads on demand, and for TCP no Nagle delay and
    /// the keepalive settings of `options` (as the built-in transport sets them).
    private static func configure(_ channel: any Channel, family: Family, options: TransportOptions) throws {
        guard let sync = channel.syncOptions else { return }
        try sync.setOption(ChannelOptions.autoRead, value: false)
        try sync.setOption(ChannelOptions.maxMessagesPerRead, value: 1)
        guard family == .tcp else { return }
        try sync.setOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
        if let keepalive = options.tcpKeepalive {
            try sync.setOption(ChannelOptions.socketOption(.so_keepalive), value: keepalive ? 1 : 0)
        }
        let tcp = NIOBSDSocket.OptionLevel(rawValue: CInt(IPPROTO_TCP))
        for (name, value) in [(TCP_KEEPCNT, options.tcpKeepaliveCount), (TCP_KEEPIDLE, options.tcpKeepaliveIdle),
                              (TCP_KEEPINTVL, options.tcpKeepaliveInterval)] {
            guard let value else { continue }
            try sync.setOption(ChannelOptions.Types.SocketOption(level: tcp, name: NIOBSDSocket.Option(rawValue: name)), value: Int(value))
        }
    }
}

/// A bound endpoint whose connections NIO accepts (the loop's thread, after `init`).
final class ChannelListener: TransportListener, @unchecked Sendable {
    let boundEndpoint: String
    private let socket: ListeningSocket
    private let family: ChannelTransport.Family
    private let options: TransportOptions
    private let eventLoop: any EventLoop
    private let onAccept: (StreamConnection) -> Void

    private enum Lifecycle {
        case bound
        case accepting(EventLoopFuture<any Channel>)
        case closed
    }

    private var lifecycle = Lifecycle.bound

    init(socket: ListeningSocket, family: ChannelTransport.Family, options: TransportOptions, eventLoop: any EventLoop,
         onAccept: @escaping (StreamConnection) -> Void) {
        self.socket = socket
        self.boundEndpoint = socket.boundEndpoint
        self.family = family
        self.options = options
        self.eventLoop = eventLoop
        self.onAccept = onAccept
    }

    deinit {
        if case .bound = lifecycle {
            Glibc.close(socket.fd)
            socket.removeFiles()
        }
    }

    func start() throws(TransportError) {
        guard case .bound = lifecycle else { return }
        let family = family
        let options = options
        // Child channels live on the listener's loop (the driver's), so the handler may call
        // back into the socket layer directly.
        let accepted = NIOLoopBound(onAccept, eventLoop: eventLoop)
        let server = ServerBootstrap(group: eventLoop)
            .childChannelInitializer { channel in
                ChannelTransport.prepare(channel, family: family, options: options) { stream, peer in
                    accepted.value(StreamConnection(stream: stream, peerAddress: peer))
                }
            }
            .withBoundSocket(socket.fd)
        lifecycle = .accepting(server)
    }

    func close() {
        let previous = lifecycle
        lifecycle = .closed
        switch previous {
        case .bound:
            Glibc.close(socket.fd)
        case .accepting(let server):
            server.whenSuccess { $0.close(promise: nil) }
        case .closed:
            return
        }
        socket.removeFiles()
    }
}

/// One connection attempt through NIO (the loop's thread). Retrying belongs to the session.
final class ChannelConnecter: TransportConnecter, @unchecked Sendable {
    private let address: String
    private let family: ChannelTransport.Family
    private let options: TransportOptions
    private let driver: EventLoopDriver?
    private var completion: ((Result<StreamConnection, TransportError>) -> Void)?

    private enum Lifecycle {
        case idle
        case connecting(EventLoopFuture<any Channel>)
        case finished
    }

    private var lifecycle = Lifecycle.idle

    init(address: String, family: ChannelTransport.Family, options: TransportOptions, driver: EventLoopDriver?,
         completion: @escaping (Result<StreamConnection, TransportError>) -> Void) {
        self.address = address
        self.family = family
        self.options = options
        self.driver = driver
        self.completion = completion
    }

    func start() {
        guard case .idle = lifecycle else { return }
        guard let driver else {
            return finish(.failure(.system("a NIO channel transport on a driver that is not an EventLoopDriver", ENOTSUP)))
        }
        let eventLoop = driver.eventLoop
        do throws(TransportError) {
            let family = family
            let options = options
            let connected = NIOLoopBound(self, eventLoop: eventLoop)
            var bootstrap = ClientBootstrap(group: eventLoop)
                .channelInitializer { channel in
                    ChannelTransport.prepare(channel, family: family, options: options) { stream, peer in
                        connected.value.finish(.success(StreamConnection(stream: stream, peerAddress: peer)), stream: stream)
                    }
                }
            let attempt: EventLoopFuture<any Channel>
            switch family {
            case .tcp:
                let (destination, source) = try Self.tcpAddresses(address)
                if let source { bootstrap = bootstrap.bind(to: source) }
                attempt = bootstrap.connect(to: destination)
            case .ipc:
                // A Unix domain connect completes or fails at once; NIO takes the connected
                // descriptor. (NIO's own path form has no abstract names.)
                attempt = bootstrap.withConnectedSocket(try Self.ipcConnect(address))
            }
            lifecycle = .connecting(attempt)
            attempt.whenFailure { error in
                connected.value.finish(.failure(ChannelByteStream.transportError(error)))
            }
        } catch {
            // Reported on a later turn, as a connect that fails on the wire is.
            let failed = NIOLoopBound(self, eventLoop: eventLoop)
            eventLoop.execute { failed.value.finish(.failure(error)) }
        }
    }

    func cancel() {
        let previous = lifecycle
        lifecycle = .finished
        completion = nil
        if case .connecting(let attempt) = previous {
            attempt.whenSuccess { $0.close(promise: nil) }
        }
    }

    private func finish(_ result: Result<StreamConnection, TransportError>, stream: ChannelByteStream? = nil) {
        guard let completion else {
            // Cancelled: the connection is nobody's.
            stream?.close()
            return
        }
        self.completion = nil
        lifecycle = .finished
        completion(result)
    }

    /// The destination and, for `source;destination`, the local address to bind first.
    private static func tcpAddresses(_ text: String) throws(TransportError) -> (NIOCore.SocketAddress, NIOCore.SocketAddress?) {
        let parsed = try TCPEndpoint(text)
        guard parsed.port != nil else { throw TransportError.invalidEndpoint(text, "cannot connect to port *") }
        guard let destination = try parsed.resolve(passive: false).first else {
            throw TransportError.invalidEndpoint(text, "no address")
        }
        var source: NIOCore.SocketAddress?
        if let from = parsed.source {
            let local = try TCPEndpoint(from.contains(":") ? from : from + ":0")
            guard let address = try local.resolve(passive: true).first(where: { $0.family == destination.family }) else {
                throw TransportError.invalidEndpoint(text, "no source address of the destination's family")
            }
            source = try nioAddress(address, text)
        }
        return (try nioAddress(destination, text), source)
    }

    private static func nioAddress(_ address: ZeroMQTransport.SocketAddress, _ text: String) throws(TransportError) -> NIOCore.SocketAddress {
        let converted: NIOCore.SocketAddress? = address.withSockaddr { pointer, _ in
            switch Int32(pointer.pointee.sa_family) {
            case AF_INET:
                return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { NIOCore.SocketAddress($0.pointee, host: "") }
            case AF_INET6:
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { NIOCore.SocketAddress($0.pointee, host: "") }
            default:
                return nil
            }
        }
        guard let converted else { throw TransportError.invalidEndpoint(text, "not an IPv4 or IPv6 address") }
        return converted
    }

    private static func ipcConnect(_ text: String) throws(TransportError) -> Int32 {
        let address = try IPCAddress(text)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TransportError.system("socket", errno) }
        guard address.withSockaddr({ Glibc.connect(fd, $0, $1) }) == 0 else {
            let code = errno
            Glibc.close(fd)
            throw TransportError.system("connect \(address)", code)
        }
        return fd
    }
}
#endif
