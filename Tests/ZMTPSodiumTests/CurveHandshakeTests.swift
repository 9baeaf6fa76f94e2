import FuzzSupport
import Testing
@_spi(Testing) @testable import ZMTP
import ZMTPSodium

/// The CURVE client and server machines driven back to back (RFC 26, libzmq's test_security_curve).
@Suite struct CurveHandshakeTests {
    // MARK: Success

    @Test(arguments: Provider.allCases)
    func handshakeCompletesAndMetadataArrivesBothWays(_ provider: Provider) throws {
        var pair = try CurvePair(provider)
        let (client, server) = try pair.complete()
        #expect(server.peerMetadata == CurvePair.clientMetadata)
        #expect(client.peerMetadata == CurvePair.serverMetadata)
        #expect(server.authentication == nil)
        #expect(client.authentication == nil)
        _ = try codec(client)
        _ = try codec(server)
    }

    @Test(arguments: Provider.allCases)
    func commandsHaveLibzmqSizesAndLayouts(_ provider: Provider) throws {
        var pair = try CurvePair(provider)
        _ = try pair.complete()
        let (hello, welcome, initiate, ready) = (pair.transcript[0], pair.transcript[1], pair.transcript[2], pair.transcript[3])

        #expect(hello.count == 200)
        #expect(Array(hello[0..<8]) == [5] + bytes("HELLO") + [1, 0])
        #expect(hello[8..<80].allSatisfy { $0 == 0 })
        #expect(readBigEndianUInt64(hello[...], at: 112) == 1)

        #expect(welcome.count == 168)
        #expect(Array(welcome[0..<8]) == [7] + bytes("WELCOME"))

        #expect(initiate.count == 257 + CurvePair.clientMetadata.encodedCount)
        #expect(Array(initiate[0..<9]) == [8] + bytes("INITIATE"))
        #expect(readBigEndianUInt64(initiate[...], at: 105) == 2)

        #expect(ready.count == 30 + CurvePair.serverMetadata.encodedCount)
        #expect(Array(ready[0..<6]) == [5] + bytes("READY"))
        #expect(readBigEndianUInt64(ready[...], at: 6) == 1)
    }

    @Test(arguments: Provider.allCases)
    func emptyMetadataGivesTheMinimumSizes(_ provider: Provider) throws {
        var pair = try CurvePair(provider, clientMetadata: Metadata(), serverMetadata: Metadata())
        let (client, server) = try pair.complete()
        #expect(pair.transcript[2].count == 257)
        #expect(pair.transcript[3].count == 30)
        #expect(client.peerMetadata == Metadata())
        #expect(server.peerMetadata == Metadata())
    }

    @Test(arguments: Provider.allCases)
    func sameSeedsGiveTheSameTranscriptByteForByte(_ provider: Provider) throws {
        func run(seed: UInt64) throws -> [[UInt8]] {
            var pair = try CurvePair(provider, seed: seed)
            let (client, server) = try pair.codecs()
            return pair.transcript + [
                seal(client, flags: 1, bytes("AB")), seal(client, bytes("C")), seal(server, bytes("reply")),
            ]
        }
        let first = try run(seed: 7)
        #expect(first == (try run(seed: 7)))
        #expect(first != (try run(seed: 8)))
    }

    // MARK: HELLO (server side)

    @Test(arguments: Provider.allCases)
    func helloOfWrongSizeIsMalformed(_ provider: Provider) throws {
        for size in [6, 199, 201] {
            var pair = try CurvePair(provider)
            var hello = try pair.hello()
            hello = size < hello.count ? Array(hello.prefix(size)) : hello + [UInt8](repeating: 0, count: size - hello.count)
            expectError(.malformedCommandHello) { _ = try pair.server.receive(hello[...]) }
        }
    }

    @Test(arguments: Provider.allCases)
    func helloWithVersionOtherThanOneZeroIsMalformed(_ provider: Provider) throws {
        for (index, value) in [(6, UInt8(2)), (6, 0), (7, 1)] {
            var pair = try CurvePair(provider)
            var hello = try pair.hello()
            hello[index] = value
            expectError(.malformedCommandHello) { _ = try pair.server.receive(hello[...]) }
        }
    }

    @Test(arguments: Provider.allCases)
    func helloWithTamperedSignatureBoxIsCryptographic(_ provider: Provider) throws {
        var pair = try CurvePair(provider)
        let hello = try pair.hello()
        // Byte 120 is the first MAC byte, which both providers check.
        expectError(.cryptographic) { _ = try pair.server.receive(flipped(hello, at: 120)[...]) }
    }

    @Test(arguments: Provider.allCases)
    func helloWithAllZeroTransientKeyIsCryptographic(_ provider: Provider) throws {
        var pair = try CurvePair(provider)
        var hello = try pair.hello()
        hello.replaceSubrange(80..<112, with: repeatElement(0, count: 32))
        expectError(.cryptographic) { _ = try pair.server.receive(hello[...]) }
    }

    @Test(arguments: Provider.allCases)
    func serverExpectingHelloRejectsOtherCommands(_ provider: Provider) throws {
        var pair = try CurvePair(provider)
        expectError(.unexpectedCommand) { _ = try pair.server.receive(([7] + bytes("WELCOME") + [0, 0])[...]) }
        var fresh = try CurvePair(provider)
        expectError(.malformedCommandUnspecified) { _ = try fresh.server.receive([][...]) }
    }

    @Test func clientWithTheWrongServerKeyIsRefusedAtHello() throws {
        let other = try CurveKeyPair.generate(crypto: SodiumCurveCrypto(), random: SeededRandom(seed: 99))
        var pair = try CurvePair(.sodium, clientServerKey: other.publicKey)
        let hello = try pair.hello()
        expectError(.cryptographic) { _ = try pair.server.receive(hello[...]) }
    }

    @Test func insecureProviderStillFailsTheHandshakeWithTheWrongServerKey() throws {
        // The fake MAC proves nothing, so HELLO and WELCOME "open"; the cookie the client
        // decrypted with the wrong key is garbage, which the server catches.
        let other = try CurveKeyPair.generate(crypto: InsecureFuzzingCurveCrypto(), random: SeededRandom(seed: 99))
        var pair = try CurvePair(.insecure, clientServerKey: other.publicKey)
        expectError(.cryptographic) { _ = try pair.serverStep(pair.initiate(pair.welcome(pair.hello()))) }
    }

    // MARK: WELCOME (client side)

    @Test(arguments: Provider.allCases)
    func welcomeOfWrongSizeIsMalformed(_ provider: Provider) throws {
        var pair = try CurvePair(provider)
        let welcome = try pair.welcome(pair.hello())
        var short = pair
        expectError(.malformedCommandWelcome) { _ = try short.client.receive(welcome.dropLast()) }
        expectError(.malformedCommandWelcome) { _ = try pair.client.receive((welcome + [0])[...]) }
    }

    @Test(arguments: Provider.allCases)
    func welcomeWithTamperedBoxIsCryptographic(_ provider: Provider) throws {
        var pair = try CurvePair(provider)
        let welcome = try pair.welcome(pair.hello())
        expectError(.cryptographic) { _ = try pair.client.receive(flipped(welcome, at: 24)[...]) }
    }

    @Test func welcomeWithAllZeroServerTransientKeyIsCryptographic() throws {
        var pair = try CurvePair(.insecure)
        let hello = try pair.hello()
        let welcome = try pair.welcome(hello)
        let forger = Forger(serverPublicKey: pair.serverKeys.publicKey, hello: hello, welcome: welcome)
        let plaintext = [UInt8](repeating: 0, count: 32) + forger.welcomePlaintext[32...]
        let box = forger.crypto.box(
            plaintext, nonce: CurveWire.nonce(CurveWire.welcomeNoncePrefix, welcome[8..<24]),
            sharedKey: Forger.xor(forger.clientTransientKey, pair.serverKeys.publicKey))
        expectError(.cryptographic) { _ = try pair.client.receive((welcome[0..<24] + box)[...]) }
    }

    @Test(arguments: Provider.allCases)
    func clientExpectingWelcomeRejectsReady(_ provider: Provider) throws {
        var pair = try CurvePair(provider)
        _ = try pair.hello()
        expectError(.unexpectedCommand) { _ = try pair.client.receive(([5] + bytes("READY") + [UInt8](repeating: 0, count: 30))[...]) }
    }

    // MARK: INITIATE (server side)

    @Test(arguments: Provider.allCases)
    func initiateTooShortIsMalformed(_ provider: Provider) throws {
        var pair = try CurvePair(provider, clientMetadata: Metadata())
        let initiate = try pair.initiate(pair.welcome(pair.hello()))
        var bare = pair
        // libzmq's test: `04 09 08 INITIATE`, the name alone.
        expectError(.malformedCommandInitiate) { _ = try bare.server.receive(([8] + bytes("INITIATE"))[...]) }
        expectError(.malformedCommandInitiate) { _ = try pair.server.receive(initiate.dropLast()) }
    }

    @Test(arguments: Provider.allCases)
    func initiateWithBadCookieIsCryptographic(_ provider: Provider) throws {
        for index in [9, 30, 104] {  // cookie nonce, cookie MAC, cookie ciphertext
            var pair = try CurvePair(provider)
            let initiate = try pair.initiate(pair.welcome(pair.hello()))
            expectError(.cryptographic) { _ = try pair.server.receive(flipped(initiate, at: index)[...]) }
        }
    }

    @Test func initiateWithTamperedBoxIsCryptographic() throws {
        for index in [113, 150, 256] {  // MAC, C, last byte
            var pair = try CurvePair(.sodium)
            let initiate = try pair.initiate(pair.welcome(pair.hello()))
            expectError(.cryptographic) { _ = try pair.server.receive(flipped(initiate, at: index)[...]) }
        }
    }

    @Test func initiateWithCookieFromAnotherConnectionIsCryptographic() throws {
        // Same keys, different seeds: the cookie key K is fresh per connection.
        var first = try CurvePair(.sodium, seed: 1)
        let stolen = try first.initiate(first.welcome(first.hello()))
        var second = try CurvePair(.sodium, seed: 1)
        second.server = try CurveServerHandshake(
            keyPair: second.serverKeys, metadata: CurvePair.serverMetadata, domain: "", address: "",
            authenticate: false, crypto: SodiumCurveCrypto(), random: SeededRandom(seed: 12345))
        _ = try second.welcome(second.hello())
        expectError(.cryptographic) { _ = try second.server.receive(stolen[...]) }
    }

    @Test func initiateNonceMustFollowHellos() throws {
        var pair = try CurvePair(.insecure)
        let hello = try pair.hello()
        let welcome = try pair.welcome(hello)
        let forger = Forger(serverPublicKey: pair.serverKeys.publicKey, hello: hello, welcome: welcome)
        let plaintext = forger.open(initiate: try pair.initiate(welcome))
        expectError(.invalidSequence) { _ = try pair.server.receive(forger.initiate(plaintext: plaintext, shortNonce: 1)[...]) }
    }

    @Test func initiateNonceMayJumpAhead() throws {
        var pair = try CurvePair(.insecure)
        let hello = try pair.hello()
        let welcome = try pair.welcome(hello)
        let forger = Forger(serverPublicKey: pair.serverKeys.publicKey, hello: hello, welcome: welcome)
        let plaintext = forger.open(initiate: try pair.initiate(welcome))
        let step = try pair.server.receive(forger.initiate(plaintext: plaintext, shortNonce: 1000)[...])
        let server = try codec(#require(step.completion))
        let client = CurveMessageCodec(
            role: .client, crypto: forger.crypto, sharedKey: forger.sessionKey, nextNonce: 1000, lastPeerNonce: 1)
        // Nonce 1000 was INITIATE's, so a MESSAGE reusing it is a replay.
        expectError(.invalidSequence) { _ = try server.open(seal(client, bytes("x"))[...]) }
        #expect(try server.open(seal(client, bytes("y"))[...]).payload == bytes("y"))
    }

    @Test func vouchThatDoesNotOpenIsCryptographic() throws {
        var pair = try CurvePair(.insecure)
        let hello = try pair.hello()
        let welcome = try pair.welcome(hello)
        let forger = Forger(serverPublicKey: pair.serverKeys.publicKey, hello: hello, welcome: welcome)
        var plaintext = forger.open(initiate: try pair.initiate(welcome))
        plaintext[48] ^= 1  // the vouch's MAC
        expectError(.cryptographic) { _ = try pair.server.receive(forger.initiate(plaintext: plaintext)[...]) }
    }

    @Test(arguments: ["client transient key", "server key"])
    func vouchForTheWrongKeysIsKeyExchange(_ wrong: String) throws {
        var pair = try CurvePair(.insecure)
        let hello = try pair.hello()
        let welcome = try pair.welcome(hello)
        let forger = Forger(serverPublicKey: pair.serverKeys.publicKey, hello: hello, welcome: welcome)
        let real = forger.open(initiate: try pair.initiate(welcome))
        let clientKey = Array(real[0..<32])
        var content = forger.clientTransientKey + pair.serverKeys.publicKey
        content[wrong == "server key" ? 40 : 8] ^= 1
        let plaintext = clientKey + forger.vouch(content, clientPublicKey: clientKey) + real[128...]
        expectError(.keyExchange) { _ = try pair.server.receive(forger.initiate(plaintext: plaintext)[...]) }
    }

    @Test func initiateWithMalformedMetadataIsInvalidMetadata() throws {
        var pair = try CurvePair(.insecure)
        let hello = try pair.hello()
        let welcome = try pair.welcome(hello)
        let forger = Forger(serverPublicKey: pair.serverKeys.publicKey, hello: hello, welcome: welcome)
        let real = forger.open(initiate: try pair.initiate(welcome))
        let plaintext = Array(real[0..<128]) + [11] + bytes("Socket-Type") + [0, 0, 0, 99] + bytes("DEALER")
        expectError(.invalidMetadata) { _ = try pair.server.receive(forger.initiate(plaintext: plaintext)[...]) }
    }

    @Test(arguments: Provider.allCases)
    func serverExpectingInitiateRejectsASecondHello(_ provider: Provider) throws {
        var pair = try CurvePair(provider)
        let hello = try pair.hello()
        _ = try pair.welcome(hello)
        expectError(.unexpectedCommand) { _ = try pair.server.receive(hello[...]) }
    }

    // MARK: READY (client side)

    @Test(arguments: Provider.allCases)
    func readyTooShortIsMalformed(_ provider: Provider) throws {
        var pair = try CurvePair(provider)
        _ = try pair.initiate(pair.welcome(pair.hello()))
        expectError(.malformedCommandReady) { _ = try pair.client.receive(([5] + bytes("READY") + [UInt8](repeating: 0, count: 23))[...]) }
    }

    @Test(arguments: Provider.allCases)
    func readyWithTamperedBoxIsCryptographic(_ provider: Provider) throws {
        var pair = try CurvePair(provider)
        let step = try pair.serverStep(pair.initiate(pair.welcome(pair.hello())))
        expectError(.cryptographic) { _ = try pair.client.receive(flipped(step.send[0], at: 14)[...]) }
    }

    @Test func readyWithMalformedMetadataIsInvalidMetadata() throws {
        var pair = try CurvePair(.insecure)
        let hello = try pair.hello()
        let welcome = try pair.welcome(hello)
        _ = try pair.initiate(welcome)
        let forger = Forger(serverPublicKey: pair.serverKeys.publicKey, hello: hello, welcome: welcome)
        expectError(.invalidMetadata) { _ = try pair.client.receive(forger.ready(plaintext: [0, 1, 2])[...]) }
    }

    @Test func readyNonceSeedsTheMessageCounter() throws {
        var pair = try CurvePair(.insecure)
        let hello = try pair.hello()
        let welcome = try pair.welcome(hello)
        _ = try pair.initiate(welcome)
        let forger = Forger(serverPublicKey: pair.serverKeys.publicKey, hello: hello, welcome: welcome)
        let client = try codec(pair.clientCompletion(forger.ready(plaintext: [], shortNonce: 50)))
        let server = CurveMessageCodec(
            role: .server, crypto: forger.crypto, sharedKey: forger.sessionKey, nextNonce: 50, lastPeerNonce: 2)
        expectError(.invalidSequence) { _ = try client.open(seal(server, bytes("replay of READY's nonce"))[...]) }
        #expect(try client.open(seal(server, bytes("ok"))[...]).payload == bytes("ok"))
    }

    // MARK: ERROR and ordering

    @Test(arguments: Provider.allCases)
    func clientReportsAThreeDigitErrorAsAuthenticationFailure(_ provider: Provider) throws {
        var pair = try CurvePair(provider)
        _ = try pair.initiate(pair.welcome(pair.hello()))
        expectError(.authenticationFailed, blame: .peerIncompatible) {
            _ = try pair.client.receive(([5] + bytes("ERROR") + [3] + bytes("400"))[...])
        }
    }

    @Test(arguments: Provider.allCases)
    func clientReportsOtherErrorsAsPeerSentError(_ provider: Provider) throws {
        var pair = try CurvePair(provider)
        _ = try pair.hello()
        do {
            _ = try pair.client.receive(([5] + bytes("ERROR") + [7] + bytes("go away"))[...])
            Issue.record("ERROR accepted")
        } catch {
            #expect(error.code == .peerSentError)
            #expect(error.detail == "go away")
        }
        var truncated = try CurvePair(provider)
        _ = try truncated.hello()
        expectError(.malformedCommandError) { _ = try truncated.client.receive(([5] + bytes("ERROR") + [9] + bytes("400"))[...]) }
    }

    @Test(arguments: Provider.allCases)
    func failuresAreSticky(_ provider: Provider) throws {
        var pair = try CurvePair(provider)
        let hello = try pair.hello()
        let welcome = try pair.welcome(hello)
        expectError(.malformedCommandWelcome) { _ = try pair.client.receive(welcome.dropLast()) }
        // The genuine WELCOME no longer helps: the secrets are gone.
        expectError(.malformedCommandWelcome) { _ = try pair.client.receive(welcome[...]) }
        var fresh = try CurvePair(provider)
        let freshHello = try fresh.hello()
        expectError(.malformedCommandHello) { _ = try fresh.server.receive(freshHello.dropLast()) }
        expectError(.malformedCommandHello) { _ = try fresh.server.receive(freshHello[...]) }
    }

    @Test(arguments: Provider.allCases)
    func commandsAfterCompletionAreUnexpected(_ provider: Provider) throws {
        var pair = try CurvePair(provider)
        _ = try pair.complete()
        let (initiate, ready) = (pair.transcript[2], pair.transcript[3])
        expectError(.unexpectedCommand) { _ = try pair.client.receive(ready[...]) }
        expectError(.unexpectedCommand) { _ = try pair.server.receive(initiate[...]) }
    }

    @Test(arguments: Provider.allCases)
    func apiMisuseIsReportedAsSuch(_ provider: Provider) throws {
        var pair = try CurvePair(provider)
        expectError(.invalidState, blame: .apiMisuse) { _ = try pair.client.receive(([5] + bytes("READY"))[...]) }
        var started = try CurvePair(provider)
        _ = try started.hello()
        expectError(.invalidState, blame: .apiMisuse) { _ = try started.client.start() }
        expectError(.invalidState, blame: .apiMisuse) { _ = try started.server.resume(.accept()) }

        let keys = started.clientKeys
        expectError(.invalidArgument, blame: .apiMisuse) {
            _ = try CurveClientHandshake(
                serverPublicKey: [UInt8](repeating: 0, count: 32), keyPair: keys, metadata: Metadata(),
                crypto: provider.crypto, random: SeededRandom(seed: 1))
        }
        expectError(.invalidArgument, blame: .apiMisuse) {
            _ = try CurveClientHandshake(
                serverPublicKey: [UInt8](repeating: 1, count: 31), keyPair: keys, metadata: Metadata(),
                crypto: provider.crypto, random: SeededRandom(seed: 1))
        }
        expectError(.invalidArgument, blame: .apiMisuse) {
            _ = try CurveServerHandshake(
                keyPair: keys, metadata: ["bad name!": "x"], domain: "", address: "", authenticate: false,
                crypto: provider.crypto, random: SeededRandom(seed: 1))
        }
    }

    @Test func lowOrderServerKeyIsTheApplicationsMistake() throws {
        // u = 1 is a low-order point: not all zero, but libsodium refuses it.
        let lowOrder = [1] + [UInt8](repeating: 0, count: 31)
        var pair = try CurvePair(.sodium, clientServerKey: lowOrder)
        expectError(.invalidArgument, blame: .apiMisuse) { _ = try pair.client.start() }
    }

    // MARK: Authentication (ZAP)

    @Test(arguments: Provider.allCases)
    func authenticationRequestCarriesTheClientKeyAndIdentity(_ provider: Provider) throws {
        var pair = try CurvePair(provider, authenticate: true)
        let step = try pair.serverStep(pair.initiate(pair.welcome(pair.hello())))
        #expect(step.send.isEmpty)
        #expect(step.completion == nil)
        #expect(step.failure == nil)
        let request = try #require(step.authenticate)
        #expect(request.mechanism == .curve)
        #expect(request.domain == "global")
        #expect(request.address == "127.0.0.1")
        #expect(request.identity == bytes("client-1"))
        #expect(request.credentials == [pair.clientKeys.publicKey])
    }

    @Test(arguments: Provider.allCases)
    func authenticationRequestWithoutIdentityHasAnEmptyOne(_ provider: Provider) throws {
        var pair = try CurvePair(provider, authenticate: true, clientMetadata: ["Socket-Type": "REQ"])
        let step = try pair.serverStep(pair.initiate(pair.welcome(pair.hello())))
        #expect(try #require(step.authenticate).identity == [])
    }

    @Test(arguments: Provider.allCases)
    func acceptedClientGetsReadyAndBothSidesComplete(_ provider: Provider) throws {
        var pair = try CurvePair(provider, authenticate: true)
        _ = try pair.serverStep(pair.initiate(pair.welcome(pair.hello())))
        let reply = AuthenticationReply.accept(userID: "alice", metadata: ["X-Role": "admin"])
        let step = try pair.server.resume(reply)
        #expect(step.send.count == 1)
        #expect(step.failure == nil)
        let server = try #require(step.completion)
        #expect(server.authentication == reply)
        #expect(server.peerMetadata == CurvePair.clientMetadata)
        let client = try pair.clientCompletion(step.send[0])
        #expect(client.peerMetadata == CurvePair.serverMetadata)

        let clientCodec = try codec(client)
        let serverCodec = try codec(server)
        #expect(try serverCodec.open(seal(clientCodec, bytes("hi"))[...]).payload == bytes("hi"))
        expectError(.invalidState, blame: .apiMisuse) { _ = try pair.server.resume(reply) }
    }

    @Test(arguments: Provider.allCases.flatMap { p in ["400", "500"].map { (p, $0) } })
    func refusedClientGetsErrorWithTheStatus(_ provider: Provider, _ status: String) throws {
        var pair = try CurvePair(provider, authenticate: true)
        _ = try pair.serverStep(pair.initiate(pair.welcome(pair.hello())))
        let step = try pair.server.resume(AuthenticationReply(statusCode: status, statusText: "no"))
        #expect(step.send == [[5] + bytes("ERROR") + [3] + bytes(status)])
        #expect(step.completion == nil)
        let failure = try #require(step.failure)
        #expect(failure.code == .authenticationFailed)
        #expect(failure.detail == status)
        // The client reports the ERROR as an authentication failure with the same status.
        do {
            _ = try pair.client.receive(step.send[0][...])
            Issue.record("client accepted ERROR")
        } catch {
            #expect(error.code == .authenticationFailed)
            #expect(error.detail == status)
        }
        // Sticky.
        let initiate = pair.transcript[2]
        expectError(.authenticationFailed, blame: .peerIncompatible) { _ = try pair.server.receive(initiate[...]) }
    }

    @Test(arguments: Provider.allCases)
    func temporaryFailureSendsNothing(_ provider: Provider) throws {
        var pair = try CurvePair(provider, authenticate: true)
        _ = try pair.serverStep(pair.initiate(pair.welcome(pair.hello())))
        let step = try pair.server.resume(AuthenticationReply(statusCode: "300"))
        #expect(step.send.isEmpty)
        #expect(step.completion == nil)
        #expect(step.failure?.code == .authenticationFailed)
        #expect(step.failure?.detail == "300")
    }

    @Test func invalidStatusCodeFailsWithoutSending() throws {
        var pair = try CurvePair(.sodium, authenticate: true)
        _ = try pair.serverStep(pair.initiate(pair.welcome(pair.hello())))
        let step = try pair.server.resume(AuthenticationReply(statusCode: "201"))
        #expect(step.send.isEmpty)
        #expect(step.failure?.code == .zapInvalidStatusCode)
    }

    @Test func serverWaitingForAuthenticationRejectsCommands() throws {
        var pair = try CurvePair(.sodium, authenticate: true)
        let initiate = try pair.initiate(pair.welcome(pair.hello()))
        _ = try pair.serverStep(initiate)
        expectError(.unexpectedCommand) { _ = try pair.server.receive(initiate[...]) }
    }
}
