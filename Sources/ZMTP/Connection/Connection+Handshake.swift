/// The mechanism phase: drives the chosen mechanism's state machine with command frames.
extension Connection {
    /// Creates the mechanism for our configuration and sends its first commands.
    mutating func startMechanism(peerVersion: (major: UInt8, minor: UInt8)) throws(ZMTPError) {
        let metadata = try configuration.localMetadata()
        let address = configuration.peerAddress
        let machine: MechanismMachine
        let step: HandshakeStep
        switch configuration.security {
        case .null(let domain):
            let authenticate = (domain?.isEmpty ?? true) ? nil : domain
            var m = NullHandshake(metadata: metadata, authenticateDomain: authenticate, address: address)
            step = try m.start()
            machine = .null(m)
        case .plainClient(let username, let password):
            var m = try PlainClientHandshake(username: username, password: password, metadata: metadata)
            step = try m.start()
            machine = .plainClient(m)
        case .plainServer(let domain):
            var m = PlainServerHandshake(metadata: metadata, domain: domain, address: address)
            step = try m.start()
            machine = .plainServer(m)
        case .curveClient(let serverPublicKey, let keyPair):
            var m = try CurveClientHandshake(serverPublicKey: serverPublicKey, keyPair: keyPair, metadata: metadata,
                                             crypto: try requireCrypto(), random: random)
            step = try m.start()
            machine = .curveClient(m)
        case .curveServer(let keyPair, let domain, let authenticate):
            var m = try CurveServerHandshake(keyPair: keyPair, metadata: metadata, domain: domain, address: address,
                                             authenticate: authenticate, crypto: try requireCrypto(), random: random)
            step = try m.start()
            machine = .curveServer(m)
        }
        state = .handshake(HandshakePhase(peerVersion: peerVersion, mechanism: machine, awaitingAuthentication: false))
        try apply(step, peerVersion: peerVersion)
    }

    private func requireCrypto() throws(ZMTPError) -> any CurveCrypto {
        guard let crypto else { throw .misuse(.invalidArgument, "CURVE needs a CurveCrypto provider") }
        return crypto
    }

    /// Feeds one command frame to the mechanism.
    mutating func advanceHandshake(_ phase: HandshakePhase) throws(ZMTPError) -> Advance {
        guard let frame = try decodeFrame() else { return .stalled }
        let body: [UInt8]
        switch frame {
        case .message:
            throw .peer(.unexpectedCommand, "data frame before the handshake completed")
        case .command(let command):
            body = command
        }
        // RFC 23: ERROR may arrive at any point of the handshake; the peer then closes.
        if Command.isError(body[...]), case .error(let reason) = try Command.parse(body[...]) {
            throw Self.errorFromPeer(reason)
        }
        // While the application decides, the mechanism says what may still arrive: a NULL
        // client's READY, sent without waiting, is kept until the answer comes.
        var phase = phase
        let step: HandshakeStep
        switch phase.mechanism {
        case .null(var m): step = try m.receive(body[...]); phase.mechanism = .null(m)
        case .plainClient(var m): step = try m.receive(body[...]); phase.mechanism = .plainClient(m)
        case .plainServer(var m): step = try m.receive(body[...]); phase.mechanism = .plainServer(m)
        case .curveClient(var m): step = try m.receive(body[...]); phase.mechanism = .curveClient(m)
        case .curveServer(var m): step = try m.receive(body[...]); phase.mechanism = .curveServer(m)
        }
        state = .handshake(phase)
        try apply(step, peerVersion: phase.peerVersion)
        return .progressed
    }

    /// An ERROR from the peer: a 3-digit reason is a ZAP status (libzmq reports these as
    /// authentication failures); anything else is the peer's own refusal.
    static func errorFromPeer(_ reason: String) -> ZMTPError {
        if reason.utf8.count == 3, reason.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            return ZMTPError(.authenticationFailed, blame: .peerIncompatible, reason)
        }
        return ZMTPError(.peerSentError, blame: .peerIncompatible, reason)
    }

    /// Carries out one step: commands to send, an authentication request, completion or failure.
    mutating func apply(_ step: HandshakeStep, peerVersion: (major: UInt8, minor: UInt8)) throws(ZMTPError) {
        // The peer's metadata is checked before anything of this step goes out: a peer we are
        // about to refuse gets no READY.
        let peer = try step.completion.map { completion throws(ZMTPError) in try validatePeer(completion, peerVersion: peerVersion) }
        for command in step.send {
            FrameEncoder.encodeCommand(command, into: &outbound)
        }
        if let failure = step.failure {
            // The mechanism already queued its ERROR, if the refusal calls for one.
            fail(failure)
            return
        }
        if let request = step.authenticate {
            if case .handshake(var phase) = state {
                phase.awaitingAuthentication = true
                state = .handshake(phase)
            }
            var request = request
            request.address = configuration.peerAddress
            request.identity = configuration.identity
            emit(.authenticationRequest(request))
        }
        if let completion = step.completion, let peer {
            emit(.handshakeCompleted(peer))
            becomeReady(peer, codec: completion.dataCodec)
        }
    }

    /// Checks the peer's metadata against ours (RFC 23 socket-type table, identity length).
    private func validatePeer(_ completion: HandshakeCompletion, peerVersion: (major: UInt8, minor: UInt8)) throws(ZMTPError) -> PeerInfo {
        let metadata = completion.peerMetadata
        var peerType: SocketType?
        // libzmq accepts a READY without Socket-Type; so do we (tolerant where the RFC allows).
        if let typeName = metadata[Metadata.Name.socketType] {
            guard let type = SocketType(name: typeName), configuration.socketType.isCompatible(with: type) else {
                throw .incompatible(.incompatibleSocketType,
                                    "peer socket type \(String(decoding: typeName, as: UTF8.self)) cannot talk to \(configuration.socketType)")
            }
            peerType = type
        }
        let identity = metadata[Metadata.Name.identity] ?? []
        guard identity.count <= Configuration.maxIdentityLength else {
            throw .peer(.invalidMetadata, "Identity over 255 bytes")
        }
        return PeerInfo(version: peerVersion, mechanism: configuration.security.mechanism, socketType: peerType,
                        identity: identity, metadata: metadata, authentication: completion.authentication)
    }
}
