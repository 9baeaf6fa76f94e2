import ZMTP

// Placeholder until the ROUTER pattern lands.
final class StreamPattern: SocketPattern {
    var options: SocketOptions
    init(options: SocketOptions) { self.options = options }
    func attach(_ peer: PeerPipe) {}
    func detach(_ peer: PeerPipe) {}
    func readActivated(_ peer: PeerPipe) {}
    func writeActivated(_ peer: PeerPipe) {}
    func send(_ message: Message) throws(ZeroMQError) -> Bool { throw .notSupported("STREAM") }
    func receive() throws(ZeroMQError) -> Inbound? { throw .notSupported("STREAM") }
    var canSend: Bool { false }
    var canReceive: Bool { false }
}
