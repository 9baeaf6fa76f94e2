import ZMTP

/// One connection under a vector's control: a simulated clock, the bytes it transmitted that no
/// step has matched yet, and the events it reported that no step has consumed yet.
struct Driver {
    var connection: Connection
    let random: VectorRandom
    /// Deliver received bytes one at a time, pumping after each.
    var drip: Bool
    /// Milliseconds since the connection was created (at t = 0).
    var nowMs = 0
    /// Transmitted bytes not yet matched.
    var pending: [UInt8] = []
    /// Events not yet consumed by a step.
    var queue: [ConnectionEvent] = []
    /// Every event reported, in order.
    var history: [ConnectionEvent] = []
    /// Answers authentication requests as they are reported (nil: leave them to the vector).
    var authenticationReply: AuthenticationReply?

    init(configuration: VectorConfiguration, random: VectorRandom, drip: Bool) {
        self.random = random
        self.drip = drip
        connection = Connection(configuration: configuration.configuration, crypto: configuration.crypto, random: random, now: .zero)
        pump()
    }

    var now: ZMTPInstant { ZMTPInstant.zero.adding(.milliseconds(nowMs)) }

    /// Drains every event, answering authentication requests when an answer is configured, then
    /// collects what the connection wants to transmit.
    mutating func pump() {
        while let event = connection.nextEvent() {
            queue.append(event)
            history.append(event)
            if case .authenticationRequest = event, let reply = authenticationReply {
                do throws(ZMTPError) {
                    try connection.completeAuthentication(reply, now: now)
                } catch {
                    fail("completeAuthentication right after the request threw \(error)")
                }
            }
        }
        connection.pollTransmit(into: &pending)
    }

    mutating func receive(_ bytes: [UInt8]) {
        if drip {
            for byte in bytes {
                connection.receive([byte], now: now)
                pump()
            }
        } else {
            connection.receive(bytes, now: now)
            pump()
        }
    }

    /// Takes everything transmitted and not yet matched.
    mutating func takePending() -> [UInt8] {
        pump()
        defer { pending.removeAll() }
        return pending
    }
}
