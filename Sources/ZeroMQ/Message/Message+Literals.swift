import ZMTP

// Literals where pyzmq takes `b"..."` and `"..."`: `let greeting: Message = "Hello"`,
// `let frame: Message = [0x01, 0x02]`, `try socket.send(["key", "value"] as Multipart)`.
// The conformances live here, with the socket API, rather than in the core, whose users build
// messages from bytes they already hold.

extension Message: ExpressibleByStringLiteral {
    /// A one-part message of the literal's UTF-8 bytes.
    public init(stringLiteral value: String) {
        self.init(string: value)
    }
}

extension Message: ExpressibleByArrayLiteral {
    /// A one-part message of the literal's bytes.
    public init(arrayLiteral bytes: UInt8...) {
        self.init(bytes)
    }
}
