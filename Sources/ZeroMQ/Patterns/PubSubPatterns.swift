import ZMTP

// Placeholder until the publish-subscribe patterns land.
final class PublishPattern: SocketPattern {
    var options: SocketOptions
    init(options: SocketOptions, extended: Bool) { self.options = options }
    func attach(_ peer: PeerPipe) {}
    func detach(_ peer: PeerPipe) {}
    func readActivated(_ peer: PeerPipe) {}
    func writeActivated(_ peer: PeerPipe) {}
    func send(_ message: Message) throws(ZeroMQError) -> Bool { throw .notSupported("PUB") }
    func receive() throws(ZeroMQError) -> Inbound? { throw .notSupported("PUB") }
    var canSend: Bool { false }
    var canReceive: Bool { false }
}

final class SubscribePattern: SocketPattern {
    var options: SocketOptions
    init(options: SocketOptions, extended: Bool) { self.options = options }
    func attach(_ peer: PeerPipe) {}
    func detach(_ peer: PeerPipe) {}
    func readActivated(_ peer: PeerPipe) {}
    func writeActivated(_ peer: PeerPipe) {}
    func send(_ message: Message) throws(ZeroMQError) -> Bool { throw .notSupported("SUB") }
    func receive() throws(ZeroMQError) -> Inbound? { throw .notSupported("SUB") }
    var canSend: Bool { false }
    var canReceive: Bool { false }
}
