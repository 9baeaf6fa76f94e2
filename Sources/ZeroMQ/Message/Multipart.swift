import ZMTP

/// A whole multipart message: its parts in order and, when received, the properties of the
/// peer it came from (`zmq_msg_gets`: `Socket-Type`, `Routing-Id` (alias `Identity`),
/// `Peer-Address`, `User-Id`, the ZAP handler's metadata and the peer's `X-*`).
///
/// It is a collection of its parts, so pyzmq's habits carry over:
///
/// ```swift
/// let request = try router.receiveMultipart()
/// guard request.count >= 2, let body = request.last else { return }   // a peer's malformed request
/// let identity = request[0]
/// try router.send([identity, "", "OK"] as Multipart)
/// ```
public struct Multipart: Sendable, Hashable {
    /// The parts, in order. `Socket.send(_:)` sets each part's MORE flag itself.
    public var parts: [Message]
    /// The sending peer's properties (empty for a message built to be sent).
    public var properties: Metadata

    /// A message of `parts`, with the `properties` of the peer it came from when it stands for one
    /// received.
    public init(parts: [Message], properties: Metadata = Metadata()) {
        self.parts = parts
        self.properties = properties
    }

    /// A message of `parts`, one part each.
    public init(_ parts: [[UInt8]]) {
        self.init(parts: parts.map { Message($0) })
    }

    /// A message of UTF-8 texts, one part each.
    public init(_ parts: [String]) {
        self.init(parts: parts.map { Message(string: $0) })
    }

    /// A property's value as text (`zmq_msg_gets`); names compare case-insensitively.
    public func property(_ name: String) -> String? { properties.property(name) }
}

extension Multipart: ExpressibleByArrayLiteral {
    /// A message of the listed parts: `["topic", "body"]`, `[identity, [], reply]`.
    public init(arrayLiteral parts: Message...) {
        self.init(parts: parts)
    }
}

extension Multipart: RandomAccessCollection, MutableCollection {
    public var startIndex: Int { parts.startIndex }
    public var endIndex: Int { parts.endIndex }

    /// The part at `position`, counted from zero.
    public subscript(position: Int) -> Message {
        get { parts[position] }
        set { parts[position] = newValue }
    }
}

extension Metadata {
    /// A message property by name, with libzmq's alias: the ZMTP `Identity` property reads
    /// as `Routing-Id` too (its name since ZMTP 3.1 and libzmq 4.2).
    func property(_ name: String) -> String? {
        if let value = string(name) { return value }
        switch name.lowercased() {
        case "routing-id": return string(Metadata.Name.identity)
        case "identity": return string("Routing-Id")
        default: return nil
        }
    }
}
