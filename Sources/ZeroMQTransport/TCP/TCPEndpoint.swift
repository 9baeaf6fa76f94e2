#if canImport(Glibc)
import Glibc
#endif

/// A `tcp://` endpoint as libzmq parses it (`zmq_tcp(7)`): `tcp://host:port` to connect,
/// `tcp://interface:port` to bind, where the interface may be `*` (every address) and the port
/// `*` or `0` (an ephemeral port, reported afterwards as the last endpoint).
public struct TCPEndpoint: Hashable, Sendable, CustomStringConvertible {
    /// The host or interface part, without IPv6 brackets (`*` for any).
    public var host: String
    /// The port; nil for `*` (ephemeral).
    public var port: UInt16?
    /// libzmq's `tcp://source;destination`: the local address (and port, `*` or 0 for any) a
    /// connection is made from.
    public var source: String?

    /// Parses `tcp://host:port` (the scheme is optional).
    public init(_ text: String) throws(TransportError) {
        var rest = Substring(text)
        if rest.hasPrefix("tcp://") { rest = rest.dropFirst(6) }
        // libzmq's `tcp://source;destination`.
        if let semicolon = rest.lastIndex(of: ";") {
            source = String(rest[..<semicolon])
            rest = rest[rest.index(after: semicolon)...]
        }
        guard let colon = rest.lastIndex(of: ":") else {
            throw TransportError.invalidEndpoint(text, "no port")
        }
        var host = rest[..<colon]
        let portText = rest[rest.index(after: colon)...]
        if host.hasPrefix("[") && host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard !host.isEmpty else { throw TransportError.invalidEndpoint(text, "no host") }
        if portText == "*" || portText == "0" {
            port = nil
        } else if let value = UInt16(portText), value > 0 {
            port = value
        } else {
            throw TransportError.invalidEndpoint(text, "invalid port \(portText)")
        }
        self.host = String(host)
    }

    public var description: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return "tcp://\(h):\(port.map(String.init) ?? "*")"
    }

    /// The addresses to bind (`passive`) or connect to, in resolver order.
    public func resolve(passive: Bool) throws(TransportError) -> [SocketAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = passive ? AI_PASSIVE : 0
        let node: String? = host == "*" ? nil : host
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(node, String(port ?? 0), &hints, &result)
        guard status == 0, let first = result else {
            throw TransportError.invalidEndpoint(description, String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(first) }
        var addresses: [SocketAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            if let raw = info.pointee.ai_addr, info.pointee.ai_addrlen <= socklen_t(MemoryLayout<sockaddr_storage>.size) {
                var storage = sockaddr_storage()
                withUnsafeMutableBytes(of: &storage) { bytes in
                    bytes.baseAddress?.copyMemory(from: raw, byteCount: Int(info.pointee.ai_addrlen))
                }
                addresses.append(SocketAddress(storage: storage, length: info.pointee.ai_addrlen))
            }
            cursor = info.pointee.ai_next
        }
        // Prefer IPv4, as libzmq does by default (ZMQ_IPV6=0): `*` binds IPv4, and a name such as
        // `localhost` that resolves to both connects over IPv4. An IPv6 literal has only IPv6.
        return addresses.filter { $0.family == AF_INET } + addresses.filter { $0.family != AF_INET }
    }
}
