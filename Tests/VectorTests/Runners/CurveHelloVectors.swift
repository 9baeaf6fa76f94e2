@_spi(Testing) import ZMTP
import ZMTPConformance
import ZMTPSodium

/// Kind "curve-hello": a CURVE client built from fixed keys and fixed randomness must put exactly
/// `hello` on the wire after its greeting (the same HELLO libzmq accepted in the interop tests).
enum CurveHelloVectors {
    static func run(_ vector: VectorCase) throws {
        var f = try Fields(case: vector)
        let clientPublicKey = try f.bytes("clientPublicKey")
        let clientSecretKey = try f.bytes("clientSecretKey")
        let serverPublicKey = try f.bytes("serverPublicKey")
        _ = try f.bytes("serverSecretKey")
        let randomness = try f.bytes("randomness")
        let hello = try f.bytes("hello")
        try f.finish()

        let keyPair: CurveKeyPair
        do throws(ZMTPError) {
            keyPair = try CurveKeyPair(publicKey: clientPublicKey, secretKey: clientSecretKey)
        } catch {
            throw VectorFormatError("\(vector.name): invalid client key pair: \(error)")
        }
        let configuration = Connection.Configuration(
            socketType: .dealer, security: .curveClient(serverPublicKey: serverPublicKey, keyPair: keyPair))
        var connection = Connection(configuration: configuration, crypto: SodiumCurveCrypto(),
                                    random: ScriptedRandom(randomness), now: .zero)
        // The greeting arrives from the server; the client answers with HELLO.
        var serverGreeting = Greeting(minor: 1, mechanism: .curve).encoded()
        serverGreeting[32] = 0
        connection.receive(serverGreeting, now: .zero)
        while let event = connection.nextEvent() {
            fail("unexpected event before WELCOME: \(event)")
        }
        var wire: [UInt8] = []
        connection.pollTransmit(into: &wire)
        let expected = Array(wire.prefix(Greeting.size)) + [0x04, UInt8(hello.count)] + hello
        if wire != expected || wire.count != Greeting.size + 2 + 200 {
            fail("HELLO differs: got \(Vectors.show(Array(wire.dropFirst(Greeting.size)))), expected 04 c8 + \(Vectors.show(hello))")
        }
    }
}
