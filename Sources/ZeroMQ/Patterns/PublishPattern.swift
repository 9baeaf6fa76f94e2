import ZeroMQTransport
import ZMTP

/// PUB and XPUB (RFC 29; libzmq's `pub.cpp` and `xpub.cpp`, of which PUB is the special case).
///
/// Each subscriber's prefixes live in its ``PeerPipe/subscriptions``. They arrive as messages
/// `%x01 topic` (subscribe) and `%x00 topic` (cancel): the engine turns SUBSCRIBE/CANCEL
/// commands, and ZMTP 3.0 subscription frames, into these, exactly as libzmq's pipes carry them.
///
/// - Sending: a message's first part decides which subscribers get it (prefix match, inverted by
///   ZMQ_INVERT_MATCHING); the later parts go to the same subscribers. A subscriber at its
///   high-water mark misses the message (counted in ``drops``), unless
///   ZMQ_XPUB_NODROP, with which the send would block instead and nothing is sent.
/// - Receiving (XPUB only): subscriptions are passed to the application, a subscribe when the
///   topic is new across all subscribers and a cancel when its last subscriber went
///   (ZMQ_XPUB_VERBOSE passes every subscribe, ZMQ_XPUB_VERBOSER every subscribe and cancel).
///   Other messages subscribers send (an XSUB may) are passed up as they are. A subscriber's
///   departure passes up a cancel for each topic it was the last to hold, as libzmq does.
/// - ZMQ_XPUB_MANUAL: subscriptions are passed up, all of them, and not applied; the
///   application applies what it decides with ``subscribe(_:)`` / ``unsubscribe(_:)``, which act
///   on the subscriber whose subscription it received last (libzmq's `_last_pipe`).
///
/// As in libzmq, a subscriber's subscriptions form a set: subscribing twice to a topic and
/// cancelling once removes it (an XSUB forwards every subscribe but only its last cancel).
final class PublishPattern: SocketPattern {
    var options: SocketOptions
    /// XPUB (the application sees subscriptions) rather than PUB.
    private let extended: Bool
    /// Every attached subscriber, in attach order.
    private var subscribers: [PeerPipe] = []
    /// For each topic, how many subscribers hold it: "new" and "last gone" across the socket
    /// decide which subscriptions XPUB passes up.
    private var holders = SubscriptionTrie()
    /// ZMQ_XPUB_MANUAL: what each subscriber asked for, by pipe, so that its departure can pass
    /// up a cancel for each (libzmq's `_manual_subscriptions`).
    private var requested: [ObjectIdentifier: SubscriptionTrie] = [:]
    /// XPUB: what waits for the application.
    private var pending = PendingQueue()
    /// ZMQ_XPUB_MANUAL: the subscriber whose subscription the application received last.
    private var lastSubscriber: PeerPipe?
    /// The subscribers the message being sent goes to, from its first part to its last.
    private let distributor = Distributor()
    private(set) var drops = DropCounts()

    init(options: SocketOptions, extended: Bool) {
        self.options = options
        self.extended = extended
    }

    private var verboseSubscribes: Bool { options.xpubVerbose || options.xpubVerboser }
    private var verboseCancels: Bool { options.xpubVerboser }
    private var manual: Bool { extended && options.xpubManual }

    // MARK: Pipes

    func attach(_ peer: PeerPipe) {
        subscribers.append(peer)
        // ZMQ_XPUB_WELCOME_MSG goes to every new subscriber, whatever it subscribes to (its own
        // filter decides); libzmq sends nothing for an empty one.
        if let welcome = options.xpubWelcomeMessage, !welcome.isEmpty {
            peer.pipe.write(Message(welcome))
            peer.pipe.flush()
        }
        readSubscriptions(from: peer)
    }

    func detach(_ peer: PeerPipe) {
        guard let index = subscribers.firstIndex(where: { $0 === peer }) else { return }
        subscribers.remove(at: index)
        distributor.remove(peer)
        if lastSubscriber === peer { lastSubscriber = nil }
        // libzmq synthesises the cancels a departing subscriber never sent.
        for topic in peer.subscriptions.topics() {
            let last = holders.remove(topic)
            if extended && !manual && (last || verboseCancels) {
                pending.append(Inbound(message: Message([0] + topic), from: peer), subscriber: nil)
            }
        }
        peer.subscriptions = SubscriptionTrie()
        if let asked = requested.removeValue(forKey: ObjectIdentifier(peer)), manual {
            for topic in asked.topics() {
                pending.append(Inbound(message: Message([0] + topic), from: peer), subscriber: nil)
            }
        }
    }

    /// Subscriptions (and, from an XSUB, other messages) are read as soon as they arrive, as
    /// libzmq's `xread_activated` does: they change where the next message goes.
    func readActivated(_ peer: PeerPipe) {
        guard subscribers.contains(where: { $0 === peer }) else { return }
        readSubscriptions(from: peer)
    }

    /// Room is checked message by message, so a writable pipe needs no bookkeeping.
    func writeActivated(_ peer: PeerPipe) {}

    private func readSubscriptions(from peer: PeerPipe) {
        // Messages are published whole, so reading until the pipe is empty never stops inside one.
        var continuing = false
        while let message = peer.pipe.read() {
            defer { continuing = message.more }
            if !continuing, !message.more, let subscribe = Self.subscriptionKind(message) {
                process(message, subscribe: subscribe, from: peer)
            } else if extended {
                // A message an XSUB sent upstream; PUB drops it (libzmq's PUB never reads them).
                pending.append(Inbound(message: message, from: peer), subscriber: nil)
            }
        }
    }

    /// Whether a single-part message is a subscribe (true), a cancel (false), or neither (nil).
    private static func subscriptionKind(_ message: Message) -> Bool? {
        guard message.count > 0 else { return nil }
        switch message.withUnsafeBytes({ $0[0] }) {
        case 1: return true
        case 0: return false
        default: return nil
        }
    }

    private func process(_ message: Message, subscribe: Bool, from peer: PeerPipe) {
        let topic = message.bytes.dropFirst()
        if manual {
            var asked = requested[ObjectIdentifier(peer)] ?? SubscriptionTrie()
            if subscribe { Self.insert(topic, into: &asked) } else { asked.remove(topic) }
            requested[ObjectIdentifier(peer)] = asked
            pending.append(Inbound(message: message, from: peer), subscriber: peer)
            return
        }
        let notify: Bool
        if subscribe {
            let new = Self.insert(topic, into: &peer.subscriptions) && holders.add(topic)
            notify = new || verboseSubscribes
        } else if peer.subscriptions.remove(topic) {
            notify = holders.remove(topic) || verboseCancels
        } else {
            // A cancel for a topic this subscriber did not hold: libzmq passes it up unless some
            // other subscriber still holds the topic.
            notify = !isHeld(topic) || verboseCancels
        }
        if extended && notify {
            pending.append(Inbound(message: message, from: peer), subscriber: peer)
        }
    }

    /// Adds `topic` to a set-like trie; true when it was not there.
    @discardableResult
    private static func insert(_ topic: some Collection<UInt8>, into trie: inout SubscriptionTrie) -> Bool {
        if trie.add(topic) { return true }
        trie.remove(topic)  // back to one reference: a subscriber's subscriptions are a set
        return false
    }

    /// Whether some subscriber holds exactly `topic`.
    private func isHeld(_ topic: some Collection<UInt8>) -> Bool {
        guard holders.add(topic) else {
            holders.remove(topic)
            return true
        }
        holders.remove(topic)
        return false
    }

    // MARK: Messages

    func send(_ message: consuming Message) throws(ZeroMQError) -> SendOutcome {
        if !distributor.isMidMessage {
            let invert = options.invertMatching
            let outcome = message.withUnsafeBytes { data in
                distributor.begin(subscribers.lazy.filter { $0.subscriptions.matches(data) != invert },
                                  allOrNothing: options.xpubNoDrop)
            }
            // XPUB_NODROP: every recipient must have room, or nobody gets it and the send waits.
            guard let missed = outcome else { return .wouldBlock(message) }
            drops.atHighWaterMark += missed
        }
        distributor.write(message)
        return .sent
    }

    func receive(wantsSource: Bool) throws(ZeroMQError) -> Inbound? {
        guard extended else { throw .notSupported("PUB cannot receive") }
        guard let (inbound, subscriber) = pending.popFirst() else { return nil }
        if manual, Self.subscriptionKind(inbound.message) != nil, !inbound.message.more {
            // A synthesised cancel names no subscriber (libzmq sets no last pipe for it).
            lastSubscriber = subscriber.flatMap { peer in subscribers.contains { $0 === peer } ? peer : nil }
        }
        return inbound
    }

    /// libzmq's PUB is always writable: a full subscriber misses messages instead of blocking.
    var canSend: Bool { true }
    var canReceive: Bool { extended && !pending.isEmpty }

    // MARK: Manual subscriptions

    /// ZMQ_SUBSCRIBE on an XPUB in manual mode: subscribes the subscriber whose subscription was
    /// received last. Without one (none yet, or it left) nothing happens, as in libzmq.
    func subscribe(_ topic: [UInt8]) throws(ZeroMQError) {
        guard manual else {
            throw ZeroMQError(.invalidArgument, "subscribe on \(extended ? "XPUB" : "PUB") needs XPUB_MANUAL")
        }
        guard let peer = lastSubscriber else { return }
        if Self.insert(topic, into: &peer.subscriptions) { holders.add(topic) }
    }

    func unsubscribe(_ topic: [UInt8]) throws(ZeroMQError) {
        guard manual else {
            throw ZeroMQError(.invalidArgument, "unsubscribe on \(extended ? "XPUB" : "PUB") needs XPUB_MANUAL")
        }
        guard let peer = lastSubscriber else { return }
        if peer.subscriptions.remove(topic) { holders.remove(topic) }
    }
}

/// XPUB's queue of messages for the application, each with the subscriber a manual
/// ``PublishPattern/subscribe(_:)`` after it would apply to.
private struct PendingQueue {
    private var items: [(Inbound, PeerPipe?)] = []
    private var head = 0

    var isEmpty: Bool { head == items.count }

    mutating func append(_ inbound: Inbound, subscriber: PeerPipe?) {
        items.append((inbound, subscriber))
    }

    mutating func popFirst() -> (Inbound, PeerPipe?)? {
        guard head < items.count else { return nil }
        let item = items[head]
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 64 && head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
        return item
    }
}
