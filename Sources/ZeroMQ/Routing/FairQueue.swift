import ZMTP
import ZeroMQTransport

// The routing state below lives in small final classes that their pattern holds with `let`, each
// with its state in one struct reached through a pointer (``Unchecked``): as stored properties,
// every access costs a run-time exclusivity check that the compiler does not prove away (measured
// with callgrind: about 76 instructions each, several per message).

/// Fair queuing over incoming pipes (libzmq's `fq_t`, RFC 28 §fair-queuing): pipes take turns
/// message by message, and a multipart message is read whole from one pipe. Socket thread only.
final class FairQueue {
    /// Pipes that may have messages (`active`); a pipe leaves when a read finds it empty and
    /// comes back with ``activate(_:)``.
    private struct State {
        var active: [PeerPipe] = []
        var current = 0
        /// The pipe a multipart message is being read from.
        var inMultipart: PeerPipe?
        /// The end of `active[current]` while its turn lasts, or nil: moved out for a read and
        /// back, as in ``LoadBalancer`` (no retain and release per message). Any change to
        /// `active` or `current` clears it.
        var turn: PipeEnd?
    }

    /// Socket thread only (see the note at the top of the file).
    private let state = Unchecked(State())

    func attach(_ peer: PeerPipe) {
        state.value.turn = nil
        state.value.active.append(peer)
    }

    func activate(_ peer: PeerPipe) {
        if !state.value.active.contains(where: { $0 === peer }) { attach(peer) }
    }

    func detach(_ peer: PeerPipe) {
        guard let index = state.value.active.firstIndex(where: { $0 === peer }) else { return }
        state.value.turn = nil
        state.value.active.remove(at: index)
        if index < state.value.current { state.value.current -= 1 }
        if state.value.current >= state.value.active.count { state.value.current = 0 }
        if state.value.inMultipart === peer { state.value.inMultipart = nil }
    }

    /// The next part with the pipe it came from. A pipe whose peer closed is skipped; the
    /// socket detaches it when its closing is reported.
    func receive() -> Inbound? {
        next(wantsSource: true)
    }

    /// The next part alone: the pipe is neither retained nor returned.
    func receiveMessage() -> Message? {
        next(wantsSource: false)?.message
    }

    /// The one implementation; `wantsSource` is a constant at each call site once inlined.
    @inline(__always)
    private func next(wantsSource: Bool) -> Inbound? {
        if let peer = state.value.inMultipart {
            // The rest of a message is always published with its first part.
            guard let message = peer.pipe.read() else {
                state.value.inMultipart = nil
                return nil
            }
            if !message.more {
                state.value.inMultipart = nil
                advance()
            }
            return Inbound(message: message, from: wantsSource ? peer : nil)
        }
        while true {
            let count = state.value.active.count
            if count == 0 { return nil }
            var index = state.value.current
            if index >= count {
                index = 0
                state.value.current = 0
            }
            // As in ``LoadBalancer``: the end alone is held, moved out of `turn` where it can
            // be, the peer only where it is kept.
            let pipe = state.value.turn.take() ?? state.value.active[index].pipe
            if let message = pipe.read() {
                if message.more {
                    state.value.inMultipart = state.value.active[index]
                } else {
                    state.value.current = index + 1 == count ? 0 : index + 1
                    // The only pipe keeps the turn (a multipart message passes it on with its
                    // last part, through `advance()`); `turn` is nil, tested as in LoadBalancer.
                    if count == 1 && state.value.turn == nil { state.value.turn = pipe }
                }
                return Inbound(message: message, from: wantsSource ? state.value.active[index] : nil)
            }
            state.value.active.remove(at: index)
        }
    }

    /// Moves the turn to the next pipe.
    private func advance() {
        let count = state.value.active.count
        state.value.current = count == 0 || state.value.current + 1 >= count ? 0 : state.value.current + 1
    }

    /// Whether a part is waiting (deactivates pipes found empty).
    func hasMessage() -> Bool {
        if state.value.inMultipart != nil { return true }
        while true {
            let count = state.value.active.count
            if count == 0 { return false }
            if state.value.current >= count { state.value.current = 0 }
            let peer = state.value.active[state.value.current]
            if peer.pipe.checkRead() { return true }
            state.value.turn = nil
            state.value.active.remove(at: state.value.current)
        }
    }
}

/// Load balancing over outgoing pipes (libzmq's `lb_t`, RFC 28 §round-robin): each message goes
/// whole to the next pipe with room; pipes at their high-water mark wait for ``activate(_:)``.
/// Socket thread only.
final class LoadBalancer {
    private struct State {
        var active: [PeerPipe] = []
        var current = 0
        /// Where the message being sent stands.
        var outbound = Outbound.betweenMessages
        /// The end of `active[current]` while its turn lasts, or nil. A send moves it out and
        /// back rather than reading it from the array: a reference read from the array is
        /// retained and released around the calls made on it (about 40 instructions per
        /// message), one moved out of the state is owned already. With one active pipe the turn
        /// never moves, so the end stays here from message to message. Any change to `active`
        /// or `current` clears it.
        var turn: PipeEnd?
    }

    /// Socket thread only (see the note at the top of the file).
    private let state = Unchecked(State())

    enum Outbound {
        /// The next part starts a message.
        case betweenMessages
        /// The message's first parts went to this pipe; the rest follow.
        case sending(PeerPipe)
        /// The pipe of a multipart message went away: the rest of that message is dropped.
        case dropping
    }

    func attach(_ peer: PeerPipe) {
        state.value.turn = nil
        state.value.active.append(peer)
    }

    func activate(_ peer: PeerPipe) {
        if !state.value.active.contains(where: { $0 === peer }) { attach(peer) }
    }

    func detach(_ peer: PeerPipe) {
        if case .sending(let current) = state.value.outbound, current === peer { state.value.outbound = .dropping }
        guard let index = state.value.active.firstIndex(where: { $0 === peer }) else { return }
        state.value.turn = nil
        state.value.active.remove(at: index)
        if index < state.value.current { state.value.current -= 1 }
        if state.value.current >= state.value.active.count { state.value.current = 0 }
    }

    /// Sends one part, or gives it back when it is a first part and no pipe has room. Returns
    /// the pipe it went to through `to`.
    func send(_ message: consuming Message, to chosen: inout PeerPipe?) -> SendOutcome {
        send(message) { chosen = $0 }
    }

    /// Sends one part, or gives it back when it is a first part and no pipe has room.
    func send(_ message: consuming Message) -> SendOutcome {
        send(message) { _ in }
    }

    /// The one implementation: `chose` hears the pipe (inlined away where nobody listens, which
    /// saves a retain per message).
    @inline(__always)
    private func send(_ message: consuming Message, chose: (PeerPipe) -> Void) -> SendOutcome {
        let more = message.more
        switch state.value.outbound {
        case .dropping:
            if !more { state.value.outbound = .betweenMessages }
            return .sent
        case .sending(let peer):
            chose(peer)
            let pipe = peer.pipe
            pipe.write(message)
            if !more {
                pipe.flush()
                state.value.outbound = .betweenMessages
                advance()
            }
            return .sent
        case .betweenMessages:
            break
        }
        while true {
            let count = state.value.active.count
            if count == 0 { return .wouldBlock(message) }
            var index = state.value.current
            if index >= count {
                index = 0
                state.value.current = 0
            }
            // The end is owned for the length of the call: moved out of `turn`, or read from
            // the array (one retain) when the turn has just moved; the peer only where it is
            // kept. An `unowned(unsafe)` local would be retained again at each use.
            let pipe = state.value.turn.take() ?? state.value.active[index].pipe
            if pipe.checkWrite() {
                if more {
                    let peer = state.value.active[index]
                    chose(peer)
                    state.value.outbound = .sending(peer)
                } else {
                    chose(state.value.active[index])
                    state.value.current = index + 1 == count ? 0 : index + 1
                }
                pipe.write(message)
                if !more { pipe.flush() }
                // The turn stays with this pipe when it is the only one (a multipart message
                // moves it on with its last part, through `.sending`). `turn` is nil here (taken
                // above); testing it lets the compiler drop the release of the value it
                // overwrites (swift_release of nil, about 10 instructions per message).
                if count == 1 && !more && state.value.turn == nil { state.value.turn = pipe }
                return .sent
            }
            state.value.active.remove(at: index)
        }
    }

    /// Moves the turn to the next pipe.
    private func advance() {
        let count = state.value.active.count
        state.value.current = count == 0 || state.value.current + 1 >= count ? 0 : state.value.current + 1
    }

    /// Whether some pipe has room for a new message.
    func canSend() -> Bool {
        if case .betweenMessages = state.value.outbound {} else { return true }
        while true {
            let count = state.value.active.count
            if count == 0 { return false }
            if state.value.current >= count { state.value.current = 0 }
            let peer = state.value.active[state.value.current]
            if peer.pipe.checkWrite() { return true }
            state.value.turn = nil
            state.value.active.remove(at: state.value.current)
        }
    }
}
