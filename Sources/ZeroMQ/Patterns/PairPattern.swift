import ZMTP

/// PAIR (RFC 31): exactly one peer; a second one is refused (its pipe closed), as libzmq does.
final class PairPattern: SocketPattern {
    var options: SocketOptions
    private var peer: PeerPipe?
    private var readable = true
    private var writable = true
    private var receivingMore = false

    init(options: SocketOptions) { self.options = options }

    func attach(_ peer: PeerPipe) {
        guard self.peer == nil else {
            peer.pipe.close()
            return
        }
        self.peer = peer
        readable = true
        writable = true
    }

    func detach(_ peer: PeerPipe) {
        if self.peer === peer { self.peer = nil }
    }

    func readActivated(_ peer: PeerPipe) { if self.peer === peer { readable = true } }
    func writeActivated(_ peer: PeerPipe) { if self.peer === peer { writable = true } }

    func send(_ message: consuming Message) throws(ZeroMQError) -> SendOutcome {
        guard let peer else { return .wouldBlock(message) }
        if !peer.pipe.checkWrite() {
            writable = false
            return .wouldBlock(message)
        }
        let more = message.more
        peer.pipe.write(message)
        if !more { peer.pipe.flush() }
        return .sent
    }

    func receive(wantsSource: Bool) throws(ZeroMQError) -> Inbound? {
        guard let peer, let message = peer.pipe.read() else {
            readable = false
            return nil
        }
        return Inbound(message: message, from: wantsSource ? peer : nil)
    }

    var canSend: Bool { peer?.pipe.checkWrite() ?? false }
    var canReceive: Bool { peer?.pipe.checkRead() ?? false }
}
