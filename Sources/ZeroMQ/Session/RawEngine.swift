#if canImport(Glibc)
import Glibc
#endif
import ZMTP
import ZeroMQTransport

/// Moves raw bytes between a stream descriptor and a pipe, with no ZMTP (libzmq's `raw_engine_t`,
/// for STREAM sockets). Each read becomes one message; each message from the pipe is written as
/// is; an empty message from the socket closes the connection. Driver thread only.
final class RawEngine: SessionEngine, IOHandler, ByteStreamReceiver, PipeEventSink, @unchecked Sendable {
    static let readBufferSize = 65_536

    /// What carries the bytes: a descriptor read when ready, or a stream that pushes them.
    private let medium: StreamConnection.Medium
    private let reactor: any IODriver
    private weak var delegate: Session?
    private var pipe: PipeEnd?
    private var registration: IORegistration?
    private var output: [UInt8] = []
    private var written = 0
    private var stopped = false
    private var inputClosed = false
    /// A received chunk the pipe had no room for.
    private var stalled: Message?
    /// The socket asked to close the connection (empty message) or closed the pipe.
    private var closeAfterFlush = false

    init(medium: StreamConnection.Medium, reactor: any IODriver, delegate: Session) {
        self.medium = medium
        self.reactor = reactor
        self.delegate = delegate
    }

    func start() {
        do throws(TransportError) {
            registration = try medium.start(on: reactor, for: self)
        } catch {
            stop()
            return
        }
        // No handshake: the peer is "known" at once (STREAM's connect notification).
        delegate?.rawEngineConnected(self)
        pump()
    }

    func attach(_ pipe: PipeEnd) {
        self.pipe = pipe
        pipe.setSink(self)
    }

    func stop() {
        guard !stopped else { return }
        stopped = true
        medium.close(on: reactor, registration: registration)
        registration = nil
        delegate?.engineStopped()
    }

    func ready(_ events: IOEvents, hangup: Bool) {
        if events.contains(.readable) { readStream() }
        pump()
    }

    func pipeBecameReadable(_ pipe: PipeID) { reactor.post { [weak self] in self?.pump() } }
    func pipeBecameWritable(_ pipe: PipeID) { reactor.post { [weak self] in self?.pump() } }
    func pipePeerClosed(_ pipe: PipeID) { reactor.post { [weak self] in self?.pump() } }

    func stream(received bytes: UnsafeRawBufferPointer) {
        guard !stopped, !inputClosed else { return }
        // A chunk read before the stream heard to stop joins the one that waits.
        if let waiting = stalled {
            stalled = Message(waiting.bytes + Array(bytes))
        } else {
            stalled = Message(copying: bytes)
        }
        pump()
    }

    func streamBecameWritable() { pump() }

    func streamEnded(_ failure: TransportError?) {
        inputClosed = true
        pump()
    }

    private func readStream() {
        guard !stopped, !inputClosed, stalled == nil, case .descriptor(let fd) = medium else { return }
        // The reactor's read buffer (one per I/O thread): the message copies what was read.
        let buffer = reactor.readBuffer
        let n = read(fd, buffer.baseAddress, buffer.count)
        if n > 0 {
            stalled = Message(copying: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        } else if n == 0 {
            inputClosed = true
        } else if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
            inputClosed = true
        }
    }

    private func pump() {
        guard !stopped, let pipe else { return }
        if let message = stalled, pipe.checkWrite() {
            pipe.write(message)
            pipe.flush()
            stalled = nil
        }
        while !closeAfterFlush, output.count - written < Self.readBufferSize {
            switch pipe.readState() {
            case .message(let message):
                if message.count == 0 && !message.more {
                    closeAfterFlush = true
                } else {
                    message.withUnsafeBytes { output.append(contentsOf: $0) }
                }
                continue
            case .empty:
                break
            case .closed:
                closeAfterFlush = true
            }
            break
        }
        switch medium {
        case .descriptor(let fd):
            guard write(to: fd) else { return stop() }
        case .byteStream(let stream):
            if written < output.count {
                written += output[written...].withUnsafeBytes { stream.write($0) }
                stream.flush()
            }
        }
        if written == output.count {
            output.removeAll(keepingCapacity: true)
            written = 0
        }
        if (closeAfterFlush && output.isEmpty) || (inputClosed && stalled == nil) {
            stop()
            return
        }
        let wantsInput = !inputClosed && stalled == nil
        switch medium {
        case .descriptor:
            guard let registration else { return }
            var interest: IOEvents = []
            if wantsInput { interest.insert(.readable) }
            if !output.isEmpty { interest.insert(.writable) }
            try? reactor.update(registration, events: interest)
        case .byteStream(let stream):
            stream.setReading(wantsInput)
        }
    }

    /// Writes what the descriptor takes; false when it failed.
    private func write(to fd: Int32) -> Bool {
        while written < output.count {
            let n = output[written...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                written += n
            } else if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                break
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                return false
            }
        }
        return true
    }
}
