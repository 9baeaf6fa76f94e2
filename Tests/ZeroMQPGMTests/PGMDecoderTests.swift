import Testing
import ZMTP
import ZeroMQPGM

/// Message sets for the round trips.
struct RoundTrip: Sendable, CustomTestStringConvertible {
    var name: String
    var parts: [Message]
    var testDescription: String { name }
}

let roundTrips: [RoundTrip] = [
    .init(name: "single part", parts: [part("hello")]),
    .init(name: "empty message", parts: [part("")]),
    .init(name: "multipart with an empty part", parts: [part("topic", more: true), part("", more: true), part("payload-2")]),
    .init(name: "3000-octet message", parts: [filled(0x58, 3000)]),
    .init(name: "length boundaries 253, 254, 255", parts: [filled(1, 253), filled(2, 254), filled(3, 255)]),
    .init(name: "100 small messages", parts: (0..<100).map { part("m\($0)") }),
    .init(name: "large multipart then small", parts: [filled(7, 5000, more: true), filled(8, 1), part("next")]),
    .init(name: "empty parts only", parts: [part("", more: true), part("", more: true), part("")]),
]

@Suite("PGMDecoder")
struct PGMDecoderTests {
    // MARK: Round trips

    @Test("encoder → decoder returns every message whole, at any TSDU size", arguments: roundTrips)
    func roundTrip(_ trip: RoundTrip) throws {
        for tsdu in [3, 7, 64, 1428, 8928] {
            let apdus = try encode(trip.parts, tsdu: tsdu)
            var decoder = PGMDecoder()
            let got = decodeAll(apdus, decoder: &decoder)
            #expect(got == messages(trip.parts), "TSDU \(tsdu)")
            #expect(decoder.statistics.deliveredMessages == messages(trip.parts).count)
            #expect(decoder.statistics.droppedMessages == 0 && decoder.statistics.lostAPDUs == 0)
        }
    }

    @Test("libzmq's captured APDUs decode to the messages libzmq sent")
    func capturedAPDUs() throws {
        let vectors = try loadAPDUVectors()
        var decoder = PGMDecoder()
        var sequence: UInt32 = 0
        for vector in vectors.cases {
            let got = decodeAll(vector.apdus, decoder: &decoder, firstSequence: sequence)
            sequence &+= UInt32(vector.apdus.count)
            #expect(got == messages(vector.parts), "\(vector.name)")
        }
        #expect(decoder.statistics.apdus == 7)
        #expect(decoder.statistics.deliveredMessages == 7)
    }

    @Test("sequence numbers wrap around without a gap")
    func sequenceWraparound() throws {
        let parts = (0..<20).map { part("wrap \($0)") }
        let apdus = try encode(parts, tsdu: 12)
        var decoder = PGMDecoder()
        #expect(decodeAll(apdus, decoder: &decoder, firstSequence: UInt32.max - 3) == messages(parts))
        #expect(decoder.statistics.sequenceGaps == 0)
    }

    @Test("parts come out one at a time, and only parts of whole messages")
    func partsOneAtATime() throws {
        let apdus = try encode([part("a", more: true), part("b"), part("c")], tsdu: 5)
        var decoder = PGMDecoder()
        try decoder.receive(apdus[0], sequence: 0)
        let early = decoder.nextPart()
        #expect(early == nil)   // "a" is held until "b" arrives
        for (index, apdu) in apdus.enumerated().dropFirst() { try decoder.receive(apdu, sequence: UInt32(index)) }
        var pulled: [Message] = []
        while let next = decoder.nextPart() { pulled.append(next) }
        #expect(pulled == [part("a", more: true), part("b"), part("c")])
        #expect(!decoder.hasReadyParts)
    }

    // MARK: Late join

    @Test("a late joiner skips the continuation and starts at the offset")
    func lateJoin() throws {
        // APDU 0: offset 0, the big message starts; 1: all continuation (FFFF); 2: its tail, then
        // "second" and "third" at offset 158.
        let parts = [filled(0x58, 3000), part("second"), part("third")]
        let apdus = try encode(parts, tsdu: 1428)
        #expect(apdus.count == 3 && apdus[1][0] == 0xFF && apdus[1][1] == 0xFF)

        var fromMiddle = PGMDecoder()
        #expect(decodeAll(Array(apdus[1...]), decoder: &fromMiddle, firstSequence: 41) == [[part("second")], [part("third")]])
        #expect(fromMiddle.statistics.skippedAPDUs == 1)
        #expect(fromMiddle.statistics.droppedMessages == 0)

        var fromTail = PGMDecoder()
        #expect(decodeAll([apdus[2]], decoder: &fromTail, firstSequence: 7) == [[part("second")], [part("third")]])
        #expect(fromTail.isJoined)
    }

    @Test("a late joiner waits past an APDU whose offset is the stream length (nothing starts there)")
    func lateJoinAtStreamEnd() throws {
        let apdus = try encode([filled(0x61, 10)], tsdu: 10)   // APDU 1 is 00 04 + 4 continuation octets
        var decoder = PGMDecoder()
        #expect(decodeAll([apdus[1]], decoder: &decoder).isEmpty)
        #expect(!decoder.isJoined)
        #expect(decoder.statistics.skippedAPDUs == 1)
        var encoder = try PGMEncoder(maxTSDUSize: 10)
        let next = encode([part("ok")], into: &encoder)
        #expect(decodeAll(next, decoder: &decoder, firstSequence: 1) == [[part("ok")]])
    }

    @Test("a late joiner in the middle of a multipart message gets the next message only")
    func lateJoinInMultipart() throws {
        let parts = [filled(1, 20, more: true), filled(2, 20, more: true), filled(3, 20), part("after")]
        let apdus = try encode(parts, tsdu: 16)
        // The last APDU whose offset names a message start inside it is where "after" begins.
        let afterStart = try #require(apdus.lastIndex { apdu in
            let offset = Int(apdu[0]) << 8 | Int(apdu[1])
            return offset < apdu.count - 2
        })
        #expect(afterStart > 1)
        for start in 1..<apdus.count {
            var decoder = PGMDecoder()
            let got = decodeAll(Array(apdus[start...]), decoder: &decoder, firstSequence: UInt32(start))
            #expect(got == (start <= afterStart ? [[part("after")]] : []), "joined at APDU \(start)")
        }
    }

    // MARK: Loss

    @Test("a lost APDU inside a multipart message loses that message, counted; the next is whole")
    func lossInMultipart() throws {
        let before = [part("before")]
        let multipart = [filled(1, 600, more: true), filled(2, 600, more: true), filled(3, 600)]
        let after = [part("after", more: true), part("end")]
        let apdus = try encode(before + multipart + after, tsdu: 256)
        // The multipart message spans APDUs 0 (after "before") to 7; drop APDU 3.
        var decoder = PGMDecoder()
        var errors: [PGMError] = []
        var got: [[Message]] = []
        for (index, apdu) in apdus.enumerated() where index != 3 {
            do throws(PGMError) {
                try decoder.receive(apdu, sequence: UInt32(index))
            } catch {
                errors.append(error)
            }
            while let message = decoder.nextMessage() { got.append(message) }
        }
        #expect(errors.isEmpty)
        #expect(got == [before, after])
        #expect(decoder.statistics.lostAPDUs == 1)
        #expect(decoder.statistics.sequenceGaps == 1)
        #expect(decoder.statistics.droppedMessages == 1)
        // libpgm's RESET for the same hole comes later: it must not drop anything more.
        decoder.handleReset()
        #expect(decoder.statistics.droppedMessages == 1)
    }

    @Test("loss never yields a misframed message, wherever the hole is")
    func lossAnywhere() throws {
        var parts: [Message] = []
        for index in 0..<40 {
            if index % 3 == 0 {
                parts.append(filled(UInt8(index), 90, more: true))
                parts.append(part("tail \(index)"))
            } else {
                parts.append(filled(UInt8(index), 17 * index))
            }
        }
        let sent = messages(parts)
        let apdus = try encode(parts, tsdu: 64)
        for hole in 0..<apdus.count {
            var decoder = PGMDecoder()
            var errors: [PGMError] = []
            var got: [[Message]] = []
            for (index, apdu) in apdus.enumerated() where index != hole {
                do throws(PGMError) { try decoder.receive(apdu, sequence: UInt32(index)) } catch { errors.append(error) }
                while let message = decoder.nextMessage() { got.append(message) }
            }
            #expect(errors.isEmpty, "hole \(hole)")
            // Everything delivered was sent, in order, and whole.
            var cursor = sent.startIndex
            for message in got {
                guard let found = sent[cursor...].firstIndex(of: message) else {
                    Issue.record("hole \(hole): \(message) was never sent")
                    break
                }
                cursor = found + 1
            }
            #expect(got.count < sent.count, "hole \(hole) lost nothing?")
            #expect(got.count + decoder.statistics.droppedMessages <= sent.count)
        }
    }

    @Test("a RESET with no gap seen drops the partial message and resynchronises")
    func resetWithoutGap() throws {
        let apdus = try encode([filled(9, 40), part("next")], tsdu: 16)
        var decoder = PGMDecoder()
        try decoder.receive(apdus[0], sequence: 0)    // the 40-octet message has started
        decoder.handleReset()
        #expect(!decoder.isJoined)
        #expect(decoder.statistics.droppedMessages == 1)
        #expect(decoder.statistics.resets == 1)
        let got = decodeAll(Array(apdus[1...]), decoder: &decoder, firstSequence: 1)
        #expect(got == [[part("next")]])
    }

    @Test("a sequence number that repeats or steps back is a discontinuity, not a count of lost APDUs")
    func sequenceStepBack() throws {
        let apdus = try encode([part("a"), part("b")], tsdu: 5)
        var decoder = PGMDecoder()
        try decoder.receive(apdus[0], sequence: 10)
        try decoder.receive(apdus[1], sequence: 10)
        #expect(decoder.statistics.sequenceGaps == 1)
        #expect(decoder.statistics.lostAPDUs == 0)
    }

    // MARK: Malformed APDUs

    @Test("malformed APDUs are typed peer errors, and the source resynchronises", arguments: [
        ("no offset", [0x00], PGMError.Code.truncatedAPDU),
        ("empty", [], PGMError.Code.truncatedAPDU),
        ("offset past the stream", [0x00, 0x05, 0x02, 0x00, 0x61], PGMError.Code.offsetOutOfRange),
        ("ZMTP/1.0 length 0", [0x00, 0x00, 0x00, 0x00], PGMError.Code.malformedFrame),
        ("escaped length 0", [0x00, 0x00, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0x00], PGMError.Code.malformedFrame),
        ("frame over the limit, refused from its header", [0x00, 0x00, 0x15, 0x00], PGMError.Code.messageTooLarge),
        ("escaped frame of 2^62 octets", [0x00, 0x00, 0xFF, 0x40, 0, 0, 0, 0, 0, 0, 0, 0x00], PGMError.Code.messageTooLarge),
        ("too many parts", [0x00, 0x00, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01], PGMError.Code.tooManyParts),
    ] as [(String, [UInt8], PGMError.Code)])
    func malformed(_ name: String, _ apdu: [UInt8], _ code: PGMError.Code) throws {
        var decoder = PGMDecoder(limits: .init(maxMessageSize: 16, maxPartsPerMessage: 3))
        #expect(decodeAll([[0x00, 0x00, 0x02, 0x00, 0x61]], decoder: &decoder) == [[part("a")]])
        do {
            try decoder.receive(apdu, sequence: 1)
            Issue.record("\(name) accepted")
        } catch {
            #expect(error.code == code, "\(name): \(error)")
            #expect(error.blame == .peerMisbehaved)
            #expect(error.zmtpError.code.rawValue == code.rawValue)
        }
        #expect(!decoder.isJoined)
        #expect(decoder.statistics.malformedAPDUs == 1)
        // A continuation is skipped, then the next message start is joined.
        #expect(decodeAll([[0xFF, 0xFF, 0x61], [0x00, 0x00, 0x02, 0x00, 0x62]], decoder: &decoder, firstSequence: 2) == [[part("b")]])
    }

    @Test("while joined, an offset that disagrees with the framing is an error, not misframed data")
    func offsetMismatch() throws {
        var decoder = PGMDecoder()
        try decoder.receive([0x00, 0x00, 0x02, 0x00, 0x61], sequence: 0)
        // The stream is at a message start, so the offset must be 0.
        #expect(throws: PGMError.self) { try decoder.receive([0x00, 0x01, 0x02, 0x00, 0x62], sequence: 1) }
        let first = decoder.nextMessage()
        let second = decoder.nextMessage()
        #expect(first == [part("a")])
        #expect(second == nil)

        // Mid-message, FFFF or the true start are fine; a start the framing does not see is not.
        var mid = PGMDecoder()
        try mid.receive([0x00, 0x00, 0x05, 0x00, 0x61], sequence: 0)     // 4-octet body, 1 octet here
        do {
            try mid.receive([0x00, 0x01, 0x61, 0x61, 0x61], sequence: 1) // completes at 3, offset says 1
            Issue.record("accepted")
        } catch {
            #expect(error.code == .offsetMismatch)
        }
        let none = mid.nextMessage()
        #expect(none == nil)
        #expect(mid.statistics.droppedMessages == 1)

        var claims = PGMDecoder()
        try claims.receive([0x00, 0x00, 0x09, 0x00, 0x61], sequence: 0)  // 8-octet body
        #expect(throws: PGMError.self) { try claims.receive([0x00, 0x02, 0x61, 0x61], sequence: 1) }
    }

    @Test("a frame over the limit is refused before its body arrives, across APDUs too")
    func limitBeforeBody() throws {
        let apdus = try encode([filled(0x41, 300), part("small")], tsdu: 7)
        var decoder = PGMDecoder(limits: .init(maxMessageSize: 100))
        var errors: [PGMError] = []
        let got = feed(apdus, to: &decoder, errors: &errors)
        #expect(errors.first?.code == .messageTooLarge)
        #expect(errors.count == 1)
        #expect(got == [[part("small")]])
    }

    @Test("random APDUs only ever yield whole messages or peer errors")
    func randomInput() {
        var state: UInt64 = 0x1234_5678
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            return z ^ (z >> 27)
        }
        var decoder = PGMDecoder(limits: .init(maxMessageSize: 64, maxPartsPerMessage: 8))
        for sequence in 0..<5000 {
            let count = Int(next() % 24)
            var apdu = (0..<count).map { _ in UInt8(truncatingIfNeeded: next() % 4 == 0 ? 0 : next()) }
            if count >= 2, next() % 2 == 0 { apdu[0] = 0; apdu[1] = UInt8(next() % UInt64(count)) }
            do throws(PGMError) {
                try decoder.receive(apdu, sequence: UInt32(sequence) &+ (next() % 16 == 0 ? 1 : 0))
            } catch {
                #expect(error.blame == .peerMisbehaved)
            }
            while let message = decoder.nextMessage() {
                #expect(message.last?.more == false)
                let partsBeforeLast = message.dropLast()
                #expect(partsBeforeLast.allSatisfy { $0.more })
                #expect(message.count <= 8 && message.allSatisfy { $0.count <= 64 })
            }
        }
        #expect(decoder.statistics.apdus == 5000)
    }
}
