import FuzzSupport
import Testing
@_spi(Testing) @testable import ZMTP
import ZMTPSodium

/// The CURVE data phase after a real handshake (RFC 26 §MESSAGE, libzmq's flags byte and nonce rules).
@Suite struct CurveMessageCodecTests {
    @Test(arguments: Provider.allCases)
    func messagesRoundTripBothWaysWithFlags(_ provider: Provider) throws {
        var pair = try CurvePair(provider)
        let (client, server) = try pair.codecs()
        let cases: [(flags: UInt8, payload: [UInt8])] = [
            (0x01, bytes("AB")), (0x00, bytes("C")), (0x02, [4] + bytes("PING") + [0, 0]), (0x00, []),
            (0x03, [UInt8](repeating: 0xEE, count: 70_000)),
        ]
        for (flags, payload) in cases {
            let upstream = seal(client, flags: flags, payload)
            #expect(upstream.count == 33 + payload.count)
            let opened = try server.open(upstream[...])
            #expect(opened.flags == flags)
            #expect(opened.payload == payload)

            let downstream = seal(server, flags: flags, payload)
            let back = try client.open(downstream[...])
            #expect(back.flags == flags)
            #expect(back.payload == payload)
        }
    }

    @Test(arguments: Provider.allCases)
    func noncesStartAfterTheHandshakeCommands(_ provider: Provider) throws {
        var pair = try CurvePair(provider)
        let (client, server) = try pair.codecs()
        let fromClient = seal(client, bytes("x"))
        let fromServer = seal(server, bytes("y"))
        #expect(Array(fromClient[0..<8]) == [7] + bytes("MESSAGE"))
        // Client: HELLO=1, INITIATE=2, first MESSAGE=3. Server: READY=1, first MESSAGE=2.
        #expect(readBigEndianUInt64(fromClient[...], at: 8) == 3)
        #expect(readBigEndianUInt64(fromServer[...], at: 8) == 2)
        #expect(readBigEndianUInt64(seal(client, bytes("x"))[...], at: 8) == 4)
    }

    @Test(arguments: Provider.allCases)
    func replayedMessageIsInvalidSequence(_ provider: Provider) throws {
        var pair = try CurvePair(provider)
        let (client, server) = try pair.codecs()
        let message = seal(client, bytes("once"))
        _ = try server.open(message[...])
        expectError(.invalidSequence) { _ = try server.open(message[...]) }
    }

    @Test(arguments: Provider.allCases)
    func reorderedMessageIsInvalidSequence(_ provider: Provider) throws {
        var pair = try CurvePair(provider)
        let (client, server) = try pair.codecs()
        let first = seal(client, bytes("1"))
        let second = seal(client, bytes("2"))
        _ = try server.open(second[...])
        expectError(.invalidSequence) { _ = try server.open(first[...]) }
    }

    @Test(arguments: Provider.allCases)
    func gapsInTheNonceSequenceAreAllowed(_ provider: Provider) throws {
        var pair = try CurvePair(provider)
        let (client, server) = try pair.codecs()
        let first = seal(client, bytes("1"))
        _ = seal(client, bytes("lost"))
        let third = seal(client, bytes("3"))
        #expect(try server.open(first[...]).payload == bytes("1"))
        #expect(try server.open(third[...]).payload == bytes("3"))
    }

    @Test(arguments: Provider.allCases)
    func aMessageSentByOneSideCannotBeReflectedBackToIt(_ provider: Provider) throws {
        // The nonce prefixes differ per direction ("…MESSAGEC" / "…MESSAGES").
        var pair = try CurvePair(provider)
        let (client, _) = try pair.codecs()
        let reflected = client
        let payload = bytes("mine, long enough to reach nonce byte 15")
        let message = seal(client, payload)
        if provider == .sodium {
            expectError(.cryptographic) { _ = try reflected.open(message[...]) }
        } else {
            // The insecure provider's keystream still differs, so the payload comes out garbled.
            #expect((try? reflected.open(message[...]))?.payload != payload)
        }
    }

    @Test func flippedBitAnywhereInTheBoxIsCryptographic() throws {
        var pair = try CurvePair(.sodium)
        let (client, server) = try pair.codecs()
        let message = seal(client, flags: 1, bytes("payload"))
        for index in 16..<message.count {
            let fresh = server
            expectError(.cryptographic) { _ = try fresh.open(flipped(message, at: index, bit: 0x80)[...]) }
        }
        // A raised nonce passes the sequence check but not the MAC.
        expectError(.cryptographic) { _ = try server.open(flipped(message, at: 8, bit: 0x80)[...]) }
        // A failed open does not consume the nonce.
        #expect(try server.open(message[...]).payload == bytes("payload"))
    }

    @Test func insecureProviderChecksItsFakeMAC() throws {
        var pair = try CurvePair(.insecure)
        let (client, server) = try pair.codecs()
        let message = seal(client, bytes("payload"))
        #expect(Array(message[16..<32]) == InsecureFuzzingCurveCrypto.fakeMAC)
        expectError(.cryptographic) { _ = try server.open(flipped(message, at: 16)[...]) }
    }

    @Test(arguments: Provider.allCases)
    func shortMessageIsMalformed(_ provider: Provider) throws {
        var pair = try CurvePair(provider)
        let (client, server) = try pair.codecs()
        let message = seal(client, [])
        #expect(message.count == 33)
        expectError(.malformedCommandMessage) { _ = try server.open(message.dropLast()) }
        expectError(.malformedCommandMessage) { _ = try server.open(([7] + bytes("MESSAGE"))[...]) }
    }

    @Test(arguments: Provider.allCases)
    func otherCommandsAreUnexpected(_ provider: Provider) throws {
        var pair = try CurvePair(provider)
        let (_, server) = try pair.codecs()
        expectError(.unexpectedCommand) { _ = try server.open(([4] + bytes("PING") + [UInt8](repeating: 0, count: 40))[...]) }
        expectError(.malformedCommandUnspecified) { _ = try server.open([][...]) }
        expectError(.malformedCommandUnspecified) { _ = try server.open([9, 1, 2][...]) }
    }

    @Test(arguments: Provider.allCases)
    func openAcceptsASliceInsideALargerBuffer(_ provider: Provider) throws {
        var pair = try CurvePair(provider)
        let (client, server) = try pair.codecs()
        let framed = [0x00, 0x2A] + seal(client, bytes("in a frame")) + [0xFF]
        #expect(try server.open(framed[2..<(framed.count - 1)]).payload == bytes("in a frame"))
    }
}
