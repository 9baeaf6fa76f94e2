/// The runner's CURVE side in a live run: it builds its commands fresh, alters them as the
/// vector alters its own, and judges the target's commands by what they open to.
extension Player {
    /// The largest frame body the runner waits for from a target during a CURVE case.
    static let maxCurveFrame = 1 << 20

    /// A ZMTP 3 frame: flags (0x04 command, 0x02 long, 0x01 more), size, body (RFC 23 §2.3).
    static func frame(_ body: [UInt8], command: Bool) -> [UInt8] {
        let flags: UInt8 = command ? 0x04 : 0x00
        if body.count > 255 { return [flags | 0x02] + CurvePeer.bigEndian(UInt64(body.count)) + body }
        return [flags, UInt8(body.count)] + body
    }

    mutating func curveSends(_ command: CurveCommand, _ alterations: [CurveAlteration]) -> String? {
        guard var peer = curve else { return "the plan has no CURVE keys for the runner" }
        if link.peerIsClosed { return nil }
        var bytes: [UInt8]
        switch command {
        case .hello: bytes = Self.frame(peer.hello(), command: true)
        case .welcome: bytes = Self.frame(peer.welcome(), command: true)
        case .initiate(let metadata, let vouchSecret):
            bytes = Self.frame(peer.initiate(metadata.map { ($0.name, $0.value) }, vouchSecret: vouchSecret), command: true)
        case .ready(let metadata): bytes = Self.frame(peer.readyCommand(metadata.map { ($0.name, $0.value) }), command: true)
        case .message(let flags, let body, let asCommand): bytes = Self.frame(peer.message(flags: flags, body: body), command: asCommand)
        case .replay(let back):
            guard back >= 1, back <= curveSent.count else { return "no frame \(back) back to replay" }
            bytes = curveSent[curveSent.count - back]
        }
        curve = peer
        if case .replay = command {} else { curveSent.append(bytes) }
        for alteration in alterations {
            switch alteration {
            case .set(let offset, let value) where offset < bytes.count: bytes[offset] = value
            case .xor(let offset, let value) where offset < bytes.count: bytes[offset] ^= value
            case .truncate(let count): bytes = Array(bytes.prefix(count))
            case .set, .xor: return "the vector alters octet beyond the runner's \(bytes.count)-octet frame"
            }
        }
        _ = link.send(bytes, timeout: timing.patience)
        return nil
    }

    /// Reads the target's next frame; nil with the reason when none comes whole.
    mutating func nextFrame() -> (flags: UInt8, body: [UInt8])? {
        var parsed: (flags: UInt8, body: [UInt8], end: Int)?
        _ = link.wait(milliseconds: timing.patience) { link in
            let bytes = link.received[link.consumed...]
            guard let flags = bytes.first else { return link.peerIsClosed }
            let long = flags & 0x02 != 0
            let header = long ? 9 : 2
            guard bytes.count >= header else { return link.peerIsClosed }
            let size = long ? Int(clamping: CurvePeer.readBigEndian(bytes.dropFirst().prefix(8))) : Int(bytes[bytes.startIndex + 1])
            guard size <= Self.maxCurveFrame else { return true }
            guard bytes.count >= header + size else { return link.peerIsClosed }
            let start = bytes.startIndex + header
            parsed = (flags, Array(link.received[start..<(start + size)]), start + size)
            return true
        }
        guard let parsed else { return nil }
        link.consumed = parsed.end
        return (parsed.flags, parsed.body)
    }

    mutating func curveExpects(_ expectation: CurveExpectation) -> String? {
        guard var peer = curve else { return "the plan has no CURVE keys for the runner" }
        if let problem = settleOwed() { return problem }
        let name: String
        switch expectation {
        case .hello: name = "HELLO"
        case .welcome: name = "WELCOME"
        case .initiate: name = "INITIATE"
        case .ready: name = "READY"
        case .message: name = "MESSAGE"
        }
        let start = link.consumed
        guard let frame = nextFrame() else {
            let got = link.received[start...]
            return "the target sent \(VectorValues.show(got)) and no whole frame where the vector has its \(name)" + failureSummary
        }
        let isCommand = frame.flags & 0x04 != 0
        if name != "MESSAGE" && !isCommand { return "the target sent a data frame where the vector has its \(name) command" }
        let opened = peer.open(name, frame.body)
        curve = peer
        switch (opened, expectation) {
        case (.failure(let problem), _): return problem.message
        case (.success(.hello), .hello), (.success(.welcome), .welcome): return nil
        case (.success(.initiate(_, let metadata)), .initiate(let socketType, let identity)),
             (.success(.ready(let metadata)), .ready(let socketType, let identity)):
            return Self.checkMetadata(metadata, socketType: socketType, identity: identity, in: name)
        case (.success(.message(let flags, let body)), .message(let wantFlags, let wantBody)):
            if isCommand { return "the target sent MESSAGE in a command frame (libzmq and RFC 26 use a data frame)" }
            if flags != wantFlags || body != wantBody {
                return "the MESSAGE opens to flags \(flags) body \(VectorValues.show(body)) where the vector has flags \(wantFlags) body \(VectorValues.show(wantBody))"
            }
            return nil
        case (.success(let got), _): return "the target's \(name) opened as \(got), which the vector does not expect"
        }
    }

    static func checkMetadata(_ metadata: [CurvePeer.Property], socketType: String, identity: [UInt8]?, in name: String) -> String? {
        let types = metadata.filter { $0.name.lowercased() == "socket-type" }
        guard types.count == 1, types[0].value == Array(socketType.utf8) else {
            return "the \(name) metadata names socket type \(types.map { String(decoding: $0.value, as: UTF8.self) }), not \(socketType)"
        }
        if let identity {
            let ids = metadata.filter { $0.name.lowercased() == "identity" }
            guard ids.count == 1, ids[0].value == identity else { return "the \(name) metadata carries no Identity \(VectorValues.show(identity))" }
        }
        return nil
    }
}
