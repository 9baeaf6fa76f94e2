import ZeroMQTransport
import ZMTP

/// SUB and XSUB (RFC 29; libzmq's `sub.cpp` and `xsub.cpp`, of which SUB is the special case).
///
/// - Subscriptions travel upstream as messages `%x01 topic` / `%x00 topic`, which the engine
///   turns into SUBSCRIBE/CANCEL commands (or ZMTP 3.0 subscription frames). The socket keeps
///   them in a counted trie: every subscribe is forwarded, a cancel only when the last reference
///   to the topic goes (libzmq's XSUB; the XPUB side removes duplicates). A new pipe is sent
///   every topic held, and so is a connect's pipe that got a new connection (libzmq's hiccup):
///   the new publisher never saw them.
/// - Receiving: fair-queued. SUB drops every message whose first part matches no subscription
///   (matches one, with ZMQ_INVERT_MATCHING), all its parts with it. XSUB does not filter, as
///   libzmq's XSUB does not: the publisher already did. With ZMQ_CONFLATE only the newest
///   message waiting is returned.
/// - Sending (XSUB only): a single-part message starting with 1 or 0 is a subscription and is
///   tracked as above; anything else goes to every publisher, and a publisher at its high-water
///   mark misses it (counted in ``drops``). SUB cannot send.
final class SubscribePattern: SocketPattern {
    var options: SocketOptions
    /// XSUB rather than SUB.
    private let extended: Bool
    /// The topics subscribed to, counted.
    private var filter = SubscriptionTrie()
    /// Every attached publisher, in attach order.
    private var publishers: [PeerPipe] = []
    private let queue = FairQueue()
    /// The first part of a message ``canReceive`` read ahead to know it passes the filter.
    private var stash: Inbound?
    /// Parts of a message already started on follow.
    private var receivingMore = false
    /// XSUB: the publishers the message being sent goes to, from its first part to its last.
    private let distributor = Distributor()
    private(set) var drops = DropCounts()

    init(options: SocketOptions, extended: Bool) {
        self.options = options
        self.extended = extended
    }

    // MARK: Pipes

    func attach(_ peer: PeerPipe) {
        publishers.append(peer)
        queue.attach(peer)
        replaySubscriptions(to: peer)
    }

    /// A connect's pipe got its first peer: the subscriptions written at attach are still in the
    /// pipe and go out now. After a reconnect (a second handshake) the new publisher knows none
    /// of them, so they are written again.
    func identified(_ peer: PeerPipe) {
        if peer.handshakes > 1 { replaySubscriptions(to: peer) }
    }

    func detach(_ peer: PeerPipe) {
        publishers.removeAll { $0 === peer }
        distributor.remove(peer)
        queue.detach(peer)
        // The rest of a read-ahead multipart message went with its pipe.
        if let stashed = stash, stashed.from === peer, stashed.message.more { stash = nil }
    }

    func readActivated(_ peer: PeerPipe) { queue.activate(peer) }

    /// Room is checked message by message, so a writable pipe needs no bookkeeping.
    func writeActivated(_ peer: PeerPipe) {}

    /// Writes every topic held to one pipe. Subscriptions are written whatever the high-water
    /// mark: losing one would silently lose a feed.
    private func replaySubscriptions(to peer: PeerPipe) {
        let topics = filter.topics()
        guard !topics.isEmpty else { return }
        for topic in topics { peer.pipe.write(Message([1] + topic)) }
        peer.pipe.flush()
    }

    /// Writes one subscription message to every publisher.
    private func broadcast(_ message: Message) {
        for peer in publishers {
            peer.pipe.write(message)
            peer.pipe.flush()
        }
    }

    // MARK: Subscriptions

    /// ZMQ_SUBSCRIBE: every subscribe is sent upstream, as libzmq's SUB does; the publisher
    /// counts each subscriber once per topic.
    func subscribe(_ topic: [UInt8]) throws(ZeroMQError) {
        filter.add(topic)
        broadcast(Message([1] + topic))
    }

    /// ZMQ_UNSUBSCRIBE: the cancel goes upstream when the last reference to the topic goes.
    /// Unsubscribing from a topic not subscribed to does nothing, as in libzmq 4.3.
    func unsubscribe(_ topic: [UInt8]) throws(ZeroMQError) {
        if filter.remove(topic) { broadcast(Message([0] + topic)) }
    }

    // MARK: Messages

    func send(_ message: consuming Message) throws(ZeroMQError) -> SendOutcome {
        guard extended else { throw .notSupported("SUB cannot send; use subscribe(_:)") }
        if !distributor.isMidMessage, !message.more, message.count > 0 {
            switch message.withUnsafeBytes({ $0[0] }) {
            case 1:
                filter.add(message.bytes.dropFirst())
                broadcast(message)
                return .sent
            case 0:
                if filter.remove(message.bytes.dropFirst()) { broadcast(message) }
                return .sent
            default:
                break
            }
        }
        // A message for the publishers (libzmq's XSUB sends it to all of them).
        if !distributor.isMidMessage {
            drops.atHighWaterMark += distributor.begin(publishers, allOrNothing: false) ?? 0
        }
        distributor.write(message)
        return .sent
    }

    func receive(wantsSource: Bool) throws(ZeroMQError) -> Inbound? {
        if receivingMore {
            // The rest of a message is published with its first part.
            guard let part = queue.receive() else {
                receivingMore = false
                return nil
            }
            receivingMore = part.message.more
            return part
        }
        let first: Inbound?
        if options.conflate {
            first = newest()
        } else {
            first = stash ?? nextMatching()
            stash = nil
        }
        guard let first else { return nil }
        receivingMore = first.message.more
        return first
    }

    var canSend: Bool { extended }

    var canReceive: Bool {
        if receivingMore || stash != nil { return true }
        stash = nextMatching()
        return stash != nil
    }

    /// The first part of the next message that passes the filter; the parts of messages that do
    /// not are dropped on the way.
    private func nextMatching() -> Inbound? {
        while let first = queue.receive() {
            if passes(first.message) { return first }
            var more = first.message.more
            while more, let part = queue.receive() { more = part.message.more }
        }
        return nil
    }

    /// ZMQ_CONFLATE: the newest message waiting. Conflation is for single-part messages; a
    /// multipart one ends the search and is returned whole.
    private func newest() -> Inbound? {
        guard var newest = stash ?? nextMatching() else { return nil }
        stash = nil
        while !newest.message.more, let next = nextMatching() { newest = next }
        return newest
    }

    private func passes(_ message: Message) -> Bool {
        // XSUB leaves filtering to the publisher (libzmq's `options.filter` is off for it).
        guard !extended else { return true }
        return message.withUnsafeBytes { filter.matches($0) } != options.invertMatching
    }
}
