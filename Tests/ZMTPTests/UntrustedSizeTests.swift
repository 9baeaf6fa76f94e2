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
}
