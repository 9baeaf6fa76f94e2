import Testing
import ZeroMQPGM

@Suite("PGMOptions")
struct PGMOptionsTests {
    @Test("libzmq's defaults: RATE 100, RECOVERY_IVL 10 s, MAXTPDU 1500, HOPS 1")
    func defaults() throws {
        let options = PGMOptions()
        #expect(options.rate == 100 && options.recoveryInterval == 10_000 && options.maxTPDU == 1500 && options.hops == 1)
        try options.validate()
        #expect(try options.rateBytesPerSecond == 12_500)
        #expect(try options.windowSequences == 80)
    }

    @Test("window sizes traced from libzmq 4.3.4 (NOTES.md §5)", arguments: [
        (100, 10_000, 1500, 80),
        (1000, 10_000, 1500, 833),
        (10_000, 10_000, 1500, 8333),
        (100_000, 2000, 9000, 2777),
    ])
    func tracedWindows(_ rate: Int, _ recovery: Int, _ tpdu: Int, _ sqns: Int) throws {
        #expect(try PGMOptions.windowSequences(rate: rate, recoveryInterval: recovery, maxTPDU: tpdu) == sqns)
    }

    @Test("rate/8 is truncated before multiplying, and the window is at least one packet")
    func windowRounding() throws {
        // 15/8 = 1 (not 1.875): 1000 ms × 1 / 1500 = 0 → 1.
        #expect(try PGMOptions.windowSequences(rate: 15, recoveryInterval: 1000, maxTPDU: 1500) == 1)
        #expect(try PGMOptions.windowSequences(rate: 100, recoveryInterval: 0, maxTPDU: 1500) == 1)
        // 12 B/ms × 1_000_000 ms / 1500 = 8000 (with 12.5 it would be 8333).
        #expect(try PGMOptions.windowSequences(rate: 100, recoveryInterval: 1_000_000, maxTPDU: 1500) == 8000)
    }

    @Test("RATE kbit/s becomes PGM_ODATA_MAX_RTE bytes/s")
    func rate() throws {
        #expect(try PGMOptions.rateBytesPerSecond(rate: 100) == 12_500)
        #expect(try PGMOptions.rateBytesPerSecond(rate: 100_000) == 12_500_000)
        #expect(try PGMOptions.rateBytesPerSecond(rate: 1) == 125)
        #expect(throws: PGMError.self) { try PGMOptions.rateBytesPerSecond(rate: 0) }
        #expect(throws: PGMError.self) { try PGMOptions.rateBytesPerSecond(rate: Int.max) }
        // 17_179_869 kbit/s is the last that fits libpgm's int.
        #expect(try PGMOptions.rateBytesPerSecond(rate: 17_179_869) <= Int(Int32.max))
        #expect(throws: PGMError.self) { try PGMOptions.rateBytesPerSecond(rate: 17_179_870) }
    }

    @Test("values libzmq or libpgm refuse are typed errors", arguments: [
        PGMOptions(rate: 0), PGMOptions(rate: -1), PGMOptions(recoveryInterval: -1),
        PGMOptions(maxTPDU: 0), PGMOptions(maxTPDU: 74), PGMOptions(maxTPDU: 65_536),
        PGMOptions(hops: 0), PGMOptions(hops: 256),
        PGMOptions(rate: 17_179_869, recoveryInterval: Int.max),
    ])
    func invalid(_ options: PGMOptions) {
        do {
            try options.validate()
            Issue.record("accepted \(options)")
        } catch {
            #expect(error.code == .invalidOption)
            #expect(error.blame == .apiMisuse)
        }
    }

    @Test("the expected IPv4 TSDU: MTU − 72 (epgm), − 64 (pgm)")
    func tsdu() throws {
        #expect(PGMOptions.expectedIPv4TSDUSize(maxTPDU: 1500, scheme: .epgm) == 1428)
        #expect(PGMOptions.expectedIPv4TSDUSize(maxTPDU: 1500, scheme: .pgm) == 1436)
        #expect(PGMOptions.expectedIPv4TSDUSize(maxTPDU: 9000, scheme: .epgm) == 8928)
        try PGMOptions(maxTPDU: PGMOptions.minMaxTPDU).validate()
        _ = try PGMEncoder(maxTSDUSize: PGMOptions.expectedIPv4TSDUSize(maxTPDU: PGMOptions.minMaxTPDU, scheme: .epgm))
    }
}
