#if canImport(Glibc)
import Glibc
#endif
import Testing
import ZMTP

/// Runs one ``Connection`` over a connected, non-blocking TCP socket with poll(), on the test's
/// own thread: the smallest real driver, before any socket layer exists.
///
/// Every loop is bounded by a deadline: ``run(until:timeoutMs:_:)`` records a test failure
/// (with everything both sides said) when its condition does not come true in time, and never
/// blocks longer than one poll slice. The libzmq peer's output pipes are polled in the same
/// loop, so a condition can wait on either side. Authentication requests are answered at once
/// with ``authenticate``. Every byte written and read is kept for wire-level assertions.
final class BlockingDriver {
    private(set) var connection: Connection
    let fd: Int32
    /// The libzmq peer whose output is read while driving.
    let peer: LibzmqPeer?
    /// Answers each ``ConnectionEvent/authenticationRequest(_:)``.
    var authenticate: (AuthenticationRequest) -> AuthenticationReply

    /// Every event, in order.
    private(set) var events: [ConnectionEvent] = []
    /// Every authentication request seen.
    private(set) var authenticationRequests: [AuthenticationRequest] = []
    /// Every byte written to the socket, in order.
    private(set) var sent: [UInt8] = []
    /// Every byte read from the socket, in order.
    private(set) var received: [UInt8] = []
    /// The peer closed the stream (read returned 0) or it broke.
    private(set) var streamClosed = false
    private var pendingWrite: [UInt8] = []
    private var isClosed = false

    init(
        fd: Int32, configuration: Connection.Configuration, crypto: (any CurveCrypto)? = nil,
        random: RandomSource, peer: LibzmqPeer?,
        authenticate: @escaping (AuthenticationRequest) -> AuthenticationReply = { _ in .deny }
    ) {
        self.fd = fd
        self.peer = peer
        self.authenticate = authenticate
        connection = Connection(configuration: configuration, crypto: crypto, random: random, now: monotonicNow())
    }

    deinit {
        // INTEROP_TRACE=1 prints what both sides did, for studying libzmq's behaviour.
        if getenv("INTEROP_TRACE") != nil { print(transcript) }
        close()
    }

    /// Closes the socket (the peer sees end of stream).
    func close() {
        guard !isClosed else { return }
        isClosed = true
        Glibc.close(fd)
    }

    // MARK: Sending

    /// Queues one multipart message (queued by the core until the handshake completes).
    func send(_ parts: [[UInt8]], sourceLocation: SourceLocation = #_sourceLocation) {
        for (index, part) in parts.enumerated() {
            do {
                try connection.send(Message(part, more: index < parts.count - 1))
            } catch {
                Issue.record("send failed: \(error)", sourceLocation: sourceLocation)
            }
        }
    }

    /// Queues a command (SUBSCRIBE, ...).
    func send(_ command: Command, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            try connection.send(command)
        } catch {
            Issue.record("send(\(command)) failed: \(error)", sourceLocation: sourceLocation)
        }
    }

    // MARK: Reading the outcome

    /// The peer's details, once the handshake completed.
    var peerInfo: PeerInfo? {
        for case .handshakeCompleted(let info) in events { return info }
        return nil
    }

    /// The failure the connection reported, if any.
    var failure: ZMTPError? {
        for case .failed(let error) in events { return error }
        return nil
    }

    /// The message parts received, in order.
    var parts: [Message] {
        events.compactMap { if case .message(let m) = $0 { return m } else { return nil } }
    }

    /// The complete multipart messages received, as byte arrays per part.
    var messages: [[[UInt8]]] {
        var result: [[[UInt8]]] = []
        var current: [[UInt8]] = []
        for part in parts {
            current.append(part.bytes)
            if !part.more {
                result.append(current)
                current = []
            }
        }
        return result
    }

    /// The frames received after the 64-byte greeting. Frame headers are cleartext under CURVE
    /// too; only the bodies of MESSAGE boxes are opaque.
    var framesReceived: [WireFrame] { wireFrames(received.dropFirst(64)) }

    /// The frames sent after the 64-byte greeting.
    var framesSent: [WireFrame] { wireFrames(sent.dropFirst(64)) }

    /// Everything both sides did, for failure messages.
    var transcript: String {
        var text = "--- Swift connection events ---\n" + events.map { "\($0)" }.joined(separator: "\n")
        text += "\n--- bytes sent (\(sent.count)) ---\n" + hex(sent.prefix(2048))
        text += "\n--- bytes received (\(received.count)) ---\n" + hex(received.prefix(2048))
        text += streamClosed ? "\n(stream closed by the peer)" : ""
        if let peer { text += "\n" + peer.transcript }
        return text
    }

    // MARK: Driving

    /// Drives the connection until `condition` holds. Returns false, after recording an issue
    /// that shows both sides' transcripts, when `timeoutMs` passes first or the peer died.
    @discardableResult
    func run(
        until condition: (BlockingDriver) -> Bool, timeoutMs: Int = 10_000, _ what: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> Bool {
        let deadline = monotonicNow().adding(.milliseconds(timeoutMs))
        while true {
            step(maxWaitMs: min(20, milliseconds(until: deadline)))
            if condition(self) { return true }
            if let peer {
                do {
                    try peer.checkAlive()
                } catch {
                    Issue.record("while waiting for \(what): \(error)\n\(transcript)", sourceLocation: sourceLocation)
                    return false
                }
            }
            if milliseconds(until: deadline) == 0 {
                Issue.record("timed out after \(timeoutMs) ms waiting for \(what)\n\(transcript)", sourceLocation: sourceLocation)
                return false
            }
        }
    }

    /// Drives the connection for `durationMs` whatever happens (idling with heartbeats).
    func idle(forMs durationMs: Int) {
        let end = monotonicNow().adding(.milliseconds(durationMs))
        while milliseconds(until: end) > 0 {
            step(maxWaitMs: min(20, milliseconds(until: end)))
        }
    }

    /// One bounded iteration: write, wait (at most `maxWaitMs`, less if a core deadline is
    /// nearer), read, fire due timers, handle events, write again.
    func step(maxWaitMs: Int) {
        flush()
        var timeout = maxWaitMs
        if let deadline = connection.nextDeadline {
            timeout = min(timeout, milliseconds(until: deadline))
        }
        var fds: [pollfd] = []
        if !isClosed && !streamClosed {
            fds.append(pollfd(fd: fd, events: Int16(POLLIN) | (pendingWrite.isEmpty ? 0 : Int16(POLLOUT)), revents: 0))
        }
        for peerFD in peer?.pollDescriptors ?? [] {
            fds.append(pollfd(fd: peerFD, events: Int16(POLLIN), revents: 0))
        }
        if fds.isEmpty {
            if timeout > 0 { usleep(UInt32(timeout) * 1000) }
        } else {
            _ = poll(&fds, nfds_t(fds.count), Int32(timeout))
        }
        readSocket()
        peer?.drain()
        if let deadline = connection.nextDeadline, deadline <= monotonicNow() {
            connection.handleTimeout(now: monotonicNow())
        }
        handleEvents()
        flush()
        // The connection's contract: once it has failed, transmit what is left, then close.
        if connection.error != nil, pendingWrite.isEmpty, !isClosed {
            close()
        }
    }

    private func readSocket() {
        guard !isClosed, !streamClosed else { return }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        for _ in 0..<64 {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                let chunk = Array(buffer[0..<n])
                received.append(contentsOf: chunk)
                connection.receive(chunk, now: monotonicNow())
                handleEvents()
            } else if n == 0 {
                streamClosed = true
                return
            } else {
                if errno == EINTR { continue }
                if errno != EAGAIN && errno != EWOULDBLOCK { streamClosed = true }
                return
            }
        }
    }

    private func handleEvents() {
        while let event = connection.nextEvent() {
            events.append(event)
            switch event {
            case .authenticationRequest(let request):
                authenticationRequests.append(request)
                do {
                    try connection.completeAuthentication(authenticate(request), now: monotonicNow())
                } catch {
                    // The connection reports the failure as an event too.
                }
            default:
                break
            }
        }
    }

    /// Writes what the core queued, as much as the socket takes (never blocking).
    private func flush() {
        guard !isClosed else { return }
        connection.pollTransmit(into: &pendingWrite)
        while !pendingWrite.isEmpty && !streamClosed {
            let n = pendingWrite.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                sent.append(contentsOf: pendingWrite[0..<n])
                pendingWrite.removeFirst(n)
            } else {
                if n < 0 && errno == EINTR { continue }
                if n < 0 && errno != EAGAIN && errno != EWOULDBLOCK { streamClosed = true }
                return
            }
        }
    }
}
