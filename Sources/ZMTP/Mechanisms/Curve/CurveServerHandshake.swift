/// The server side of the CURVE handshake (RFC 26 CurveZMQ, mapped onto ZMTP by RFC 25).
///
/// ```
/// C → S  HELLO     C', Box[64 × %x00](C' → S)
/// S → C  WELCOME   Box[S' cookie](S → C'),  cookie = SecretBox[C' s'](K)
/// C → S  INITIATE  cookie, Box[C vouch metadata](C' → S'),  vouch = Box[C' S](C → S')
///        (optional: the application authenticates C, as a ZAP handler would)
/// S → C  READY     Box[metadata](S' → C')   or  ERROR "400" / "500"
/// ```
///
/// Call order: ``start()`` (nothing to send: the client speaks first); ``receive(_:)`` with the
/// body (name-len, name, data) of every command frame the client sends. HELLO is answered with
/// WELCOME. INITIATE either completes the handshake (sending READY) or, with `authenticate`,
/// yields an ``AuthenticationRequest`` carrying the client's long-term key; answer it with
/// ``resume(_:)``.
///
/// The checks and their error codes follow libzmq's `curve_server_t`, so monitor events line
/// up. The cookie key K is fresh per connection, as libzmq's; since this machine keeps C' and
/// s' anyway, the cookie is checked against them exactly as libzmq does.
///
/// Randomness comes only from the ``RandomSource``. Draw order (for ``ScriptedRandom``
/// vectors), all on HELLO: 32 bytes for s' (32 more per retry if the provider maps them to an
/// all-zero key), 32 for K, 16 for the cookie nonce, 16 for the WELCOME nonce.
/// A failure is sticky: the machine drops its secrets and reports the same error on every
/// later call.
struct CurveServerHandshake {
    // MARK: States

    /// Waiting for HELLO: only here does the machine hold s, the long-term secret.
    struct ExpectHello {
        /// S and s.
        var longTerm: CurveKeyPair

        /// Opens HELLO and builds WELCOME.
        func receiveHello(_ body: [UInt8], crypto: any CurveCrypto, random: RandomSource) throws(ZMTPError) -> (ExpectInitiate, [UInt8]) {
            // hello = %d5 "HELLO" version padding hello-client hello-nonce hello-box
            //   [0..5] name, [6..7] version %x1 %x0, [8..79] padding, [80..111] C',
            //   [112..119] short nonce, [120..199] Box[64 %x00](C' → S)
            guard CurveWire.hasName(CurveWire.helloName, body[...]) else {
                throw CurveWire.unexpected(body[...], expecting: "HELLO")
            }
            guard body.count == CurveWire.helloSize else {
                throw .peer(.malformedCommandHello, "CURVE HELLO of \(body.count) bytes, expected \(CurveWire.helloSize)")
            }
            guard body[6] == 1, body[7] == 0 else {
                throw .peer(.malformedCommandHello, "CURVE HELLO version \(body[6]).\(body[7]), expected 1.0")
            }
            let clientTransientKey = Array(body[80..<112])
            guard !CurveWire.isAllZero(clientTransientKey) else {
                throw .peer(.cryptographic, "CURVE HELLO carries an all-zero transient key")
            }
            let helloNonce = readBigEndianUInt64(body[...], at: 112)
            // As libzmq, the signature box must open; its 64 zero octets are not compared.
            guard
                crypto.openBox(
                    body[120..<200], nonce: CurveWire.nonce(CurveWire.helloNoncePrefix, helloNonce),
                    publicKey: clientTransientKey, secretKey: longTerm.secretKey) != nil
            else {
                throw .peer(.cryptographic, "CURVE HELLO box does not open (client has the wrong server key?)")
            }

            let transient = try CurveKeyPair.generate(crypto: crypto, random: random)
            let cookieKey = random.bytes(CurveWire.keyLength)

            // cookie = cookie-nonce SecretBox[C' s'](K), nonce "COOKIE--" cookie-nonce (16 + 80)
            let cookieNonce = random.bytes(CurveWire.longNonceLength)
            let cookieBox = crypto.secretBox(
                clientTransientKey + transient.secretKey, nonce: CurveWire.nonce(CurveWire.cookieNoncePrefix, cookieNonce),
                key: cookieKey)
            guard cookieBox.count == 2 * CurveWire.keyLength + CurveWire.macLength else {
                throw ZMTPError(.cryptographic, blame: .apiMisuse, "CurveCrypto.secretBox returned a malformed cookie box")
            }

            // welcome = %d7 "WELCOME" welcome-nonce Box[S' cookie](S → C'), nonce "WELCOME-" welcome-nonce
            let welcomeNonce = random.bytes(CurveWire.longNonceLength)
            var plaintext: [UInt8] = []
            plaintext.reserveCapacity(CurveWire.keyLength + CurveWire.cookieSize)
            plaintext.append(contentsOf: transient.publicKey)
            plaintext.append(contentsOf: cookieNonce)
            plaintext.append(contentsOf: cookieBox)
            let welcomeBox = try CurveWire.checked(
                crypto.box(
                    plaintext, nonce: CurveWire.nonce(CurveWire.welcomeNoncePrefix, welcomeNonce),
                    publicKey: clientTransientKey, secretKey: longTerm.secretKey),
                plaintextCount: plaintext.count)

            var welcome: [UInt8] = []
            welcome.reserveCapacity(CurveWire.welcomeSize)
            CurveWire.appendName(CurveWire.welcomeName, to: &welcome)
            welcome.append(contentsOf: welcomeNonce)
            welcome.append(contentsOf: welcomeBox)
            assert(welcome.count == CurveWire.welcomeSize)
            let next = ExpectInitiate(
                serverPublicKey: longTerm.publicKey, clientTransientKey: clientTransientKey, transient: transient,
                cookieKey: cookieKey, lastPeerNonce: helloNonce)
            return (next, welcome)
        }
    }

    /// WELCOME sent: s is gone; s' and the cookie key K live until INITIATE.
    struct ExpectInitiate {
        /// S (for checking the vouch).
        var serverPublicKey: [UInt8]
        /// C', from HELLO.
        var clientTransientKey: [UInt8]
        /// S' and s'.
        var transient: CurveKeyPair
        /// K, this connection's cookie key.
        var cookieKey: [UInt8]
        /// HELLO's short nonce.
        var lastPeerNonce: UInt64

        /// What INITIATE proved.
        struct Initiated {
            var sharedKey: [UInt8]
            var initiateNonce: UInt64
            var clientPublicKey: [UInt8]
            var peerMetadata: Metadata
        }

        /// Opens INITIATE: cookie, box, vouch, metadata.
        func receiveInitiate(_ body: [UInt8], crypto: any CurveCrypto) throws(ZMTPError) -> Initiated {
            // initiate = %d8 "INITIATE" cookie initiate-nonce initiate-box
            //   [0..8] name, [9..104] cookie, [105..112] short nonce,
            //   [113..] Box[C vouch metadata](C' → S'), nonce "CurveZMQINITIATE" short nonce
            guard CurveWire.hasName(CurveWire.initiateName, body[...]) else {
                throw CurveWire.unexpected(body[...], expecting: "INITIATE")
            }
            guard body.count >= CurveWire.minimumInitiateSize else {
                throw .peer(
                    .malformedCommandInitiate, "CURVE INITIATE of \(body.count) bytes, minimum \(CurveWire.minimumInitiateSize)")
            }
            guard
                let cookie = crypto.openSecretBox(
                    body[25..<105], nonce: CurveWire.nonce(CurveWire.cookieNoncePrefix, body[9..<25]), key: cookieKey),
                cookie.count == 2 * CurveWire.keyLength,
                cookie[0..<32].elementsEqual(clientTransientKey),
                cookie[32..<64].elementsEqual(transient.secretKey)
            else {
                throw .peer(.cryptographic, "CURVE INITIATE cookie is not ours")
            }
            let initiateNonce = readBigEndianUInt64(body[...], at: 105)
            // Stricter than libzmq, which only checks MESSAGE nonces: RFC 26 has the client
            // increment its short nonce for every command, so INITIATE must follow HELLO.
            guard initiateNonce > lastPeerNonce else {
                throw .peer(.invalidSequence, "CURVE INITIATE nonce \(initiateNonce) not above HELLO's \(lastPeerNonce)")
            }
            let sharedKey = try CurveWire.checkedSharedKey(
                crypto.sharedKey(publicKey: clientTransientKey, secretKey: transient.secretKey))
            guard
                let plaintext = crypto.openBox(
                    body[113...], nonce: CurveWire.nonce(CurveWire.initiateNoncePrefix, initiateNonce), sharedKey: sharedKey),
                plaintext.count >= CurveWire.keyLength + CurveWire.vouchSize
            else {
                throw .peer(.cryptographic, "CURVE INITIATE box does not open")
            }

            // [0..31] C, [32..47] vouch nonce, [48..127] Box[C' S](C → S'), [128..] metadata
            let clientPublicKey = Array(plaintext[0..<32])
            guard !CurveWire.isAllZero(clientPublicKey) else {
                throw .peer(.cryptographic, "CURVE INITIATE carries an all-zero client key")
            }
            // libzmq: a vouch that does not open is CRYPTOGRAPHIC; one that opens to the wrong
            // keys is KEY_EXCHANGE. libzmq compares only C'; RFC 26 puts S there too, so we check both.
            guard
                let vouch = crypto.openBox(
                    plaintext[48..<128], nonce: CurveWire.nonce(CurveWire.vouchNoncePrefix, plaintext[32..<48]),
                    publicKey: clientPublicKey, secretKey: transient.secretKey)
            else {
                throw .peer(.cryptographic, "CURVE INITIATE vouch does not open")
            }
            guard
                vouch.count == 2 * CurveWire.keyLength,
                vouch[0..<32].elementsEqual(clientTransientKey),
                vouch[32..<64].elementsEqual(serverPublicKey)
            else {
                throw .peer(.keyExchange, "CURVE INITIATE vouch does not vouch for this connection")
            }
            let peerMetadata = try Metadata.parse(plaintext[128...], errorCode: .invalidMetadata)
            return Initiated(
                sharedKey: sharedKey, initiateNonce: initiateNonce, clientPublicKey: clientPublicKey,
                peerMetadata: peerMetadata)
        }
    }

    /// INITIATE accepted: only the session key remains. READY is not built until the
    /// application has answered (or at once, without authentication).
    struct Ready {
        /// `crypto_box_beforenm(C', s')`.
        var sharedKey: [UInt8]
        /// INITIATE's short nonce, which seeds the MESSAGE receive counter.
        var lastPeerNonce: UInt64
        /// The client's properties, from INITIATE.
        var peerMetadata: Metadata

        init(_ initiated: ExpectInitiate.Initiated) {
            sharedKey = initiated.sharedKey
            lastPeerNonce = initiated.initiateNonce
            peerMetadata = initiated.peerMetadata
        }

        /// Builds READY (short nonce 1) and the completion.
        func sendReady(
            metadata: [UInt8], authentication: AuthenticationReply?, crypto: any CurveCrypto
        ) throws(ZMTPError) -> HandshakeStep {
            // ready = %d5 "READY" ready-nonce Box[metadata](S' → C'), nonce "CurveZMQREADY---" ready-nonce
            let shortNonce: UInt64 = 1
            let box = try CurveWire.checked(
                crypto.box(metadata, nonce: CurveWire.nonce(CurveWire.readyNoncePrefix, shortNonce), sharedKey: sharedKey),
                plaintextCount: metadata.count)
            var ready: [UInt8] = []
            ready.reserveCapacity(1 + CurveWire.readyName.count + 8 + box.count)
            CurveWire.appendName(CurveWire.readyName, to: &ready)
            appendBigEndian(shortNonce, to: &ready)
            ready.append(contentsOf: box)
            let codec = CurveMessageCodec(
                role: .server, crypto: crypto, sharedKey: sharedKey, nextNonce: shortNonce + 1,
                lastPeerNonce: lastPeerNonce)
            let completion = HandshakeCompletion(
                peerMetadata: peerMetadata, authentication: authentication, dataCodec: .curve(codec))
            return HandshakeStep(send: [ready], completion: completion)
        }
    }

    /// Where the handshake is.
    enum State {
        /// Waiting for HELLO.
        case expectHello(ExpectHello)
        /// WELCOME sent; waiting for INITIATE.
        case expectInitiate(ExpectInitiate)
        /// INITIATE accepted; waiting for ``CurveServerHandshake/resume(_:)``.
        case expectAuthentication(Ready)
        /// READY sent; the ``CurveMessageCodec`` has taken over.
        case done
        /// The handshake failed; every later call reports this error.
        case failed(ZMTPError)
    }

    // MARK: Machine

    private var state: State
    private let crypto: any CurveCrypto
    private let random: RandomSource
    /// Our metadata, encoded once at init so configuration errors surface there.
    private let metadata: [UInt8]
    private let domain: String
    private let address: String
    private let authenticate: Bool

    /// - Throws: ``ZMTPError/Code/invalidArgument`` (`.apiMisuse`) when the metadata cannot be
    ///   encoded. (``CurveKeyPair`` has already validated the keys.)
    init(
        keyPair: CurveKeyPair, metadata: Metadata, domain: String, address: String, authenticate: Bool,
        crypto: any CurveCrypto, random: RandomSource
    ) throws(ZMTPError) {
        var encoded: [UInt8] = []
        try metadata.encode(into: &encoded)
        self.metadata = encoded
        self.domain = domain
        self.address = address
        self.authenticate = authenticate
        self.crypto = crypto
        self.random = random
        state = .expectHello(ExpectHello(longTerm: keyPair))
    }

    /// The client speaks first: nothing to send.
    mutating func start() throws(ZMTPError) -> HandshakeStep {
        switch state {
        case .expectHello:
            return .nothing
        case .expectInitiate, .expectAuthentication, .done:
            throw .misuse(.invalidState, "CURVE server already started")
        case .failed(let error):
            throw error
        }
    }

    /// Processes the body of one command frame from the client.
    ///
    /// Every error thrown here is sticky (the state becomes ``State/failed(_:)``).
    mutating func receive(_ command: ArraySlice<UInt8>) throws(ZMTPError) -> HandshakeStep {
        do throws(ZMTPError) {
            let (next, step) = try transition(on: command)
            state = next
            return step
        } catch {
            state = .failed(error)
            throw error
        }
    }

    /// The state and step that follow `command`, without touching `self`.
    private func transition(on command: ArraySlice<UInt8>) throws(ZMTPError) -> (State, HandshakeStep) {
        switch state {
        case .expectHello(let expecting):
            let (next, welcome) = try expecting.receiveHello(Array(command), crypto: crypto, random: random)
            return (.expectInitiate(next), HandshakeStep(send: [welcome]))
        case .expectInitiate(let expecting):
            let initiated = try expecting.receiveInitiate(Array(command), crypto: crypto)
            let ready = Ready(initiated)
            guard authenticate else {
                return (.done, try ready.sendReady(metadata: metadata, authentication: nil, crypto: crypto))
            }
            var step = HandshakeStep()
            step.authenticate = AuthenticationRequest(
                mechanism: .curve, domain: domain, address: address,
                identity: initiated.peerMetadata[Metadata.Name.identity] ?? [],
                credentials: [initiated.clientPublicKey])
            return (.expectAuthentication(ready), step)
        case .expectAuthentication:
            // The client sends nothing between INITIATE and READY (libzmq: unexpected command).
            throw CurveWire.unexpected(command, expecting: "nothing before READY")
        case .done:
            // After READY every frame belongs to the MESSAGE codec.
            throw CurveWire.unexpected(command, expecting: "MESSAGE (handled by the codec)")
        case .failed(let error):
            throw error
        }
    }

    /// Continues after the application answered the ``AuthenticationRequest``.
    ///
    /// - 200: sends READY and completes, with `completion.authentication = reply`.
    /// - 300: fails without sending anything (libzmq's temporary failure).
    /// - 400, 500: sends ERROR with the status code as reason, then fails.
    /// - Anything else: fails with ``ZMTPError/Code/zapInvalidStatusCode`` without sending.
    ///
    /// The failure is reported in `step.failure` (not thrown) so that the ERROR in `step.send`
    /// still goes out; it is sticky all the same.
    /// - Throws: ``ZMTPError/Code/invalidState`` when no request is pending.
    mutating func resume(_ reply: AuthenticationReply) throws(ZMTPError) -> HandshakeStep {
        switch state {
        case .expectAuthentication(let ready):
            if let refusal = reply.refusal() {
                state = .failed(refusal.failure)
                return refusal.step
            }
            do throws(ZMTPError) {
                let step = try ready.sendReady(metadata: metadata, authentication: reply, crypto: crypto)
                state = .done
                return step
            } catch {
                state = .failed(error)
                throw error
            }
        case .expectHello, .expectInitiate, .done:
            throw .misuse(.invalidState, "CURVE server has no authentication request pending")
        case .failed(let error):
            throw error
        }
    }
}
