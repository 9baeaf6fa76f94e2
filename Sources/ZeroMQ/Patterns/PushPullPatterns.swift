import ZeroMQTransport
import ZMTP

/// PUSH (RFC 30): round-robin to peers with room; blocks when none has.
final class PushPattern: SocketPattern {
    var options: SocketOptions
    private let balancerBox = Unchecked<LoadBalancer>(LoadBalancer())
    private var balancer: LoadBalancer {
        unsafeAddress { UnsafePointer(balancerBox.pointer) }
        unsafeMutableAddress { balancerBox.pointer }
    }

    init(options: SocketOptions) { self.options = options }

    func attach(_ peer: PeerPipe) { balancer.attach(peer) }
    func detach(_ peer: PeerPipe) { balancer.detach(peer) }
    func readActivated(_ peer: PeerPipe) {}
    func writeActivated(_ peer: PeerPipe) { balancer.activate(peer) }
    func send(_ message: Message) throws(ZeroMQError) -> Bool { balancer.send(message) }
    func receive() throws(ZeroMQError) -> Inbound? { throw .notSupported("PUSH cannot receive") }
    var canSend: Bool { balancer.canSend() }
    var canReceive: Bool { false }
}

/// PULL (RFC 30): fair-queued from every peer. With CONFLATE, only the newest message waiting.
final class PullPattern: SocketPattern {
    var options: SocketOptions
    private let queueBox = Unchecked<FairQueue>(FairQueue())
    private var queue: FairQueue {
        unsafeAddress { UnsafePointer(queueBox.pointer) }
        unsafeMutableAddress { queueBox.pointer }
    }

    init(options: SocketOptions) { self.options = options }

    func attach(_ peer: PeerPipe) { queue.attach(peer) }
    func detach(_ peer: PeerPipe) { queue.detach(peer) }
    func readActivated(_ peer: PeerPipe) { queue.activate(peer) }
    func writeActivated(_ peer: PeerPipe) {}
    func send(_ message: Message) throws(ZeroMQError) -> Bool { throw .notSupported("PULL cannot send") }
    func receive() throws(ZeroMQError) -> Inbound? {
        options.conflate ? queue.receiveNewest() : queue.receive()
    }
    var canSend: Bool { false }
    var canReceive: Bool { queue.hasMessage() }
}

extension FairQueue {
    /// CONFLATE: every single-part message waiting is read and only the newest is returned
    /// (libzmq's conflating pipe keeps one message; multipart messages are not supported).
    mutating func receiveNewest() -> Inbound? {
        var newest: Inbound?
        while let next = receive() { newest = next }
        return newest
    }
}

/// DEALER (RFC 28): round-robin out, fair-queued in.
final class DealerPattern: SocketPattern {
    var options: SocketOptions
    private let balancerBox = Unchecked<LoadBalancer>(LoadBalancer())
    private var balancer: LoadBalancer {
        unsafeAddress { UnsafePointer(balancerBox.pointer) }
        unsafeMutableAddress { balancerBox.pointer }
    }
    private let queueBox = Unchecked<FairQueue>(FairQueue())
    private var queue: FairQueue {
        unsafeAddress { UnsafePointer(queueBox.pointer) }
        unsafeMutableAddress { queueBox.pointer }
    }

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
    func send(_ message: Message) throws(ZeroMQError) -> Bool { balancer.send(message) }
    func receive() throws(ZeroMQError) -> Inbound? {
        options.conflate ? queue.receiveNewest() : queue.receive()
    }
    var canSend: Bool { balancer.canSend() }
    var canReceive: Bool { queue.hasMessage() }
}
