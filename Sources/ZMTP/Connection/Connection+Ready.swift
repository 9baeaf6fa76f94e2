/// The data phase: messages, commands, subscriptions and heartbeats (RFC 23/37).
extension Connection {
    /// The inner flag bits of a CURVE MESSAGE box as libzmq sets them (not RFC 26's: bit 1 is
    /// COMMAND here, where the frame header uses bit 2).
    enum CurveFlags {
        static let more: UInt8 = 0x01
        static let command: UInt8 = 0x02
    }

    mutating func becomeReady(_ peer: PeerInfo, codec: DataCodec) {
        state = .ready(peer)
        dataCodec = codec
        handshakeDeadline = nil
        decoder.maxMessageSize = configuration.maxMessageSize
        // ZMTP 1.0/2.0 have no commands, so no heartbeats.
        if configuration.heartbeatInterval > .zero, peer.version.major >= 3 {
            nextPing = clock.adding(configuration.heartbeatInterval)
        }
        let pending = queued
        queued.removeAll()
        for item in pending {
            switch item {
            case .message(let message): encodeMessage(message)
            case .command(let command):
                do throws(ZMTPError) { try encodeCommand(command, peer: peer) } catch { fail(error); return }
            }
        }
    }

    // MARK: Receiving

    mutating func advanceReady() throws(ZMTPError) -> Advance {
        guard let frame = try decodeFrame() else { return .stalled }
        switch dataCodec {
        case .plaintext:
            switch frame {
            case .message(let message): return .event(deliver(message))
            case .command(let body): return try handleCommand(body[...])
            }
        case .curve(let codec):
            let body: ArraySlice<UInt8>
            switch frame {
            // libzmq sends MESSAGE in data frames; a MESSAGE in a command frame (RFC 26 defines it
            // as a command) is delivered here too, where libzmq 4.3.4 decrypts it and drops it
            // (Vectors/connection-curve.json, "a MESSAGE in a command frame is accepted").
            case .message(let message): body = message.slice
            case .command(let command): body = command[...]
            }
            let opened = try codec.open(body)
            if opened.flags & CurveFlags.command != 0 {
                return try handleCommand(opened.payload[...])
            }
            return .event(deliver(Message(sharing: opened.payload[...], more: opened.flags & CurveFlags.more != 0)))
        }
    }

    /// A data part, or a ZMTP 3.0-style subscription when we publish (RFC 37 §Subscriptions:
    /// a single-part message whose first byte is 1 or 0, sent by peers older than 3.1 and
    /// accepted from any peer, as libzmq does).
    private mutating func deliver(_ message: Message) -> ConnectionEvent {
        let firstPart = !receivingMultipart
        receivingMultipart = message.more
        if firstPart, !message.more, configuration.socketType == .pub || configuration.socketType == .xpub,
           message.count > 0 {
            // Peek at the first byte; copy only when the message is a subscription.
            switch message.withUnsafeBytes({ $0[0] }) {
            case 1: return .subscribe(topic: Array(message.slice.dropFirst()))
            case 0: return .cancel(topic: Array(message.slice.dropFirst()))
            default: break
            }
        }
        return .message(message)
    }

    mutating func handleCommand(_ body: ArraySlice<UInt8>) throws(ZMTPError) -> Advance {
        let command = try Command.parse(body)
        switch command {
        case .ping(let ttl, let context):
            // RFC 37: answer with the context (at most 16 bytes); honour the peer's TTL. One
            // PONG at a time, as libzmq: a PING flood from a peer that does not read gets no more.
            peerTTL = .milliseconds(Int(ttl) * 100)
            if case .ready(let peer) = state, !pongPending {
                try encodeCommand(.pong(context: Array(context.prefix(Command.maxPingContext))), peer: peer)
                pongPending = true
            }
            return .progressed
        case .pong:
            return .progressed
        case .subscribe(let topic): return .event(.subscribe(topic: topic))
        case .cancel(let topic): return .event(.cancel(topic: topic))
        case .join(let group): return .event(.join(group: group))
        case .leave(let group): return .event(.leave(group: group))
        case .error(let reason): throw Self.errorFromPeer(reason)
        case .ready:
            throw .peer(.unexpectedCommand, "READY after the handshake")
        case .other:
            return .event(.command(command))
        }
    }

    // MARK: Sending

    /// Frames one message part into the outbound buffer.
    mutating func encodeMessage(_ message: Message) {
        // Tested without binding the payload first: a `switch` would copy the codec per message.
        if case .plaintext = dataCodec {
            if message.count >= Self.sharedBodyThreshold {
                // The header here, the body by reference: it is never copied on its way out.
                FrameEncoder.encodeHeader(size: message.count, more: message.more, command: false, version: framing, into: &outbound)
                outboundBodies.append(TransmitBody(offset: outbound.count, body: message))
                outboundBodyBytes += message.count
            } else {
                FrameEncoder.encode(message, version: framing, into: &outbound)
            }
            return
        }
        switch dataCodec {
        case .plaintext:
            break
        case .curve(let codec):
            let box = message.withUnsafeBytes { codec.seal(flags: message.more ? CurveFlags.more : 0, body: $0) }
            FrameEncoder.encode(Message(sharing: box[...]), version: .zmtp3, into: &outbound)
        }
    }

    /// Frames a command, choosing the subscription form the peer understands.
    mutating func encodeCommand(_ command: Command, peer: PeerInfo) throws(ZMTPError) {
        switch command {
        case .subscribe(let topic) where !peer.acceptsSubscriptionCommands,
             .cancel(let topic) where !peer.acceptsSubscriptionCommands:
            var body: [UInt8] = [command.name == "SUBSCRIBE" ? 1 : 0]
            body.append(contentsOf: topic)
            encodeMessage(Message(body))
            return
        default:
            break
        }
        guard peer.version.major >= 3 else {
            throw .misuse(.invalidState, "ZMTP \(peer.version.major).0 peers take no commands")
        }
        let body = try command.encoded()
        switch dataCodec {
        case .plaintext:
            FrameEncoder.encodeCommand(body, into: &outbound)
        case .curve(let codec):
            let box = body.withUnsafeBytes { codec.seal(flags: CurveFlags.command, body: $0) }
            FrameEncoder.encode(Message(sharing: box[...]), version: .zmtp3, into: &outbound)
        }
    }

    // MARK: Timers

    /// When ``handleTimeout(now:)`` should next be called, or nil if no timer is armed.
    public var nextDeadline: ZMTPInstant? {
        switch state {
        case .failed: return nil
        case .greeting, .handshake, .legacyIdentity: return handshakeDeadline
        case .ready:
            var earliest: ZMTPInstant?
            for candidate in [nextPing, pingTimeoutDeadline, peerTTLDeadline] {
                if let c = candidate, earliest.map({ c < $0 }) ?? true { earliest = c }
            }
            return earliest
        }
    }

    private var peerTTLDeadline: ZMTPInstant? {
        peerTTL > .zero ? lastReceived.adding(peerTTL) : nil
    }

    /// Fires every timer that is due at `now`: handshake timeout, heartbeat PING, heartbeat
    /// timeout, and the peer's TTL. Any received byte counts as liveness (unlike libzmq, which
    /// waits for a whole message, libzmq issue #2709).
    public mutating func handleTimeout(now: ZMTPInstant) {
        clock = max(clock, now)
        switch state {
        case .failed:
            return
        case .greeting, .handshake, .legacyIdentity:
            if let deadline = handshakeDeadline, deadline <= clock {
                fail(ZMTPError(.handshakeTimeout, blame: .transport, "no handshake within \(configuration.handshakeTimeout)"))
            }
        case .ready(let peer):
            if let deadline = pingTimeoutDeadline, deadline <= clock {
                fail(ZMTPError(.heartbeatTimeout, blame: .transport, "nothing received within the heartbeat timeout"))
                return
            }
            if let deadline = peerTTLDeadline, deadline <= clock {
                fail(ZMTPError(.heartbeatTimeout, blame: .transport, "nothing received within the peer's TTL of \(peerTTL)"))
                return
            }
            if let ping = nextPing, ping <= clock {
                let ttl = Self.deciseconds(configuration.heartbeatTTL)
                do throws(ZMTPError) { try encodeCommand(.ping(ttl: ttl, context: []), peer: peer) } catch { fail(error); return }
                nextPing = clock.adding(configuration.heartbeatInterval)
                let timeout = configuration.heartbeatTimeout ?? configuration.heartbeatInterval
                if pingTimeoutDeadline == nil, timeout > .zero {
                    pingTimeoutDeadline = clock.adding(timeout)
                }
            }
        }
    }

    /// The PING's TTL field: whole deciseconds, truncated as libzmq divides its milliseconds by
    /// 100, clamped to the uint16 the field holds (RFC 37).
    static func deciseconds(_ ttl: Duration) -> UInt16 {
        guard ttl > .zero else { return 0 }
        let (seconds, attoseconds) = min(ttl, Configuration.maxHeartbeatTTL).components
        return UInt16(clamping: seconds * 10 + attoseconds / 100_000_000_000_000_000)
    }
}
