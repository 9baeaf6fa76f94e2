#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation
import Synchronization
import ZMTP
import ZeroMQTransport

/// A ZAP handler (RFC 27) for one context, for those who would rather not write one: it binds
/// `inproc://zeromq.zap.01` and answers every authentication request of the context's PLAIN,
/// CURVE and ZAP-domain NULL servers on a thread of its own, so a slow decision never holds up
/// an I/O thread. The rules are an ``AuthenticationPolicy`` (pyzmq's `zmq.auth` semantics);
/// ``decide`` adds custom decisions on top.
///
/// ```swift
/// let auth = try Authenticator(context: context)
/// try auth.allowCurve(certificatesIn: "public_keys")       // or clientKeys: / certificates:
/// auth.allowPlain(passwords: ["admin": "secret"])
/// server.options.curveServer = true
/// server.options.curveSecretKey = try CurveKey(z85: serverSecretZ85)
/// ```
///
/// It runs until ``stop()`` or until its context shuts down, whether or not its creator keeps a
/// reference (as pyzmq's `ThreadAuthenticator`). While it runs, no other ZAP handler may bind
/// in its context; once stopped, servers follow libzmq's rules for a context without a handler.
public final class Authenticator: Sendable {
    /// A custom decision: a reply, or nil to let the policy decide. Runs on the
    /// authenticator's thread.
    public typealias Decision = @Sendable (AuthenticationRequest) -> AuthenticationReply?

    private struct Shared {
        var policy = AuthenticationPolicy()
        var decide: Decision?
        var accepted = 0
        var refused = 0
        var malformed = 0
    }

    private let shared = Mutex(Shared())
    private let wakeup: WakeupSignal
    /// The handler thread (detached), while it runs.
    private let worker: Mutex<pthread_t?>
    /// Left when the handler thread has closed its socket (the endpoint is unbound).
    private let finished = DispatchGroup()

    /// Binds the context's ZAP endpoint and starts answering.
    /// - Throws: ``ZeroMQError/Code/addressInUse`` when the context already has a ZAP handler.
    public init(context: Context) throws(ZeroMQError) {
        let handler = try context.socket(.router)
        handler.options.linger = .zero
        handler.options.sendHighWaterMark = 0
        handler.options.receiveHighWaterMark = 0
        try handler.bind("inproc://" + ZAPClient.handlerName)
        do throws(TransportError) {
            wakeup = try WakeupSignal()
        } catch {
            handler.close()
            throw ZeroMQError(error)
        }
        worker = Mutex(nil)
        finished.enter()
        let job = AuthenticatorLoop(handler: handler, wakeup: wakeup, owner: self)
        do throws(ZeroMQError) {
            // Detached: a loop that ends with its context leaves nothing to join.
            let thread = try DetachedThread.start { job.run() }
            worker.withLock { $0 = thread }
        } catch {
            handler.close()
            finished.leave()
            throw error
        }
    }

    /// Stops answering and unbinds the ZAP endpoint; returns once it is unbound. Requests in
    /// flight then fail their handshakes (the handler went away). Call it from any thread but
    /// a ``decide`` callback's.
    public func stop() {
        let thread = worker.withLock { $0 }
        wakeup.signal()
        // From a decide callback (the handler thread itself) it cannot wait for itself: the
        // loop ends once the callback returns.
        if let thread, pthread_equal(thread, pthread_self()) != 0 { return }
        finished.wait()
    }

    /// The handler thread has ended (after stop, or with its context).
    fileprivate func loopEnded() {
        worker.withLock { $0 = nil }
        finished.leave()
    }

    // MARK: Configuration (any thread, takes effect for the next request)

    /// The rules in force.
    public var policy: AuthenticationPolicy {
        get { shared.withLock { $0.policy } }
        set { shared.withLock { $0.policy = newValue } }
    }

    /// Admits only these peer addresses (pyzmq's `allow`).
    public func allow(addresses: [String]) {
        shared.withLock { $0.policy.allowedAddresses.formUnion(addresses) }
    }

    /// Refuses these peer addresses (pyzmq's `deny`; ignored while an allow list exists).
    public func deny(addresses: [String]) {
        shared.withLock { $0.policy.deniedAddresses.formUnion(addresses) }
    }

    /// PLAIN: the user names and passwords of `domain` ("*": every domain without its own).
    public func allowPlain(domain: String = AuthenticationPolicy.anyDomain, passwords: [String: String]) {
        shared.withLock { $0.policy.passwords[domain] = passwords }
    }

    /// CURVE: the client public keys admitted in `domain`.
    public func allowCurve(domain: String = AuthenticationPolicy.anyDomain, clientKeys: [CurveKey]) {
        shared.withLock { $0.policy.curveKeys[domain] = .only(Set(clientKeys.map(\.bytes))) }
    }

    /// CURVE: the clients whose (public) certificates are given.
    public func allowCurve(domain: String = AuthenticationPolicy.anyDomain, certificates: [CurveCertificate]) {
        shared.withLock { $0.policy.curveKeys[domain] = .only(Set(certificates.map(\.publicKey))) }
    }

    /// CURVE: the clients whose public certificates are the `*.key` files in `directory`
    /// (pyzmq's `configure_curve(location:)`, as `zmq.auth.create_certificates` and CZMQ write
    /// them). Reads the directory now; call again after it changes.
    /// - Throws: ``ZeroMQError/Code/invalidArgument`` for a directory that cannot be read or a
    ///   malformed certificate in it.
    public func allowCurve(domain: String = AuthenticationPolicy.anyDomain, certificatesIn directory: String) throws(ZeroMQError) {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw ZeroMQError(.invalidArgument, "cannot read the certificate directory \(directory): \(error)")
        }
        var certificates: [CurveCertificate] = []
        for name in names.sorted() where name.hasSuffix(".key") {
            certificates.append(try CurveCertificate.load(from: directory + "/" + name))
        }
        allowCurve(domain: domain, certificates: certificates)
    }

    /// CURVE: any client key in `domain` (encryption without authentication).
    public func allowAnyCurveKey(domain: String = AuthenticationPolicy.anyDomain) {
        shared.withLock { $0.policy.curveKeys[domain] = .any }
    }

    /// A custom decision consulted before the policy (nil: the policy alone).
    public var decide: Decision? {
        get { shared.withLock { $0.decide } }
        set { shared.withLock { $0.decide = newValue } }
    }

    /// Requests answered 200, answered otherwise, and dropped as malformed.
    public var statistics: (accepted: Int, refused: Int, malformed: Int) {
        shared.withLock { ($0.accepted, $0.refused, $0.malformed) }
    }

    // MARK: The handler thread

    fileprivate func answer(_ request: AuthenticationRequest) -> AuthenticationReply {
        let (policy, decide) = shared.withLock { ($0.policy, $0.decide) }
        let reply = decide?(request) ?? policy.decide(request)
        shared.withLock { reply.statusCode == "200" ? ($0.accepted += 1) : ($0.refused += 1) }
        return reply
    }

    fileprivate func countMalformed() {
        shared.withLock { $0.malformed += 1 }
    }
}

/// The thread's loop: wait for a request or the stop signal, answer, repeat.
private final class AuthenticatorLoop: @unchecked Sendable {
    /// Used by the thread only, from its start.
    let handler: Socket
    let wakeup: WakeupSignal
    /// Retained: the authenticator runs until stopped, referenced or not.
    let owner: Authenticator

    init(handler: Socket, wakeup: WakeupSignal, owner: Authenticator) {
        self.handler = handler
        self.wakeup = wakeup
        self.owner = owner
    }

    func run() {
        defer {
            handler.close()
            owner.loopEnded()
        }
        let poller = Poller()
        do throws(ZeroMQError) {
            try poller.add(handler, for: .receive)
            try poller.add(fileDescriptor: wakeup.fd, for: .receive)
            while true {
                let ready = try poller.wait(timeout: nil)
                if ready.contains(where: { $0.fileDescriptor == wakeup.fd }) { return }
                while let frames = try receiveRequest() {
                    respond(to: frames)
                }
            }
        } catch {
            // The context is shutting down: nothing left to answer.
        }
    }

    /// One whole request, if one waits: [routing id] "" "1.0" id domain address identity mechanism credentials.
    private func receiveRequest() throws(ZeroMQError) -> [Message]? {
        guard let first = try handler.tryReceive() else { return nil }
        var parts = [first]
        var last = first
        while last.more {
            last = try handler.receive()
            parts.append(last)
        }
        return parts
    }

    private func respond(to parts: [Message]) {
        guard parts.count >= 2, parts.count <= ZAPFrames.maxRequestFrameCount + 1 else {
            owner.countMalformed()
            return
        }
        let routingID = parts[0]
        let parsed: (request: AuthenticationRequest, id: [UInt8])
        do throws(ZMTPError) {
            parsed = try ZAPFrames.parseRequest(parts.dropFirst().map(\.bytes), delimited: true)
        } catch {
            // RFC 27: a request the handler cannot parse gets no reply (the session's
            // handshake interval ends it).
            owner.countMalformed()
            return
        }
        var reply = owner.answer(parsed.request)
        if (try? ZAPFrames.reply(reply, id: parsed.id)) == nil {
            // A decision whose metadata cannot be encoded (an invalid name): refuse with 500
            // rather than leave the client waiting for its handshake interval.
            owner.countMalformed()
            reply = AuthenticationReply(statusCode: "500", statusText: "the authenticator's reply could not be encoded")
        }
        guard let frames = try? ZAPFrames.reply(reply, id: parsed.id) else { return }
        _ = try? handler.send([routingID] + frames.map { Message($0) })
    }
}
