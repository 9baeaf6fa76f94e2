import ZMTP
import ZeroMQTransport

/// Fair queuing over incoming pipes (libzmq's `fq_t`, RFC 28 §fair-queuing): pipes take turns
/// message by message, and a multipart message is read whole from one pipe.
struct FairQueue {
    /// Pipes that may have messages; a pipe leaves when a read finds it empty and comes back
    /// with ``activate(_:)``.
    private var active: [PeerPipe] = []
    private var current = 0
    /// The pipe a multipart message is being read from.
    private var inMultipart: PeerPipe?

    mutating func attach(_ peer: PeerPipe) { active.append(peer) }

    mutating func activate(_ peer: PeerPipe) {
        if !active.contains(where: { $0 === peer }) { active.append(peer) }
    }

    mutating func detach(_ peer: PeerPipe) {
        guard let index = active.firstIndex(where: { $0 === peer }) else { return }
        active.remove(at: index)
        if index < current { current -= 1 }
        if current >= active.count { current = 0 }
        if inMultipart === peer { inMultipart = nil }
    }

    /// The next part. A pipe whose peer closed is skipped; the socket detaches it when its
    /// closing is reported.
    mutating func receive() -> Inbound? {
        if let peer = inMultipart {
            // The rest of a message is always published with its first part.
            guard let message = peer.pipe.read() else {
                inMultipart = nil
                return nil
            }
            if !message.more {
                inMultipart = nil
                current = active.isEmpty ? 0 : (current + 1) % active.count
            }
            return Inbound(message: message, from: peer)
        }
        while !active.isEmpty {
            if current >= active.count { current = 0 }
            let peer = active[current]
            if let message = peer.pipe.read() {
                if message.more {
                    inMultipart = peer
                } else {
                    current = (current + 1) % active.count
                }
                return Inbound(message: message, from: peer)
            }
            active.remove(at: current)
        }
        return nil
    }

    /// Whether a part is waiting (deactivates pipes found empty).
    mutating func hasMessage() -> Bool {
        if inMultipart != nil { return true }
        while !active.isEmpty {
            if current >= active.count { current = 0 }
            if active[current].pipe.checkRead() { return true }
            active.remove(at: current)
        }
        return false
    }
}

/// Load balancing over outgoing pipes (libzmq's `lb_t`, RFC 28 §round-robin): each message goes
/// whole to the next pipe with room; pipes at their high-water mark wait for ``activate(_:)``.
struct LoadBalancer {
    private var active: [PeerPipe] = []
    private var current = 0
    /// The pipe a multipart message is going to; nil between messages.
    private var inMultipart: PeerPipe?
    /// The pipe of a multipart message went away: drop the rest of that message.
    private var dropping = false

    mutating func attach(_ peer: PeerPipe) { active.append(peer) }

    mutating func activate(_ peer: PeerPipe) {
        if !active.contains(where: { $0 === peer }) { active.append(peer) }
    }

    mutating func detach(_ peer: PeerPipe) {
        if inMultipart === peer {
            inMultipart = nil
            dropping = true
        }
        guard let index = active.firstIndex(where: { $0 === peer }) else { return }
        active.remove(at: index)
        if index < current { current -= 1 }
        if current >= active.count { current = 0 }
    }

    /// Sends one part; false when it is a first part and no pipe has room. Returns the pipe
    /// it went to through `to`.
    mutating func send(_ message: Message, to chosen: inout PeerPipe?) -> Bool {
        send(message) { chosen = $0 }
    }

    /// Sends one part; false when it is a first part and no pipe has room.
    mutating func send(_ message: Message) -> Bool {
        send(message) { _ in }
    }

    /// The one implementation: `chose` hears the pipe (inlined away where nobody listens, which
    /// saves a retain per message). Each pipe end is loaded once per call.
    @inline(__always)
    private mutating func send(_ message: Message, chose: (PeerPipe) -> Void) -> Bool {
        if dropping {
            if !message.more { dropping = false }
            return true
        }
        if let peer = inMultipart {
            let pipe = peer.pipe
            pipe.write(message)
            chose(peer)
            if !message.more {
                pipe.flush()
                inMultipart = nil
                current = active.isEmpty ? 0 : (current + 1) % active.count
            }
            return true
        }
        while !active.isEmpty {
            if current >= active.count { current = 0 }
            let peer = active[current]
            let pipe = peer.pipe
            if pipe.checkWrite() {
                pipe.write(message)
                chose(peer)
                if message.more {
                    inMultipart = peer
                } else {
                    pipe.flush()
                    current = (current + 1) % active.count
                }
                return true
            }
            active.remove(at: current)
        }
        return false
    }

    /// Whether some pipe has room for a new message.
    mutating func canSend() -> Bool {
        if inMultipart != nil { return true }
        while !active.isEmpty {
            if current >= active.count { current = 0 }
            if active[current].pipe.checkWrite() { return true }
            active.remove(at: current)
        }
        return false
    }
}
