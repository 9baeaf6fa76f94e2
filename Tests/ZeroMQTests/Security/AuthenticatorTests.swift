import Foundation
import Testing
import ZeroMQ

/// The Swift authenticator (a ZAP handler with pyzmq's `zmq.auth` rules) and the security
/// options with libzmq's names and semantics.
@Suite("Authenticator and security options")
struct AuthenticatorTests {
    @Test("PLAIN: the password table admits its users (User-Id = user name), refuses the rest with 400, and keeps serving")
    func plainPasswords() throws {
        let context = try Context()
        let auth = try Authenticator(context: context)
        defer { auth.stop() }
        auth.allowPlain(passwords: ["admin": "password"])
        let (server, bad) = try ZAPTests.pair(context, .plain, password: "wrong")
        let error = try #require(ZAPTests.outcome(server) ?? nil)
        #expect(error.code == .authenticationFailed)
        #expect(MonitorEvent.handshakeFailed(endpoint: "", error: error).libzmqEvent.value == 400)
        try ZAPTests.expectNothingDelivered(server, bad)

        // A good client on the same server afterwards.
        let good = try Fixture.socket(context, .dealer)
        good.options.plainUsername = "admin"
        good.options.plainPassword = "password"
        try good.connect(server.lastEndpoint)
        try good.send("ping")
        let message = try server.receiveMultipart()
        #expect(message.parts.last?.string == "ping")
        #expect(message.property("User-Id") == "admin")
        #expect(auth.statistics.accepted == 1)
        #expect(auth.statistics.refused >= 1)
    }

    @Test("CURVE: listed keys are admitted (User-Id = the key's Z85), unlisted ones refused, any key when allowed")
    func curveKeys() throws {
        let context = try Context()
        let auth = try Authenticator(context: context)
        defer { auth.stop() }
        let client = try CurveKey(z85: SecuredPair.clientPublic)
        let other = try CurveKey(CurveCertificate.generate().publicKey)

        auth.allowCurve(clientKeys: [other])
        let (refusing, refused) = try ZAPTests.pair(context, .curve)
        #expect((ZAPTests.outcome(refusing) ?? nil)?.code == .authenticationFailed)
        try ZAPTests.expectNothingDelivered(refusing, refused)

        auth.allowCurve(clientKeys: [client, other])
        let (server, admitted) = try ZAPTests.pair(context, .curve)
        try admitted.send("ping")
        let message = try server.receiveMultipart()
        #expect(message.property("User-Id") == SecuredPair.clientPublic)

        auth.allowAnyCurveKey()
        let (anyServer, anyClient) = try ZAPTests.pair(context, .curve)
        try anyClient.send("ping")
        #expect(try anyServer.receiveMultipart().parts.last?.string == "ping")
    }

    @Test("Addresses: a denied address is refused; an allow list admits only its own")
    func addresses() throws {
        let context = try Context()
        let auth = try Authenticator(context: context)
        defer { auth.stop() }
        auth.deny(addresses: ["127.0.0.1"])
        let (server, client) = try ZAPTests.pair(context, .null)
        #expect((ZAPTests.outcome(server) ?? nil)?.code == .authenticationFailed)
        try ZAPTests.expectNothingDelivered(server, client)

        var policy = AuthenticationPolicy()
        policy.allowedAddresses = ["127.0.0.1"]
        policy.deniedAddresses = ["127.0.0.1"]  // ignored while an allow list exists, as pyzmq
        auth.policy = policy
        let (allowed, allowedClient) = try ZAPTests.pair(context, .null)
        try allowedClient.send("ping")
        #expect(try allowed.receiveMultipart().property("User-Id") == "anonymous")
    }

    @Test("A custom decision comes first; nil leaves it to the policy")
    func customDecision() throws {
        let context = try Context()
        let auth = try Authenticator(context: context)
        defer { auth.stop() }
        auth.decide = { request in
            request.mechanism == .plain ? .accept(userID: "custom", metadata: ["X-Role": "ops"]) : nil
        }
        let (server, client) = try ZAPTests.pair(context, .plain, password: "anything")
        try client.send("ping")
        let message = try server.receiveMultipart()
        #expect(message.property("User-Id") == "custom")
        #expect(message.property("X-Role") == "ops")
        // CURVE falls to the policy, which has no keys: refused.
        let (curveServer, curveClient) = try ZAPTests.pair(context, .curve)
        #expect((ZAPTests.outcome(curveServer) ?? nil)?.code == .authenticationFailed)
        try ZAPTests.expectNothingDelivered(curveServer, curveClient)
    }

    @Test("One handler per context; stopping unbinds it and libzmq's no-handler rules apply again")
    func oneHandlerAndStop() throws {
        let context = try Context()
        let auth = try Authenticator(context: context)
        #expect(throws: ZeroMQError.self) { try Authenticator(context: context) }
        auth.stop()
        let (server, client) = try ZAPTests.pair(context, .plain)
        #expect((ZAPTests.outcome(server) ?? nil)?.code == .noAuthenticationHandler)
        try ZAPTests.expectNothingDelivered(server, client)
        let again = try Authenticator(context: context)
        again.stop()
    }

    @Test("The policy alone: domains, '*' and refusal reasons")
    func policyRules() throws {
        var policy = AuthenticationPolicy()
        func plain(_ user: String, _ password: String, domain: String = "d") -> AuthenticationReply {
            policy.decide(AuthenticationRequest(mechanism: .plain, domain: domain, address: "10.0.0.1", identity: [],
                                                credentials: [Array(user.utf8), Array(password.utf8)]))
        }
        #expect(plain("a", "b").statusText == "No passwords defined")
        policy.passwords["other"] = ["a": "b"]
        #expect(plain("a", "b").statusText == "Unknown domain")
        policy.passwords["*"] = ["a": "b"]
        #expect(plain("a", "b").statusCode == "200")
        #expect(plain("a", "c").statusCode == "400")
        #expect(plain("a", "").statusCode == "400")
        #expect(plain("x", "b").statusCode == "400")
        policy.passwords["d"] = ["x": "y"]
        #expect(plain("a", "b").statusCode == "400")  // the domain's own table, not "*"
        #expect(plain("x", "y").userID == "x")
        let null = AuthenticationRequest(mechanism: .null, domain: "d", address: "10.0.0.1", identity: [], credentials: [])
        #expect(policy.decide(null).userID == "anonymous")
        policy.allowedAddresses = ["10.0.0.2"]
        #expect(policy.decide(null).statusCode == "400")
    }

    @Test("Options follow libzmq: the last mechanism option chooses; keys in raw or Z85 form; incomplete CURVE fails at connect")
    func options() throws {
        var options = SocketOptions()
        options.plainUsername = "admin"
        options.plainPassword = "secret"
        guard case .plainClient(let user, let password) = options.security else { throw Failure("not a PLAIN client") }
        #expect(user == Array("admin".utf8) && password == Array("secret".utf8))
        options.plainUsername = ""
        guard case .null = options.security else { throw Failure("an empty user name means NULL") }
        options.plainServer = true
        options.zapDomain = "global"
        guard case .plainServer("global") = options.security else { throw Failure("not a PLAIN server") }
        options.plainServer = false
        guard case .null = options.security else { throw Failure("PLAIN_SERVER=0 means NULL") }

        options.curveServer = true
        #expect(throws: ZeroMQError.self) { try options.resolvedSecurity() }  // no secret key yet
        options.curveSecretKey = try CurveKey(z85: SecuredPair.serverSecret)
        guard case .curveServer(let pair, _, _) = try options.resolvedSecurity() else { throw Failure("not a CURVE server") }
        #expect(pair.publicKey == (try CurveKey(z85: SecuredPair.serverPublic)).bytes)
        options.curvePublicKey = try CurveKey(z85: SecuredPair.clientPublic)
        #expect(throws: ZeroMQError.self) { try options.resolvedSecurity() }  // not the secret key's

        var client = SocketOptions()
        client.curveSecretKey = try CurveKey(z85: SecuredPair.clientSecret)
        client.curveServerKey = try CurveKey(z85: SecuredPair.serverPublic)
        guard case .curveClient(let server, _) = try client.resolvedSecurity() else { throw Failure("not a CURVE client") }
        #expect(server.count == 32)

        #expect(throws: ZeroMQError.self) { try CurveKey(z85: "too short") }
        #expect(throws: ZeroMQError.self) { try CurveKey([UInt8](repeating: 0, count: 32)) }
        #expect(throws: ZeroMQError.self) { try CurveKey([1, 2, 3]) }
        #expect(try CurveKey(z85: SecuredPair.serverPublic).z85 == SecuredPair.serverPublic)

        let context = try Context()
        let socket = try Fixture.socket(context, .dealer)
        socket.options.curveServerKey = try CurveKey(z85: SecuredPair.serverPublic)  // no secret key
        #expect(throws: ZeroMQError.self) { try socket.connect("tcp://127.0.0.1:5") }
    }

    @Test("A client cannot name its own User-Id or Peer-Address: the handler's and the connection's win, or none")
    func reservedProperties() throws {
        let context = try Context()
        let auth = try Authenticator(context: context)
        auth.allowPlain(passwords: ["guest": "guest"])
        let client = try Fixture.socket(context, .dealer)
        client.options.plainUsername = "guest"
        client.options.plainPassword = "guest"
        client.options.metadata = ["User-Id": "admin", "Peer-Address": "10.0.0.1", "X-Role": "user"]
        let secured = try Fixture.socket(context, .router)
        secured.options.plainServer = true
        try secured.bind("tcp://127.0.0.1:*")
        try client.connect(secured.lastEndpoint)
        try client.send("ping")
        let message = try secured.receiveMultipart()
        #expect(message.property("User-Id") == "guest")
        #expect(message.property("Peer-Address") == "127.0.0.1")
        #expect(message.property("X-Role") == "user")
        auth.stop()

        // CURVE without a handler: no user id at all, whatever the client says.
        let (curveServer, curveClient) = try ZAPTests.pair(context, .curve)
        curveClient.options.metadata = ["User-Id": "admin"]
        let spoofer = try Fixture.socket(context, .dealer)
        spoofer.options.metadata = ["User-Id": "admin"]
        spoofer.options.curveServerKey = try CurveKey(z85: SecuredPair.serverPublic)
        spoofer.options.curveSecretKey = try CurveKey(z85: SecuredPair.clientSecret)
        try spoofer.connect(curveServer.lastEndpoint)
        try spoofer.send("ping")
        var sawSpoofer = false
        for _ in 0..<2 {
            let received = try curveServer.receiveMultipart()
            #expect(received.property("User-Id") == nil)
            sawSpoofer = sawSpoofer || received.parts.last?.string == "ping"
            try curveClient.send("ping")
        }
        #expect(sawSpoofer)
    }

    @Test("The README's CURVE REQ/REP with an authenticator")
    func readmeExample() throws {
        let context = try Context()
        let serverCert = try CurveCertificate.generate(), clientCert = try CurveCertificate.generate()
        let auth = try Authenticator(context: context)   // a ZAP handler on a thread of its own
        auth.allowCurve(certificates: [clientCert.publicCertificate])

        let server = try Fixture.socket(context, .rep)
        server.options.security = try serverCert.serverSecurity()
        try server.bind("tcp://127.0.0.1:*")
        let client = try Fixture.socket(context, .req)
        client.options.security = try clientCert.clientSecurity(server: serverCert.publicCertificate)
        try client.connect(server.lastEndpoint)
        try client.send("Hello")
        let request = try server.receiveMultipart()
        #expect(request.property("User-Id") == clientCert.publicKeyZ85)
        try server.send("World")
        #expect(try client.receiveString() == "World")

        // A stranger with a valid key pair is refused.
        let stranger = try Fixture.socket(context, .req)
        stranger.options.security = try CurveCertificate.generate().clientSecurity(server: serverCert.publicCertificate)
        try stranger.connect(server.lastEndpoint)
        #expect((ZAPTests.outcome(stranger) ?? nil)?.code == .authenticationFailed)
        auth.stop()
    }

    @Test("allowCurve(certificatesIn:) admits the public certificates saved in a directory, as pyzmq's configure_curve")
    func certificateDirectory() throws {
        let directory = NSTemporaryDirectory() + "swift-zeromq-certs-\(getpid())-\(Fixture.unique("d"))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let client = try CurveCertificate(secretKey: CurveKey(z85: SecuredPair.clientSecret).bytes)
        try client.save(publicTo: directory + "/client.key", secretTo: directory + "/client.key_secret")

        let context = try Context()
        let auth = try Authenticator(context: context)
        defer { auth.stop() }
        try auth.allowCurve(certificatesIn: directory)
        let (server, admitted) = try ZAPTests.pair(context, .curve)
        try admitted.send("ping")
        #expect(try server.receiveMultipart().property("User-Id") == SecuredPair.clientPublic)
        #expect(throws: ZeroMQError.self) { try auth.allowCurve(certificatesIn: directory + "/missing") }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
