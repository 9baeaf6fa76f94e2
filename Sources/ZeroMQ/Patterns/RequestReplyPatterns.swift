import ZMTP

// Placeholder until the ROUTER pattern lands.
final class RequestPattern: SocketPattern {
    var options: SocketOptions
    init(options: SocketOptions) { self.options = options }
    func attach(_ peer: PeerPipe) {}
    func detach(_ peer: PeerPipe) {}
    func readActivated(_ peer: PeerPipe) {}
    func writeActivated(_ peer: PeerPipe) {}
    func send(_ message: Message) throws(ZeroMQError) -> Bool { throw .notSupported("REQ") }
    func receive() throws(ZeroMQError) -> Inbound? { throw .notSupported("REQ") }
    var canSend: Bool { false }
    var canReceive: Bool { false }
}
// Placeholder until the ROUTER pattern lands.
final class ReplyPattern: SocketPattern {
    var options: SocketOptions
    init(options: SocketOptions) { self.options = options }
    func attach(_ peer: PeerPipe) {}
    func detach(_ peer: PeerPipe) {}
    func readActivated(_ peer: PeerPipe) {}
    func writeActivated(_ peer: PeerPipe) {}
    func send(_ message: Message) throws(ZeroMQError) -> Bool { throw .notSupported("REP") }
    func receive() throws(ZeroMQError) -> Inbound? { throw .notSupported("REP") }
    var canSend: Bool { false }
    var canReceive: Bool { false }
}
