/// `tcp://`: IPv4 and IPv6, `*` and interface binds, ephemeral ports, host names, and libzmq's
/// `source;destination` connect form (`zmq_tcp(7)`).
public struct TCPTransport: Transport {
    /// The tcp transport; it holds no state, so one instance serves every socket.
    public init() {}

    public var scheme: String { "tcp" }

    public func validate(_ address: String) throws(TransportError) {
        _ = try TCPEndpoint(address)
    }

    public func listen(at address: String, options: TransportOptions, reactor: any IODriver,
                       onAccept: @escaping (StreamConnection) -> Void) throws(TransportError) -> any TransportListener {
        try TCPListener(endpoint: address, reactor: reactor, backlog: options.backlog, options: options) { fd, peer in
            onAccept(StreamConnection(fd: fd, peerAddress: peer.map { Self.hostPart($0) } ?? ""))
        }
    }

    public func listen(at address: String, options: TransportOptions, reactor: any IODriver,
                       onAccept: @escaping (StreamConnection) -> Void,
                       onAcceptFailure: @escaping (AcceptFailure) -> Void) throws(TransportError) -> any TransportListener {
        let listener = try TCPListener(endpoint: address, reactor: reactor, backlog: options.backlog, options: options) { fd, peer in
            onAccept(StreamConnection(fd: fd, peerAddress: peer.map { Self.hostPart($0) } ?? ""))
        }
        listener.onAcceptFailure = onAcceptFailure
        return listener
    }

    public func connect(to address: String, options: TransportOptions, reactor: any IODriver,
                        completion: @escaping (Result<StreamConnection, TransportError>) -> Void) -> any TransportConnecter {
        TCPConnecter(endpoint: address, reactor: reactor, options: options) { result in
            completion(result.map { fd in
                StreamConnection(fd: fd, peerAddress: SocketAddress.peer(of: fd).map { Self.hostPart($0) } ?? "")
            })
        }
    }

    /// libzmq's Peer-Address is the numeric host without the port.
    static func hostPart(_ address: SocketAddress) -> String {
        let text = address.description
        guard let colon = text.lastIndex(of: ":") else { return text }
        var host = text[..<colon]
        if host.hasPrefix("[") && host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        return String(host)
    }
}

extension TCPListener: TransportListener {}
extension TCPConnecter: TransportConnecter {}
