@_spi(Testing) @_spi(Draft) import ZMTP

// Valid byte streams, built by running two real connections against each other. They are the
// prefixes the handshake harnesses splice fuzz input into, and the seeds of every corpus.

/// The fixed keys of the CURVE harnesses (made with ``InsecureFuzzingCurveCrypto``: no security).
public enum FuzzKeys {
    /// The provider, behind the public protocol.
    public static let crypto: any CurveCrypto = InsecureFuzzingCurveCrypto()

    static func pair(_ fill: UInt8) -> CurveKeyPair {
        do {
            return try CurveKeyPair.from(secretKey: (0..<32).map { UInt8(truncatingIfNeeded: Int(fill) &+ $0 &* 7) }, crypto: crypto)
        } catch {
            fatalError("fuzz key pair: \(error)")
        }
    }

    public static let server = pair(0x11)
    public static let client = pair(0x22)
}

/// The random seeds of the two connections of a transcript. The connection under test must use
/// the seed its stand-in used when the transcript was made, so that its CURVE transient keys,
/// cookie and nonces are the ones the peer's recorded commands answer.
public enum FuzzSeeds {
    public static let underTest: UInt64 = 0x5E4E
    public static let peer: UInt64 = 0xC11E
}

/// Both sides' wires, each cut into units: the greeting, then one unit per frame.
public struct Exchange: Sendable {
    public var clientUnits: [[UInt8]]
    public var serverUnits: [[UInt8]]
    public var clientReady: Bool
    public var serverReady: Bool
}

/// Runs `client` against `server` until both are quiet, accepting every authentication request;
/// once both are ready, `afterReady` may queue traffic, and the pair runs again.
public func exchange(client: Connection, server: Connection,
                     afterReady: (inout Connection, inout Connection) -> Void = { _, _ in }) -> Exchange {
    var client = client
    var server = server
    var clientWire: [UInt8] = []
    var serverWire: [UInt8] = []

    func drive() {
        for _ in 0..<1_000 {
            var moved = false
            var out: [UInt8] = []
            if client.pollTransmit(into: &out) > 0 {
                clientWire += out
                server.receive(out, now: .zero)
                moved = true
            }
            out = []
            if server.pollTransmit(into: &out) > 0 {
                serverWire += out
                client.receive(out, now: .zero)
                moved = true
            }
            for side in 0..<2 {
                while let event = side == 0 ? client.nextEvent() : server.nextEvent() {
                    moved = true
                    if case .authenticationRequest = event {
                        if side == 0 {
                            try? client.completeAuthentication(.accept(userID: "fuzz"), now: .zero)
                        } else {
                            try? server.completeAuthentication(.accept(userID: "fuzz"), now: .zero)
                        }
                    }
                }
            }
            if !moved { return }
        }
    }

    drive()
    if client.isReady && server.isReady {
        afterReady(&client, &server)
        drive()
    }
    return Exchange(clientUnits: units(clientWire), serverUnits: units(serverWire),
                    clientReady: client.isReady, serverReady: server.isReady)
}

/// Cuts a ZMTP 3.x wire into the 64-byte greeting and one unit per frame.
public func units(_ wire: [UInt8]) -> [[UInt8]] {
    guard wire.count >= Greeting.size else { return wire.isEmpty ? [] : [wire] }
    var out = [Array(wire[0..<Greeting.size])]
    var decoder = FrameDecoder(version: .zmtp3)
    var start = Greeting.size
    var position = start
    while position < wire.count {
        switch decodeOnce(&decoder, wire[position...]) {
        case .success(let (frame, used)):
            position += used
            if frame != nil {
                out.append(Array(wire[start..<position]))
                start = position
            }
        case .failure(let error):
            fatalError("transcript wire does not decode: \(error)")
        }
    }
    if start < wire.count { out.append(Array(wire[start...])) }
    return out
}

/// The body of a single command frame unit.
public func commandBody(_ unit: [UInt8]) -> [UInt8] {
    var decoder = FrameDecoder(version: .zmtp3)
    switch decodeOnce(&decoder, unit) {
    case .success((.command(let body)?, _)): return body
    case .success((.message(let m)?, _)): return m.bytes
    case .success((nil, _)): fatalError("unit is not one frame")
    case .failure(let error): fatalError("unit does not decode: \(error)")
    }
}

/// Traffic both sides send once ready, so transcripts reach the data phase: message parts
/// (multipart, empty, inline-sized and large), and the commands libzmq sends.
public func sampleTraffic(_ connection: inout Connection, peerType: SocketType?) {
    let parts: [Message] = [
        Message(Array(utf8: "hello")),
        Message([], more: true),
        Message(Array(repeating: 0x41, count: 40), more: true),
        Message(Array(repeating: 0x42, count: 300)),
    ]
    for part in parts { try? connection.send(part) }
    try? connection.send(.ping(ttl: 10, context: Array(utf8: "ctx")))
    try? connection.send(.subscribe(topic: Array(utf8: "topic")))
    try? connection.send(.cancel(topic: Array(utf8: "topic")))
    try? connection.send(.other(name: "X-CUSTOM", data: [1, 2, 3]))
    if peerType == .radio || peerType == .dish {
        try? connection.send(.join(group: Array(utf8: "group")))
        try? connection.send(.leave(group: Array(utf8: "group")))
    }
}

// MARK: CURVE sealing

/// Seals MESSAGE boxes as a CURVE peer would, from a transcript made with the insecure provider,
/// whose session key is computable from public keys alone: C' XOR S'.
public struct CurveSealer: Sendable {
    let sessionKey: [UInt8]
    let prefix: [UInt8]
    /// The next short nonce.
    public var nonce: UInt64

    /// - Parameters:
    ///   - hello: the body of the client's HELLO; `welcome`: the body of the server's WELCOME.
    ///   - fromClient: seal as the client (nonce prefix `CurveZMQMESSAGEC`, first nonce 3) or
    ///     as the server (`CurveZMQMESSAGES`, first nonce 2).
    public init(hello: [UInt8], welcome: [UInt8], serverPublicKey: [UInt8], fromClient: Bool) {
        let crypto = FuzzKeys.crypto
        let clientTransient = Array(hello[80..<112])
        let welcomeKey = zip(clientTransient, serverPublicKey).map { $0 ^ $1 }
        guard let plain = crypto.openBox(welcome[24...], nonce: Array(utf8: "WELCOME-") + welcome[8..<24], sharedKey: welcomeKey),
              plain.count >= 32 else {
            fatalError("WELCOME of the transcript does not open")
        }
        sessionKey = zip(clientTransient, plain[0..<32]).map { $0 ^ $1 }
        prefix = Array(utf8: fromClient ? "CurveZMQMESSAGEC" : "CurveZMQMESSAGES")
        nonce = fromClient ? 3 : 2
    }

    /// A whole MESSAGE body (`07 MESSAGE nonce box`) carrying `flags` and `payload`.
    public mutating func seal(flags: UInt8, payload: some Collection<UInt8>) -> [UInt8] {
        var nonceBytes: [UInt8] = []
        for shift in stride(from: 56, through: 0, by: -8) { nonceBytes.append(UInt8(truncatingIfNeeded: nonce >> UInt64(shift))) }
        nonce &+= 1
        let box = FuzzKeys.crypto.box([flags] + Array(payload), nonce: prefix + nonceBytes, sharedKey: sessionKey)
        return Wire.commandBody("MESSAGE", nonceBytes + box)
    }

    /// Interprets `records` as `kind len payload…` records and seals each into a frame:
    /// kind bit 7 picks a command frame (else a data frame), bits 0-6 are the inner flags
    /// (libzmq: 0x01 MORE, 0x02 COMMAND; the rest reserved). A short last record takes what is left.
    public mutating func sealRecords(_ records: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        var i = records.startIndex
        while i < records.endIndex {
            let kind = records[i]
            i += 1
            let length = i < records.endIndex ? Int(records[i]) : 0
            i = min(i + 1, records.endIndex)
            let end = min(i + length, records.endIndex)
            let body = seal(flags: kind & 0x7F, payload: records[i..<end])
            i = end
            if kind & 0x80 != 0 {
                FrameEncoder.encodeCommand(body, into: &out)
            } else {
                FrameEncoder.encode(Message(body), version: .zmtp3, into: &out)
            }
        }
        return out
    }
}

/// A record for ``CurveSealer/sealRecords(_:)`` (for seeds).
public func sealRecord(flags: UInt8, commandFrame: Bool = false, _ payload: [UInt8]) -> [UInt8] {
    [flags | (commandFrame ? 0x80 : 0), UInt8(min(payload.count, 255))] + payload.prefix(255)
}
