/// How one case ended.
public enum Outcome: Equatable, Sendable {
    case pass
    case fail(String)
    case skip(String)
}

/// The bounds of a live run, in milliseconds.
public struct Timing: Sendable {
    /// How long the runner waits for something the vector says must happen.
    public var patience = 5_000
    /// How long the target must stay silent for "nothing more" to hold.
    public var quiet = 150
    public init() {}
}

/// Plays one live plan against a shim: the runner is the peer the vector describes.
struct Player {
    var link: LiveLink
    let timing: Timing
    /// Octets of an `expectBytes` that the target had not sent yet when the runner moved on:
    /// only during the greeting, which libzmq sends in stages (10 octets, then the rest once
    /// the peer's own have arrived), as RFC 23 allows.
    var owed: [UInt8] = []
    var deliveries = 0
    var authenticationRequests = 0
    /// The routing id of the last message a ROUTER target received.
    var lastRoutingId: [UInt8]?
    /// The runner's CURVE side, when the plan has one, and the frames it has sent (for replays).
    var curve: CurvePeer?
    var curveSent: [[UInt8]] = []

    init(link: LiveLink, timing: Timing) {
        self.link = link
        self.timing = timing
    }

    /// Runs the plan against a shim, or a running endpoint; the link is closed afterwards.
    static func play(_ plan: LiveCase.Plan, target: ConformanceRunner.Target, timing: Timing) -> Outcome {
        let link: LiveLink
        do throws(FormatError) {
            switch target {
            case .command(let command): link = try LiveLink.start(command: command, setup: plan.setup)
            case .endpoint(let endpoint): link = try LiveLink.connect(to: endpoint)
            }
        } catch {
            return .fail(error.message)
        }
        var player = Player(link: link, timing: timing)
        var outcome = player.run(plan)
        // A shim that could not set the case up makes it a skip, whatever happened on the wire.
        if let reason = player.link.unsupported { outcome = .skip("the shim cannot do this: \(reason)") }
        player.link.close(grace: 2_000)
        return outcome
    }

    mutating func run(_ plan: LiveCase.Plan) -> Outcome {
        if let keys = plan.curve {
            curve = CurvePeer(role: keys.asServer ? .server : .client, publicKey: keys.publicKey, secretKey: keys.secretKey,
                              peerPublicKey: keys.serverKey)
        }
        // The target connects first; the greeting follows.
        let connected = link.wait(milliseconds: timing.patience) {
            if case .awaiting = $0.peer { return $0.unsupported != nil || $0.shimHasExited() }
            return true
        }
        if link.unsupported != nil { return .skip("") }
        if case .awaiting = link.peer {
            let why = connected ? "the shim exited before connecting" : "the target did not connect within \(timing.patience) ms"
            return .fail(why + link.stderrSummary)
        }
        for (index, step) in plan.steps.enumerated() {
            if let problem = perform(step, later: plan.steps[(index + 1)...]) {
                if case .horizon(let reason) = step, problem.isEmpty { return .skip(reason) }
                if case .expectClosedOrUnknown(let code) = step, problem.isEmpty {
                    return .skip("the running endpoint kept the connection open where the vector fails it with \(code); without the target's events the runner cannot tell whether it reported the failure (libzmq reports some and waits for the peer to close)")
                }
                return .fail("\(plan.labels[index]): \(problem)\(link.stderrSummary)")
            }
            if let error = link.contractError { return .fail(error) }
        }
        if let problem = finish(plan) { return .fail("after the last step: \(problem)\(link.stderrSummary)") }
        if let error = link.contractError { return .fail(error) }
        return .pass
    }

    /// Performs one step; nil when it holds, else what went wrong ("" for a horizon reached).
    mutating func perform(_ step: LiveStep, later: ArraySlice<LiveStep>) -> String? {
        switch step {
        case .peerSends(let bytes):
            if link.peerIsClosed { return nil }  // the vector's connection has failed; its later input goes nowhere
            _ = link.send(bytes, timeout: timing.patience)
            return nil
        case .expectBytes(let bytes):
            let expected = owed + bytes
            owed = []
            // Whether the vector's peer sends again, or the connection fails, before the
            // target's application sees anything: the greeting may wait for either.
            let peerActsLater = later.contains { step in
                switch step {
                case .peerSends, .expectClosed, .expectClosedOrUnknown, .horizon, .curveSends: return true
                default: return false
                }
            }
            return expectBytes(expected, mayDefer: peerActsLater, failureAhead: failsBeforePeerSends(later))
        case .expectQuiet:
            link.settle(quiet: timing.quiet, limit: timing.patience)
            var extra = Array(link.received[link.consumed...])
            // Greeting octets still owed may arrive now; only what goes beyond them is extra.
            let owedPart = zip(extra, owed).prefix { $0 == $1 }.count
            if owedPart > 0 {
                link.consumed += owedPart
                owed.removeFirst(owedPart)
                extra.removeFirst(owedPart)
            }
            return extra.isEmpty ? nil : "the target sent \(VectorValues.show(extra)) where the vector expects nothing"
        case .discardBytes:
            owed = []
            link.settle(quiet: timing.quiet, limit: timing.patience)
            link.consumed = link.received.count
            return nil
        case .appSends(let frames, let envelope):
            var message = frames
            if case .routingId = envelope {
                guard let id = lastRoutingId else {
                    return "a ROUTER's application can only address a peer whose routing id it has seen"
                }
                message.insert(id, at: 0)
            }
            return link.tell("send " + message.map(ShimLine.word).joined(separator: " ")) ? nil : "the shim's input is closed"
        case .appSubscribes(let topic, let on):
            return link.tell("\(on ? "subscribe" : "unsubscribe") \(ShimLine.word(topic))") ? nil : "the shim's input is closed"
        case .expectDelivery(let frames, let envelope):
            return expectDelivery(frames, envelope)
        case .expectNoDelivery:
            link.pump(milliseconds: 0)
            if let message = nextDelivery() {
                return "the application received \(show(message)) where the vector expects nothing"
            }
            return nil
        case .expectHandshake:
            // The report may trail the bytes that complete the handshake: give it the quiet
            // period before deciding whether this shim reports events at all. Without events,
            // only the bytes that follow can tell.
            _ = link.wait(milliseconds: timing.quiet) { $0.handshakeSucceeded || !$0.failures.isEmpty }
            guard reportsEvents else { return nil }
            if link.wait(milliseconds: timing.patience, until: { $0.handshakeSucceeded }) { return nil }
            return "the target reported no completed handshake" + failureSummary
        case .expectAuthenticationRequest(let mechanism, let credentials, let domain, let identity):
            return expectAuthenticationRequest(mechanism, credentials, domain: domain, identity: identity)
        case .expectAuthenticationFailure(let status):
            // Wait for the report itself: the first event line may still be on its way.
            _ = link.wait(milliseconds: timing.patience) { !$0.failures.isEmpty }
            if link.failures.contains(.handshakeFailedAuthentication(status)) { return nil }
            // A shim that reports no events at all is judged on the wire alone.
            if link.failures.isEmpty && !reportsEvents { return nil }
            return "the target reported no authentication failure \(status)" + failureSummary
        case .expectClosedOrUnknown(let code):
            guard let problem = perform(.expectClosed(code), later: later) else { return nil }
            // Octets that differ are a failure all the same; only an open connection is unknown.
            return link.peerIsClosed ? problem : ""
        case .expectClosed(let code):
            // A connection that fails may leave the rest of a staged greeting unsent.
            if !owed.isEmpty {
                let expected = owed
                owed = []
                if let problem = expectBytes(expected, mayDefer: false, failureAhead: true) { return problem }
            }
            // Failed: the target closes the connection, or (libzmq, after a peer's ERROR)
            // reports the handshake failed and waits for the peer to close.
            if link.wait(milliseconds: timing.patience, until: { $0.peerIsClosed || !$0.failures.isEmpty }) { return nil }
            return "the target kept the connection open where the vector fails it with \(code)"
        case .expectNothingDelivered:
            link.settle(quiet: timing.quiet, limit: timing.patience)
            if link.deliveredSomething { return "the application received a message" }
            if link.handshakeSucceeded { return "the target reported a completed handshake" }
            return nil
        case .wait(let milliseconds):
            _ = link.wait(milliseconds: milliseconds) { _ in false }
            return nil
        case .horizon:
            return ""
        case .curveSends(let command, let alterations):
            return curveSends(command, alterations)
        case .curveExpects(let expectation):
            return curveExpects(expectation)
        }
    }

    /// Whether this shim reports monitor events at all (both shims here do; a minimal one may not).
    var reportsEvents: Bool { link.lines.contains { if case .received = $0 { return false }; return $0 != .disconnected } || link.handshakeSucceeded }

    var failureSummary: String {
        guard let last = link.failures.last else { return "" }
        return " (it reported \(last))"
    }

    /// Waits for the target's next octets to be `expected`. With `mayDefer`, during the
    /// greeting, a target that stops after a correct prefix is owed the rest.
    /// Whether the plan fails the connection before the peer sends anything more.
    func failsBeforePeerSends(_ later: ArraySlice<LiveStep>) -> Bool {
        for step in later {
            switch step {
            case .expectClosed, .expectClosedOrUnknown: return true
            case .peerSends, .expectDelivery, .expectHandshake, .appSends, .curveSends, .curveExpects: return false
            default: continue
            }
        }
        return false
    }

    mutating func expectBytes(_ expected: [UInt8], mayDefer: Bool, failureAhead: Bool = false) -> String? {
        let start = link.consumed
        var lastCount = -1
        var lastChange = LiveLink.now()
        let deadline = LiveLink.now() + timing.patience
        while true {
            let available = link.received[start...]
            let common = min(available.count, expected.count)
            if let index = (0..<common).first(where: { available[start + $0] != expected[$0] }) {
                return mismatch(at: start, index: index, expected: expected)
            }
            if available.count >= expected.count {
                link.consumed = start + expected.count
                return nil
            }
            if available.count != lastCount {
                lastCount = available.count
                lastChange = LiveLink.now()
            }
            let inGreeting = start + expected.count <= 64 || start < 64
            if mayDefer && inGreeting && LiveLink.now() - lastChange >= timing.quiet {
                link.consumed = start + available.count
                owed = Array(expected[available.count...])
                return nil
            }
            if link.peerIsClosed {
                link.pump(milliseconds: 0)
                if link.received.count - start == available.count {
                    // The greeting is the only output a failing connection is excused from
                    // finishing (libzmq sends it in stages and stops when it fails).
                    if failureAhead && start + available.count >= 0 && start + expected.count <= 64 {
                        link.consumed = start + available.count
                        return nil
                    }
                    return "the target closed the connection after \(VectorValues.show(available)) where the vector expects \(VectorValues.show(expected))" + failureSummary
                }
            }
            if LiveLink.now() >= deadline {
                return "after \(timing.patience) ms the target had sent \(VectorValues.show(available)) of \(VectorValues.show(expected))"
            }
            link.pump(milliseconds: 20)
        }
    }

    func mismatch(at start: Int, index: Int, expected: [UInt8]) -> String {
        let from = max(0, index - 4)
        let got = link.received[(start + from)...].prefix(16)
        let want = expected[from...].prefix(16)
        return "octet \(index) of \(expected.count) differs: expected \(VectorValues.show(want)), got \(VectorValues.show(got)) (from octet \(from); the target's stream offset \(start + from))"
    }

    /// Octets owed since the greeting must be in before anything but the peer's own input.
    mutating func settleOwed() -> String? {
        guard !owed.isEmpty else { return nil }
        let expected = owed
        owed = []
        return expectBytes(expected, mayDefer: false, failureAhead: false)
    }

    mutating func nextDelivery() -> [[UInt8]]? {
        var seen = 0
        for line in link.lines {
            if case .received(let frames) = line {
                if seen == deliveries {
                    deliveries += 1
                    return frames
                }
                seen += 1
            }
        }
        return nil
    }

    mutating func expectDelivery(_ frames: [[UInt8]], _ envelope: Envelope) -> String? {
        var message: [[UInt8]]?
        _ = link.wait(milliseconds: timing.patience) { link in
            link.lines.reduce(0) { count, line in if case .received = line { return count + 1 }; return count } > deliveries
        }
        message = nextDelivery()
        guard var got = message else {
            return "the application received nothing where the vector delivers \(show(frames))" + failureSummary
        }
        if case .routingId(let id) = envelope {
            guard let first = got.first else { return "a ROUTER delivered a message without a routing id" }
            lastRoutingId = first
            if let id, first != id {
                return "the routing id is \(ShimLine.word(first)), the peer's identity is \(ShimLine.word(id))"
            }
            got.removeFirst()
        }
        return got == frames ? nil : "the application received \(show(got)) where the vector delivers \(show(frames))"
    }

    mutating func expectAuthenticationRequest(_ mechanism: String, _ credentials: [[UInt8]]?, domain: [UInt8]?, identity: [UInt8]?) -> String? {
        func nextRequest(_ link: LiveLink, skipping: Int) -> ShimLine? {
            var seen = 0
            for line in link.lines {
                if case .authenticationRequest = line {
                    if seen == skipping { return line }
                    seen += 1
                }
            }
            return nil
        }
        let skipping = authenticationRequests
        guard link.wait(milliseconds: timing.patience, until: { nextRequest($0, skipping: skipping) != nil }),
              case .authenticationRequest(let gotMechanism, let gotDomain, let gotIdentity, let gotCredentials) = nextRequest(link, skipping: skipping)
        else {
            return "the target's ZAP handler was not asked (\(mechanism) request expected)" + failureSummary
        }
        authenticationRequests += 1
        if gotMechanism != mechanism { return "the ZAP request names mechanism \(gotMechanism), not \(mechanism)" }
        if let domain, gotDomain != domain {
            return "the ZAP request names domain \(ShimLine.word(gotDomain)), not \(ShimLine.word(domain))"
        }
        if let identity, gotIdentity != identity {
            return "the ZAP request names identity \(ShimLine.word(gotIdentity)), not \(ShimLine.word(identity))"
        }
        if let credentials, gotCredentials != credentials {
            return "the ZAP request carries credentials \(show(gotCredentials)), not \(show(credentials))"
        }
        return nil
    }

    /// At the end nothing may be left: no octets the vector did not expect, no message.
    mutating func finish(_ plan: LiveCase.Plan) -> String? {
        if let problem = settleOwed() { return problem }
        if case .horizon = plan.steps.last { return nil }
        // A target with heartbeats on sends PINGs on its own time.
        if plan.setup.heartbeatIntervalMs != nil { return nil }
        link.settle(quiet: timing.quiet, limit: timing.patience)
        let extra = link.received[link.consumed...]
        if !extra.isEmpty { return "the target sent \(VectorValues.show(extra)) that the vector does not expect" }
        if let message = nextDelivery() { return "the application received \(show(message)) that the vector does not deliver" }
        return nil
    }

    func show(_ frames: [[UInt8]]) -> String {
        "[" + frames.map { VectorValues.show($0, limit: 16) }.joined(separator: " | ") + "]"
    }
}
