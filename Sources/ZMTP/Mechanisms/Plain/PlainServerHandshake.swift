/// The server side of PLAIN (RFC 24). It never decides by itself: HELLO's credentials go to the
/// application as an ``AuthenticationRequest`` (libzmq always asks ZAP), and the handshake resumes
/// with the answer: 200 sends WELCOME, 300 closes silently, 400/500 send ERROR with the status.
struct PlainServerHandshake {
    enum State {
        case expectHello
        /// Credentials handed to the application; waiting for ``resume(_:)``.
        case awaitingAuthentication
        /// WELCOME sent; waiting for INITIATE.
        case expectInitiate(authentication: AuthenticationReply)
        case done
    }

    private var state: State = .expectHello
    private let metadata: Metadata
    private let domain: String
    private let address: String

    init(metadata: Metadata, domain: String, address: String) {
        self.metadata = metadata
        self.domain = domain
        self.address = address
    }

    mutating func start() throws(ZMTPError) -> HandshakeStep { .nothing }

    mutating func receive(_ command: ArraySlice<UInt8>) throws(ZMTPError) -> HandshakeStep {
        let (name, data) = try Command.split(command)
        switch state {
        case .expectHello:
            guard name.elementsEqual("HELLO".utf8) else {
                throw .peer(.unexpectedCommand, "PLAIN server expected HELLO")
            }
            let (username, password) = try Self.parseHello(data)
            state = .awaitingAuthentication
            return HandshakeStep(authenticate: AuthenticationRequest(
                mechanism: .plain, domain: domain, address: address, identity: [], credentials: [username, password]))
        case .expectInitiate(let authentication):
            guard name.elementsEqual("INITIATE".utf8) else {
                throw .peer(.unexpectedCommand, "PLAIN server expected INITIATE")
            }
            let peerMetadata = try Metadata.parse(data, errorCode: .malformedCommandInitiate)
            var ready: [UInt8] = [5]
            ready.append(contentsOf: "READY".utf8)
            try metadata.encode(into: &ready)
            state = .done
            return HandshakeStep(send: [ready], completion: HandshakeCompletion(
                peerMetadata: peerMetadata, authentication: authentication, dataCodec: .plaintext))
        case .awaitingAuthentication, .done:
            throw .peer(.unexpectedCommand, "PLAIN server received a command out of order")
        }
    }

    mutating func resume(_ reply: AuthenticationReply) throws(ZMTPError) -> HandshakeStep {
        guard case .awaitingAuthentication = state else {
            throw .misuse(.invalidState, "no authentication pending")
        }
        if let refusal = reply.refusal() {
            state = .done
            return refusal.step
        }
        state = .expectInitiate(authentication: reply)
        var welcome: [UInt8] = [7]
        welcome.append(contentsOf: "WELCOME".utf8)
        return HandshakeStep(send: [welcome])
    }

    /// `hello = username password`, each a length octet and up to 255 bytes; nothing may follow.
    static func parseHello(_ data: ArraySlice<UInt8>) throws(ZMTPError) -> (username: [UInt8], password: [UInt8]) {
        var i = data.startIndex
        guard i < data.endIndex else { throw .peer(.malformedCommandHello, "HELLO without username") }
        let userLength = Int(data[i]); i += 1
        guard data.endIndex - i >= userLength else { throw .peer(.malformedCommandHello, "username runs past HELLO") }
        let username = Array(data[i..<(i + userLength)]); i += userLength
        guard i < data.endIndex else { throw .peer(.malformedCommandHello, "HELLO without password") }
        let passLength = Int(data[i]); i += 1
        guard data.endIndex - i == passLength else { throw .peer(.malformedCommandHello, "password length does not match HELLO") }
        return (username, Array(data[i..<(i + passLength)]))
    }
}
