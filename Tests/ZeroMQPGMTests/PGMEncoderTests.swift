import Testing
import ZMTP
import ZeroMQPGM

@Suite("PGMEncoder")
struct PGMEncoderTests {
    @Test("produces libzmq's captured APDUs byte for byte, state carried from send to send")
    func capturedAPDUs() throws {
        let vectors = try loadAPDUVectors()
        #expect(vectors.cases.count == 5)
        var encoder = try PGMEncoder(maxTSDUSize: vectors.tsdu)
        for vector in vectors.cases {
            let apdus = encode(vector.parts, into: &encoder)
            #expect(apdus.count == vector.apdus.count, "\(vector.name)")
            for (got, want) in zip(apdus, vector.apdus) {
                #expect(got == want, "\(vector.name): \(got.prefix(16)) vs \(want.prefix(16))")
            }
        }
    }

    @Test("a 253-octet body has a 1-octet length, a 254-octet body the escape (NOTES.md §3)")
    func lengthBoundary() throws {
        let short = try encode([filled(0x42, 253)], tsdu: 1428)
        #expect(Array(short[0].prefix(4)) == [0x00, 0x00, 0xFE, 0x00])
        let long = try encode([filled(0x42, 254)], tsdu: 1428)
        #expect(Array(long[0].prefix(12)) == [0x00, 0x00, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0x00])
    }

    @Test("the offset is FFFF when a message ends exactly at the end of an APDU it did not start in")
    func offsetWhenMessageEndsAtAPDUEnd() throws {
        // TSDU 10: 8 stream octets per APDU. A 14-octet body + 2-octet header = 16 = two full APDUs.
        let apdus = try encode([filled(0x61, 14), part("z")], tsdu: 10)
        #expect(apdus.count == 3)
        #expect(apdus[0] == [0x00, 0x00, 0x0F, 0x00] + [UInt8](repeating: 0x61, count: 6))
        #expect(apdus[1] == [0xFF, 0xFF] + [UInt8](repeating: 0x61, count: 8))
        #expect(apdus[2] == [0x00, 0x00, 0x02, 0x00, 0x7A])
    }

    @Test("the offset equals the stream length when a message ends inside an APDU and nothing follows")
    func offsetAtStreamEnd() throws {
        let apdus = try encode([filled(0x61, 10)], tsdu: 10)
        // 12 frame octets: 8 in the first APDU, 4 in the second, where nothing else starts.
        #expect(apdus.count == 2)
        #expect(apdus[1] == [0x00, 0x04, 0x61, 0x61, 0x61, 0x61])
    }

    @Test("a message start after a continuation gets its position as the offset")
    func offsetAfterContinuation() throws {
        let apdus = try encode([filled(0x61, 10), part("b")], tsdu: 10)
        #expect(apdus[1] == [0x00, 0x04, 0x61, 0x61, 0x61, 0x61, 0x02, 0x00, 0x62])
    }

    @Test("the parts of one message never offer a start between them")
    func multipartOffsets() throws {
        // "aaaa"(MORE) fills the first APDU; "bb" continues the same message: no start in APDU 2
        // until "c", the next message.
        let apdus = try encode([filled(0x61, 6, more: true), part("bb"), part("c")], tsdu: 10)
        #expect(apdus[0] == [0x00, 0x00, 0x07, 0x01] + [UInt8](repeating: 0x61, count: 6))
        #expect(apdus[1] == [0x00, 0x04, 0x03, 0x00, 0x62, 0x62, 0x02, 0x00, 0x63])
    }

    @Test("an escaped header is split across APDUs like any octets")
    func headerSplit() throws {
        let apdus = try encode([filled(0x41, 300)], tsdu: 7)
        #expect(apdus[0] == [0x00, 0x00, 0xFF, 0, 0, 0, 0])
        #expect(apdus[1] == [0xFF, 0xFF, 0, 0, 0x01, 0x2D, 0x00])
        #expect(apdus[2] == [0xFF, 0xFF, 0x41, 0x41, 0x41, 0x41, 0x41])
        #expect(apdus.allSatisfy { $0.count <= 7 })
        #expect(apdus.reduce(0) { $0 + $1.count - 2 } == 310)
    }

    @Test("nothing queued: no APDU; the buffer is cleared and its capacity reused")
    func emptyAndReuse() throws {
        var encoder = try PGMEncoder(maxTSDUSize: 1428)
        var buffer: [UInt8] = [1, 2, 3]
        let wroteNothing = !encoder.nextAPDU(into: &buffer)
        #expect(wroteNothing)
        #expect(buffer.isEmpty)
        encoder.enqueue(part("x"))
        #expect(encoder.pendingParts == 1)
        let wrote = encoder.nextAPDU(into: &buffer)
        #expect(wrote)
        let capacity = buffer.capacity
        #expect(capacity >= 1428)
        for _ in 0..<100 {
            encoder.enqueue(filled(0x55, 2000))
            while encoder.nextAPDU(into: &buffer) { #expect(buffer.count <= 1428) }
        }
        #expect(buffer.capacity == capacity)
        #expect(!encoder.hasPendingData)
    }

    @Test("the TSDU size must leave room for the offset and a stream octet, and fit 16 bits")
    func tsduLimits() {
        #expect(throws: PGMError.self) { try PGMEncoder(maxTSDUSize: 2) }
        #expect(throws: PGMError.self) { try PGMEncoder(maxTSDUSize: 65_536) }
        #expect((try? PGMEncoder(maxTSDUSize: 3)) != nil)
        #expect((try? PGMEncoder(maxTSDUSize: 65_535)) != nil)
    }
}
