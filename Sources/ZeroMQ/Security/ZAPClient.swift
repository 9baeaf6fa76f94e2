import ZMTP
import ZeroMQTransport

/// One ZAP request in flight (RFC 27), from a session on its I/O thread to the handler bound at
/// `inproc://zeromq.zap.01` in the same context: libzmq's `zap_client_t` over the pipe its
/// session makes in `zap_connect`.
///
/// The request goes out as a REQ would send it (an empty delimiter, then the fields), so a
/// handler written for libzmq, a REP or a ROUTER, works unchanged. The reply is read on the
/// session's reactor thread as it arrives and validated by ``ZAPFrames/parseReply(_:id:)``;
/// nothing here blocks the I/O thread.
final class ZAPClient: PipeEventSink, @unchecked Sendable {
    /// The inproc name ZAP handlers bind (RFC 27 §Transport).
    static let handlerName = "zeromq.zap.01"
    /// Frames a reply may have before it is malformed for sure (7; one more proves it).
    private static let frameLimit = ZAPFrames.replyFrameCount + 1

    typealias Completion = (Result<AuthenticationReply, ZMTPError>) -> Void

    private let pipe: PipeEnd
    private let reactor: any IODriver
    /// The reply's frames so far (reactor thread).
    private var frames: [(bytes: [UInt8], more: Bool)] = []
    /// Called once, on the reactor thread; nil once called or cancelled.
    private var completion: Completion?

    private init(pipe: PipeEnd, reactor: any IODriver, completion: @escaping Completion) {
        self.pipe = pipe
        self.reactor = reactor
        self.completion = completion
    }

    /// Sends `request` to the context's ZAP handler, or returns nil when none is bound (the
    /// caller applies libzmq's no-handler rules). `completion` runs on `reactor`'s thread with
    /// the validated reply, or the error that ends the handshake: a malformed reply, or the
    /// handler closing its end before it answered.
    static func send(_ request: AuthenticationRequest, through registry: InprocRegistry, reactor: any IODriver,
                     completion: @escaping Completion) -> ZAPClient? {
        var properties = Metadata()
        properties.append(name: Metadata.Name.socketType, value: Array(SocketType.req.name.utf8))
        let us = PeerDescription(socketType: .req, identity: [], properties: properties,
                                 endpoint: "inproc://" + handlerName, session: nil)
        guard let pipe = registry.connectIfBound(handlerName, as: us) else { return nil }
        let client = ZAPClient(pipe: pipe, reactor: reactor, completion: completion)
        pipe.setSink(client)
        let frames = ZAPFrames.request(request)
        for (index, frame) in frames.enumerated() {
            pipe.write(Message(frame, more: index < frames.count - 1))
        }
        pipe.flush()
        // Look once: an empty pipe marks the reader asleep, so the reply's flush wakes us.
        client.readReply()
        return client
    }

    /// The session no longer wants the answer (its engine stopped): close the pipe.
    func cancel() {
        completion = nil
        pipe.close()
    }

    // MARK: Reading the reply (reactor thread)

    private func readReply() {
        guard completion != nil else { return }
        while true {
            switch pipe.readState() {
            case .message(let message):
                frames.append((message.bytes, message.more))
                if !message.more || frames.count >= Self.frameLimit {
                    // A complete message (or too many frames for a reply): judge it as is.
                    finish(Result { () throws(ZMTPError) in try ZAPFrames.parseReply(frames) })
                    return
                }
            case .empty:
                return
            case .closed:
                finish(.failure(ZMTPError(.zapUnspecified, blame: .apiMisuse, "the ZAP handler went away before it replied")))
                return
            }
        }
    }

    private func finish(_ result: Result<AuthenticationReply, ZMTPError>) {
        let completion = self.completion
        self.completion = nil
        pipe.close()
        completion?(result)
    }

    // MARK: PipeEventSink (called from the handler's thread)

    func pipeBecameReadable(_ pipe: PipeID) {
        _ = reactor.post { [self] in readReply() }
    }

    func pipeBecameWritable(_ pipe: PipeID) {}
}
