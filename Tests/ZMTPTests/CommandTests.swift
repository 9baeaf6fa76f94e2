import Testing
@_spi(Draft) @testable import ZMTP

/// A READY frame exactly as libzmq 4.3.4 sends it (libzmq.md §2.4; RFC 37 §Worked Example;
/// libzmq `tests/testutil.hpp` `zmtp_ready_*`).
struct ReadyCapture: Sendable, CustomTestStringConvertible {
    var socketType: SocketType
    var sendsIdentity: Bool
    var frame: [UInt8]

    var testDescription: String { "\(socketType) READY" }

    var metadata: Metadata {
        var m = Metadata()
        m.append(name: "Socket-Type", value: ascii(socketType.name))
        if sendsIdentity { m.append(name: "Identity", value: []) }
        return m
    }
}

let readyCaptures: [ReadyCapture] = [
    ReadyCapture(socketType: .dealer, sendsIdentity: true,
                 frame: [0x04, 0x29, 0x05] + ascii("READY") + [0x0B] + ascii("Socket-Type") + [0, 0, 0, 6] + ascii("DEALER")
                    + [0x08] + ascii("Identity") + [0, 0, 0, 0]),
    ReadyCapture(socketType: .router, sendsIdentity: true,
                 frame: [0x04, 0x29, 0x05] + ascii("READY") + [0x0B] + ascii("Socket-Type") + [0, 0, 0, 6] + ascii("ROUTER")
                    + [0x08] + ascii("Identity") + [0, 0, 0, 0]),
    ReadyCapture(socketType: .xpub, sendsIdentity: false,
                 frame: [0x04, 0x1A, 0x05] + ascii("READY") + [0x0B] + ascii("Socket-Type") + [0, 0, 0, 4] + ascii("XPUB")),
    ReadyCapture(socketType: .sub, sendsIdentity: false,
                 frame: [0x04, 0x19, 0x05] + ascii("READY") + [0x0B] + ascii("Socket-Type") + [0, 0, 0, 3] + ascii("SUB")),
]

/// Parses a command body, as a Result.
private func parse(_ body: [UInt8]) -> Result<Command, ZMTPError> {
    Result { () throws(ZMTPError) in try Command.parse(body[...]) }
}

/// Decodes one command frame every way and parses its body.
private func parseFrame(_ wire: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> Command? {
    let outcome = decodeEveryWay(wire, version: .zmtp3, sourceLocation: sourceLocation)
    guard outcome.frames.count == 1, case .command(let body) = outcome.frames[0] else {
        Issue.record("not one command frame: \(outcome)", sourceLocation: sourceLocation)
        return nil
    }
    return parse(body).success
}

/// The frame that carries `command`.
private func frame(_ command: Command) throws -> [UInt8] {
    var out: [UInt8] = []
    FrameEncoder.encodeCommand(try command.encoded(), into: &out)
    return out
}

@Suite("Commands")
struct CommandTests {
    // MARK: READY and metadata

    @Test("READY encodes to libzmq's exact bytes", arguments: readyCaptures)
    func readyEncodes(_ capture: ReadyCapture) throws {
        #expect(try frame(.ready(capture.metadata)) == capture.frame)
        #expect(capture.socketType.sendsIdentity == capture.sendsIdentity)
    }

    @Test("libzmq's READY bytes parse to its metadata", arguments: readyCaptures)
    func readyParses(_ capture: ReadyCapture) {
        #expect(parseFrame(capture.frame) == .ready(capture.metadata))
    }

    @Test("property names compare case-insensitively")
    func caseInsensitiveNames() throws {
        let body = [0x05] + ascii("READY") + [0x0B] + ascii("socket-TYPE") + [0, 0, 0, 3] + ascii("PUB")
        guard case .ready(let metadata)? = parse(body).success else {
            Issue.record("not READY")
            return
        }
        #expect(metadata["Socket-Type"] == ascii("PUB"))
        #expect(metadata.string("SOCKET-type") == "PUB")
        #expect(metadata == ["Socket-Type": "PUB"])
        var replaced = metadata
        replaced["SOCKET-TYPE"] = ascii("SUB")
        #expect(replaced.properties.count == 1)
        #expect(replaced["socket-type"] == ascii("SUB"))
    }

    @Test("metadata whose lengths run past the frame, or with bad names, is malformed",
          arguments: [
            [UInt8]([0x00]),                                           // name length 0
            [0x0B] + ascii("Socket"),                                  // name runs past the end
            [0x03] + ascii("a b") + [0, 0, 0, 0],                      // space is not a name character
            [0x01] + ascii("a") + [0, 0, 0],                           // value length truncated
            [0x01] + ascii("a") + [0, 0, 0, 5] + ascii("abc"),         // value runs past the end
            [0x01] + ascii("a") + [0x80, 0, 0, 0],                     // value length over 2^31-1
            [0x01] + ascii("a") + [0, 0, 0, 0] + [0x05],               // second name runs past the end
          ])
    func malformedMetadata(_ metadata: [UInt8]) {
        let result = parse([0x05] + ascii("READY") + metadata)
        #expect(result.failure?.code == .malformedCommandReady)
        #expect(result.failure?.blame == .peerMisbehaved)
    }

    @Test("metadata names allow ALPHA DIGIT - _ . + and 1...255 bytes")
    func metadataNameRules() throws {
        #expect(Metadata.isValidName(ascii("X-a_b.c+9")))
        #expect(!Metadata.isValidName([UInt8]()))
        #expect(!Metadata.isValidName(ascii("a:b")))
        #expect(Metadata.isValidName([UInt8](repeating: 0x61, count: 255)))
        #expect(!Metadata.isValidName([UInt8](repeating: 0x61, count: 256)))
        var bad = Metadata()
        bad.append(name: "no spaces", value: [])
        let result = Result { () throws(ZMTPError) in try Command.ready(bad).encoded() }
        #expect(result.failure?.code == .invalidArgument)
        #expect(result.failure?.blame == .apiMisuse)
        // The longest name round-trips.
        var long = Metadata()
        long.append(name: String(repeating: "n", count: 255), value: ascii("v"))
        #expect(parse(try Command.ready(long).encoded()).success == .ready(long))
    }

    @Test("an empty READY is valid")
    func emptyReady() throws {
        #expect(try frame(.ready(Metadata())) == [0x04, 0x06, 0x05] + ascii("READY"))
        #expect(parse([0x05] + ascii("READY")).success == .ready(Metadata()))
    }

    // MARK: PING and PONG

    @Test("libzmq's PING: TTL 1.5 s, no context")
    func libzmqPing() throws {
        let wire: [UInt8] = [0x04, 0x07, 0x04] + ascii("PING") + [0x00, 0x0F]
        #expect(parseFrame(wire) == .ping(ttl: 15, context: []))
        #expect(try frame(.ping(ttl: 15, context: [])) == wire)
    }

    @Test("PING with context LOL gets PONG LOL (libzmq test_heartbeats)")
    func pingPongContext() throws {
        let ping: [UInt8] = [0x04, 0x0A, 0x04] + ascii("PING") + [0x00, 0x00] + ascii("LOL")
        #expect(parseFrame(ping) == .ping(ttl: 0, context: ascii("LOL")))
        #expect(try frame(.pong(context: ascii("LOL"))) == [0x04, 0x08, 0x04] + ascii("PONG") + ascii("LOL"))
    }

    @Test("a 65-byte PING's context is truncated to 16 bytes, and so is the PONG")
    func pingTruncation() throws {
        let context = ascii("LOL") + [UInt8](repeating: 0x7A, count: 55)
        let body = [0x04] + ascii("PING") + [0x00, 0x00] + context
        #expect(body.count == 65)
        let sixteen = Array(context.prefix(16))
        #expect(parse(body).success == .ping(ttl: 0, context: sixteen))
        // libzmq's reply: 04 15 04 PONG LOL zzzz… (21-byte body).
        #expect(try frame(.pong(context: context)) == [0x04, 0x15, 0x04] + ascii("PONG") + sixteen)
        #expect(parse([0x04] + ascii("PONG") + context).success == .pong(context: sixteen))
    }

    @Test("a PING shorter than its TTL is read as TTL 0")
    func shortPing() {
        #expect(parse([0x04] + ascii("PING")).success == .ping(ttl: 0, context: []))
        #expect(parse([0x04] + ascii("PING") + [0x01]).success == .ping(ttl: 0, context: []))
    }

    @Test("sending a PING context over 16 bytes is API misuse")
    func pingContextTooLong() {
        let result = Result { () throws(ZMTPError) in try Command.ping(ttl: 1, context: body(17)).encoded() }
        #expect(result.failure?.code == .invalidArgument)
        #expect(result.failure?.blame == .apiMisuse)
    }

    // MARK: ERROR

    @Test("ERROR carries a reason of up to 255 bytes")
    func error() throws {
        #expect(parse([0x05] + ascii("ERROR") + [0x03] + ascii("400")).success == .error(reason: "400"))
        #expect(try frame(.error(reason: "400")) == [0x04, 0x0A, 0x05] + ascii("ERROR") + [0x03] + ascii("400"))
        #expect(parse([0x05] + ascii("ERROR") + [0x00]).success == .error(reason: ""))
        let tooLong = Result { () throws(ZMTPError) in try Command.error(reason: String(repeating: "x", count: 256)).encoded() }
        #expect(tooLong.failure?.code == .invalidArgument)
    }

    @Test("libzmq's broken PLAIN ERROR, 5e 'RROR' 03 '400', is read as ERROR 400")
    func libzmqBrokenError() {
        #expect(parse([0x5E] + ascii("RROR") + [0x03] + ascii("400")).success == .error(reason: "400"))
    }

    @Test("an ERROR reason that runs past the frame is malformed",
          arguments: [[0x05] + ascii("ERROR"), [0x05] + ascii("ERROR") + [0x04] + ascii("400"), [0x5E] + ascii("RROR") + [0x09]])
    func errorReasonPastFrame(_ body: [UInt8]) {
        let result = parse(body)
        #expect(result.failure?.code == .malformedCommandError)
        #expect(result.failure?.blame == .peerMisbehaved)
    }

    // MARK: Names

    @Test("a command name that is empty or runs past the frame is malformed",
          arguments: [[UInt8](), [0x00], [0x00] + ascii("READY"), [0x06] + ascii("READY"), [0xFF] + ascii("PING")])
    func nameLengthPastFrame(_ body: [UInt8]) {
        let result = parse(body)
        #expect(result.failure?.code == .malformedCommandUnspecified)
        #expect(result.failure?.blame == .peerMisbehaved)
    }

    @Test("split separates name and data without copying past the name")
    func split() throws {
        let body = [0x05] + ascii("HELLO") + [0x01, 0x02]
        let (name, data) = try Command.split(body[...])
        #expect(Array(name) == ascii("HELLO"))
        #expect(Array(data) == [0x01, 0x02])
    }

    @Test("unknown commands are kept by name, with their data")
    func unknownCommand() throws {
        let body = [0x05] + ascii("HELLO") + [0x00, 0x01]
        #expect(parse(body).success == .other(name: "HELLO", data: [0x00, 0x01]))
        #expect(try Command.other(name: "HELLO", data: [0x00, 0x01]).encoded() == body)
        // Names are matched exactly: a lowercase "ready" is some other command.
        #expect(parse([0x05] + ascii("ready")).success == .other(name: "ready", data: []))
    }

    @Test("a command name must be 1...255 bytes to be sent")
    func nameLengthOnSend() {
        for name in ["", String(repeating: "A", count: 256)] {
            let result = Result { () throws(ZMTPError) in try Command.other(name: name, data: []).encoded() }
            #expect(result.failure?.code == .invalidArgument)
        }
    }

    // MARK: Subscriptions and groups

    @Test("SUBSCRIBE as libzmq sends it to a 3.1 peer: 04 0d 09 'SUBSCRIBE' 'abc'")
    func subscribe() throws {
        let wire: [UInt8] = [0x04, 0x0D, 0x09] + ascii("SUBSCRIBE") + ascii("abc")
        #expect(parseFrame(wire) == .subscribe(topic: ascii("abc")))
        #expect(try frame(.subscribe(topic: ascii("abc"))) == wire)
        #expect(parse([0x06] + ascii("CANCEL")).success == .cancel(topic: []))
    }

    @Test("JOIN and LEAVE groups are at most 255 bytes")
    func groups() throws {
        #expect(parse([0x04] + ascii("JOIN") + ascii("g")).success == .join(group: ascii("g")))
        #expect(parse([0x05] + ascii("LEAVE") + body(255)).success == .leave(group: body(255)))
        #expect(parse([0x04] + ascii("JOIN") + body(256)).failure?.code == .malformedCommandUnspecified)
        #expect(parse([0x05] + ascii("LEAVE") + body(256)).failure?.code == .malformedCommandUnspecified)
        let sent = Result { () throws(ZMTPError) in try Command.join(group: body(256)).encoded() }
        #expect(sent.failure?.code == .invalidArgument)
    }

    @Test("a long command (over 255 bytes) goes in a LONG command frame")
    func longCommand() throws {
        let command = Command.subscribe(topic: body(300))
        let wire = try frame(command)
        #expect(Array(wire.prefix(9)) == [0x06] + be64(310))
        #expect(parseFrame(wire) == command)
    }

    // MARK: Socket types

    @Test("socket type names and numbers are libzmq's", arguments: SocketType.allCases)
    func socketTypeNames(_ type: SocketType) {
        #expect(SocketType(name: ascii(type.name)) == type)
        #expect(SocketType(rawValue: type.rawValue) == type)
        // libzmq compares the Socket-Type value exactly.
        #expect(SocketType(name: ascii(type.name.lowercased())) == nil)
    }

    @Test("socket type numbers match zmq.h")
    func socketTypeNumbers() {
        #expect(SocketType.pair.rawValue == 0 && SocketType.dealer.rawValue == 5 && SocketType.router.rawValue == 6)
        #expect(SocketType.push.rawValue == 8 && SocketType.stream.rawValue == 11 && SocketType.channel.rawValue == 20)
        #expect(SocketType(name: ascii("BOGUS")) == nil)
    }

    @Test("compatibility is symmetric", arguments: SocketType.allCases)
    func compatibilitySymmetric(_ type: SocketType) {
        for peer in type.compatiblePeers {
            #expect(peer.isCompatible(with: type), "\(type) accepts \(peer) but not the reverse")
        }
    }

    @Test("REQ, DEALER and ROUTER send Identity")
    func identitySenders() {
        #expect(Set(SocketType.allCases.filter(\.sendsIdentity)) == [.req, .dealer, .router])
    }
}
