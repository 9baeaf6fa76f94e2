import ZMTP

/// One direction of a proxy (frontend to backend, or back): libzmq's `forward` in `proxy.cpp`,
/// with the back-pressure made explicit.
///
/// A message is taken from ``source`` only when ``destination`` can take a new one
/// (ZMQ_POLLOUT): otherwise it stays in the source's queue, whose high-water mark then holds back
/// the peers sending to it, and nothing is dropped on the way. Whether the destination blocks or
/// drops at its own HWM is its type's business: PUB and XPUB are always writable and drop for a
/// full subscriber, ROUTER drops for a full or unknown peer, PUSH, DEALER and PAIR wait for room.
///
/// A readiness check can say yes to a send that then does not go: XPUB with XPUB_NODROP reports
/// ZMQ_POLLOUT while a subscriber is full, ROUTER with ROUTER_MANDATORY while some other peer has
/// room. The parts already taken then wait in ``pending``, in order, and the flow takes nothing
/// new until the destination accepts them; libzmq's proxy, whose send blocks, behaves the same
/// but cannot serve its control socket meanwhile.
final class ProxyFlow {
    /// libzmq's `proxy_burst_size`: messages moved in one go before the other direction and the
    /// control socket get their turn.
    static let burst = 1000

    let source: Socket
    let destination: Socket
    /// Parts taken from the source that the destination has not accepted yet.
    private var pending: [Message] = []
    private var nextPending = 0

    /// Parts taken from ``source``.
    private(set) var received = ProxyTally()
    /// Parts accepted by ``destination``.
    private(set) var sent = ProxyTally()

    init(from source: Socket, to destination: Socket) {
        self.source = source
        self.destination = destination
    }

    /// Moves up to ``burst`` messages on the state the last `takeCommands()` left; returns whether
    /// anything moved. Each message is copied to `capture` as it is taken.
    func pump(capture: ProxyCapture?) throws(ZeroMQError) -> Bool {
        var moved = false
        for _ in 0..<Self.burst {
            while nextPending < pending.count {
                let part = pending[nextPending]
                guard try destination.sendPart(part) else { return moved }
                sent.count(part)
                nextPending += 1
                moved = true
            }
            pending.removeAll(keepingCapacity: true)
            nextPending = 0
            guard destination.canSendPart, source.canReceivePart, let parts = try source.receiveWholeMessage() else {
                return moved
            }
            for part in parts {
                received.count(part)
                try capture?.copy(part)
            }
            pending = parts
            moved = true
        }
        return moved
    }
}

/// Parts and their body bytes, as libzmq's `stats_socket` counts them.
struct ProxyTally {
    var messages: UInt64 = 0
    var bytes: UInt64 = 0

    mutating func count(_ part: Message) {
        messages += 1
        bytes += UInt64(part.count)
    }
}

/// The capture socket: every part taken from either side is copied to it, in the order taken
/// (libzmq's `capture` in `proxy.cpp`).
///
/// Unlike libzmq, whose copy is a blocking send, a capture socket that cannot take a message now
/// misses it, whole, and the proxy goes on: a slow observer must not stall the traffic it watches.
/// Give it a PUB (never blocks) or a large SNDHWM to miss nothing; ``missedMessages`` counts the
/// misses.
final class ProxyCapture {
    let socket: Socket
    /// Whether the message under way is being copied; nil between messages.
    private var copying: Bool?
    /// Messages the capture socket had no room for.
    private(set) var missedMessages = 0

    init(_ socket: Socket) {
        self.socket = socket
    }

    /// Copies one part. Whether a message is copied is decided at its first part: once that went,
    /// the later parts always go (the HWM never cuts a message in two).
    func copy(_ part: Message) throws(ZeroMQError) {
        let copied: Bool
        if let decided = copying {
            copied = decided
            if copied { _ = try socket.sendPart(part) }
        } else {
            if socket.canSendPart {
                copied = try socket.sendPart(part)
            } else {
                copied = false
            }
            if !copied { missedMessages += 1 }
        }
        copying = part.more ? copied : nil
    }
}
