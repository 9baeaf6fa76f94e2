import Testing
@testable import ZMTP

/// Large bodies leave the core by reference, not copied into the transmit buffer.
@Suite("Large bodies by reference")
struct SharedBodyTests {
    static func readyPair() -> ConnectionPair {
        var pair = ConnectionPair(client: .init(socketType: .dealer), server: .init(socketType: .router))
        pair.drive()
        return pair
    }

    @Test("A large body is handed over by reference and reassembles to the same stream")
    func largeBodyByReference() throws {
        var pair = Self.readyPair()
        let body = [UInt8]((0..<200_000).map { UInt8(truncatingIfNeeded: $0) })
        let message = Message(sharing: body[...], more: true)
        try pair.client.send(message)
        try pair.client.send(Message(string: "tail"))
        var copy = pair.client
        var bytes: [UInt8] = []
        var bodies: [TransmitBody] = []
        let count = pair.client.pollTransmit(into: &bytes, bodies: &bodies)
        #expect(bodies.count == 1)
        #expect(bodies.first?.body.count == body.count)
        // The very storage of the message, not a copy.
        let original = body.withUnsafeBytes { $0.baseAddress }
        #expect(bodies.first?.body.withUnsafeBytes { $0.baseAddress } == original)
        #expect(count == bytes.count + body.count)
        // The merged form gives the same stream.
        var merged: [UInt8] = []
        copy.pollTransmit(into: &merged)
        var stream: [UInt8] = []
        var cursor = 0
        for piece in bodies {
            stream += bytes[cursor..<piece.offset]
            stream += piece.body.bytes
            cursor = piece.offset
        }
        stream += bytes[cursor...]
        #expect(stream == merged)
        // And the peer reads it back whole.
        pair.server.receive(stream, now: pair.now)
        var received: [Message] = []
        while let event = pair.server.nextEvent() {
            if case .message(let m) = event { received.append(m) }
        }
        #expect(received.map(\.count) == [body.count, 4])
        #expect(received.first?.bytes == body)
    }

    @Test("Small bodies are still copied into the batch")
    func smallBodiesInline() throws {
        var pair = Self.readyPair()
        try pair.client.send(Message([UInt8](repeating: 7, count: Connection.sharedBodyThreshold - 1)))
        var bytes: [UInt8] = []
        var bodies: [TransmitBody] = []
        pair.client.pollTransmit(into: &bytes, bodies: &bodies)
        #expect(bodies.isEmpty)
        #expect(bytes.count > Connection.sharedBodyThreshold)
    }
}
