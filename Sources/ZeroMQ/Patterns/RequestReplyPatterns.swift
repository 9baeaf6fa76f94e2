import ZeroMQTransport
import ZMTP

/// REQ (RFC 28 §REQ; libzmq `req.cpp`, a DEALER with a state machine): a request goes, load
/// balanced, to one peer behind an envelope; then only a reply from that peer is delivered,
/// stripped of its envelope; then the next request may go.
///
/// On the wire a request is `[request id] %x00-delimiter body…` where the 4-byte request id is
/// present only with REQ_CORRELATE. A reply must carry the same envelope: a reply without the
/// empty delimiter, with the wrong request id, or from another peer is discarded whole and the
/// wait goes on.
///
/// Sending twice without a reply fails with ``ZeroMQError/Code/wrongState`` (libzmq's EFSM)
/// unless REQ_RELAXED: then the new request goes out (to the next peer) and replies to the old
/// one are discarded. Receiving before a request was sent is a ``ZeroMQError/Code/wrongState``.
final class RequestPattern: SocketPattern {
    var options: SocketOptions
    private let balancer = LoadBalancer()
    private let queue = FairQueue()
    private var state: State = .ready
    /// The reply being delivered (its envelope already stripped), or a message being checked.
    private var reply = PartQueue()
    /// libzmq's `_request_id`: random start, incremented before each request.
    private var lastRequestId = UInt32.random(in: .min ... .max)

    /// Where the request-reply cycle stands.
    enum State {
        /// A new request may be sent.
        case ready
        /// The parts of a request are going out (its envelope is written).
        case sendingRequest(Request)
        /// The request is out; waiting for a reply that matches it.
        case awaitingReply(Request)
        /// A matching reply's parts are being delivered (from ``reply``).
        case deliveringReply
    }

    /// A request sent, and what its reply must match.
    struct Request {
        /// The peer it went to; nil once that pipe is gone, when libzmq accepts a reply from any
        /// peer (with REQ_CORRELATE the request id still has to match).
        var peer: PeerPipe?
        /// The REQ_CORRELATE request id it carried.
        var id: [UInt8]?
    }

    init(options: SocketOptions) { self.options = options }

    // MARK: Pipes

    func attach(_ peer: PeerPipe) {
        // PROBE_ROUTER works on REQ as on DEALER (libzmq's REQ is a DEALER).
        if options.probeRouter { peer.sendProbe() }
        balancer.attach(peer)
        queue.attach(peer)
    }

    func detach(_ peer: PeerPipe) {
        balancer.detach(peer)
        queue.detach(peer)
        switch state {
        case .sendingRequest(var request) where request.peer === peer:
            request.peer = nil
            state = .sendingRequest(request)
        case .awaitingReply(var request) where request.peer === peer:
            request.peer = nil
            state = .awaitingReply(request)
        case .ready, .sendingRequest, .awaitingReply, .deliveringReply:
            break
        }
    }

    func readActivated(_ peer: PeerPipe) { queue.activate(peer) }
    func writeActivated(_ peer: PeerPipe) { balancer.activate(peer) }

    // MARK: Sending

    func send(_ message: consuming Message) throws(ZeroMQError) -> SendOutcome {
        switch state {
        case .ready:
            return try begin(message)
        case .awaitingReply, .deliveringReply:
            guard options.requestRelaxed else {
                throw ZeroMQError(.wrongState, "REQ sent a request and must receive its reply first (REQ_RELAXED lifts this)")
            }
            // REQ_RELAXED: the old request is abandoned; its reply will not match.
            return try begin(message)
        case .sendingRequest(let request):
            var chosen: PeerPipe?
            let more = message.more
            _ = balancer.send(message, to: &chosen)
            if !more { state = .awaitingReply(request) }
            return .sent
        }
    }

    /// Writes a new request's envelope and first part, or nothing when no peer has room.
    private func begin(_ message: consuming Message) throws(ZeroMQError) -> SendOutcome {
        var chosen: PeerPipe?
        var id: [UInt8]?
        // Replies that arrived before this request cannot be its reply (libzmq eats them so an
        // old reply from a slow peer is never taken for a new request's). Before sending: once
        // the request is out, its reply may already be here.
        reply.removeAll()
        while queue.receive() != nil {}
        if options.requestCorrelate {
            let next = lastRequestId &+ 1
            // Host byte order, like libzmq's memcpy of a uint32: only this socket reads it back.
            let bytes = withUnsafeBytes(of: next) { Array($0) }
            guard balancer.send(Message(bytes, more: true), to: &chosen).wasSent else { return .wouldBlock(message) }
            lastRequestId = next
            id = bytes
            _ = balancer.send(Message([UInt8](), more: true), to: &chosen)
        } else {
            guard balancer.send(Message([UInt8](), more: true), to: &chosen).wasSent else { return .wouldBlock(message) }
        }
        let more = message.more
        _ = balancer.send(message, to: &chosen)
        let request = Request(peer: chosen, id: id)
        state = more ? .sendingRequest(request) : .awaitingReply(request)
        return .sent
    }

    var canSend: Bool {
        switch state {
        case .ready: return balancer.canSend()
        case .sendingRequest: return true
        case .awaitingReply, .deliveringReply: return options.requestRelaxed && balancer.canSend()
        }
    }

    // MARK: Receiving

    func receive(wantsSource: Bool) throws(ZeroMQError) -> Inbound? {
        switch state {
        case .ready, .sendingRequest:
            throw ZeroMQError(.wrongState, "REQ must send a request before receiving")
        case .awaitingReply(let request):
            guard fetchReply(to: request) else { return nil }
            return deliver()
        case .deliveringReply:
            return deliver()
        }
    }

    var canReceive: Bool {
        switch state {
        case .ready, .sendingRequest: return false
        case .awaitingReply(let request): return fetchReply(to: request)
        case .deliveringReply: return true
        }
    }

    private func deliver() -> Inbound? {
        guard let part = reply.popFirst() else {
            state = .ready
            return nil
        }
        if !part.message.more { state = .ready }
        return part
    }

    /// Reads messages until one is the reply to `request`; leaves its body in ``reply`` and
    /// moves to ``State/deliveringReply``. False when none waits.
    private func fetchReply(to request: Request) -> Bool {
        while let from = queue.receiveWholeMessage(into: &reply) {
            if let expected = request.peer, expected !== from {
                reply.removeAll()
                continue
            }
            guard let envelope = envelopeCount(matching: request) else {
                reply.removeAll()
                continue
            }
            reply.removeFirst(envelope)
            state = .deliveringReply
            return true
        }
        return false
    }

    /// How many parts of the message in ``reply`` make its envelope, or nil when it does not
    /// match `request`: `[request id]` (REQ_CORRELATE) then an empty delimiter, then a body.
    private func envelopeCount(matching request: Request) -> Int? {
        var index = 0
        if let id = request.id {
            guard reply.count > index, reply[index].more, reply[index].count == id.count,
                  reply[index].withUnsafeBytes({ $0.elementsEqual(id) }) else { return nil }
            index += 1
        }
        guard reply.count > index, reply[index].more, reply[index].count == 0 else { return nil }
        return index + 1
    }
}

/// REP (RFC 28 §REP; libzmq `rep.cpp`, a ROUTER with a state machine): requests are
/// fair-queued; each one's envelope, every part up to and including the empty delimiter, is
/// kept and the body delivered; the reply goes back to the peer the request came from, behind
/// that envelope.
///
/// A request without a delimiter is discarded whole. Sending before a request was received, or
/// receiving while a reply is owed, fails with ``ZeroMQError/Code/wrongState`` (EFSM). A reply
/// whose peer has gone, or whose pipe is full, is dropped (counted in ``drops``).
final class ReplyPattern: SocketPattern {
    var options: SocketOptions
    private let queue = FairQueue()
    private var state: State = .awaitingRequest
    /// The request being delivered (its envelope already taken out).
    private var request = PartQueue()
    private(set) var drops = DropCounts()

    /// Where the request-reply cycle stands.
    enum State {
        /// Waiting for a request; sending is not allowed.
        case awaitingRequest
        /// A request's body parts are being delivered (from ``request``).
        case deliveringRequest(Origin)
        /// The whole request was delivered; a reply is owed.
        case owingReply(Origin)
        /// The parts of a reply are going out; nil when it is being dropped.
        case sendingReply(PeerPipe?)
    }

    /// Where a request came from, and how to address its reply.
    struct Origin {
        /// The requester's pipe; nil once it is gone (the reply is then dropped).
        var peer: PeerPipe?
        /// Every part up to and including the empty delimiter, each with MORE.
        var envelope: [Message]
    }

    init(options: SocketOptions) { self.options = options }

    // MARK: Pipes

    func attach(_ peer: PeerPipe) {
        // libzmq's REP is a ROUTER and honours PROBE_ROUTER too.
        if options.probeRouter { peer.sendProbe() }
        queue.attach(peer)
    }

    func detach(_ peer: PeerPipe) {
        queue.detach(peer)
        switch state {
        case .deliveringRequest(var origin) where origin.peer === peer:
            origin.peer = nil
            state = .deliveringRequest(origin)
        case .owingReply(var origin) where origin.peer === peer:
            origin.peer = nil
            state = .owingReply(origin)
        case .sendingReply(let current) where current === peer:
            state = .sendingReply(nil)
        case .awaitingRequest, .deliveringRequest, .owingReply, .sendingReply:
            break
        }
    }

    func readActivated(_ peer: PeerPipe) { queue.activate(peer) }
    func writeActivated(_ peer: PeerPipe) {}

    // MARK: Receiving

    func receive(wantsSource: Bool) throws(ZeroMQError) -> Inbound? {
        switch state {
        case .owingReply, .sendingReply:
            throw ZeroMQError(.wrongState, "REP received a request and must send its reply first")
        case .awaitingRequest:
            guard fetchRequest() else { return nil }
            return deliver()
        case .deliveringRequest:
            return deliver()
        }
    }

    var canReceive: Bool {
        switch state {
        case .owingReply, .sendingReply: return false
        case .awaitingRequest: return fetchRequest()
        case .deliveringRequest: return true
        }
    }

    private func deliver() -> Inbound? {
        guard case .deliveringRequest(let origin) = state, let part = request.popFirst() else { return nil }
        if !part.message.more { state = .owingReply(origin) }
        return part
    }

    /// Reads requests until one has an envelope; keeps the envelope and leaves the body in
    /// ``request``. False when none waits.
    private func fetchRequest() -> Bool {
        while let from = queue.receiveWholeMessage(into: &request) {
            // The envelope ends at the first empty part that has more parts after it.
            var delimiter: Int?
            for index in 0..<request.count where request[index].count == 0 && request[index].more {
                delimiter = index
                break
            }
            guard let delimiter else {
                request.removeAll()
                continue
            }
            let envelope = (0...delimiter).map { request[$0] }
            request.removeFirst(delimiter + 1)
            state = .deliveringRequest(Origin(peer: from, envelope: envelope))
            return true
        }
        return false
    }

    // MARK: Sending

    func send(_ message: consuming Message) throws(ZeroMQError) -> SendOutcome {
        switch state {
        case .awaitingRequest, .deliveringRequest:
            throw ZeroMQError(.wrongState, "REP must receive a whole request before sending a reply")
        case .owingReply(let origin):
            guard let peer = origin.peer, !peer.pipe.peerStoppedReading, peer.pipe.checkWrite() else {
                if let peer = origin.peer, !peer.pipe.peerStoppedReading {
                    drops.atHighWaterMark += 1
                } else {
                    drops.noRoute += 1
                }
                state = message.more ? .sendingReply(nil) : .awaitingRequest
                return .sent
            }
            for part in origin.envelope { peer.pipe.write(part) }
            state = .sendingReply(peer)
            return try send(message)
        case .sendingReply(let peer):
            let more = message.more
            peer?.pipe.write(message)
            if !more {
                peer?.pipe.flush()
                state = .awaitingRequest
            }
            return .sent
        }
    }

    var canSend: Bool {
        switch state {
        case .awaitingRequest, .deliveringRequest: return false
        case .owingReply, .sendingReply: return true
        }
    }
}
