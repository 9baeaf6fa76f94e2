import ZeroMQTransport
import ZMTP

/// PUSH (RFC 30): round-robin to peers with room; blocks when none has.
final class PushPattern: SocketPattern {
    var options: SocketOptions
    private let balancer = LoadBalancer()

    init(options: SocketOptions) { self.options = options }

    func attach(_ peer: PeerPipe) { balancer.attach(peer) }
    func detach(_ peer: PeerPipe) { balancer.detach(peer) }
    func readActivated(_ peer: PeerPipe) {}
    func writeActivated(_ peer: PeerPipe) { balancer.activate(peer) }
    func send(_ message: consuming Message) -> SendOutcome { balancer.send(message) }
    func receive(wantsSource: Bool) throws(ZeroMQError) -> Inbound? { throw .notSupported("PUSH cannot receive") }
    var canSend: Bool { balancer.canSend() }
    var canReceive: Bool { false }
}

/// PULL (RFC 30): fair-queued from every peer. With CONFLATE, only the newest message waiting.
final class PullPattern: SocketPattern {
    var options: SocketOptions
    private let queue = FairQueue()

    init(options: SocketOptions) { self.options = options }

    func attach(_ peer: PeerPipe) { queue.attach(peer) }
    func detach(_ peer: PeerPipe) { queue.detach(peer) }
    func readActivated(_ peer: PeerPipe) { queue.activate(peer) }
    func writeActivated(_ peer: PeerPipe) {}
    func send(_ message: consuming Message) throws(ZeroMQError) -> SendOutcome { throw .notSupported("PULL cannot send") }
    func receive(wantsSource: Bool) -> Inbound? { queue.receive(wantsSource: wantsSource, conflate: options.conflate) }
    func receiveMessage() -> Message? {
        options.conflate ? queue.receive(wantsSource: false, conflate: true)?.message : queue.receiveMessage()
    }
    var canSend: Bool { false }
    var canReceive: Bool { queue.hasMessage() }
}

extension FairQueue {
    /// The next part for PULL and DEALER. With CONFLATE every single-part message waiting is
    /// read and only the newest is returned (libzmq's conflating pipe keeps one message;
    /// multipart messages are not supported).
    @inline(__always)
    func receive(wantsSource: Bool, conflate: Bool) -> Inbound? {
        if conflate {
            var newest: Inbound?
            while let next = receive() { newest = next }
            return newest
        }
        if wantsSource { return receive() }
        guard let message = receiveMessage() else { return nil }
        return Inbound(message: message, from: nil)
    }
}

/// DEALER (RFC 28): round-robin out, fair-queued in.
final class DealerPattern: SocketPattern {
    var options: SocketOptions
    private let balancer = LoadBalancer()
    private let queue = FairQueue()

    init(options: SocketOptions) { self.options = options }

    func attach(_ peer: PeerPipe) {
        // PROBE_ROUTER: an empty message first, so a ROUTER learns us before we speak.
        if options.probeRouter { peer.sendProbe() }
        balancer.attach(peer)
        queue.attach(peer)
    }
    func detach(_ peer: PeerPipe) {
        balancer.detach(peer)
        queue.detach(peer)
    }
    func readActivated(_ peer: PeerPipe) { queue.activate(peer) }
    func writeActivated(_ peer: PeerPipe) { balancer.activate(peer) }
    func send(_ message: consuming Message) -> SendOutcome { balancer.send(message) }
    func receive(wantsSource: Bool) -> Inbound? { queue.receive(wantsSource: wantsSource, conflate: options.conflate) }
    func receiveMessage() -> Message? {
        options.conflate ? queue.receive(wantsSource: false, conflate: true)?.message : queue.receiveMessage()
    }
    var canSend: Bool { balancer.canSend() }
    var canReceive: Bool { queue.hasMessage() }
}
