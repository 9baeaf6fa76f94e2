/// The client side of PLAIN (RFC 24):
///
/// ```
/// C: hello    = command-size %d5 "HELLO" username password   ; each: OCTET length, 0..255 bytes
/// S: welcome  = command-size %d7 "WELCOME"
/// C: initiate = command-size %d8 "INITIATE" metadata
/// S: ready    = command-size %d5 "READY" metadata
/// ```
/// The password is held only until HELLO is built.
struct PlainClientHandshake {
    enum State {
        /// HELLO not yet sent; the credentials live here only.
        case start(username: [UInt8], password: [UInt8])
        /// HELLO sent; waiting for WELCOME.
        case expectWelcome
        /// INITIATE sent; waiting for READY.
        case expectReady
        case done
    }

    /// RFC 24: username and password are each at most 255 octets.
    static let maxCredentialLength = 255

    private var state: State
    private let metadata: Metadata

    init(username: [UInt8], password: [UInt8], metadata: Metadata) throws(ZMTPError) {
        guard username.count <= Self.maxCredentialLength, password.count <= Self.maxCredentialLength else {
            throw .misuse(.invalidArgument, "PLAIN username and password are at most 255 bytes")
        }
        state = .start(username: username, password: password)
        self.metadata = metadata
    }

    mutating func start() throws(ZMTPError) -> HandshakeStep {
        guard case .start(let username, let password) = state else {
            throw .misuse(.invalidState, "PLAIN client already started")
        }
        var hello: [UInt8] = [5]
        hello.append(contentsOf: "HELLO".utf8)
        hello.append(UInt8(username.count))
        hello.append(contentsOf: username)
        hello.append(UInt8(password.count))
        hello.append(contentsOf: password)
        state = .expectWelcome
        return HandshakeStep(send: [hello])
    }

    mutating func receive(_ command: ArraySlice<UInt8>) throws(ZMTPError) -> HandshakeStep {
        let (name, data) = try Command.split(command)
        switch state {
        case .expectWelcome:
            guard name.elementsEqual("WELCOME".utf8) else {
                throw .peer(.unexpectedCommand, "PLAIN client expected WELCOME")
            }
            guard data.isEmpty else { throw .peer(.malformedCommandWelcome, "WELCOME carries no data") }
            var initiate: [UInt8] = [8]
            initiate.append(contentsOf: "INITIATE".utf8)
            try metadata.encode(into: &initiate)
            state = .expectReady
            return HandshakeStep(send: [initiate])
        case .expectReady:
            guard name.elementsEqual("READY".utf8) else {
                throw .peer(.unexpectedCommand, "PLAIN client expected READY")
            }
            let peerMetadata = try Metadata.parse(data, errorCode: .malformedCommandReady)
            state = .done
            return HandshakeStep(completion: HandshakeCompletion(peerMetadata: peerMetadata, authentication: nil, dataCodec: .plaintext))
        case .start, .done:
            throw .peer(.unexpectedCommand, "PLAIN client received a command out of order")
        }
    }
}
