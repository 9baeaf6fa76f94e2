import Testing
import ZMTP

/// A frame's declared size is the peer's word: with no ZMQ_MAXMSGSIZE, a peer may declare 2^50
/// octets, and the decoder must give room only in proportion to what actually arrives (an
/// allocation of the declared size would end the process: a remote crash with one header).
@Suite("Untrusted frame sizes")
struct UntrustedSizeTests {
    /// A ZMTP 3.x long frame header declaring `size` octets.
    static func header(_ size: UInt64) -> [UInt8] {
        [0x02] + (0..<8).reversed().map { UInt8(truncatingIfNeeded: size >> ($0 * 8)) }
    }

    @Test("A huge declared size gets room in proportion to what arrived: decoded in chunks, then read in place",
          arguments: [1 << 50, (1 << 62) + 5])
    func hugeDeclaration(declared: UInt64) throws {
        var decoder = FrameDecoder(version: .zmtp3)
        let body = [UInt8](repeating: 0x5A, count: 1_536 * 1024)
        let whole = Self.header(declared) + body
        // Fed in the chunks a socket read would give: through decode and fillLargeBody.
        let outcome = decode(stride(from: 0, to: whole.count, by: 65_536).map { whole[$0..<min($0 + 65_536, whole.count)] },
                             with: &decoder)
        #expect(outcome.frames.isEmpty && outcome.error == nil && outcome.pending)
        #expect(decoder.largeBodyRemaining == Int(declared) - body.count)

        // The zero-copy path: the driver reads straight into the body's free room, which is
        // never more than what the growth factor allows.
        var arrived = body.count
        for _ in 0..<4 {
            _ = decoder.readLargeBody { room in
                #expect(room.count <= FrameDecoder.growthFactor * arrived, "room for \(room.count) after \(arrived) arrived")
                room.initializeMemory(as: UInt8.self, repeating: 0x33)
                arrived += room.count
                return room.count
            }
        }
        #expect(decoder.largeBodyRemaining == Int(declared) - arrived)
    }

    /// Feeds `wire` in `chunk`-octet reads to a decoder whose room starts at `limit` and is
    /// raised by `raise` octets each time the decoder waits for it: what a budgeting driver does.
    static func decodeWithRoom(_ wire: [UInt8], chunk: Int, limit: Int, raise: Int) throws -> (frames: [Frame], waits: Int, peakRoom: Int) {
        var decoder = FrameDecoder(version: .zmtp3)
        decoder.bodyRoomLimit = limit
        var frames: [Frame] = []
        var waits = 0
        var peakRoom = 0
        var offset = 0
        var pending: ArraySlice<UInt8> = []
        while offset < wire.count || !pending.isEmpty {
            if pending.isEmpty {
                pending = wire[offset..<min(offset + chunk, wire.count)]
                offset += pending.count
            }
            let (frame, used) = try decoder.decode(pending)
            pending = pending.dropFirst(used)
            peakRoom = max(peakRoom, decoder.bodyRoom)
            #expect(decoder.bodyRoom <= decoder.bodyRoomLimit, "room \(decoder.bodyRoom) over the limit \(decoder.bodyRoomLimit)")
            if let frame { frames.append(frame); continue }
            if let awaiting = decoder.bodyAwaitingRoom {
                #expect(used == 0 || !pending.isEmpty || decoder.bodyRoom == decoder.bodyRoomLimit)
                #expect(awaiting > decoder.bodyRoomLimit)
                waits += 1
                decoder.bodyRoomLimit += raise
            } else {
                #expect(pending.isEmpty, "no frame, no wait for room, and \(pending.count) octets left")
            }
        }
        return (frames, waits, peakRoom)
    }

    @Test("A body never takes more room than the driver allows; it waits for more and then completes unchanged",
          arguments: [1, 1_000, 65_536])
    func roomLimit(chunk: Int) throws {
        let body = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let wire = Self.header(UInt64(body.count)) + body + [0x00, 0x01, 0x2A]
        let limited = try Self.decodeWithRoom(wire, chunk: chunk, limit: 10_000, raise: 100_000)
        #expect(limited.waits == 3)
        #expect(limited.peakRoom <= 300_000)
        #expect(limited.frames.count == 2)
        guard limited.frames.count == 2, case .message(let big) = limited.frames[0], case .message(let small) = limited.frames[1] else { return }
        #expect(big.bytes == body)
        #expect(small.bytes == [0x2A])
    }

    @Test("With no room at all, a large body cut by a read waits at its header and its octets stay with the caller")
    func zeroRoom() throws {
        var decoder = FrameDecoder(version: .zmtp3)
        decoder.bodyRoomLimit = 0
        let wire = Self.header(100) + [UInt8](repeating: 9, count: 100)
        // A body that arrives whole in one read is built straight from it and needs no room;
        // one cut by the end of the read does.
        let (frame, used) = try decoder.decode(wire[..<60])
        #expect(frame == nil && used == 9)
        #expect(decoder.bodyAwaitingRoom == 100)
        #expect(decoder.readLargeBody { _ in Issue.record("room offered past the limit"); return 0 } == nil)
        decoder.bodyRoomLimit = 100
        #expect(decoder.bodyAwaitingRoom == nil)
        let (again, usedAgain) = try decoder.decode(wire[9...])
        #expect(usedAgain == 100)
        #expect(again.map { if case .message(let m) = $0 { return m.bytes == [UInt8](repeating: 9, count: 100) }; return false } == true)
    }
}
