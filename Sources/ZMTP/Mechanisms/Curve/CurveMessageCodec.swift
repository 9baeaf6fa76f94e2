/// The CURVE data phase: every frame travels inside a MESSAGE box (RFC 26 §MESSAGE, with
/// libzmq's flags byte).
///
/// ```
/// message = %d7 "MESSAGE" short-nonce Box[flags payload](sender' → receiver')
/// short-nonce = 8OCTET                 ; uint64, network order, strictly increasing per sender
/// flags       = OCTET                  ; libzmq: 0x01 MORE, 0x02 COMMAND
/// nonce       = "CurveZMQMESSAGEC" short-nonce   ; sent by the client
///             / "CurveZMQMESSAGES" short-nonce   ; sent by the server
/// ```
///
/// Built by ``CurveClientHandshake`` or ``CurveServerHandshake`` when the handshake completes;
/// it holds only the precomputed session key (`crypto_box_beforenm` of the transient keys) and
/// the two nonce counters. The transient secrets themselves are gone by then.
///
/// A class: every copy of a ``Connection`` seals with the same counters, so no two boxes are
/// ever sealed under one nonce and key however the embedding code copies values around, and the
/// connection's per-frame test of its codec copies nothing.
final class CurveMessageCodec {
    /// Which side of the connection this codec seals for (it picks the nonce prefixes).
    enum Role {
        case client
        case server
    }

    private let crypto: any CurveCrypto
    /// `crypto_box_beforenm(peer transient public, own transient secret)`.
    private let sharedKey: [UInt8]
    private let sendPrefix: [UInt8]
    private let receivePrefix: [UInt8]
    /// The short nonce of the next MESSAGE we seal.
    private var nextNonce: UInt64
    /// The highest short nonce the peer has used; every new one must be greater (gaps allowed).
    private var lastPeerNonce: UInt64

    /// - Parameters:
    ///   - nextNonce: client 3 (after HELLO=1, INITIATE=2); server 2 (after READY=1).
    ///   - lastPeerNonce: the short nonce of the peer's last handshake command (READY on the
    ///     client, INITIATE on the server), as libzmq seeds it.
    init(role: Role, crypto: any CurveCrypto, sharedKey: [UInt8], nextNonce: UInt64, lastPeerNonce: UInt64) {
        precondition(sharedKey.count == CurveWire.keyLength, "CURVE session key must be 32 bytes")
        self.crypto = crypto
        self.sharedKey = sharedKey
        switch role {
        case .client:
            sendPrefix = CurveWire.clientMessageNoncePrefix
            receivePrefix = CurveWire.serverMessageNoncePrefix
        case .server:
            sendPrefix = CurveWire.serverMessageNoncePrefix
            receivePrefix = CurveWire.clientMessageNoncePrefix
        }
        self.nextNonce = nextNonce
        self.lastPeerNonce = lastPeerNonce
    }

    /// Seals one frame and returns the whole MESSAGE command body (starting at name-len `07`).
    ///
    /// - Parameter flags: libzmq's inner flags byte: 0x01 MORE, 0x02 COMMAND.
    func seal(flags: UInt8, body: UnsafeRawBufferPointer) -> [UInt8] {
        let shortNonce = nextNonce
        // 2^64 messages on one connection cannot happen; trapping beats ever reusing a nonce.
        nextNonce += 1

        var plaintext: [UInt8] = []
        plaintext.reserveCapacity(1 + body.count)
        plaintext.append(flags)
        plaintext.append(contentsOf: body)
        let box = crypto.box(plaintext, nonce: CurveWire.nonce(sendPrefix, shortNonce), sharedKey: sharedKey)
        // Our own plaintext under a key the provider already accepted: a wrong size here is a
        // broken provider, not anything a peer can cause.
        precondition(box.count == plaintext.count + CurveWire.macLength, "CurveCrypto.box returned a malformed box")

        var out: [UInt8] = []
        out.reserveCapacity(CurveWire.messageHeaderSize + box.count)
        CurveWire.appendName(CurveWire.messageName, to: &out)
        appendBigEndian(shortNonce, to: &out)
        out.append(contentsOf: box)
        return out
    }

    /// Opens a whole MESSAGE command body (starting at name-len `07`).
    ///
    /// The checks follow libzmq's `curve_mechanism_base_t::decode`, in its order: the name
    /// (``ZMTPError/Code/unexpectedCommand``), the size (``ZMTPError/Code/malformedCommandMessage``),
    /// the nonce (``ZMTPError/Code/invalidSequence``), the box (``ZMTPError/Code/cryptographic``).
    /// The receive nonce advances only when the box opens.
    func open(_ body: ArraySlice<UInt8>) throws(ZMTPError) -> (flags: UInt8, payload: [UInt8]) {
        // After the handshake only boxes count: a cleartext ERROR here may be injected by anyone
        // on the path, so it is not read as the server's refusal (libzmq: UNEXPECTED_COMMAND).
        guard CurveWire.hasName(CurveWire.messageName, body) else {
            if let nameLength = body.first, nameLength > 0, body.count > Int(nameLength) {
                throw .peer(.unexpectedCommand, "CURVE data phase expects MESSAGE")
            }
            // Too short for its own name: libzmq's check_basic_command_structure.
            throw .peer(.malformedCommandUnspecified, "command too short for its name")
        }
        guard body.count >= CurveWire.minimumMessageSize else {
            throw .peer(.malformedCommandMessage, "CURVE MESSAGE of \(body.count) bytes, minimum \(CurveWire.minimumMessageSize)")
        }
        let start = body.startIndex
        let shortNonce = readBigEndianUInt64(body, at: start + CurveWire.messageName.count + 1)
        guard shortNonce > lastPeerNonce else {
            throw .peer(.invalidSequence, "CURVE MESSAGE nonce \(shortNonce) not above \(lastPeerNonce)")
        }
        guard
            var payload = crypto.openBox(
                body[(start + CurveWire.messageHeaderSize)...],
                nonce: CurveWire.nonce(receivePrefix, shortNonce), sharedKey: sharedKey),
            !payload.isEmpty
        else {
            throw .peer(.cryptographic, "CURVE MESSAGE box does not open")
        }
        lastPeerNonce = shortNonce
        // In place: a memmove, not a second allocation.
        let flags = payload.removeFirst()
        return (flags, payload)
    }
}

// MARK: - Layouts shared by the CURVE machines

/// Sizes, names and nonce prefixes of RFC 26, and the small checks both handshake sides share.
enum CurveWire {
    /// Public, secret and session keys (RFC 26: 32 octets).
    static let keyLength = 32
    /// The Poly1305 tag in front of every box (`crypto_box_MACBYTES`).
    static let macLength = 16
    /// A short nonce: uint64 in network order (RFC 26 §Nonces).
    static let shortNonceLength = 8
    /// A long nonce: 16 random octets (WELCOME, cookie, vouch).
    static let longNonceLength = 16

    // MARK: Command sizes (RFC 26 grammar; libzmq's size checks)

    /// HELLO is exactly 200 octets, anti-amplification padding included.
    static let helloSize = 200
    /// WELCOME is exactly 168 octets.
    static let welcomeSize = 168
    /// The cookie: 16-octet nonce + secretbox[C' s'] (80).
    static let cookieSize = 96
    /// The vouch: 16-octet nonce + box[C' S] (80).
    static let vouchSize = 96
    /// INITIATE with empty metadata: 9 + cookie 96 + nonce 8 + box[C vouch] 144.
    static let minimumInitiateSize = 257
    /// READY with empty metadata: 6 + nonce 8 + MAC 16.
    static let minimumReadySize = 30
    /// MESSAGE with an empty payload: 8 + nonce 8 + MAC 16 + flags 1.
    static let minimumMessageSize = 33
    /// `07 'MESSAGE'` + short nonce.
    static let messageHeaderSize = 16

    // MARK: Command names

    static let helloName = Array("HELLO".utf8)
    static let welcomeName = Array("WELCOME".utf8)
    static let initiateName = Array("INITIATE".utf8)
    static let readyName = Array("READY".utf8)
    static let messageName = Array("MESSAGE".utf8)
    static let errorName = Array("ERROR".utf8)

    // MARK: Nonce prefixes (RFC 26 §Commands)

    static let helloNoncePrefix = Array("CurveZMQHELLO---".utf8)
    static let welcomeNoncePrefix = Array("WELCOME-".utf8)
    static let cookieNoncePrefix = Array("COOKIE--".utf8)
    static let initiateNoncePrefix = Array("CurveZMQINITIATE".utf8)
    static let vouchNoncePrefix = Array("VOUCH---".utf8)
    static let readyNoncePrefix = Array("CurveZMQREADY---".utf8)
    static let clientMessageNoncePrefix = Array("CurveZMQMESSAGEC".utf8)
    static let serverMessageNoncePrefix = Array("CurveZMQMESSAGES".utf8)

    // MARK: Helpers

    /// A 24-octet nonce: a 16-octet prefix and a short nonce.
    static func nonce(_ prefix: [UInt8], _ shortNonce: UInt64) -> [UInt8] {
        var nonce = prefix
        nonce.reserveCapacity(24)
        appendBigEndian(shortNonce, to: &nonce)
        return nonce
    }

    /// A 24-octet nonce: an 8-octet prefix and 16 long-nonce octets.
    static func nonce(_ prefix: [UInt8], _ longNonce: some Collection<UInt8>) -> [UInt8] {
        var nonce = prefix
        nonce.reserveCapacity(24)
        nonce.append(contentsOf: longNonce)
        return nonce
    }

    /// Appends `name-len name`.
    static func appendName(_ name: [UInt8], to out: inout [UInt8]) {
        out.append(UInt8(name.count))
        out.append(contentsOf: name)
    }

    /// Whether `body` starts with `name-len name` for `name`.
    static func hasName(_ name: [UInt8], _ body: ArraySlice<UInt8>) -> Bool {
        guard let first = body.first, Int(first) == name.count, body.count > name.count else { return false }
        return body.dropFirst().prefix(name.count).elementsEqual(name)
    }

    /// Whether every octet is zero (an all-zero key is never valid, RFC 26 via libzmq's test_null_key).
    static func isAllZero(_ bytes: some Collection<UInt8>) -> Bool {
        !bytes.contains { $0 != 0 }
    }

    /// Rejects a box a provider refused to build (libsodium refuses low-order public keys, and
    /// ``SodiumCurveCrypto`` then returns an empty array). Only a peer-supplied key can cause it.
    static func checked(_ box: [UInt8], plaintextCount: Int) throws(ZMTPError) -> [UInt8] {
        guard box.count == plaintextCount + macLength else {
            throw .peer(.cryptographic, "CURVE box could not be built for the peer's key")
        }
        return box
    }

    /// Rejects a session key a provider refused to compute (a low-order peer key).
    static func checkedSharedKey(_ key: [UInt8]) throws(ZMTPError) -> [UInt8] {
        guard key.count == keyLength else {
            throw .peer(.cryptographic, "CURVE session key could not be computed for the peer's key")
        }
        return key
    }

    /// The error to report for a command that is not the one the state expects: a body too
    /// short for its own name (``ZMTPError/Code/malformedCommandUnspecified``, libzmq's
    /// `check_basic_command_structure`), the peer's ERROR (a 3-digit reason is a ZAP status,
    /// reported as an authentication failure as libzmq does), or
    /// ``ZMTPError/Code/unexpectedCommand``.
    static func unexpected(_ body: ArraySlice<UInt8>, expecting expected: String) -> ZMTPError {
        let name: ArraySlice<UInt8>
        do throws(ZMTPError) {
            name = try Command.split(body).name
        } catch {
            return error
        }
        guard name.elementsEqual(errorName) else {
            return .peer(.unexpectedCommand, "CURVE expected \(expected), got \(String(decoding: name, as: UTF8.self))")
        }
        let data = body.dropFirst(1 + errorName.count)
        guard let length = data.first, data.count - 1 >= Int(length) else {
            return .peer(.malformedCommandError, "ERROR reason length runs past the frame")
        }
        let reason = data.dropFirst().prefix(Int(length))
        let text = String(decoding: reason, as: UTF8.self)
        if reason.count == 3, reason.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            return .incompatible(.authenticationFailed, text)
        }
        return .incompatible(.peerSentError, text)
    }
}
