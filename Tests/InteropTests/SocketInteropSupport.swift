#if canImport(Glibc)
import Glibc
#endif
import Testing
@_spi(Testing) import ZeroMQ

/// Where a Swift socket and a libzmq socket meet: the transport, and which of them binds.
struct Placement: Sendable, CustomTestStringConvertible {
    enum Wire: String, Sendable { case tcp, ipc }

    let wire: Wire
    /// The Swift socket binds and libzmq connects; else libzmq binds and the Swift socket connects.
    let swiftBinds: Bool

    /// tcp and ipc, each with either side binding.
    static let all: [Placement] = [Wire.tcp, .ipc].flatMap { wire in
        [true, false].map { Placement(wire: wire, swiftBinds: $0) }
    }

    var testDescription: String { "\(wire.rawValue), \(swiftBinds ? "Swift binds" : "libzmq binds")" }

    /// A fresh endpoint to bind: a wildcard port on loopback, or a socket file under /tmp
    /// unique to this process and call.
    func freshEndpoint() -> String {
        switch wire {
        case .tcp:
            return "tcp://127.0.0.1:*"
        case .ipc:
            return "ipc:///tmp/swift-zeromq-interop-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).ipc"
        }
    }
}

/// One Swift socket (from the `ZeroMQ` module) joined to one libzmq peer process.
///
/// Every Swift socket gets LINGER 0 and 10 s send and receive timeouts, so a broken exchange
/// fails instead of hanging. ``close()`` (call it in a `defer`) closes the socket, kills the
/// peer and removes an ipc socket file.
final class SocketLink {
    let socket: Socket
    let peer: LibzmqPeer
    /// The endpoint both sides use (the bound one, wildcards resolved).
    let endpoint: String
    /// The peer's output lines consumed by ``peerMessage()``.
    private var cursor = 0

    /// Makes a Swift socket of `type` (options: the defaults above, then `configure`), starts
    /// a libzmq peer with `arguments`, and joins them as `placement` says.
    init(_ type: SocketType, peer arguments: [String], _ placement: Placement,
         configure: (inout SocketOptions) -> Void = { _ in },
         io: Context.IOMode = .threads,
         context prepare: (Context) throws -> Void = { _ in }) throws {
        let context = try TestContext.make(io: io)
        try prepare(context)
        socket = try context.socket(type)
        var options = socket.options
        options.linger = .zero
        options.receiveTimeout = .seconds(10)
        options.sendTimeout = .seconds(10)
        configure(&options)
        socket.options = options
        // A peer's SEND (or echo) waits up to 10 s for libzmq to have a route for it.
        let common = arguments + ["--send-retry", "10"]
        if placement.swiftBinds {
            try socket.bind(placement.freshEndpoint())
            endpoint = socket.lastEndpoint
            peer = try LibzmqPeer(common + ["--connect", endpoint])
            try peer.waitForLine("STARTED")
        } else {
            peer = try LibzmqPeer(common + ["--bind-endpoint", placement.freshEndpoint()])
            let line = try peer.waitForLine("BOUND ")
            endpoint = String(line.dropFirst(6))
            try socket.connect(endpoint)
        }
    }

    func close() {
        socket.close()
        peer.stop()
        if endpoint.hasPrefix("ipc:///") { unlink(String(endpoint.dropFirst(6))) }
    }

    // MARK: What libzmq received

    /// The next message libzmq received (its next `RECV` line), frame by frame.
    ///
    /// While waiting it keeps asking the Swift socket for its ``Socket/events``, as an
    /// application polling it would: like libzmq's, a socket handles what its I/O thread reported
    /// (a new peer to attach, to which a SUB then sends its subscriptions) only when called.
    func peerMessage(timeoutMs: Int = 10_000) throws -> [[UInt8]] {
        let deadline = monotonicNow().adding(.milliseconds(timeoutMs))
        while true {
            _ = socket.events
            peer.drain()
            let lines = peer.lines
            if let index = lines[min(cursor, lines.count)...].firstIndex(where: { $0.hasPrefix("RECV ") }) {
                cursor = index + 1
                return recvFrames(lines[index])
            }
            try peer.checkAlive()
            let remaining = milliseconds(until: deadline)
            guard remaining > 0 else {
                throw InteropFailure("the libzmq peer printed no RECV line within \(timeoutMs) ms\n\(peer.transcript)")
            }
            var fds = peer.pollDescriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            _ = poll(&fds, nfds_t(fds.count), Int32(min(remaining, 20)))
        }
    }

    /// The next message libzmq received, if it has printed one already (no waiting).
    func peerMessageIfAny() throws -> [[UInt8]]? {
        peer.drain()
        try peer.checkAlive()
        guard peer.lines[cursor...].contains(where: { $0.hasPrefix("RECV ") }) else { return nil }
        return try peerMessage()
    }

    /// Expects libzmq's next message to be `expected`.
    func expectPeerReceives(_ expected: [[UInt8]], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let message = try peerMessage()
        #expect(summary(message) == summary(expected), sourceLocation: sourceLocation)
    }

    /// The property libzmq saw on the messages from the Swift socket (its `META` lines).
    func peerSawProperty(_ name: String) -> String? {
        peer.drain()
        return peer.metadata[name].map { String(decoding: $0, as: UTF8.self) }
    }

    /// Has libzmq send one multipart message (`SEND`), hex-encoded by ``fastHex(_:)``.
    func peerSend(_ parts: [[UInt8]]) {
        peer.command("SEND " + parts.map(fastHex).joined(separator: "|"))
    }

    // MARK: What the Swift socket received

    /// The next whole message the Swift socket receives (within its receive timeout).
    func receive() throws -> Multipart {
        do {
            return try socket.receiveMultipart()
        } catch {
            peer.drain()
            throw InteropFailure("the Swift \(socket.type.name) received nothing: \(error)\n\(peer.transcript)")
        }
    }

    /// A whole message if one arrives within `wait`, else nil.
    func receive(within wait: Duration) throws -> Multipart? {
        let saved = socket.options.receiveTimeout
        socket.options.receiveTimeout = wait
        defer { socket.options.receiveTimeout = saved }
        do {
            return try socket.receiveMultipart()
        } catch where error.code == .timedOut {
            return nil
        }
    }

    /// Expects the Swift socket's next message to be `expected`, from a libzmq socket of type
    /// `peerType` (its `Socket-Type` property; nil: not checked).
    func expectSwiftReceives(_ expected: [[UInt8]], from peerType: String?,
                             sourceLocation: SourceLocation = #_sourceLocation) throws {
        let message = try receive()
        #expect(summary(message.parts.map(\.bytes)) == summary(expected), sourceLocation: sourceLocation)
        if let peerType {
            #expect(message.property("Socket-Type") == peerType, sourceLocation: sourceLocation)
        }
    }
}

/// Frames as short text, so that expectations on 1 MiB frames print readably: the hex of
/// short frames, the size and an FNV-1a hash of long ones.
func summary(_ frames: [[UInt8]]) -> [String] {
    frames.map { frame in
        guard frame.count > 48 else { return hex(frame) }
        let hash = frame.withUnsafeBufferPointer { buffer in
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            var i = 0
            while i < buffer.count {
                hash = (hash ^ UInt64(buffer[i])) &* 0x100_0000_01b3
                i += 1
            }
            return hash
        }
        return "\(frame.count) bytes, fnv1a \(String(hash, radix: 16))"
    }
}

// The tests move 1 MiB frames through the peer's text lines (2 MiB of hex): these loops over raw
// buffers keep that quick in debug builds, where String and generic collection code is slow.

/// Lowercase hex of `bytes`, as the peer script reads it.
func fastHex(_ bytes: [UInt8]) -> String {
    let digits: StaticString = "0123456789abcdef"
    return String(unsafeUninitializedCapacity: bytes.count * 2) { out in
        bytes.withUnsafeBufferPointer { input in
            var i = 0
            while i < input.count {
                out[2 * i] = digits.utf8Start[Int(input[i] >> 4)]
                out[2 * i + 1] = digits.utf8Start[Int(input[i] & 0x0F)]
                i += 1
            }
        }
        return bytes.count * 2
    }
}

/// The frames of a `RECV <hex>|<hex>|...` line.
func recvFrames(_ line: String) -> [[UInt8]] {
    var line = line
    return line.withUTF8 { text in
        var frames: [[UInt8]] = []
        var start = 5  // after "RECV "
        while true {
            var end = start
            while end < text.count, text[end] != UInt8(ascii: "|") { end += 1 }
            let count = (end - start) / 2
            frames.append([UInt8](unsafeUninitializedCapacity: count) { out, initialized in
                var i = 0
                while i < count {
                    out[i] = hexValue(text[start + 2 * i]) << 4 | hexValue(text[start + 2 * i + 1])
                    i += 1
                }
                initialized = count
            })
            guard end < text.count else { return frames }
            start = end + 1
        }
    }
}

private func hexValue(_ digit: UInt8) -> UInt8 {
    digit >= UInt8(ascii: "a") ? digit - UInt8(ascii: "a") + 10 : digit &- UInt8(ascii: "0")
}

/// Message contents shared by the socket interop tests.
enum Sample {
    /// A multipart message with an empty frame in the middle.
    static let multipart = [utf8("first"), [], utf8("third")]
    /// Another one, for the other direction.
    static let reply = [utf8("reply"), [], utf8("end")]
    /// A 1 MiB body, not all one byte value.
    static let big: [UInt8] = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 11) }
}

/// Calls `attempt` until it returns true, at most `limit` times, pausing `pauseMs` between
/// calls. Returns whether it succeeded. (For slow joiners and routes still being made.)
func repeatUntil(_ limit: Int = 500, pauseMs: Int = 20, _ attempt: () throws -> Bool) rethrows -> Bool {
    for _ in 0..<limit {
        if try attempt() { return true }
        usleep(useconds_t(pauseMs * 1000))
    }
    return false
}
