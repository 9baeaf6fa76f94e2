#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
import ZeroMQ

/// ZAP (RFC 27) as libzmq runs it: the request frames a handler at `inproc://zeromq.zap.01`
/// receives, what its reply turns into (message properties, refusals, ERROR or silence), the
/// replies libzmq rejects as malformed, and libzmq's rules when no handler is bound
/// (`test_security_zap`, `test_security_no_zap_handler`, `test_metadata`).
@Suite("ZAP handler")
struct ZAPTests {
    /// A ROUTER server and a DEALER client over tcp with `mechanism`, the server's events
    /// watched. The client is named "client-7" and sends `X-Tag: blue`.
    static func pair(_ context: Context, _ mechanism: SecuredPair, handshake: Duration = .seconds(30),
                     enforce: Bool = false, password: String = "password") throws -> (server: Socket, client: Socket) {
        let server = try Fixture.socket(context, .router, timeout: .seconds(10))
        let client = try Fixture.socket(context, .dealer, timeout: .seconds(10))
        try mechanism.configure(server: server, client: client, password: password)
        server.options.zapEnforceDomain = enforce
        server.options.handshakeInterval = handshake
        client.options.routingId = Array("client-7".utf8)
        client.options.metadata = ["X-Tag": "blue"]
        try server.bind("tcp://127.0.0.1:*")
        try client.connect(server.lastEndpoint)
        return (server, client)
    }

    /// The server's first handshake outcome: nil on success, else the error.
    static func outcome(_ socket: Socket) -> ZMTPError?? {
        let events = Fixture.waitFor(socket) {
            switch $0 {
            case .handshakeSucceeded, .handshakeFailed: return true
            default: return false
            }
        }
        for event in events {
            if case .handshakeSucceeded = event { return .some(nil) }
            if case .handshakeFailed(_, let error) = event { return .some(error) }
        }
        return nil
    }

    /// Sends "hello" from the client and expects the server not to get it.
    static func expectNothingDelivered(_ server: Socket, _ client: Socket) throws {
        _ = try client.trySend(Message(string: "hello"))
        do throws(ZeroMQError) {
            let received = try server.receive(timeout: .milliseconds(300))
            Issue.record("delivered despite a failed handshake: \(received)")
        } catch {
            #expect(error.code == .timedOut)
        }
    }

    @Test("A REP handler sees libzmq's request frames; its user id and metadata become message properties",
          arguments: SecuredPair.allCases)
    func requestAndProperties(mechanism: SecuredPair) throws {
        let context = try Context()
        let handler = try ZAPHandlerStub(context: context, type: .rep) { _ in
            var metadata: [UInt8] = []
            try? (["Hello": "World"] as Metadata).encode(into: &metadata)
            return ZAPHandlerStub.reply(status: "200", text: "OK", user: "alice", metadata: metadata)
        }
        defer { handler.stop() }
        let (server, client) = try Self.pair(context, mechanism)
        try client.send("ping")
        let message = try server.receiveMultipart()
        #expect(message.parts.map(\.string) == ["client-7", "ping"])
        #expect(message.property("User-Id") == "alice")
        #expect(message.property("Hello") == "World")
        #expect(message.property("Socket-Type") == "DEALER")
        #expect(message.property("Peer-Address") == "127.0.0.1")
        #expect(message.property("Routing-Id") == "client-7")
        #expect(message.property("Identity") == "client-7")
        #expect(message.property("X-Tag") == "blue")

        let request = try #require(handler.requests.first)
        let mechanismName = Array(mechanism.rawValue.uppercased().utf8)
        let expected: [[UInt8]] = [Array("1.0".utf8), Array("1".utf8), Array("test".utf8), Array("127.0.0.1".utf8), [],
                                   mechanismName] + (try mechanism.credentials())
        #expect(request == expected)
    }

    /// The ways a handler can misbehave and the handshake failure each gives the server.
    enum Misbehaviour: String, CaseIterable, CustomTestStringConvertible {
        case wrongVersion, wrongRequestID, invalidStatus, extraFrame, missingFrame, badMetadata
        var testDescription: String { rawValue }

        var reply: [Message] {
            switch self {
            case .wrongVersion: return ZAPHandlerStub.reply(version: "2.0", status: "200")
            case .wrongRequestID: return ZAPHandlerStub.reply(id: Array("7".utf8), status: "200")
            case .invalidStatus: return ZAPHandlerStub.reply(status: "201")
            case .extraFrame: return ZAPHandlerStub.reply(status: "200", extra: [Array("extra".utf8)])
            case .missingFrame: return Array(ZAPHandlerStub.reply(status: "200").dropLast(2)) + [Message(Array("u".utf8))]
            case .badMetadata: return ZAPHandlerStub.reply(status: "200", metadata: [5, 0x41])
            }
        }

        var code: ZMTPError.Code {
            switch self {
            case .wrongVersion: return .zapBadVersion
            case .wrongRequestID: return .zapBadRequestID
            case .invalidStatus: return .zapInvalidStatusCode
            case .extraFrame, .missingFrame: return .zapMalformedReply
            case .badMetadata: return .zapInvalidMetadata
            }
        }
    }

    @Test("A malformed reply fails the handshake with libzmq's ZAP protocol error; nothing is delivered",
          arguments: SecuredPair.allCases, Misbehaviour.allCases)
    func malformedReplies(mechanism: SecuredPair, misbehaviour: Misbehaviour) throws {
        let context = try Context()
        let handler = try ZAPHandlerStub(context: context) { _ in misbehaviour.reply }
        defer { handler.stop() }
        let (server, client) = try Self.pair(context, mechanism)
        let error = try #require(Self.outcome(server) ?? nil)
        #expect(error.code == misbehaviour.code)
        let event = MonitorEvent.handshakeFailed(endpoint: server.lastEndpoint, error: error).libzmqEvent
        #expect(event.event == .handshakeFailedProtocol)
        #expect(event.value == misbehaviour.code.rawValue)
        try Self.expectNothingDelivered(server, client)
    }

    @Test("Status 400 and 500 send ERROR: both sides report HANDSHAKE_FAILED_AUTH with the status",
          arguments: SecuredPair.allCases, ["400", "500"])
    func refusedWithError(mechanism: SecuredPair, status: String) throws {
        let context = try Context()
        let handler = try ZAPHandlerStub(context: context) { _ in ZAPHandlerStub.reply(status: status, text: "no") }
        defer { handler.stop() }
        let (server, client) = try Self.pair(context, mechanism)
        let serverError = try #require(Self.outcome(server) ?? nil)
        #expect(serverError.code == .authenticationFailed)
        #expect(MonitorEvent.handshakeFailed(endpoint: "", error: serverError).libzmqEvent.value == UInt32(status))
        let clientError = try #require(Self.outcome(client) ?? nil)
        #expect(clientError.code == .authenticationFailed)
        #expect(clientError.detail.hasPrefix(status))
        try Self.expectNothingDelivered(server, client)
    }

    @Test("Status 300 closes silently: the server reports AUTH 300, the client no authentication failure",
          arguments: SecuredPair.allCases)
    func temporaryFailure(mechanism: SecuredPair) throws {
        let context = try Context()
        let handler = try ZAPHandlerStub(context: context) { _ in ZAPHandlerStub.reply(status: "300") }
        defer { handler.stop() }
        // NULL stalls until the handshake interval ends it (libzmq does the same).
        let (server, client) = try Self.pair(context, mechanism, handshake: .milliseconds(500))
        let serverError = try #require(Self.outcome(server) ?? nil)
        if mechanism == .null {
            #expect([.authenticationFailed, .handshakeTimeout].contains(serverError.code))
        } else {
            #expect(serverError.code == .authenticationFailed)
            #expect(MonitorEvent.handshakeFailed(endpoint: "", error: serverError).libzmqEvent.value == 300)
        }
        let clientEvents = Fixture.waitFor(client) {
            if case .disconnected = $0 { return true }
            if case .handshakeFailed = $0 { return true }
            return false
        }
        #expect(!clientEvents.contains {
            if case .handshakeFailed(_, let error) = $0 { return error.code == .authenticationFailed }
            return false
        })
        try Self.expectNothingDelivered(server, client)
    }

    @Test("A handler that closes before replying fails the handshake", arguments: SecuredPair.allCases)
    func handlerGoesAway(mechanism: SecuredPair) throws {
        let context = try Context()
        let asked = Atomic<Int>(0)
        let handler = try ZAPHandlerStub(context: context) { _ in
            asked.add(1, ordering: .relaxed)
            return nil
        }
        // Enforced: the reconnect that follows finds no handler and must fail too.
        let (server, client) = try Self.pair(context, mechanism, enforce: true)
        #expect(Fixture.eventually { asked.load(ordering: .relaxed) > 0 })
        handler.stop()
        let error = try #require(Self.outcome(server) ?? nil)
        #expect(error.code == .zapUnspecified)
        try Self.expectNothingDelivered(server, client)
    }

    @Test("No handler: NULL with a domain and CURVE let clients in, PLAIN fails; ZAP_ENFORCE_DOMAIN fails all",
          arguments: SecuredPair.allCases, [false, true])
    func noHandler(mechanism: SecuredPair, enforce: Bool) throws {
        let context = try Context()
        let (server, client) = try Self.pair(context, mechanism, enforce: enforce)
        let outcome = Self.outcome(server)
        if mechanism == .plain || enforce {
            let error = try #require(outcome ?? nil)
            #expect(error.code == .noAuthenticationHandler)
            #expect(MonitorEvent.handshakeFailed(endpoint: "", error: error).libzmqEvent.event == .handshakeFailedNoDetail)
            try Self.expectNothingDelivered(server, client)
        } else {
            #expect(outcome == .some(nil))
            try client.send("ping")
            #expect(try server.receiveMultipart().parts.last?.string == "ping")
        }
    }
}
