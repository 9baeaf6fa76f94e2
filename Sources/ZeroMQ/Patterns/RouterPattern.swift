import ZMTP

// Placeholder until the ROUTER pattern lands.
final class RouterPattern: SocketPattern {
    var options: SocketOptions
    init(options: SocketOptions) { self.options = options }
    func attach(_ peer: PeerPipe) {}
    func detach(_ peer: PeerPipe) {}
    func readActivated(_ peer: PeerPipe) {}
    func writeActivated(_ peer: PeerPipe) {}
    func send(_ message: Message) throws(ZeroMQError) -> Bool { throw .notSupported("ROUTER") }
    func receive() throws(ZeroMQError) -> Inbound? { throw .notSupported("ROUTER") }
    var canSend: Bool { false }
    var canReceive: Bool { false }
}
