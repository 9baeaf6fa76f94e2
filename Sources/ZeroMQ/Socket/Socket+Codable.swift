import Foundation
import ZMTP

/// What turns a value into a message body: `JSONEncoder` and `PropertyListEncoder` already
/// are; conform your own (CBOR, MessagePack, ...) with one method.
public protocol MessageEncoder {
    /// The bytes of `value`; an error the encoder throws reaches the caller of the send.
    func encode<Value: Encodable>(_ value: Value) throws -> Data
}

/// What turns a message body back into a value: `JSONDecoder` and `PropertyListDecoder`
/// already are.
public protocol MessageDecoder {
    /// The value of `type` that `data` holds; an error the decoder throws reaches the caller of
    /// the receive.
    func decode<Value: Decodable>(_ type: Value.Type, from data: Data) throws -> Value
}

extension JSONEncoder: MessageEncoder {}
extension JSONDecoder: MessageDecoder {}
extension PropertyListEncoder: MessageEncoder {}
extension PropertyListDecoder: MessageDecoder {}

extension Message {
    /// A one-part message holding `value` encoded by `encoder` (JSON unless you say otherwise).
    /// - Throws: what the encoder throws (`EncodingError`).
    public init(encoding value: some Encodable, with encoder: some MessageEncoder = JSONEncoder(), more: Bool = false) throws {
        self.init(try encoder.encode(value), more: more)
    }

    /// The body decoded as a `type` by `decoder` (JSON unless you say otherwise).
    /// - Throws: what the decoder throws (`DecodingError`).
    public func decoded<Value: Decodable>(as type: Value.Type = Value.self, with decoder: some MessageDecoder = JSONDecoder()) throws -> Value {
        try decoder.decode(type, from: withUnsafeBytes { Data($0) })
    }
}

/// `Codable` values as messages, pyzmq's `send_json`/`recv_json` for any encoder: one value, one
/// part. Encoding and decoding errors come through as they are (`EncodingError`,
/// `DecodingError`), socket errors as ``ZeroMQError``s.
///
/// ```swift
/// try socket.send(encoding: Order(id: 7, item: "tea"))
/// let order = try socket.receive(decoding: Order.self)
/// ```
extension Socket {
    /// Sends `value`, encoded by `encoder` (JSON by default), as one part.
    public func send(encoding value: some Encodable, with encoder: some MessageEncoder = JSONEncoder(), more: Bool = false) throws {
        try send(Message(encoding: value, with: encoder, more: more))
    }

    /// Receives one part and decodes it as a `type` with `decoder` (JSON by default), blocking
    /// up to ``SocketOptions/receiveTimeout``.
    public func receive<Value: Decodable>(decoding type: Value.Type, with decoder: some MessageDecoder = JSONDecoder()) throws -> Value {
        try receive().decoded(as: type, with: decoder)
    }

    /// Receives one part and decodes it, waiting at most `timeout` (nil: forever).
    public func receive<Value: Decodable>(decoding type: Value.Type, with decoder: some MessageDecoder = JSONDecoder(), timeout: Duration?) throws -> Value {
        try receive(timeout: timeout).decoded(as: type, with: decoder)
    }

    /// Sends `value`, encoded by `encoder` (JSON by default), as one part, suspending while no
    /// peer has room.
    nonisolated(nonsending)
    public func send(encoding value: some Encodable, with encoder: some MessageEncoder = JSONEncoder(), more: Bool = false) async throws {
        try await send(Message(encoding: value, with: encoder, more: more))
    }

    /// Receives one part and decodes it as a `type` with `decoder` (JSON by default),
    /// suspending until it arrives (up to ``SocketOptions/receiveTimeout``).
    nonisolated(nonsending)
    public func receive<Value: Decodable>(decoding type: Value.Type, with decoder: some MessageDecoder = JSONDecoder()) async throws -> Value {
        try await receive().decoded(as: type, with: decoder)
    }

    /// Receives one part and decodes it, suspending at most `timeout` (nil: forever).
    nonisolated(nonsending)
    public func receive<Value: Decodable>(decoding type: Value.Type, with decoder: some MessageDecoder = JSONDecoder(), timeout: Duration?) async throws -> Value {
        try await receive(timeout: timeout).decoded(as: type, with: decoder)
    }
}
