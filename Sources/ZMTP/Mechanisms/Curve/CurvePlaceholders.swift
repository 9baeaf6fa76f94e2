// Temporary declarations so the module builds while the CURVE machines are written.
// The CURVE work replaces this file with CurveClientHandshake.swift, CurveServerHandshake.swift
// and CurveMessageCodec.swift and deletes it.

struct CurveClientHandshake {
    init(serverPublicKey: [UInt8], keyPair: CurveKeyPair, metadata: Metadata, crypto: any CurveCrypto, random: RandomSource) throws(ZMTPError) {
        throw .misuse(.invalidState, "CURVE client not available yet")
    }
    mutating func start() throws(ZMTPError) -> HandshakeStep { .nothing }
    mutating func receive(_ command: ArraySlice<UInt8>) throws(ZMTPError) -> HandshakeStep { .nothing }
}

struct CurveServerHandshake {
    init(keyPair: CurveKeyPair, metadata: Metadata, domain: String, address: String, authenticate: Bool, crypto: any CurveCrypto, random: RandomSource) throws(ZMTPError) {
        throw .misuse(.invalidState, "CURVE server not available yet")
    }
    mutating func start() throws(ZMTPError) -> HandshakeStep { .nothing }
    mutating func receive(_ command: ArraySlice<UInt8>) throws(ZMTPError) -> HandshakeStep { .nothing }
    mutating func resume(_ reply: AuthenticationReply) throws(ZMTPError) -> HandshakeStep { .nothing }
}

struct CurveMessageCodec {
    mutating func seal(flags: UInt8, body: UnsafeRawBufferPointer) -> [UInt8] { [] }
    mutating func open(_ body: ArraySlice<UInt8>) throws(ZMTPError) -> (flags: UInt8, payload: [UInt8]) {
        throw .peer(.cryptographic)
    }
}
