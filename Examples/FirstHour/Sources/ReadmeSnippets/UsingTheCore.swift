// The README's snippet of the sans-IO core, in a file of its own for its imports (see
// Snippets.swift): `now` and `bytesFromTheStream` are what a driver of the core has at hand.
import ZMTP
import ZMTPSodium

// "Using the core"
func usingTheCore(now: ZMTPInstant, bytesFromTheStream: [UInt8]) throws {
    var connection = Connection(configuration: .init(socketType: .dealer), now: now)  // SystemRandom() by default
    try connection.send(Message(string: "hello"))           // queued until the handshake completes
    var out: [UInt8] = []
    connection.pollTransmit(into: &out)                      // write `out` to your stream
    connection.receive(bytesFromTheStream, now: now)         // feed what you read
    while let event = connection.nextEvent() { /* handshakeCompleted, message, subscribe, failed, … */ }
    if let deadline = connection.nextDeadline { /* call handleTimeout(now:) then */ }
}
