/// The NULL mechanism (RFC 23 §The NULL Security Mechanism): each side sends READY with its
/// metadata and the handshake is complete once both READYs have crossed.
///
/// With a ZAP domain on the accepting side, the application is asked first (RFC 27), as libzmq
/// does: our READY goes out only after the application accepts; 400/500 send ERROR; 300 closes.
struct NullHandshake {
    enum State {
        /// Waiting for the application's answer before sending READY.
        case awaitingAuthentication(peerMetadata: Metadata?)
        /// READY sent; waiting for the peer's.
        case expectReady(authentication: AuthenticationReply?)
        /// Finished (completed or failed): nothing more is accepted.
        case done
    }

    private var state: State
    private let metadata: Metadata
    private let authenticationRequest: AuthenticationRequest?

    /// - Parameters:
    ///   - metadata: our READY properties.
    ///   - domain: when non-nil, ask the application before sending READY (accepting side).
    init(metadata: Metadata, authenticateDomain domain: String?, address: String) {
        self.metadata = metadata
        if let domain {
            authenticationRequest = AuthenticationRequest(mechanism: .null, domain: domain, address: address, identity: [], credentials: [])
            state = .awaitingAuthentication(peerMetadata: nil)
        } else {
            authenticationRequest = nil
            state = .expectReady(authentication: nil)
        }
    }

    mutating func start() throws(ZMTPError) -> HandshakeStep {
        switch state {
        case .awaitingAuthentication:
            return HandshakeStep(authenticate: authenticationRequest)
        case .expectReady:
            return HandshakeStep(send: [try Command.ready(metadata).encoded()])
        case .done:
            throw .misuse(.invalidState, "NULL handshake already finished")
        }
    }

    mutating func receive(_ command: ArraySlice<UInt8>) throws(ZMTPError) -> HandshakeStep {
        let (name, data) = try Command.split(command)
        guard name.elementsEqual("READY".utf8) else {
            throw .peer(.unexpectedCommand, "NULL handshake expected READY, got \(String(decoding: name, as: UTF8.self))")
        }
        let peerMetadata = try Metadata.parse(data, errorCode: .malformedCommandReady)
        switch state {
        case .awaitingAuthentication(nil):
            // The peer's READY may overtake our decision; keep it until the answer arrives.
            state = .awaitingAuthentication(peerMetadata: peerMetadata)
            return .nothing
        case .awaitingAuthentication(.some):
            throw .peer(.unexpectedCommand, "second READY")
        case .expectReady(let authentication):
            state = .done
            return HandshakeStep(completion: HandshakeCompletion(peerMetadata: peerMetadata, authentication: authentication, dataCodec: .plaintext))
        case .done:
            throw .peer(.unexpectedCommand, "READY after the handshake")
        }
    }

    mutating func resume(_ reply: AuthenticationReply) throws(ZMTPError) -> HandshakeStep {
        guard case .awaitingAuthentication(let peerMetadata) = state else {
            throw .misuse(.invalidState, "no authentication pending")
        }
        if let refusal = reply.refusal() {
            state = .done
            return refusal.step
        }
        var step = HandshakeStep(send: [try Command.ready(metadata).encoded()])
        if let peerMetadata {
            state = .done
            step.completion = HandshakeCompletion(peerMetadata: peerMetadata, authentication: reply, dataCodec: .plaintext)
        } else {
            state = .expectReady(authentication: reply)
        }
        return step
    }
}
