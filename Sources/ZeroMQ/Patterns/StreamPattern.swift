import ZMTP

/// STREAM (libzmq `stream.cpp`): raw byte streams, no ZMTP. Each connection is a pipe with a
/// routing id; what arrives is delivered as `[routing id][bytes]`, one message per read from the
/// connection, and `[routing id][bytes]` sent writes the bytes to that connection.
///
/// - Routing ids: the one ZMQ_CONNECT_ROUTING_ID gave a connect, else an automatic
///   `%x00 uint32` id (libzmq gives raw sockets an automatic id, never the peer's choice).
/// - STREAM_NOTIFY (on by default): a new connection is announced as `[id][empty]`, and so is
///   one that closed (libzmq's raw engine pushes the same empty messages).
/// - Sending `[id][empty]` closes that connection after what was queued for it is written;
///   the id is unroutable at once and no disconnect notification follows (libzmq terminates
///   the pipe).
/// - An unknown id fails with ``ZeroMQError/Code/hostUnreachable``; a connection at its
///   high-water mark blocks (libzmq's EAGAIN).
/// - A message is exactly two parts, as in libzmq: MORE on the data part is ignored, so the
///   part after it starts a new message (it is taken as a routing id); and a routing id sent
///   without MORE still makes the next part its data, which is dropped.
final class StreamPattern: SocketPattern {
    var options: SocketOptions
    private var routes = RoutingTable()
    private let queue = FairQueue()
    /// Whole messages read ahead: notifications and `[id][bytes]` pairs, in order.
    private var inbound = PartQueue()
    private var outbound: Outbound = .expectingRoutingId
    /// Connections the application closed: drained until the socket detaches them.
    private var closed: Set<PeerPipe> = []

    /// Where the message being sent stands.
    enum Outbound {
        /// The next part is a routing id.
        case expectingRoutingId
        /// The next part is the data for this connection (nil: the routing id came without
        /// MORE, and the data is dropped).
        case expectingData(PeerPipe?)
    }

    init(options: SocketOptions) { self.options = options }

    // MARK: Pipes

    /// A connection is up (accepted, or a connect that succeeded): the raw engine needs no
    /// handshake, so the pipe is routable at once.
    func attach(_ peer: PeerPipe) {
        var id = routes.automaticId()
        if let assigned = peer.assignedRoutingId, !assigned.isEmpty, routes.pipe(for: assigned) == nil {
            id = assigned
        }
        routes.add(peer, id: id)
        queue.attach(peer)
        if options.streamNotify { notify(peer) }
    }

    func detach(_ peer: PeerPipe) {
        queue.detach(peer)
        if closed.remove(peer) != nil { return }
        if routes.remove(peer), options.streamNotify { notify(peer) }
    }

    func readActivated(_ peer: PeerPipe) {
        if closed.contains(peer) {
            peer.discardInbound()
        } else {
            queue.activate(peer)
        }
    }

    func writeActivated(_ peer: PeerPipe) {}

    /// `[id][empty]`: a connection opened or closed.
    private func notify(_ peer: PeerPipe) {
        inbound.append(Inbound(message: Message(peer.routingId, more: true), from: peer))
        inbound.append(Inbound(message: Message.empty, from: peer))
    }

    // MARK: Sending

    func send(_ message: consuming Message) throws(ZeroMQError) -> SendOutcome {
        switch outbound {
        case .expectingRoutingId:
            guard message.more else {
                outbound = .expectingData(nil)
                return .sent
            }
            guard let peer = routes.pipe(for: message), !peer.pipe.peerStoppedReading else {
                throw ZeroMQError(.hostUnreachable, "STREAM has no connection with routing id \(message.hexDescription)")
            }
            guard peer.pipe.checkWrite() else { return .wouldBlock(message) }
            outbound = .expectingData(peer)
        case .expectingData(let peer):
            outbound = .expectingRoutingId
            guard let peer, routes.routes(peer) else { return .sent }
            guard message.count > 0 else {
                close(peer)
                return .sent
            }
            var data = message
            data.more = false
            peer.pipe.write(data)
            peer.pipe.flush()
        }
        return .sent
    }

    /// The application closed a connection with an empty data part. Closing the pipe is the
    /// signal (libzmq terminates the pipe): the raw engine writes what was queued, then closes
    /// the connection. The empty message itself is not written: the raw engine would take it as
    /// the same request, possibly before the pipe's closing is visible, and its session would
    /// then take a deliberate close for a lost connection.
    private func close(_ peer: PeerPipe) {
        routes.remove(peer)
        queue.detach(peer)
        closed.insert(peer)
        peer.pipe.close()
        peer.discardInbound()
    }

    /// libzmq: "In theory, STREAM socket is always ready for writing".
    var canSend: Bool { true }

    // MARK: Receiving

    func receive(wantsSource: Bool) throws(ZeroMQError) -> Inbound? {
        if let part = inbound.popFirst() { return part }
        guard queue.receiveWholeMessage(into: &inbound, routingIdFirst: true) != nil else { return nil }
        return inbound.popFirst()
    }

    var canReceive: Bool { !inbound.isEmpty || queue.hasMessage() }
}
