import ZeroMQTransport
import ZMTP

/// ROUTER (RFC 28 §ROUTER; libzmq `router.cpp`): every peer has a routing id; incoming messages
/// are fair-queued and prefixed with their peer's id, outgoing ones name their peer by it.
///
/// Routing ids (libzmq's `identify_peer`), decided once the peer is known (its handshake done),
/// or at once for a connect named by ZMQ_CONNECT_ROUTING_ID:
/// 1. the id ZMQ_CONNECT_ROUTING_ID gave the connect that made the pipe;
/// 2. else the peer's `Identity` property (its ZMQ_ROUTING_ID), when it has one;
/// 3. else an automatic id, `%x00` and a big-endian counter starting at a random value.
///
/// An id already in use (rules 1 and 2): without ROUTER_HANDOVER the new pipe is ignored, as in
/// libzmq: it is neither read nor routed to, and what its peer sends is discarded once it leaves.
/// With ROUTER_HANDOVER the new pipe takes the id and the old pipe is closed. (libzmq retries an
/// ignored pipe by reading its next message as an identity; this ignores it until its connection
/// is remade, when the socket reports a new handshake.)
///
/// A pipe keeps its id across the reconnects of the connect that made it.
final class RouterPattern: SocketPattern {
    var options: SocketOptions
    private var routes = RoutingTable()
    private let queue = FairQueue()
    /// The message being delivered: its routing-id part, then the parts read from the pipe.
    private var inbound = PartQueue()
    private var outbound: Outbound = .betweenMessages
    /// Pipes that are not routed: their peer is unknown yet, or their id was taken.
    private var unrouted: Set<PeerPipe> = []
    /// Pipes this pattern closed (handed over): drained until the socket detaches them.
    private var dropped: Set<PeerPipe> = []
    private(set) var drops = DropCounts()

    /// Where the parts of the message being sent go.
    enum Outbound {
        /// The next part is a new message's routing id.
        case betweenMessages
        /// The routing id named this pipe: the parts go to it, the last one flushes.
        case sending(PeerPipe)
        /// The message is dropped (no route, full pipe, or its pipe went away mid-message).
        case discarding
    }

    init(options: SocketOptions) { self.options = options }

    // MARK: Pipes

    func attach(_ peer: PeerPipe) {
        // PROBE_ROUTER: an empty message first, so a ROUTER at the other end learns our id before
        // we have anything to say (libzmq writes it when the pipe attaches, handshake or not).
        if options.probeRouter { peer.sendProbe() }
        // A connect named by CONNECT_ROUTING_ID is routable before its handshake, as in libzmq:
        // messages to it queue until the connection is up.
        if peer.peer == nil && peer.assignedRoutingId == nil {
            unrouted.insert(peer)
        } else {
            identify(peer)
        }
    }

    func identified(_ peer: PeerPipe) {
        // A reconnect of a routed pipe keeps its id; an ignored pipe gets another chance.
        guard !routes.routes(peer), !dropped.contains(peer) else { return }
        identify(peer)
    }

    func detach(_ peer: PeerPipe) {
        routes.remove(peer)
        queue.detach(peer)
        unrouted.remove(peer)
        dropped.remove(peer)
        if case .sending(let current) = outbound, current === peer { outbound = .discarding }
    }

    func readActivated(_ peer: PeerPipe) {
        if routes.routes(peer) {
            queue.activate(peer)
        } else if dropped.contains(peer) || peer.pipe.peerClosed {
            // Not ours to deliver: drain it so the socket can detach it.
            peer.discardInbound()
        }
    }

    func writeActivated(_ peer: PeerPipe) {}

    /// Gives a pipe whose peer is known its routing id, or leaves it ignored.
    private func identify(_ peer: PeerPipe) {
        let requested = peer.assignedRoutingId ?? peer.peer.flatMap { $0.identity.isEmpty ? nil : $0.identity }
        guard let requested else {
            route(peer, id: routes.automaticId())
            return
        }
        if let owner = routes.pipe(for: requested), owner !== peer {
            guard options.routerHandover else {
                // libzmq: "Ignore peers with duplicate ID".
                unrouted.insert(peer)
                return
            }
            drop(owner)
        }
        route(peer, id: requested)
    }

    private func route(_ peer: PeerPipe, id: [UInt8]) {
        unrouted.remove(peer)
        routes.add(peer, id: id)
        queue.attach(peer)
    }

    /// ROUTER_HANDOVER: the old holder of an id is closed. Its messages already read stay
    /// deliverable (they are whole in ``inbound``); a message being sent to it is dropped.
    private func drop(_ peer: PeerPipe) {
        routes.remove(peer)
        queue.detach(peer)
        if case .sending(let current) = outbound, current === peer { outbound = .discarding }
        dropped.insert(peer)
        peer.pipe.close()
        peer.discardInbound()
    }

    // MARK: Sending

    /// The first part names the peer; the rest go to it. An unknown id, or a peer at its
    /// high-water mark, drops the message (counted in ``drops``) unless
    /// ROUTER_MANDATORY is set: then an unknown id throws ``ZeroMQError/Code/hostUnreachable``
    /// and a full peer blocks (libzmq's EAGAIN). A routing id sent without MORE is ignored, as
    /// libzmq does with that malformed message.
    func send(_ message: consuming Message) throws(ZeroMQError) -> SendOutcome {
        switch outbound {
        case .betweenMessages:
            guard message.more else { return .sent }
            guard let peer = routes.pipe(for: message), !peer.pipe.peerStoppedReading else {
                if options.routerMandatory {
                    throw ZeroMQError(.hostUnreachable, "ROUTER has no peer with routing id \(message.hexDescription)")
                }
                drops.noRoute += 1
                outbound = .discarding
                return .sent
            }
            guard peer.pipe.checkWrite() else {
                if options.routerMandatory { return .wouldBlock(message) }
                drops.atHighWaterMark += 1
                outbound = .discarding
                return .sent
            }
            outbound = .sending(peer)
        case .sending(let peer):
            let more = message.more
            peer.pipe.write(message)
            if !more {
                peer.pipe.flush()
                outbound = .betweenMessages
            }
        case .discarding:
            if !message.more { outbound = .betweenMessages }
        }
        return .sent
    }

    /// Without ROUTER_MANDATORY a ROUTER can always send (the message may be dropped); with it,
    /// when some routed peer has room (libzmq's `xhas_out`) or a message is under way.
    var canSend: Bool {
        switch outbound {
        case .sending, .discarding:
            return true
        case .betweenMessages:
            guard options.routerMandatory else { return true }
            return routes.peers.contains { $0.pipe.checkWrite() }
        }
    }

    // MARK: Receiving

    /// The next part: `[routing id]` then the parts of a message from that peer, each carrying
    /// the peer's properties.
    func receive(wantsSource: Bool) throws(ZeroMQError) -> Inbound? {
        if let part = inbound.popFirst() { return part }
        guard fetch() else { return nil }
        return inbound.popFirst()
    }

    var canReceive: Bool { !inbound.isEmpty || queue.hasMessage() }

    /// Reads the next whole message behind its peer's routing id.
    private func fetch() -> Bool {
        queue.receiveWholeMessage(into: &inbound, routingIdFirst: true) != nil
    }
}
