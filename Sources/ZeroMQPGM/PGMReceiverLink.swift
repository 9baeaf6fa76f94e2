import ZMTP
import ZeroMQTransport

/// A SUB's or XSUB's PGM endpoint (libzmq's `pgm_receiver_t`, stricter on loss): reads APDUs
/// from every source (TSI) the group carries, decodes each source with its own ``PGMDecoder``
/// and writes whole messages into the socket's pipe. The SUB filters them by its subscriptions,
/// as libzmq's does; whatever the socket writes here (its subscriptions) is read and dropped:
/// PGM has no upstream.
///
/// Loss is never silent: a sequence gap or libpgm's RESET drops the cut message (never a
/// partial one) and is reported through ``ZeroMQTransport/MessageTransportHost/reportDataLoss(_:)``
/// (the sockets' `dataLost` event). When the socket's pipe is full, reading stops until the application catches up (libpgm's window then absorbs
/// the difference, or reports the loss).
final class PGMReceiverLink: MessageTransportLink, PipeEventSink, IOHandler, @unchecked Sendable {
    /// Sources decoded at once; one more evicts the quietest (libpgm expires silent peers after
    /// its PEER_EXPIRY, 300 s).
    static let maxSources = 1024

    private struct Source {
        var decoder: PGMDecoder
        /// The sequence number the next APDU should start at.
        var expected: UInt32?
        /// The sequence numbers handed to the decoder: contiguous unless packets were lost, so
        /// multi-packet APDUs (from senders that let OpenPGM fragment) do not look like gaps.
        var synthetic: UInt32 = 0
        var lastActive: UInt64 = 0
    }

    private let socket: PGMSocket
    private let limits: PGMDecoder.Limits
    private var sources: [UInt64: Source] = [:]
    private var pipe: PipeEnd?
    private var reactor: (any IODriver)?
    private var host: MessageTransportHost?
    private var registrations: [IORegistration] = []
    private var timer: IOTimer?
    /// Reading is paused until the pipe has room (the descriptors are then not watched, so a
    /// full pipe never makes the I/O thread spin on readable descriptors).
    private var blocked = false {
        didSet {
            guard blocked != oldValue, !closed else { return }
            for registration in registrations { try? reactor?.update(registration, events: blocked ? [] : .readable) }
        }
    }
    /// libpgm failures in a row; reading backs off while they last.
    private var failures = 0
    /// How long reading waits after libpgm fails before it tries again.
    static let failureBackoffMilliseconds = 10
    private var closed = false
    private var activity: UInt64 = 0

    init(socket: PGMSocket, limits: PGMDecoder.Limits) {
        self.socket = socket
        self.limits = limits
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
        } catch {
            host.reportFailure(error)
            finish()
            return
        }
        discardOutgoing()
        read()
    }

    func terminate(linger: Duration?) {
        finish()
    }

    // MARK: Reading

    private func read() {
        guard !closed, !blocked else { return }
        if let timer { reactor?.cancel(timer) }
        timer = nil
        while true {
            let result = socket.receive { source, sequence, packets, apdu in
                self.accept(source: source, sequence: sequence, packets: packets, apdu: apdu)
            }
            switch result {
            case .data:
                pipe?.flush()
                if blocked { return }
            case .wouldBlock:
                pipe?.flush()
                failures = 0
                return
            case .skipped:
                continue
            case .timer(let milliseconds), .rateLimited(let milliseconds):
                pipe?.flush()
                timer = reactor?.schedule(afterMilliseconds: milliseconds) { [weak self] in
                    self?.timer = nil
                    self?.read()
                }
                return
            case .reset(let source):
                // Reported once: a gap already seen and reported is only confirmed by RESET.
                let revealed = source.flatMap { sources[$0]?.decoder.handleReset() } ?? true
                if revealed {
                    host?.reportDataLoss("libpgm reported unrecoverable loss (RESET) from a source; its cut message is dropped")
                }
            case .failed(let reason):
                // Not the end of the endpoint: one bad datagram or a transient socket error
                // must not silence a subscriber. Report it the first time, back off, go on.
                pipe?.flush()
                failures += 1
                if failures == 1 {
                    host?.reportFailure(.system(reason, 0))
                }
                timer = reactor?.schedule(afterMilliseconds: Self.failureBackoffMilliseconds) { [weak self] in
                    self?.timer = nil
                    self?.read()
                }
                return
            }
        }
    }

    /// One APDU from `source`: decode it and pass on the messages it completes.
    private func accept(source key: UInt64, sequence: UInt32, packets: Int, apdu: UnsafeRawBufferPointer) {
        activity &+= 1
        if sources[key] == nil { admit(key) }
        // Mutated in place: a copy would share (and so copy) the decoder's body buffer per APDU.
        update(&sources[key, default: Source(decoder: PGMDecoder(limits: limits))], sequence: sequence, packets: packets, apdu: apdu)
    }

    private func update(_ source: inout Source, sequence: UInt32, packets: Int, apdu: UnsafeRawBufferPointer) {
        if let expected = source.expected, expected != sequence {
            source.synthetic &+= 2  // a discontinuity the decoder will see
        } else {
            source.synthetic &+= 1
        }
        source.expected = sequence &+ UInt32(truncatingIfNeeded: packets)
        source.lastActive = activity
        let before = source.decoder.statistics
        do throws(PGMError) {
            try source.decoder.receive(apdu, sequence: source.synthetic)
        } catch {
            // A malformed APDU: the decoder has dropped the source's partial message and waits
            // for the next message start.
            host?.reportDataLoss("malformed data from a source: \(error)")
        }
        while let message = source.decoder.nextMessage() {
            deliver(message)
        }
        let after = source.decoder.statistics
        if after.sequenceGaps > before.sequenceGaps {
            host?.reportDataLoss("packets lost from a source (sequence gap); \(after.droppedMessages - before.droppedMessages) cut message(s) dropped")
        }
    }

    /// Makes room for a new source: past ``maxSources`` the quietest goes, and if it was in the
    /// middle of a message, that loss is reported.
    private func admit(_ key: UInt64) {
        guard sources.count >= Self.maxSources,
              let quietest = sources.min(by: { $0.value.lastActive < $1.value.lastActive }) else { return }
        sources.removeValue(forKey: quietest.key)
        if quietest.value.decoder.isJoined {
            host?.reportDataLoss("more than \(Self.maxSources) sources: the quietest was forgotten, with any message it was sending")
        }
    }

    /// Writes one whole message; stops reading when the pipe is full (libzmq's behaviour: the
    /// network is not read while the application is behind).
    private func deliver(_ parts: [Message]) {
        guard let pipe else { return }
        if !pipe.checkWrite() { blocked = true }
        for part in parts { pipe.write(part) }
    }

    /// What the socket writes (a SUB's subscriptions) goes nowhere: the SUB filters what arrives.
    private func discardOutgoing() {
        while pipe?.read() != nil {}
    }

    // MARK: Events

    func ready(_ events: IOEvents, hangup: Bool) {
        read()
    }

    func pipeBecameReadable(_ pipe: PipeID) {
        _ = reactor?.post { [weak self] in self?.discardOutgoing() }
    }

    func pipeBecameWritable(_ pipe: PipeID) {
        _ = reactor?.post { [weak self] in
            guard let self, self.blocked else { return }
            self.blocked = false
            self.read()
        }
    }

    func pipePeerClosed(_ pipe: PipeID) {}

    private func finish() {
        guard !closed else { return }
        closed = true
        if let timer { reactor?.cancel(timer) }
        for registration in registrations { reactor?.deregister(registration) }
        registrations.removeAll()
        socket.close(sendFIN: false)
        pipe?.close()
        host?.ended()
    }
}
