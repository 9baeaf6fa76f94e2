#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
import ZeroMQ

/// A plain TCP socket on loopback for playing a hostile or hand-built peer byte by byte. Every
/// read waits at most its timeout; nothing here blocks without a bound.
final class LoopbackTCP {
    let fd: Int32
    private var isClosed = false

    init(fd: Int32) { self.fd = fd }

    deinit { close() }

    /// A blocking connect to 127.0.0.1:`port`.
    static func connect(port: UInt16) throws -> LoopbackTCP {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw LoopbackError("socket: errno \(errno)") }
        let raw = LoopbackTCP(fd: fd)
        var address = loopback(port: port)
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard status == 0 else { throw LoopbackError("connect to \(port): errno \(errno)") }
        return raw
    }

    /// A listening socket on 127.0.0.1 with a port the kernel picked.
    static func listen() throws -> (listener: LoopbackTCP, port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw LoopbackError("socket: errno \(errno)") }
        let raw = LoopbackTCP(fd: fd)
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let status = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                guard bind(fd, pointer, length) == 0, Glibc.listen(fd, 64) == 0 else { return -1 }
                return getsockname(fd, pointer, &length)
            }
        }
        guard status == 0 else { throw LoopbackError("bind/listen: errno \(errno)") }
        return (raw, UInt16(bigEndian: address.sin_port))
    }

    /// Accepts one connection (call when the listener is readable).
    func accept() throws -> LoopbackTCP {
        let accepted = Glibc.accept(fd, nil, nil)
        guard accepted >= 0 else { throw LoopbackError("accept: errno \(errno)") }
        _ = fcntl(accepted, F_SETFD, FD_CLOEXEC)
        return LoopbackTCP(fd: accepted)
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        return address
    }

    /// Writes every byte (a peer that stopped reading makes this fail, not hang: loopback
    /// buffers hold far more than any test writes).
    func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw LoopbackError("send: errno \(errno)") }
            offset += written
        }
    }

    /// Writes `text` as UTF-8.
    func write(_ text: String) throws {
        try write(Array(text.utf8))
    }

    /// Whether something (bytes or the end of the stream) can be read within `milliseconds`.
    func readable(within milliseconds: Int32) -> Bool {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, milliseconds) > 0
    }

    /// One read: the bytes, or nil at the end of the stream (a reset counts as an end too).
    func readSome(max: Int = 65_536) -> [UInt8]? {
        let bytes = [UInt8](unsafeUninitializedCapacity: max) { buffer, count in
            let got = recv(fd, buffer.baseAddress, max, 0)
            count = Swift.max(got, 0)
        }
        return bytes.isEmpty ? nil : bytes
    }

    /// Exactly `count` bytes, or a thrown error when the stream ends or `timeout` passes first.
    func read(exactly count: Int, timeout: Duration = .seconds(20)) throws -> [UInt8] {
        var bytes: [UInt8] = []
        let deadline = ContinuousClock.now + timeout
        while bytes.count < count, ContinuousClock.now < deadline {
            guard readable(within: 50) else { continue }
            guard let chunk = readSome(max: count - bytes.count) else {
                throw LoopbackError("stream ended after \(bytes.count) of \(count) bytes")
            }
            bytes += chunk
        }
        guard bytes.count == count else { throw LoopbackError("timed out after \(bytes.count) of \(count) bytes") }
        return bytes
    }

    /// Reads and keeps everything until the peer closes the stream or `timeout` passes.
    func readUntilClosed(timeout: Duration = .seconds(20)) -> (bytes: [UInt8], closed: Bool) {
        var bytes: [UInt8] = []
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard readable(within: 50) else { continue }
            guard let chunk = readSome() else { return (bytes, true) }
            bytes += chunk
        }
        return (bytes, false)
    }

    /// Writes `chunk`-byte blocks without blocking until the peer stops taking them (no room
    /// within `waitEach` ms) or `limit` bytes went out; returns how many did.
    func writeUntilBlocked(upTo limit: Int, chunk: Int, waitEach milliseconds: Int32, byte: UInt8) -> Int {
        let block = [UInt8](repeating: byte, count: chunk)
        var written = 0
        while written < limit {
            var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            guard poll(&poller, 1, milliseconds) == 1, poller.revents & Int16(POLLOUT) != 0 else { break }
            let n = block.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, min($0.count, limit - written), Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) }
            guard n > 0 else {
                if errno == EAGAIN || errno == EINTR { continue }
                break
            }
            written += n
        }
        return written
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        Glibc.close(fd)
    }
}

struct LoopbackError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// ZMTP bytes a raw peer writes (RFC 23): greetings and command frames.
enum RawZMTP {
    /// A 64-byte ZMTP 3.1 greeting offering `mechanism`, as-server 0.
    static func greeting(_ mechanism: String) -> [UInt8] {
        var bytes: [UInt8] = [0xFF] + [UInt8](repeating: 0, count: 8) + [0x7F, 3, 1]
        let name = Array(mechanism.utf8)
        bytes += name + [UInt8](repeating: 0, count: 20 - name.count)
        return bytes + [UInt8](repeating: 0, count: 32)
    }

    /// One command frame: flags 0x04 with a 1-octet size, or 0x06 with an 8-octet size.
    static func command(_ body: [UInt8]) -> [UInt8] {
        if body.count <= 255 { return [0x04, UInt8(body.count)] + body }
        return [0x06] + bigEndian(UInt64(body.count)) + body
    }

    /// `name-len name`, the start of every command body.
    static func name(_ name: String) -> [UInt8] { [UInt8(name.utf8.count)] + Array(name.utf8) }

    static func bigEndian(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * UInt64($0))) }
    }

    /// The port of a `tcp://host:port` endpoint.
    static func port(of endpoint: String) throws -> UInt16 {
        guard let text = endpoint.split(separator: ":").last, let port = UInt16(text) else {
            throw LoopbackError("no port in \(endpoint)")
        }
        return port
    }
}

extension SocketMonitor {
    /// Reads events until one matches, for at most `timeout`: every event read, and the match
    /// (nil when time ran out or the monitor ended first).
    func next(within timeout: Duration = .seconds(20), where match: @escaping @Sendable (MonitorEvent) -> Bool) async
        -> (seen: [MonitorEvent], match: MonitorEvent?)
    {
        let seen = EventCollector()
        let found = await withTaskGroup(of: MonitorEvent?.self) { group -> MonitorEvent? in
            group.addTask {
                for await event in self {
                    seen.events.withLock { $0.append(event) }
                    if match(event) { return event }
                }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        return (seen.events.withLock { $0 }, found)
    }
}

/// Events read by a task, for the task that waited on it.
private final class EventCollector: Sendable {
    let events = Mutex<[MonitorEvent]>([])
}

extension MonitorEvent {
    /// The error of a failed handshake.
    var handshakeError: ZMTPError? {
        if case .handshakeFailed(_, let error) = self { return error }
        return nil
    }

    /// The error of a connection that ended on a protocol violation.
    var protocolError: ZMTPError? {
        if case .disconnected(_, .protocolError(let error)) = self { return error }
        return nil
    }
}
