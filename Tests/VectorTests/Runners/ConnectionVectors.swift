import ZMTPConformance
import ZMTP

/// Kind "connection": one ``Connection`` driven by a script of steps. Every case runs twice: with
/// each `receive` delivered whole, and delivered one byte at a time; both must pass.
enum ConnectionVectors {
    static let actions: Set<String> = [
        "receive", "expectSend", "expectNoSend", "ignoreSend", "expectEvent", "expectNoEvent", "expectError",
        "expectNothingDelivered", "send", "advanceMs", "authenticate", "expectDeadlineMs", "expectReady", "expectPeer",
    ]
    /// Members a step may have besides its action.
    static let modifiers: Set<String> = ["blame", "error", "comment", "from"]

    static func run(_ vector: VectorCase) throws {
        var f = try Fields(case: vector)
        let configurationJSON = try f.required("configuration")
        let randomJSON = f.optional("random")
        let steps = try f.array("steps")
        try f.finish()
        for drip in [false, true] {
            let configuration = try VectorConfiguration(configurationJSON, "\(vector.name).configuration")
            let random = try VectorRandom.from(randomJSON, "\(vector.name).random")
            var driver = Driver(configuration: configuration, random: random, drip: drip)
            try runSteps(steps, &driver, vector.name, mode: drip ? "byte by byte" : "whole")
        }
    }

    static func runSteps(_ steps: [JSON], _ d: inout Driver, _ name: String, mode: String) throws {
        for (index, step) in steps.enumerated() {
            let context = "\(name).steps[\(index)]"
            let actionKeys = step.keys.filter { actions.contains($0) }
            guard actionKeys.count == 1, let action = actionKeys.first else {
                throw VectorFormatError("\(context) must have exactly one action (\(actions.sorted().joined(separator: ", ")))")
            }
            var f = try Fields(step, context)
            _ = f.optional("comment")
            if f.has("from") { try Derivation.check(step, context) }
            _ = f.optional("from")
            let at = "[\(mode)] step \(index) (\(action))"

            switch action {
            case "receive":
                d.receive(try f.bytes("receive"))
            case "expectSend":
                let expected = try f.bytes("expectSend")
                d.pump()
                if d.pending.starts(with: expected) {
                    d.pending.removeFirst(expected.count)
                } else {
                    fail("\(at): sent \(d.pending.isEmpty ? "nothing" : Vectors.show(d.pending)), expected \(Vectors.show(expected)); \(Vectors.difference(d.pending, expected))")
                    d.pending.removeAll()
                }
            case "expectNoSend":
                _ = try f.bool("expectNoSend", default: true)
                d.pump()
                if !d.pending.isEmpty { fail("\(at): sent \(Vectors.show(d.pending)), expected nothing") }
                d.pending.removeAll()
            case "ignoreSend":
                _ = try f.bool("ignoreSend", default: true)
                _ = d.takePending()
            case "expectEvent":
                let expected = try f.required("expectEvent")
                guard !d.queue.isEmpty else { fail("\(at): no event, expected \(expected.compact)"); break }
                let event = d.queue.removeFirst()
                if let problem = try Match.event(event, expected, "\(context).expectEvent") { fail("\(at): \(problem)") }
            case "expectNoEvent":
                _ = try f.bool("expectNoEvent", default: true)
                if !d.queue.isEmpty { fail("\(at): events \(d.queue.map(Match.describe)), expected none") }
                d.queue.removeAll()
            case "expectError":
                let code = try Vectors.errorCode(try f.string("expectError"), "\(context).expectError")
                let blame = try f.optionalString("blame").map { try Vectors.blame($0, "\(context).blame") }
                guard !d.queue.isEmpty else {
                    fail("\(at): no event, expected failed(\(code))\(d.connection.error.map { " (the connection's error is \($0))" } ?? "")")
                    break
                }
                let event = d.queue.removeFirst()
                guard case .failed(let error) = event else { fail("\(at): got \(Match.describe(event)), expected failed(\(code))"); break }
                if error.code != code { fail("\(at): failed with \(error), expected \(code)") }
                if let blame, error.blame != blame { fail("\(at): blame \(error.blame), expected \(blame)") }
                if d.connection.error != error { fail("\(at): the error is not sticky: \(String(describing: d.connection.error))") }
            case "expectNothingDelivered":
                _ = try f.bool("expectNothingDelivered", default: true)
                d.pump()
                let delivered = d.history.filter(Match.delivers)
                if !delivered.isEmpty { fail("\(at): delivered \(delivered.map(Match.describe))") }
                if d.connection.isReady { fail("\(at): the connection is ready") }
            case "send":
                var s = try Fields(try f.required("send"), "\(context).send")
                let expectedError = try f.optionalString("error").map { try Vectors.errorCode($0, "\(context).error") }
                let result: ZMTPError?
                if s.has("command") {
                    let command = try Vectors.command(try s.required("command"), "\(context).send.command")
                    do throws(ZMTPError) { try d.connection.send(command); result = nil } catch { result = error }
                } else {
                    let message = Message(try s.bytes("message"), more: try s.bool("more", default: false))
                    do throws(ZMTPError) { try d.connection.send(message); result = nil } catch { result = error }
                }
                try s.finish()
                switch (result, expectedError) {
                case (nil, nil): break
                case (let e?, nil): fail("\(at): send threw \(e)")
                case (nil, let c?): fail("\(at): send succeeded, expected \(c)")
                case (let e?, let c?): if e.code != c { fail("\(at): send threw \(e), expected \(c)") }
                }
                d.pump()
            case "advanceMs":
                let ms = try f.int("advanceMs")
                guard ms >= 0 else { throw VectorFormatError("\(context).advanceMs must not be negative") }
                d.nowMs += ms
                d.connection.handleTimeout(now: d.now)
                d.pump()
            case "authenticate":
                let reply = try Vectors.authenticationReply(try f.required("authenticate"), "\(context).authenticate")
                let expectedError = try f.optionalString("error").map { try Vectors.errorCode($0, "\(context).error") }
                var result: ZMTPError?
                do throws(ZMTPError) { try d.connection.completeAuthentication(reply, now: d.now) } catch { result = error }
                switch (result, expectedError) {
                case (nil, nil): break
                case (let e?, nil): fail("\(at): completeAuthentication threw \(e)")
                case (nil, let c?): fail("\(at): completeAuthentication succeeded, expected \(c)")
                case (let e?, let c?): if e.code != c { fail("\(at): completeAuthentication threw \(e), expected \(c)") }
                }
                d.pump()
            case "expectDeadlineMs":
                let expected = try f.optionalInt("expectDeadlineMs")
                let actual = d.connection.nextDeadline
                let expectedInstant = expected.map { ZMTPInstant.zero.adding(.milliseconds($0)) }
                if actual != expectedInstant {
                    fail("\(at): nextDeadline \(actual.map { "\($0.nanoseconds / 1_000_000) ms" } ?? "none"), expected \(expected.map { "\($0) ms" } ?? "none")")
                }
            case "expectReady":
                let expected = try f.bool("expectReady", default: true)
                if d.connection.isReady != expected { fail("\(at): isReady is \(d.connection.isReady)") }
            case "expectPeer":
                let expected = try f.required("expectPeer")
                if let peer = d.connection.peer {
                    let problems = try Match.peer(peer, expected, "\(context).expectPeer")
                    if !problems.isEmpty { fail("\(at): \(problems.joined(separator: "; "))") }
                } else {
                    fail("\(at): no peer (not ready)")
                }
            default:
                throw VectorFormatError("\(context): unknown action \(action)")
            }
            try f.finish()
        }

        // Everything the connection did must have been expected by some step.
        d.pump()
        if !d.pending.isEmpty { fail("[\(mode)] after the last step: sent \(Vectors.show(d.pending)) that no step expected") }
        if !d.queue.isEmpty { fail("[\(mode)] after the last step: events \(d.queue.map(Match.describe)) that no step expected") }
        if d.random.overrun { fail("[\(mode)] the connection asked for more random bytes than the vector scripts") }
    }
}
