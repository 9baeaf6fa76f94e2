import ZMTP

/// The routing ids of ROUTER and STREAM (libzmq's `routing_socket_base_t` out-pipe map): each
/// routable pipe has one id, unique within the socket, and sends name their pipe by it.
///
/// Keys are ``Message`` values with MORE cleared, so a lookup with a received or sent routing-id
/// part costs no allocation for ids up to ``Message/inlineCapacity`` bytes (libzmq's automatic ids
/// are 5).
struct RoutingTable {
    private var pipes: [Message: PeerPipe] = [:]
    /// libzmq's `_next_integral_routing_id`: a random start, so ids from a restarted socket are
    /// unlikely to collide with those its peers remember.
    private var nextAutomatic = UInt32.random(in: .min ... .max)

    /// The pipe `id` names, if any (the MORE flag of `id` is ignored).
    func pipe(for id: Message) -> PeerPipe? {
        var key = id
        key.more = false
        return pipes[key]
    }

    func pipe(for id: [UInt8]) -> PeerPipe? { pipes[Message(id)] }

    /// Whether `peer` is routable (it holds its id in the table).
    func routes(_ peer: PeerPipe) -> Bool {
        guard !peer.routingId.isEmpty else { return false }
        return pipes[Message(peer.routingId)] === peer
    }

    /// Every routable pipe.
    var peers: Dictionary<Message, PeerPipe>.Values { pipes.values }

    /// Gives `peer` the id `id` (which the caller checked is free, or is taking over).
    mutating func add(_ peer: PeerPipe, id: [UInt8]) {
        peer.routingId = id
        pipes[Message(id)] = peer
    }

    /// Removes `peer`'s route, if it holds one. Returns whether it did.
    @discardableResult
    mutating func remove(_ peer: PeerPipe) -> Bool {
        guard routes(peer) else { return false }
        pipes[Message(peer.routingId)] = nil
        return true
    }

    /// A fresh automatic id: `%x00 uint32` with the counter big-endian (libzmq's 5-byte ids; RFC 37
    /// reserves a leading zero byte for them, so they never clash with a peer's own Identity
    /// unless the peer breaks that rule: such an id is skipped).
    mutating func automaticId() -> [UInt8] {
        while true {
            let value = nextAutomatic
            nextAutomatic &+= 1
            let id: [UInt8] = [0, UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
                               UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
            if pipes[Message(id)] == nil { return id }
        }
    }
}

/// Message parts read ahead, waiting to be handed to the application one at a time (a FIFO that
/// keeps its storage, so steady traffic allocates nothing).
///
/// ROUTER, REQ, REP and STREAM read each message whole from its pipe (the pipe publishes a
/// message with its last part, so all of it is there) before delivering the first part: the
/// envelope can be checked and stripped, and a pipe going away mid-delivery cannot cut a message.
struct PartQueue {
    private var parts: [Inbound] = []
    private var head = 0

    var isEmpty: Bool { head == parts.count }
    var count: Int { parts.count - head }

    /// The part `offset` places after the next one to be delivered.
    subscript(offset: Int) -> Message { parts[head + offset].message }

    mutating func append(_ part: Inbound) { parts.append(part) }

    mutating func popFirst() -> Inbound? {
        guard head < parts.count else { return nil }
        let part = parts[head]
        head += 1
        if head == parts.count { removeAll() }
        return part
    }

    /// Drops the next `n` parts (an envelope).
    mutating func removeFirst(_ n: Int) {
        head = min(parts.count, head + n)
        if head == parts.count { removeAll() }
    }

    mutating func removeAll() {
        parts.removeAll(keepingCapacity: true)
        head = 0
    }

    /// Clears MORE on the last part (a message cut short must still end).
    mutating func endLastPart() {
        guard head < parts.count else { return }
        parts[parts.count - 1].message.more = false
    }
}

extension FairQueue {
    /// Reads the next whole message (fair-queued) into `parts`, after a part holding its pipe's
    /// routing id when `routingIdFirst` (ROUTER, STREAM); returns the pipe it came from, or nil
    /// when no message waits.
    func receiveWholeMessage(into parts: inout PartQueue, routingIdFirst: Bool = false) -> PeerPipe? {
        guard let first = receive() else { return nil }
        if routingIdFirst, let peer = first.from {
            parts.append(Inbound(message: Message(peer.routingId, more: true), from: peer))
        }
        var more = first.message.more
        parts.append(first)
        while more {
            // Never nil: the rest of a message is published with its first part.
            guard let next = receive() else {
                parts.endLastPart()
                break
            }
            more = next.message.more
            parts.append(next)
        }
        return first.from
    }
}

extension PeerPipe {
    /// Reads and discards whatever waits in the pipe (a pipe the pattern dropped or ignores, so
    /// the socket can detach it once its peer has closed: it detaches drained pipes only).
    func discardInbound() {
        while pipe.read() != nil {}
    }
}

extension Message {
    /// The body in hex, for error messages about routing ids.
    var hexDescription: String {
        withUnsafeBytes { raw in raw.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() }
    }
}
