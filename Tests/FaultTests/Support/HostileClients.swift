#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// A raw TCP connection to play a hostile peer with hand-built bytes. Sends wait at most 200 ms
/// (SO_SNDTIMEO), so a thread flooding a server that stopped reading still notices it should stop.
final class RawConnection {
    let fd: Int32

    /// A blocking connect to `host`:`port`; nil when it failed (a flood goes on with its next try).
    init?(host: String = "127.0.0.1", port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr(host)
        address.sin_port = port.bigEndian
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard status == 0 else {
            close(fd)
            return nil
        }
        self.fd = fd
    }

    deinit { close(fd) }

    enum Outcome { case sent, busy, closed }

    /// Sends as much of `bytes` as the socket takes within 200 ms: `.busy` when the peer is not
    /// reading, `.closed` when the connection ended.
    func send(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if written > 0 {
                offset += written
                continue
            }
            if errno == EINTR { continue }
            return errno == EAGAIN || errno == EWOULDBLOCK ? .busy : .closed
        }
        return .sent
    }

    func send(_ bytes: [UInt8]) -> Outcome { bytes.withUnsafeBytes { send($0) } }

    /// Whether the peer has closed the connection (end of stream or reset), reading and dropping
    /// whatever it sent (its greeting, its READY), waiting at most `milliseconds`.
    func closedByPeer(within milliseconds: Int32) -> Bool {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, milliseconds) > 0 else { return false }
        var sink = [UInt8](repeating: 0, count: 4096)
        while true {
            let got = sink.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if got > 0 { continue }
            if got == 0 { return true }
            return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR
        }
    }
}

/// ZMTP 3.1 bytes a hand-built peer writes (RFC 23 §2.2, §2.3).
enum HandBuilt {
    /// greeting = signature(%xFF 8×%x00 %x7F) version(%x03 %x01) mechanism("NULL" + 16×%x00)
    ///            as-server(%x00) filler(31×%x00): 64 octets.
    static let nullGreeting: [UInt8] = {
        var bytes: [UInt8] = [0xFF] + [UInt8](repeating: 0, count: 8) + [0x7F, 3, 1]
        bytes += Array("NULL".utf8) + [UInt8](repeating: 0, count: 16)
        return bytes + [UInt8](repeating: 0, count: 32)
    }()

    /// A READY command (flags %x04, short size) naming Socket-Type PUSH:
    ///   %d5 "READY" %d11 "Socket-Type" 4-octet-length "PUSH"
    static let readyAsPush: [UInt8] = {
        let body: [UInt8] = [5] + Array("READY".utf8) + [11] + Array("Socket-Type".utf8) + [0, 0, 0, 4] + Array("PUSH".utf8)
        return [0x04, UInt8(body.count)] + body
    }()

    /// A message frame header declaring `size` octets: flags %x02 (long, last) then size(8, big-endian).
    static func longFrameHeader(declaring size: UInt64) -> [UInt8] {
        [0x02] + (0..<8).map { UInt8(truncatingIfNeeded: size >> (56 - 8 * UInt64($0))) }
    }

    /// What a peer that completed the NULL handshake as a PUSH writes before a frame of `size`.
    static func handshakeThenFrame(declaring size: UInt64) -> [UInt8] {
        nullGreeting + readyAsPush + longFrameHeader(declaring: size)
    }
}

/// Garbage that looks random enough to a parser: xorshift64 from a seed.
func garbage(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed | 1
    return (0..<count).map { _ in
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return UInt8(truncatingIfNeeded: state >> 24)
    }
}

/// Hostile clients on threads of their own, each connecting again whenever the server drops it,
/// until ``stop()``. Client `i` plays attack `i mod 3`.
final class HostileFlood: @unchecked Sendable {
    /// The three attacks of the garbage flood.
    enum Attack: Int, CaseIterable {
        /// Random bytes from the first octet.
        case randomBytes
        /// A valid NULL handshake, a frame declaring 2^62 octets, then garbage as its body.
        case declares2to62
        /// The same declaring 2 GiB.
        case declares2GiB

        var opening: [UInt8] {
            switch self {
            case .randomBytes: return []
            case .declares2to62: return HandBuilt.handshakeThenFrame(declaring: 1 << 62)
            case .declares2GiB: return HandBuilt.handshakeThenFrame(declaring: 1 << 31)
            }
        }
    }

    private let running = Atomic<Bool>(true)
    private let finished = Atomic<Int>(0)
    /// Garbage octets the server took, over all clients.
    let bytesSent = Atomic<Int>(0)
    /// Connections made, over all clients (a dropped client connects again).
    let connections = Atomic<Int>(0)
    let clients: Int

    /// - Parameters:
    ///   - cpu: when given, every client thread runs on that CPU alone.
    ///   - namespace: when given, every client thread connects from inside it.
    init(port: UInt16, host: String = "127.0.0.1", clients: Int, cpu: Int? = nil, namespace: FaultNamespace? = nil) {
        self.clients = clients
        for index in 0..<clients {
            let attack = Attack(rawValue: index % Attack.allCases.count)!
            Thread { [self] in
                if let cpu { pinCurrentThread(to: cpu) }
                if let namespace { try? namespace.enterOnThisThread() }
                defer { finished.add(1, ordering: .releasing) }
                let chunk = garbage(65_536, seed: UInt64(index + 1) &* 0x9E37_79B9_7F4A_7C15)
                while running.load(ordering: .relaxed) {
                    guard let connection = RawConnection(host: host, port: port) else {
                        usleep(20_000)
                        continue
                    }
                    connections.add(1, ordering: .relaxed)
                    guard connection.send(attack.opening) != .closed else { continue }
                    while running.load(ordering: .relaxed) {
                        let outcome = chunk.withUnsafeBytes { connection.send($0) }
                        if outcome == .closed { break }
                        if outcome == .sent { bytesSent.add(chunk.count, ordering: .relaxed) }
                    }
                }
            }.start()
        }
    }

    /// Stops every client and waits for their threads to end (each send waits at most 200 ms).
    func stop() {
        running.store(false, ordering: .relaxed)
        while finished.load(ordering: .acquiring) < clients { usleep(10_000) }
    }
}

/// Runs the calling thread on `cpu` only. Glibc's Swift module lacks `sched_setaffinity` (it is
/// behind _GNU_SOURCE), so it is looked up; a pid of 0 means the calling thread.
func pinCurrentThread(to cpu: Int) {
    typealias SetAffinity = @convention(c) (pid_t, Int, UnsafeRawPointer) -> Int32
    guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "sched_setaffinity") else { return }
    var mask = [UInt64](repeating: 0, count: 16)
    mask[cpu / 64] = 1 << UInt64(cpu % 64)
    _ = mask.withUnsafeBytes { unsafeBitCast(symbol, to: SetAffinity.self)(0, $0.count, $0.baseAddress!) }
}
