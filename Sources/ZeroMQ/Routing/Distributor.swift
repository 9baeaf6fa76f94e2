import ZMTP
import ZeroMQTransport

/// Fan-out (libzmq's `dist_t`, RFC 29 §distribution): a message goes to a set of pipes chosen
/// at its first part, and its later parts follow to the same pipes. A pipe at its high-water
/// mark misses the whole message, or, all-or-nothing (XPUB_NODROP), holds everyone back.
/// Socket thread only; a final class with its state behind a pointer for the reason given in
/// FairQueue.swift.
final class Distributor {
    private struct State {
        var recipients: [PeerPipe] = []
        var isMidMessage = false
    }

    private let state = Unchecked(State())

    /// The message's first parts went out; the next part continues it.
    var isMidMessage: Bool { state.value.isMidMessage }

    /// Chooses the pipes for a new message from `candidates`. Returns nil when `allOrNothing`
    /// and some candidate is full (nothing is sent; its writable wakeup will come), else the
    /// number of candidates that miss the message for lack of room.
    func begin(_ candidates: some Sequence<PeerPipe>, allOrNothing: Bool) -> Int? {
        var chosen: [PeerPipe] = []
        swap(&chosen, &state.value.recipients)
        chosen.removeAll(keepingCapacity: true)
        var missed = 0
        for peer in candidates {
            if peer.pipe.checkWrite() {
                chosen.append(peer)
            } else {
                missed += 1
            }
        }
        if allOrNothing && missed > 0 { chosen.removeAll(keepingCapacity: true) }
        swap(&chosen, &state.value.recipients)
        return allOrNothing && missed > 0 ? nil : missed
    }

    /// Writes one part to the chosen pipes, publishing with the last part.
    func write(_ message: Message) {
        let more = message.more
        let chosen = state.value.recipients
        for peer in chosen {
            peer.pipe.write(message)
            if !more { peer.pipe.flush() }
        }
        state.value.isMidMessage = more
        if !more { state.value.recipients.removeAll(keepingCapacity: true) }
    }

    /// A pipe went away (mid-message, the rest of that message is not sent to it).
    func remove(_ peer: PeerPipe) {
        state.value.recipients.removeAll { $0 === peer }
    }
}
