import ZMTPConformance
import ZMTP

/// Kind "handshake": two connections with fixed keys and fixed randomness, driven back to back.
/// Every chunk each side transmits must equal the transcript, in order; then each side alone is
/// replayed the other side's entries (whole, and one byte at a time) and must answer with its own.
enum HandshakeVectors {
    /// One side of a handshake case.
    struct Side {
        var role: String
        var configuration: JSON
        var random: JSON?
        var sends: [JSON]
        var authenticationReply: AuthenticationReply?
        var expectEvents: [JSON]

        init(_ json: JSON, role: String, _ context: String) throws {
            var f = try Fields(json, context)
            self.role = role
            configuration = try f.required("configuration")
            random = f.optional("random")
            sends = try f.optional("send").map { j -> [JSON] in
                guard let a = j.arrayValue else { throw VectorFormatError("\(context).send must be an array") }
                return a
            } ?? []
            authenticationReply = try f.optional("authenticationReply").map { try Vectors.authenticationReply($0, "\(context).authenticationReply") }
            expectEvents = try f.array("expectEvents")
            try f.finish()
        }

        /// A fresh connection for this side, with its application sends queued.
        func makeDriver(drip: Bool, _ context: String) throws -> Driver {
            var driver = Driver(configuration: try VectorConfiguration(configuration, "\(context).configuration"),
                                random: try VectorRandom.from(random, "\(context).random"), drip: drip)
            driver.authenticationReply = authenticationReply
            for (i, item) in sends.enumerated() {
                var s = try Fields(item, "\(context).send[\(i)]")
                let command = s.has("command") ? try Vectors.command(try s.required("command"), "\(context).send[\(i)].command") : nil
                let message = command == nil ? Message(try s.bytes("message"), more: try s.bool("more", default: false)) : nil
                do throws(ZMTPError) {
                    if let command {
                        try driver.connection.send(command)
                    } else if let message {
                        try driver.connection.send(message)
                    }
                } catch {
                    fail("\(context).send[\(i)] threw \(error)")
                }
                try s.finish()
            }
            driver.pump()
            return driver
        }

        /// Checks the events this side reported and that its randomness was used exactly.
        func check(_ driver: Driver, _ label: String) throws {
            let events = driver.history
            if events.count != expectEvents.count {
                fail("\(label): \(role) reported \(events.map(Match.describe)), expected \(expectEvents.count) events \(JSON.array(expectEvents).compact)")
            }
            for (i, (event, expected)) in zip(events, expectEvents).enumerated() {
                if let problem = try Match.event(event, expected, "\(role).expectEvents[\(i)]") {
                    fail("\(label): \(role) event \(i): \(problem)")
                }
            }
            if driver.random.overrun { fail("\(label): \(role) asked for more random bytes than scripted") }
            if driver.random.isScripted && driver.random.remaining != 0 {
                fail("\(label): \(role) used \(driver.random.consumed) of its \(driver.random.consumed + driver.random.remaining) scripted random bytes")
            }
        }
    }

    typealias Entry = (from: String, bytes: [UInt8])

    /// Drives both sides until neither transmits: in each round the client transmits (and the
    /// server receives and reports its events), then the server does the same.
    static func drivePair(client: Side, server: Side, _ context: String) throws -> (transcript: [Entry], client: Driver, server: Driver) {
        var c = try client.makeDriver(drip: false, "\(context).client")
        var s = try server.makeDriver(drip: false, "\(context).server")
        var transcript: [Entry] = []
        for _ in 0..<1_000 {
            var progressed = false
            let fromClient = c.takePending()
            if !fromClient.isEmpty {
                transcript.append(("client", fromClient))
                s.receive(fromClient)
                progressed = true
            }
            let fromServer = s.takePending()
            if !fromServer.isEmpty {
                transcript.append(("server", fromServer))
                c.receive(fromServer)
                progressed = true
            }
            if !progressed { return (transcript, c, s) }
        }
        throw VectorFormatError("\(context): the connections were still talking after 1000 rounds")
    }

    static func transcript(_ json: JSON, _ context: String) throws -> [Entry] {
        guard let items = json.arrayValue else { throw VectorFormatError("\(context) must be an array") }
        return try items.enumerated().map { i, item in
            var f = try Fields(item, "\(context)[\(i)]")
            let from = try f.string("from")
            guard from == "client" || from == "server" else { throw VectorFormatError("\(context)[\(i)].from: \(from)") }
            let entry = (from: from, bytes: try f.bytes("bytes"))
            _ = f.optional("comment")
            try f.finish()
            return entry
        }
    }

    static func transcriptJSON(_ entries: [Entry]) -> JSON {
        .array(entries.map { .object([("from", .string($0.from)), ("bytes", .string(Vectors.hexString($0.bytes)))]) })
    }

    static func run(_ vector: VectorCase) throws {
        var f = try Fields(case: vector)
        let client = try Side(try f.required("client"), role: "client", "\(vector.name).client")
        let server = try Side(try f.required("server"), role: "server", "\(vector.name).server")
        let expected = try transcript(try f.required("transcript"), "\(vector.name).transcript")
        try f.finish()
        guard !expected.isEmpty else { throw VectorFormatError("\(vector.name): empty transcript (run the generator)") }

        // 1. The pair, chunk by chunk.
        let (actual, c, s) = try drivePair(client: client, server: server, vector.name)
        for i in 0..<max(actual.count, expected.count) {
            let a = i < actual.count ? actual[i] : nil
            let e = i < expected.count ? expected[i] : nil
            if a?.from != e?.from || a?.bytes != e?.bytes {
                let where_ = (a != nil && e != nil) ? "; " + Vectors.difference(a!.bytes, e!.bytes) : ""
                fail("pair: transcript entry \(i): \(a.map { "\($0.from) sent \(Vectors.show($0.bytes))" } ?? "nothing"), expected \(e.map { "\($0.from) sends \(Vectors.show($0.bytes))" } ?? "nothing")\(where_)")
                break
            }
        }
        try client.check(c, "pair")
        try server.check(s, "pair")

        // 2. Each side alone, fed the other side's entries.
        for side in [client, server] {
            for drip in [false, true] {
                let label = "\(side.role) alone\(drip ? ", byte by byte" : "")"
                var d = try side.makeDriver(drip: drip, "\(vector.name).\(side.role)")
                var failed = false
                for (i, entry) in expected.enumerated() {
                    if entry.from == side.role {
                        d.pump()
                        if d.pending.starts(with: entry.bytes) {
                            d.pending.removeFirst(entry.bytes.count)
                        } else {
                            fail("\(label): at entry \(i) it sent \(d.pending.isEmpty ? "nothing" : Vectors.show(d.pending)), expected \(Vectors.show(entry.bytes)); \(Vectors.difference(d.pending, entry.bytes))")
                            failed = true
                            break
                        }
                    } else {
                        d.receive(entry.bytes)
                    }
                }
                guard !failed else { continue }
                d.pump()
                if !d.pending.isEmpty { fail("\(label): sent \(Vectors.show(d.pending)) after the transcript ended") }
                try side.check(d, label)
            }
        }
    }
}
