import ZMTP
import ZeroMQTransport

/// A PUB's or XPUB's PGM endpoint (libzmq's `pgm_sender_t`): takes whole messages from the
/// socket's pipe, packs them into APDUs with ``PGMEncoder`` and sends them at RATE, waiting (not
/// spinning, not dropping) when libpgm says the rate or the kernel buffer is exhausted. libpgm
/// has no thread: its NAK handling, repairs and SPM heartbeats run inside the calls this link
/// makes when its descriptors are readable and when libpgm's timer is due.
final class PGMSenderLink: MessageTransportLink, PipeEventSink, IOHandler, @unchecked Sendable {
    /// Parts taken from the pipe ahead of the encoder, at most: the pipe's high-water mark
    /// holds the rest back.
    static let maxQueuedParts = 256
    /// How long libpgm's protocol work waits after a failure before it runs again.
    static let failureBackoffMilliseconds = 10
    /// APDUs sent in one turn of the I/O thread before the link lets the thread's other
    /// endpoints and connections run. libpgm's rate limiter lets a whole second of RATE go at
    /// once after a quiet spell: sent in one go, 170 APDUs took 7 ms here, during which a SUB
    /// on the same thread could not read and its kernel buffer (about 126 such packets at the
    /// default 208 KiB) overflowed.
    static let maxAPDUsPerTurn = 32

    private let socket: PGMSocket
    private var encoder: PGMEncoder
    private var apdu: [UInt8] = []
    /// An APDU libpgm refused for now (rate or buffer), to send again as is.
    private var pending = false
    private var pipe: PipeEnd?
    private var reactor: (any IODriver)?
    private var host: MessageTransportHost?
    private var registrations: [IORegistration] = []
    private var sendRegistration: IORegistration?
    /// Why sending waits, if it does.
    private enum Pause {
        case sending
        /// libpgm's rate limit: until the timer fires.
        case rateLimited(IOTimer)
        /// The turn's share (``maxAPDUsPerTurn``) was used: until the posted continuation runs,
        /// after the events the I/O thread found meanwhile.
        case yielded
    }

    private var pause = Pause.sending
    private var protocolTimer: IOTimer?
    private var lingerTimer: IOTimer?
    /// The socket is done: finish sending, then close.
    private var terminating = false
    private var closed = false

    init(socket: PGMSocket) throws(PGMError) {
        self.socket = socket
        encoder = try PGMEncoder(maxTSDUSize: socket.maxTSDU)
        apdu.reserveCapacity(socket.maxTSDU)
    }

    func start(pipe: PipeEnd, reactor: any IODriver, host: MessageTransportHost) {
        self.pipe = pipe
        self.reactor = reactor
        self.host = host
        pipe.setSink(self)
        do throws(TransportError) {
            for fd in socket.readDescriptors {
                registrations.append(try reactor.register(fd: fd, events: .readable, handler: self))
            }
            if let fd = socket.sendDescriptor {
                sendRegistration = try reactor.register(fd: fd, events: [], handler: self)
            }
        } catch {
            host.reportFailure(error)
            finish()
            return
        }
        runProtocol()
        pump()
    }

    func terminate(linger: Duration?) {
        guard !closed else { return }
        terminating = true
        if linger == .zero || !(pending || encoder.hasPendingData || (pipe?.checkRead() ?? false)) {
            finish()
            return
        }
        if let linger, let reactor {
            lingerTimer = reactor.schedule(afterMilliseconds: PGMTransport.milliseconds(linger)) { [weak self] in self?.finish() }
        }
        pump()
    }

    // MARK: Sending

    /// Sends until there is nothing more, libpgm asks to wait, or the turn's share is used.
    private func pump() {
        guard !closed, case .sending = pause else { return }
        var sent = 0
        while true {
            if !pending {
                guard sent < Self.maxAPDUsPerTurn else {
                    yieldTurn()
                    return
                }
                fillEncoder()
                guard encoder.nextAPDU(into: &apdu) else { break }
                pending = true
            }
            switch apdu.withUnsafeBytes({ socket.send($0) }) {
            case .sent:
                pending = false
                sent += 1
            case .rateLimited(let milliseconds):
                guard let reactor else { return }
                pause = .rateLimited(reactor.schedule(afterMilliseconds: milliseconds) { [weak self] in
                    self?.pause = .sending
                    self?.pump()
                })
                return
            case .wouldBlock:
                guard let sendRegistration, let reactor else { return }
                do throws(TransportError) {
                    try reactor.update(sendRegistration, events: .writable)
                } catch {
                    // Waiting for a wakeup that cannot come would hang LINGER and termination.
                    host?.reportFailure(error)
                    finish()
                }
                return
            case .failed(let reason):
                host?.reportFailure(.system(reason, 0))
                finish()
                return
            }
        }
        if terminating, !pending, !encoder.hasPendingData { finish() }
    }

    private func yieldTurn() {
        pause = .yielded
        let posted = reactor?.post { [weak self] in
            guard let self, case .yielded = self.pause else { return }
            self.pause = .sending
            self.pump()
        }
        // A stopped reactor runs nothing more: there is no turn to wait for.
        if posted != true { pause = .sending }
    }

    /// Moves whole messages from the pipe into the encoder, so back-to-back messages share an
    /// APDU as libzmq packs them; bounded by ``maxQueuedParts``.
    private func fillEncoder() {
        guard let pipe else { return }
        while encoder.pendingParts < Self.maxQueuedParts, let part = pipe.read() {
            encoder.enqueue(part)
        }
    }

    // MARK: libpgm's own work

    /// Lets libpgm answer NAKs, send repairs and heartbeats; re-arms its timer.
    private func runProtocol() {
        guard !closed else { return }
        if let protocolTimer { reactor?.cancel(protocolTimer) }
        protocolTimer = nil
        loop: while true {
            let wait: Int
            switch socket.receive({ _, _, _, _ in }) {
            case .data, .reset, .skipped:
                continue
            case .wouldBlock:
                break loop
            case .timer(let milliseconds), .rateLimited(let milliseconds):
                wait = milliseconds
            case .failed:
                // Try again shortly: heartbeats and repairs must go on (receivers expire a
                // silent source).
                wait = Self.failureBackoffMilliseconds
            }
            protocolTimer = reactor?.schedule(afterMilliseconds: wait) { [weak self] in
                self?.protocolTimer = nil
                self?.runProtocol()
            }
            break loop
        }
    }

    // MARK: Events

    func ready(_ events: IOEvents, hangup: Bool) {
        if events.contains(.writable), let sendRegistration {
            // Not watched again until the next WOULD_BLOCK; a failure here only means one more
            // wakeup, which pump() absorbs.
            try? reactor?.update(sendRegistration, events: [])
            pump()
        }
        if events.contains(.readable) { runProtocol() }
    }

    func pipeBecameReadable(_ pipe: PipeID) {
        _ = reactor?.post { [weak self] in self?.pump() }
    }

    func pipeBecameWritable(_ pipe: PipeID) {}

    func pipePeerClosed(_ pipe: PipeID) {
        // The socket closed: what it wrote is still to be read; terminate(linger:) follows.
        _ = reactor?.post { [weak self] in self?.pump() }
    }

    private func finish() {
        guard !closed else { return }
        closed = true
        for timer in [protocolTimer, lingerTimer] { if let timer { reactor?.cancel(timer) } }
        if case .rateLimited(let timer) = pause { reactor?.cancel(timer) }
        pause = .sending
        for registration in registrations { reactor?.deregister(registration) }
        if let sendRegistration { reactor?.deregister(sendRegistration) }
        registrations.removeAll()
        sendRegistration = nil
        socket.close(sendFIN: true)
        pipe?.close()
        host?.ended()
    }
}
