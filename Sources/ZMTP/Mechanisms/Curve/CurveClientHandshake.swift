/// The client side of the CURVE handshake (RFC 26 CurveZMQ, mapped onto ZMTP by RFC 25).
///
/// ```
/// C → S  HELLO     C', Box[64 × %x00](C' → S)
/// S → C  WELCOME   Box[S' cookie](S → C')
/// C → S  INITIATE  cookie, Box[C vouch metadata](C' → S'),  vouch = Box[C' S](C → S')
/// S → C  READY     Box[metadata](S' → C')
/// ```
///
/// Call order: ``start()`` once, which returns HELLO; then ``receive(_:)`` with the body
/// (name-len, name, data) of every command frame the server sends: WELCOME is answered with
/// INITIATE, READY completes the handshake and hands over a ``CurveMessageCodec``.
///
/// The client never checks the server's long-term key directly: WELCOME opens only if it was
/// boxed with the secret key matching the S we were given.
///
/// Randomness comes only from the ``RandomSource``, so a seeded source gives a byte-exact
/// transcript. Draw order (for ``ScriptedRandom`` vectors): `start()` takes 32 bytes for c'
/// (32 more per retry if the provider maps them to an all-zero key); WELCOME takes 16 bytes
/// for the vouch nonce. A failure while processing a command is
/// sticky: the machine drops its secrets and reports the same error on every later call.
struct CurveClientHandshake {
    // MARK: States

    /// Before ``start()``: the long-term material only.
    struct Idle {
        /// S, the server's long-term public key.
        var serverPublicKey: [UInt8]
        /// C and c, our long-term key pair.
        var longTerm: CurveKeyPair

        /// Builds HELLO with a fresh transient key pair (c', C').
        func sendHello(crypto: any CurveCrypto, random: RandomSource) throws(ZMTPError) -> (ExpectWelcome, [UInt8]) {
            let transient = try CurveKeyPair.generate(crypto: crypto, random: random)
            let shortNonce: UInt64 = 1
            // hello = %d5 "HELLO" version padding hello-client hello-nonce hello-box
            //   version = %x1 %x0; padding = 72 %x00
            //   hello-client = C' (32); hello-nonce = 8OCTET
            //   hello-box = Box[64 %x00](C' → S), nonce "CurveZMQHELLO---" hello-nonce (80)
            let signature = crypto.box(
                [UInt8](repeating: 0, count: 64), nonce: CurveWire.nonce(CurveWire.helloNoncePrefix, shortNonce),
                publicKey: serverPublicKey, secretKey: transient.secretKey)
            // S is our configuration: a key the provider refuses (a low-order point that
            // passed the all-zero check) is the application's mistake, not the peer's.
            guard signature.count == 64 + CurveWire.macLength else {
                throw .misuse(.invalidArgument, "CURVE server public key is not a usable curve point")
            }
            var hello: [UInt8] = []
            hello.reserveCapacity(CurveWire.helloSize)
            CurveWire.appendName(CurveWire.helloName, to: &hello)
            hello.append(contentsOf: [1, 0])
            hello.append(contentsOf: repeatElement(0, count: 72))
            hello.append(contentsOf: transient.publicKey)
            appendBigEndian(shortNonce, to: &hello)
            hello.append(contentsOf: signature)
            assert(hello.count == CurveWire.helloSize)
            let next = ExpectWelcome(
                serverPublicKey: serverPublicKey, longTerm: longTerm, transient: transient, nextNonce: shortNonce + 1)
            return (next, hello)
        }
    }

    /// HELLO sent: we hold c (for the vouch) and c' (for every box until READY).
    struct ExpectWelcome {
        /// S.
        var serverPublicKey: [UInt8]
        /// C and c.
        var longTerm: CurveKeyPair
        /// C' and c'.
        var transient: CurveKeyPair
        /// The short nonce INITIATE will use (2).
        var nextNonce: UInt64

        /// Opens WELCOME and builds INITIATE.
        func receiveWelcome(
            _ body: [UInt8], metadata: [UInt8], crypto: any CurveCrypto, random: RandomSource
        ) throws(ZMTPError) -> (ExpectReady, [UInt8]) {
            // welcome = %d7 "WELCOME" welcome-nonce welcome-box
            //   welcome-nonce = 16OCTET
            //   welcome-box = Box[S' cookie](S → C'), nonce "WELCOME-" welcome-nonce (144)
            guard CurveWire.hasName(CurveWire.welcomeName, body[...]) else {
                throw CurveWire.unexpected(body[...], expecting: "WELCOME")
            }
            guard body.count == CurveWire.welcomeSize else {
                throw .peer(.malformedCommandWelcome, "CURVE WELCOME of \(body.count) bytes, expected \(CurveWire.welcomeSize)")
            }
            guard
                let plaintext = crypto.openBox(
                    body[24..<168], nonce: CurveWire.nonce(CurveWire.welcomeNoncePrefix, body[8..<24]),
                    publicKey: serverPublicKey, secretKey: transient.secretKey),
                plaintext.count == CurveWire.keyLength + CurveWire.cookieSize
            else {
                throw .peer(.cryptographic, "CURVE WELCOME box does not open (wrong server key?)")
            }
            let serverTransientKey = Array(plaintext[0..<32])
            let cookie = plaintext[32..<128]
            guard !CurveWire.isAllZero(serverTransientKey) else {
                throw .peer(.cryptographic, "CURVE WELCOME carries an all-zero transient key")
            }
            let sharedKey = try CurveWire.checkedSharedKey(
                crypto.sharedKey(publicKey: serverTransientKey, secretKey: transient.secretKey))

            // vouch = vouch-nonce Box[C' S](C → S'), nonce "VOUCH---" vouch-nonce (16 + 80)
            let vouchNonce = random.bytes(CurveWire.longNonceLength)
            let vouchBox = try CurveWire.checked(
                crypto.box(
                    transient.publicKey + serverPublicKey, nonce: CurveWire.nonce(CurveWire.vouchNoncePrefix, vouchNonce),
                    publicKey: serverTransientKey, secretKey: longTerm.secretKey),
                plaintextCount: 2 * CurveWire.keyLength)

            // initiate = %d8 "INITIATE" cookie initiate-nonce initiate-box
            //   initiate-box = Box[C vouch metadata](C' → S'), nonce "CurveZMQINITIATE" initiate-nonce
            var plaintextOut: [UInt8] = []
            plaintextOut.reserveCapacity(CurveWire.keyLength + CurveWire.vouchSize + metadata.count)
            plaintextOut.append(contentsOf: longTerm.publicKey)
            plaintextOut.append(contentsOf: vouchNonce)
            plaintextOut.append(contentsOf: vouchBox)
            plaintextOut.append(contentsOf: metadata)
            let shortNonce = nextNonce
            let initiateBox = try CurveWire.checked(
                crypto.box(
                    plaintextOut, nonce: CurveWire.nonce(CurveWire.initiateNoncePrefix, shortNonce), sharedKey: sharedKey),
                plaintextCount: plaintextOut.count)

            var initiate: [UInt8] = []
            initiate.reserveCapacity(1 + CurveWire.initiateName.count + CurveWire.cookieSize + 8 + initiateBox.count)
            CurveWire.appendName(CurveWire.initiateName, to: &initiate)
            initiate.append(contentsOf: cookie)
            appendBigEndian(shortNonce, to: &initiate)
            initiate.append(contentsOf: initiateBox)
            return (ExpectReady(sharedKey: sharedKey, nextNonce: shortNonce + 1), initiate)
        }
    }

    /// INITIATE sent: only the session key remains; both secrets are gone.
    struct ExpectReady {
        /// `crypto_box_beforenm(S', c')`.
        var sharedKey: [UInt8]
        /// The short nonce our first MESSAGE will use (3).
        var nextNonce: UInt64

        /// Opens READY and completes the handshake.
        func receiveReady(_ body: [UInt8], crypto: any CurveCrypto) throws(ZMTPError) -> HandshakeCompletion {
            // ready = %d5 "READY" ready-nonce ready-box
            //   ready-box = Box[metadata](S' → C'), nonce "CurveZMQREADY---" ready-nonce
            guard CurveWire.hasName(CurveWire.readyName, body[...]) else {
                throw CurveWire.unexpected(body[...], expecting: "READY")
            }
            guard body.count >= CurveWire.minimumReadySize else {
                throw .peer(.malformedCommandReady, "CURVE READY of \(body.count) bytes, minimum \(CurveWire.minimumReadySize)")
            }
            // READY carries the server's first short nonce: nothing to compare it with yet, so it
            // seeds the receive counter (libzmq's process_ready).
            let shortNonce = readBigEndianUInt64(body[...], at: 6)
            guard
                let plaintext = crypto.openBox(
                    body[14...], nonce: CurveWire.nonce(CurveWire.readyNoncePrefix, shortNonce), sharedKey: sharedKey)
            else {
                throw .peer(.cryptographic, "CURVE READY box does not open")
            }
            let peerMetadata = try Metadata.parse(plaintext[...], errorCode: .invalidMetadata)
            let codec = CurveMessageCodec(
                role: .client, crypto: crypto, sharedKey: sharedKey, nextNonce: nextNonce, lastPeerNonce: shortNonce)
            return HandshakeCompletion(peerMetadata: peerMetadata, authentication: nil, dataCodec: .curve(codec))
        }
    }

    /// Where the handshake is.
    enum State {
        /// Configured; ``start()`` not called yet.
        case idle(Idle)
        /// HELLO sent; waiting for WELCOME.
        case expectWelcome(ExpectWelcome)
        /// INITIATE sent; waiting for READY.
        case expectReady(ExpectReady)
        /// READY received; the ``CurveMessageCodec`` has taken over.
        case done
        /// A command broke the handshake; every later call reports this error.
        case failed(ZMTPError)
    }

    // MARK: Machine

    private var state: State
    private let crypto: any CurveCrypto
    private let random: RandomSource
    /// Our metadata, encoded once at init so configuration errors surface there.
    private let metadata: [UInt8]

    /// - Throws: ``ZMTPError/Code/invalidArgument`` (`.apiMisuse`) when the server key is not 32
    ///   bytes or is all zero, or the metadata cannot be encoded.
    init(
        serverPublicKey: [UInt8], keyPair: CurveKeyPair, metadata: Metadata, crypto: any CurveCrypto,
        random: RandomSource
    ) throws(ZMTPError) {
        try CurveKeyPair.validate(serverPublicKey, "server public key")
        var encoded: [UInt8] = []
        try metadata.encode(into: &encoded)
        self.metadata = encoded
        self.crypto = crypto
        self.random = random
        state = .idle(Idle(serverPublicKey: serverPublicKey, longTerm: keyPair))
    }

    /// Generates the transient key pair and returns HELLO in `send`.
    /// - Throws: ``ZMTPError/Code/invalidState`` when called twice.
    mutating func start() throws(ZMTPError) -> HandshakeStep {
        switch state {
        case .idle(let idle):
            do throws(ZMTPError) {
                let (next, hello) = try idle.sendHello(crypto: crypto, random: random)
                state = .expectWelcome(next)
                return HandshakeStep(send: [hello])
            } catch {
                state = .failed(error)
                throw error
            }
        case .expectWelcome, .expectReady, .done:
            throw .misuse(.invalidState, "CURVE client already started")
        case .failed(let error):
            throw error
        }
    }

    /// Processes the body of one command frame from the server.
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
        case .idle:
            throw .misuse(.invalidState, "CURVE client received a command before start()")
        case .expectWelcome(let expecting):
            let (next, initiate) = try expecting.receiveWelcome(
                Array(command), metadata: metadata, crypto: crypto, random: random)
            return (.expectReady(next), HandshakeStep(send: [initiate]))
        case .expectReady(let expecting):
            let completion = try expecting.receiveReady(Array(command), crypto: crypto)
            return (.done, HandshakeStep(completion: completion))
        case .done:
            // After READY every frame belongs to the MESSAGE codec.
            throw CurveWire.unexpected(command, expecting: "MESSAGE (handled by the codec)")
        case .failed(let error):
            throw error
        }
    }
}
