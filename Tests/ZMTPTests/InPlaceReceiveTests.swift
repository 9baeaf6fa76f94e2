import Testing
@testable import ZMTP

/// `Connection.receive(_:now:delivering:)`, the driver's fast path, gives the same message parts
/// and events in the same order as buffering with `receive(_:now:)` and reading `nextEvent()`,
/// however the stream is cut and whenever the receiver refuses a part.
@Suite("Receiving in place")
struct InPlaceReceiveTests {
    /// A DEALER/ROUTER pair past the handshake, and the bytes the client sends for `parts`
    /// interleaved with a PING every `pingEvery` parts.
    static func stream(_ parts: [Message], pingEvery: Int = 5) throws -> (server: Connection, wire: [UInt8]) {
        var pair = ConnectionPair(client: .init(socketType: .dealer), server: .init(socketType: .router))
        pair.drive()
        var index = 0
        for part in parts {
            try pair.client.send(part)
            index += 1
            if index % pingEvery == 0, !part.more {
                try pair.client.send(.ping(ttl: 0, context: [9, 9]))
            }
        }
        try pair.client.send(.subscribe(topic: [7]))
        try pair.client.send(Message(string: "after the command"))
        var wire: [UInt8] = []
        pair.client.pollTransmit(into: &wire)
        return (pair.server, wire)
    }

    /// A mix of sizes around every boundary of the fast path: inline, chunked, own buffer,
    /// large (received in pieces), multipart and empty parts.
    static let parts: [Message] = {
        let sizes = [0, 1, 31, 32, 33, 64, 255, 256, 1000, FrameDecoder.chunkedBodyLimit, FrameDecoder.chunkedBodyLimit + 1, 70_000, 64, 3]
        return sizes.enumerated().map { index, size in
            Message((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) }, more: index % 3 == 1)
        } + [Message(string: "last")]
    }()

    /// What arrives: message parts and other events, in order.
    enum Arrival: Equatable {
        case part(Message)
        case other(String)
    }

    static func arrival(_ event: ConnectionEvent) -> Arrival {
        if case .message(let message) = event { return .part(message) }
        return .other("\(event)")
    }

    /// Feeds `wire` cut at `cuts`, taking parts in place and refusing the ones `refuse` picks,
    /// then reading what the core kept through nextEvent() before the next read (as an engine
    /// does).
    /// With `resume`, what the core buffered is taken in place too before each `nextEvent()`
    /// (``Connection/deliverBuffered(_:)``), as the engine does.
    static func receiveInPlace(_ connection: Connection, _ wire: [UInt8], cuts: [Int], resume: Bool = true,
                               refuse: (Int) -> Bool) -> [Arrival] {
        var connection = connection
        var arrivals: [Arrival] = []
        var offered = 0
        func take(_ message: Message) -> Bool {
            offered += 1
            if refuse(offered) { return false }
            arrivals.append(.part(message))
            return true
        }
        var start = 0
        for end in cuts + [wire.count] where end > start {
            wire[start..<end].withUnsafeBytes { raw in
                connection.receive(raw, now: .zero, delivering: take)
            }
            while true {
                if resume { connection.deliverBuffered(take) }
                guard let event = connection.nextEvent() else { break }
                arrivals.append(arrival(event))
            }
            start = end
        }
        #expect(connection.error == nil)
        return arrivals
    }

    static func receiveBuffered(_ connection: Connection, _ wire: [UInt8]) -> [Arrival] {
        var connection = connection
        var arrivals: [Arrival] = []
        connection.receive(wire, now: .zero)
        while let event = connection.nextEvent() { arrivals.append(arrival(event)) }
        return arrivals
    }

    @Test("Every cut of the stream into two reads gives the parts and events of the buffered path, in order")
    func everyCut() throws {
        let (server, wire) = try Self.stream(Self.parts)
        let expected = Self.receiveBuffered(server, wire)
        #expect(expected.count == Self.parts.count + 2)
        #expect(expected.contains(.other("\(ConnectionEvent.subscribe(topic: [7]))")))
        // Every cut near a frame boundary, and a sample of the others (the stream is ~100 KB).
        var cuts = Set(stride(from: 0, through: wire.count, by: 997))
        var offset = 0
        for part in Self.parts {
            for delta in -3...3 { cuts.insert(max(0, min(wire.count, offset + delta))) }
            offset += part.count + (part.count > 255 ? 9 : 2)
        }
        for cut in cuts.sorted() {
            let arrivals = Self.receiveInPlace(server, wire, cuts: [cut], refuse: { _ in false })
            #expect(arrivals == expected, "cut at \(cut)")
        }
    }

    @Test("Reads of a few bytes each, and a refusal at any part, lose and reorder nothing")
    func smallReadsAndRefusals() throws {
        let (server, wire) = try Self.stream(Self.parts)
        let expected = Self.receiveBuffered(server, wire)
        for step in [1, 2, 7, 66, 4096] {
            let cuts = Array(stride(from: step, to: wire.count, by: step))
            #expect(Self.receiveInPlace(server, wire, cuts: cuts, refuse: { _ in false }) == expected, "reads of \(step)")
        }
        for refused in 1...Self.parts.count {
            for resume in [false, true] {
                let arrivals = Self.receiveInPlace(server, wire, cuts: [wire.count / 3], resume: resume, refuse: { $0 == refused })
                #expect(arrivals == expected, "refusing part \(refused), resuming in place: \(resume)")
            }
        }
        // Refusing every third part offered, in reads of 100 bytes.
        let cuts = Array(stride(from: 100, to: wire.count, by: 100))
        #expect(Self.receiveInPlace(server, wire, cuts: cuts, refuse: { $0 % 3 == 0 }) == expected)
    }

    @Test("A PING in the stream is answered while parts are taken in place")
    func pingAnswered() throws {
        var (server, wire) = try Self.stream([Message(string: "a"), Message(string: "b")], pingEvery: 1)
        wire.withUnsafeBytes { raw in server.receive(raw, now: .zero) { _ in true } }
        var out: [UInt8] = []
        server.pollTransmit(into: &out)
        // A PONG command frame: flags 0x04, size, "\u{4}PONG" and the PING's context.
        let pong: [UInt8] = [0x04, 7, 4] + Array("PONG".utf8) + [9, 9]
        #expect(out.starts(with: pong) || out.indices.contains { out[$0...].starts(with: pong) })
    }

    @Test("Bodies that arrive whole in one read share one receive chunk, sized by the input")
    func chunkSharing() throws {
        let parts = (0..<10).map { Message([UInt8](repeating: UInt8($0), count: 100)) }
        var (server, wire) = try Self.stream(parts, pingEvery: 1_000)
        var received: [Message] = []
        wire.withUnsafeBytes { raw in server.receive(raw, now: .zero) { received.append($0); return true } }
        #expect(received.map(\.bytes) == parts.map(\.bytes))
        let owners = Set(received.map { ObjectIdentifier($0.owner!) })
        #expect(owners.count == 1, "ten 100-byte bodies from one read in \(owners.count) chunks")
        // The chunk is sized by the input, not by the chunk capacity.
        let chunk = try #require(received.first?.owner as? MessageBuffer)
        #expect(chunk.capacity < wire.count + 64)
    }

    @Test("A malformed frame after good ones ends the connection with a typed error; the good ones arrive")
    func malformedAfterGood() throws {
        var (server, wire) = try Self.stream([Message(string: "a"), Message(string: "b")], pingEvery: 1_000)
        wire += [0xF8, 0x01, 0x00]  // reserved flag bits
        var received: [Message] = []
        wire.withUnsafeBytes { raw in server.receive(raw, now: .zero) { received.append($0); return true } }
        // The SUBSCRIBE command's event stops the fast path; the rest comes from nextEvent().
        while let event = server.nextEvent() {
            if case .message(let message) = event { received.append(message) }
        }
        #expect(received.map(\.string) == ["a", "b", "after the command"])
        #expect(server.error?.code == .malformedFrame)
        // And straight from the fast path, with nothing before the bad frame to stop it.
        var (other, plain) = try Self.stream([Message(string: "c")], pingEvery: 1_000)
        plain = Array(plain[..<3]) + [0xF8, 0x01, 0x00]  // "c" is the first frame: flags, size, body
        var first: [Message] = []
        plain.withUnsafeBytes { raw in other.receive(raw, now: .zero) { first.append($0); return true } }
        #expect(first.map(\.string) == ["c"])
        #expect(other.error?.code == .malformedFrame)
    }
}
