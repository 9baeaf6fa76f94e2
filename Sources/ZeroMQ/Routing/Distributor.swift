import ZMTP

/// Fan-out (libzmq's `dist_t`, RFC 29 §distribution): a message goes to a set of pipes chosen
/// at its first part, and its later parts follow to the same pipes. A pipe at its high-water
/// mark misses the whole message, or, all-or-nothing (XPUB_NODROP), holds everyone back.
struct Distributor {
    private var recipients: [PeerPipe] = []
    /// The message's first parts went out; the next part continues it.
    private(set) var isMidMessage = false

    /// Chooses the pipes for a new message from `candidates`. Returns nil when `allOrNothing`
    /// and some candidate is full (nothing is sent; its writable wakeup will come), else the
    /// number of candidates that miss the message for lack of room.
    mutating func begin(_ candidates: some Sequence<PeerPipe>, allOrNothing: Bool) -> Int? {
        recipients.removeAll(keepingCapacity: true)
        recipients.append(contentsOf: candidates)
        if allOrNothing {
            for peer in recipients where !peer.pipe.checkWrite() {
                recipients.removeAll(keepingCapacity: true)
                return nil
            }
            return 0
        }
        let before = recipients.count
        recipients.removeAll { !$0.pipe.checkWrite() }
        return before - recipients.count
    }

    /// Writes one part to the chosen pipes, publishing with the last part.
    mutating func write(_ message: Message) {
        for peer in recipients {
            peer.pipe.write(message)
            if !message.more { peer.pipe.flush() }
        }
        isMidMessage = message.more
        if !message.more { recipients.removeAll(keepingCapacity: true) }
    }

    /// A pipe went away (mid-message, the rest of that message is not sent to it).
    mutating func remove(_ peer: PeerPipe) {
        recipients.removeAll { $0 === peer }
    }
}
