/// The greeting phase: RFC 23 §Greeting and RFC 37 §Detecting ZMTP 1.0 and 2.0 Peers.
extension Connection {
    mutating func advanceGreeting(_ phase: GreetingPhase) throws(ZMTPError) -> Advance {
        let available = inbound[inboundStart...]
        // Staged: the major version goes out as soon as the peer's signature is in, before anything
        // after it is judged, so what we send never depends on how the peer's bytes were cut into reads.
        if phase.stage == .signatureSent, case .progressed = advanceStagedGreeting(phase, available) { return .progressed }
        let staged = phase.stage != .complete
        switch try Greeting.detect(available) {
        case .needMore:
            guard staged else { return .stalled }
            return advanceStagedGreeting(phase, available)

        case .zmtp1Unversioned:
            guard staged else {
                throw .incompatible(.legacyPeerRefused, "ZMTP 1.0 peer refused (legacy peers not accepted or security configured)")
            }
            // Our 10-byte signature was a ZMTP 1.0 frame header for identity + flags: finish
            // that frame with the identity bytes, then speak ZMTP 1.0 framing.
            outbound.append(contentsOf: configuration.identity)
            enterLegacy(version: (1, 0), framing: .zmtp1, socketType: nil)
            return .progressed

        case .versioned(let revision, let socketTypeByte):
            guard staged else {
                throw .incompatible(.legacyPeerRefused, "ZMTP \(revision == 0 ? "1.0" : "2.0") peer refused (legacy peers not accepted or security configured)")
            }
            let peerType = SocketType(rawValue: socketTypeByte)
            guard let peerType, configuration.socketType.isCompatible(with: peerType) else {
                throw .incompatible(.incompatibleSocketType, "peer socket type \(socketTypeByte) cannot talk to \(configuration.socketType)")
            }
            // RFC 15: socket type, then the identity as the first frame in the peer's framing.
            let legacyFraming: FramingVersion = revision == 0 ? .zmtp1 : .zmtp2
            outbound.append(configuration.socketType.rawValue)
            FrameEncoder.encode(Message(configuration.identity), version: legacyFraming, into: &outbound)
            consumeInbound(12)
            enterLegacy(version: revision == 0 ? (1, 0) : (2, 0), framing: legacyFraming, socketType: peerType)
            return .progressed

        case .zmtp3(let greeting):
            if staged {
                // The rest of our greeting (the major version went out with the peer's signature),
                // unless the peer's revision byte already triggered it.
                outbound.append(contentsOf: ourGreeting()[11...])
            }
            consumeInbound(Greeting.size)
            guard greeting.mechanism == configuration.security.mechanism.greetingField else {
                throw .incompatible(.mechanismMismatch, "peer offers \(String(decoding: greeting.mechanism.prefix { $0 != 0 }, as: UTF8.self)), we use \(configuration.security.mechanism.rawValue)")
            }
            // A peer at 3.1 or above speaks 3.1 to us (RFC 37 §Version Negotiation).
            let minor: UInt8 = greeting.major > 3 ? 1 : greeting.minor
            try startMechanism(peerVersion: (3, minor))
            return .progressed
        }
    }

    /// libzmq's staged greeting: major version once the peer's signature is seen, the rest once
    /// its revision byte is.
    private mutating func advanceStagedGreeting(_ phase: GreetingPhase, _ available: ArraySlice<UInt8>) -> Advance {
        let bytes = Array(available.prefix(11))
        switch phase.stage {
        case .signatureSent:
            guard bytes.count >= 10, bytes[0] == 0xFF, bytes[9] & 1 == 1 else { return .stalled }
            outbound.append(3)
            state = .greeting(GreetingPhase(stage: .majorSent))
            return .progressed
        case .majorSent:
            guard bytes.count >= 11, bytes[10] >= 3 else { return .stalled }
            outbound.append(contentsOf: ourGreeting()[11...])
            state = .greeting(GreetingPhase(stage: .complete))
            return .progressed
        case .complete:
            return .stalled
        }
    }

    private mutating func enterLegacy(version: (major: UInt8, minor: UInt8), framing: FramingVersion, socketType: SocketType?) {
        self.framing = framing
        decoder.version = framing
        state = .legacyIdentity(LegacyPhase(version: version, socketType: socketType))
    }

    /// The first frame from a ZMTP 1.0/2.0 peer is its identity; then messages flow.
    mutating func advanceLegacyIdentity(_ phase: LegacyPhase) throws(ZMTPError) -> Advance {
        guard let frame = try decodeFrame() else { return .stalled }
        switch frame {
        case .command:
            throw .peer(.malformedFrame, "command frame from a ZMTP \(phase.version.major).0 peer")
        case .message(let identity):
            guard identity.count <= Configuration.maxIdentityLength else {
                throw .peer(.invalidMetadata, "identity over 255 bytes")
            }
            var metadata = Metadata()
            if let type = phase.socketType {
                metadata.append(name: Metadata.Name.socketType, value: Array(type.name.utf8))
            }
            metadata.append(name: Metadata.Name.identity, value: identity.bytes)
            let peer = PeerInfo(version: phase.version, mechanism: .null, socketType: phase.socketType,
                                identity: identity.bytes, metadata: metadata, authentication: nil)
            becomeReady(peer, codec: .plaintext)
            return .event(.handshakeCompleted(peer))
        }
    }
}
