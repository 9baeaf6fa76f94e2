#if canImport(Glibc)
import Glibc
#endif

/// An `ipc://` address (`zmq_ipc(7)`): a filesystem path, a Linux abstract name written `@name`,
/// or `*` for a fresh path in a new temporary directory, chosen at bind.
public struct IPCAddress: Hashable, Sendable, CustomStringConvertible {
    /// The path, or `@name` for an abstract socket.
    public var path: String

    /// The longest path `sockaddr_un` holds (107 bytes and a NUL on Linux).
    public static let maxPathLength = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1

    /// Parses `text`, with or without its `ipc://` prefix.
    /// - Throws: ``TransportError/Kind/invalidEndpoint`` for an empty path, a NUL in it, or one longer than
    ///   ``maxPathLength``.
    public init(_ text: String) throws(TransportError) {
        var rest = Substring(text)
        if rest.hasPrefix("ipc://") { rest = rest.dropFirst(6) }
        guard !rest.isEmpty else { throw TransportError.invalidEndpoint(text, "empty path") }
        guard rest.utf8.count <= Self.maxPathLength else {
            throw TransportError.invalidEndpoint(text, "longer than \(Self.maxPathLength) bytes")
        }
        guard !rest.utf8.contains(0) else { throw TransportError.invalidEndpoint(text, "NUL in path") }
        path = String(rest)
    }

    /// Whether this is a Linux abstract-namespace name (no file).
    public var isAbstract: Bool { path.hasPrefix("@") }

    public var description: String { "ipc://" + path }

    /// The `sockaddr_un` for the path (an abstract name starts with a NUL byte instead of `@`).
    public func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let length = withUnsafeMutableBytes(of: &address.sun_path) { raw -> Int in
            for (i, byte) in bytes.enumerated() { raw[i] = byte }
            if isAbstract { raw[0] = 0 }
            return bytes.count
        }
        // Abstract names are exactly as long as given; paths are NUL-terminated.
        let size = MemoryLayout<sa_family_t>.size + length + (isAbstract ? 0 : 1)
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(size)) }
        }
    }
}
