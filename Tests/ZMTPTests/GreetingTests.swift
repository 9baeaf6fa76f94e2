import Testing
@testable import ZMTP

/// A 64-byte greeting built by hand from RFC 23 §Greeting, not by the code under test.
private func greetingBytes(padding: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 1], major: UInt8 = 3, minor: UInt8 = 1,
                           mechanism: String = "NULL", asServer: UInt8 = 0, filler: UInt8 = 0) -> [UInt8] {
    var field = ascii(mechanism)
    field += [UInt8](repeating: 0, count: 20 - field.count)
    return [0xFF] + padding + [0x7F, major, minor] + field + [asServer] + [UInt8](repeating: filler, count: 31)
}

private func detect(_ bytes: [UInt8]) -> Result<GreetingDetection, ZMTPError> {
    Result { () throws(ZMTPError) in try Greeting.detect(bytes) }
}

@Suite("Greeting")
struct GreetingTests {
    // MARK: Encoding

    @Test("our NULL greeting is libzmq's, byte for byte")
    func nullGreetingBytes() {
        let encoded = Greeting(mechanism: .null).encoded()
        #expect(encoded == greetingBytes())
        #expect(encoded.count == Greeting.size)
        // libzmq 4.3.4 capture (libzmq.md §2.11): signature, then 03 01 'NULL'+16×00 + 32×00.
        let capture: [UInt8] = [0xFF, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x7F] + [0x03, 0x01] + ascii("NULL")
            + [UInt8](repeating: 0, count: 16) + [UInt8](repeating: 0, count: 32)
        #expect(encoded == capture)
    }

    @Test("as-server, minor and mechanism land at offsets 32, 11 and 12")
    func fieldOffsets() {
        let encoded = Greeting(minor: 0, mechanism: .curve, asServer: true).encoded()
        #expect(encoded == greetingBytes(minor: 0, mechanism: "CURVE", asServer: 1))
    }

    @Test("encoded() is 64 bytes even when the raw mechanism field is the wrong length")
    func encodedAlways64() {
        var greeting = Greeting(mechanism: .plain)
        greeting.mechanism = ascii("XY")
        #expect(greeting.encoded() == greetingBytes(mechanism: "XY"))
        greeting.mechanism = [UInt8](repeating: 0x41, count: 25)
        let encoded = greeting.encoded()
        #expect(encoded.count == 64)
        #expect(Array(encoded[12..<32]) == [UInt8](repeating: 0x41, count: 20))
        #expect(encoded[32] == 0)
    }

    @Test("the signature is FF, identity length + 1 as uint64 BE, 7F")
    func signature() {
        #expect(Greeting.signature(identityLength: 0) == [0xFF, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x7F])
        #expect(Greeting.signature(identityLength: 3) == [0xFF] + be64(4) + [0x7F])
        #expect(Greeting.signature(identityLength: 300) == [0xFF, 0, 0, 0, 0, 0, 0, 0x01, 0x2D, 0x7F])
    }

    @Test("mechanismName recognises exactly the NUL-padded names", arguments: MechanismName.allCases)
    func mechanismNames(_ name: MechanismName) throws {
        let detection = try Greeting.detect(greetingBytes(mechanism: name.rawValue))
        #expect(detection == .zmtp3(Greeting(mechanism: name)))
        #expect(Greeting(mechanism: name).mechanismName == name)
    }

    // MARK: Detection stages

    @Test("a ZMTP 3.x greeting is decided in stages: 1, 10, 11, then 64 bytes")
    func stagedDetection() {
        let full = greetingBytes()
        #expect(detect([]).success == .needMore(total: 1))
        #expect(detect([0xFF]).success == .needMore(total: 10))
        #expect(detect(Array(full[..<9])).success == .needMore(total: 10))
        #expect(detect(Array(full[..<10])).success == .needMore(total: 11))
        #expect(detect(Array(full[..<11])).success == .needMore(total: 64))
        #expect(detect(Array(full[..<63])).success == .needMore(total: 64))
        #expect(detect(full).success == .zmtp3(Greeting(mechanism: .null)))
        // Bytes after the greeting (the READY that follows) change nothing.
        #expect(detect(full + [0x04, 0x19, 0x05]).success == .zmtp3(Greeting(mechanism: .null)))
    }

    @Test("every prefix asks for more than it has, until it decides", arguments: [greetingBytes(), greetingBytes(major: 1, minor: 5)])
    func prefixesProgress(_ full: [UInt8]) {
        var decided = false
        for n in 0...full.count {
            switch detect(Array(full[..<n])) {
            case .success(.needMore(let total)):
                #expect(!decided)
                #expect(total > n)
            case .success:
                decided = true
            case .failure(let error):
                Issue.record("unexpected \(error)")
            }
        }
        #expect(decided)
    }

    @Test("an unversioned ZMTP 1.0 peer is recognised from its first byte")
    func unversionedShort() {
        // libzmq.md §2.11: ZMTP 1.0 client sends identity frame 04 00 'JIM'.
        #expect(detect([0x04, 0x00] + ascii("JIM")).success == .zmtp1Unversioned)
        #expect(detect([0x04]).success == .zmtp1Unversioned)
        #expect(detect([0x00]).success == .zmtp1Unversioned)
    }

    @Test("an unversioned ZMTP 1.0 peer with a long identity: octet 9 bit 0 clear")
    func unversionedLong() {
        #expect(detect([0xFF] + be64(301) + [0x00]).success == .zmtp1Unversioned)
        #expect(detect([0xFF] + be64(301) + [0x00] + body(300)).success == .zmtp1Unversioned)
        #expect(detect([0xFF] + be64(301) + [0x7E]).success == .zmtp1Unversioned)
    }

    @Test("versioned 1.0 and 2.0 peers: 12 bytes of signature, revision and socket type")
    func versionedLegacy() {
        // ZMTP 2.0 DEALER (socket type 5), libzmq.md §2.11.
        let v2 = [0xFF] + be64(1) + [0x7F, 0x01, 0x05]
        #expect(detect(Array(v2[..<11])).success == .needMore(total: 12))
        #expect(detect(v2).success == .versioned(revision: 1, socketType: 5))
        #expect(detect(v2 + [0x00, 0x03] + ascii("BOB")).success == .versioned(revision: 1, socketType: 5))
        #expect(detect([0xFF] + be64(1) + [0x7F, 0x00, 0x06]).success == .versioned(revision: 0, socketType: 6))
    }

    @Test("revision 2 is refused: RFC 37 and libzmq disagree on what it means")
    func revisionTwo() {
        let result = detect([0xFF] + be64(1) + [0x7F, 0x02])
        #expect(result.failure?.code == .malformedGreeting)
        #expect(result.failure?.blame == .peerMisbehaved)
        #expect(detect(greetingBytes(major: 2)).failure?.code == .malformedGreeting)
    }

    @Test("revisions above 3 are accepted as 3.x; only 3.0 exactly is ZMTP 3.0")
    func higherRevisions() throws {
        guard case .zmtp3(let v4) = try Greeting.detect(greetingBytes(major: 4, minor: 0)) else {
            Issue.record("major 4 not accepted")
            return
        }
        #expect(v4.major == 4 && v4.minor == 0)
        #expect(!v4.isZMTP30)
        guard case .zmtp3(let v30) = try Greeting.detect(greetingBytes(minor: 0)) else {
            Issue.record("3.0 not accepted")
            return
        }
        #expect(v30.isZMTP30)
        #expect(!Greeting(mechanism: .null).isZMTP30)
    }

    @Test("padding and filler are not validated")
    func paddingAndFillerIgnored() throws {
        let odd = try Greeting.detect(greetingBytes(padding: [0xDE, 0xAD, 0xBE, 0xEF, 0x00, 0xFF, 0x80, 0x01], filler: 0x5A))
        #expect(odd == .zmtp3(Greeting(mechanism: .null)))
        let zeros = try Greeting.detect(greetingBytes(padding: [0, 0, 0, 0, 0, 0, 0, 0]))
        #expect(zeros == .zmtp3(Greeting(mechanism: .null)))
    }

    @Test("an unknown or non-ASCII mechanism field is returned raw")
    func rawMechanism() throws {
        guard case .zmtp3(let gssapi) = try Greeting.detect(greetingBytes(mechanism: "GSSAPI")) else {
            Issue.record("not decided")
            return
        }
        #expect(gssapi.mechanismName == nil)
        #expect(gssapi.mechanism == ascii("GSSAPI") + [UInt8](repeating: 0, count: 14))
        var bytes = greetingBytes()
        bytes[16] = 0xC3   // "NULL" followed by a non-NUL, non-ASCII byte
        guard case .zmtp3(let odd) = try Greeting.detect(bytes) else {
            Issue.record("not decided")
            return
        }
        #expect(odd.mechanismName == nil)
        #expect(odd.mechanism[4] == 0xC3)
    }

    @Test("as-server is read as set when non-zero")
    func asServer() throws {
        guard case .zmtp3(let server) = try Greeting.detect(greetingBytes(mechanism: "CURVE", asServer: 1)) else {
            Issue.record("not decided")
            return
        }
        #expect(server.asServer)
        #expect(server == Greeting(mechanism: .curve, asServer: true))
    }
}

extension Result {
    /// The value, if this is a success.
    var success: Success? {
        switch self {
        case .success(let value): return value
        case .failure: return nil
        }
    }
}
