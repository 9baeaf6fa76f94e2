@_spi(Testing) import ZMTP

/// How the harness answers ``ConnectionEvent/authenticationRequest(_:)``: a pure function of the
/// request's index within the run and the request itself, so every chunking gets the same answers.
public typealias Authenticator = @Sendable (_ index: Int, _ request: AuthenticationRequest) -> AuthenticationReply

/// Answers alternately accept / deny, starting with accept unless `denyFirst`.
public func alternating(denyFirst: Bool) -> Authenticator {
    { index, _ in (index % 2 == 0) != denyFirst ? .accept(userID: "fuzz", metadata: ["X-Fuzz": "1"]) : .deny }
}

/// SplitMix64 (the same generator and byte order as ``SeededRandom``) whose state can be saved and
/// restored, so that a connection copied from a snapshot replays the same random bytes.
///
/// - Warning: Not random at all. For fuzzing only.
public final class ReplayableRandom: RandomSource {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        var rng = SplitMix(seed: state)
        var i = 0
        while i < buffer.count {
            var word = rng.next()
            for _ in 0..<8 where i < buffer.count {
                buffer[i] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                i += 1
            }
        }
        state = rng.state
    }
}

/// Everything a run of a connection produced: the events in order and every transmitted byte.
public struct ConnectionRun: Equatable {
    public var events: [ConnectionEvent] = []
    public var output: [UInt8] = []
}

/// What a connection harness sets up besides the fuzz input.
public struct ConnectionScenario {
    /// Creates the connection under test with the random source it must use.
    public var make: (RandomSource) -> Connection
    /// Answers authentication requests.
    public var authenticator: Authenticator
    /// Message parts the application sends before any byte arrives (they go out once ready).
    public var queuedMessages: [Message] = []
    /// The largest message part the configuration allows through (nil: no limit checked).
    public var maxMessageSize: Int? = nil
    /// After the stream, fire timers (1 h, then 3 h later): any failure then must be `.transport`.
    public var fireTimers: Bool = true
    /// Valid units (a recorded greeting, handshake commands, frames) fed before the fuzz input,
    /// each in one read.
    public var prefixUnits: [[UInt8]] = []
    /// When set, the connection's state after the prefix is computed once per process and copied
    /// for every later input with the same key, so the handshake is not redone for every chunking
    /// of every input. Inputs that should exercise the handshake in every chunking carry it in
    /// the fuzz input.
    ///
    /// Only a connection that is not ready is copied: `Connection` is a value, but once a CURVE
    /// session exists its nonce counters are shared by all copies (so copies can never reuse a
    /// nonce). The snapshot is therefore taken before the prefix unit that completes the
    /// handshake, and that unit and the rest of the prefix are read again on every run.
    public var snapshotKey: Int? = nil

    /// The prefix as one byte string.
    public var prefix: [UInt8] { Array(prefixUnits.joined()) }

    public init(make: @escaping (RandomSource) -> Connection, authenticator: @escaping Authenticator) {
        self.make = make
        self.authenticator = authenticator
    }
}

/// Phase bookkeeping for the event checks.
struct EventChecker {
    var completed = false
    var failed: ZMTPError?
    var requests = 0
    var timersFired = false

    mutating func check(_ event: ConnectionEvent, maxMessageSize: Int?) {
        require(failed == nil, "event \(event) after failed(\(failed!))")
        switch event {
        case .handshakeCompleted:
            require(!completed, "second handshakeCompleted: \(event)")
            completed = true
        case .message(let message):
            require(completed, "message before handshakeCompleted: \(message)")
            if let limit = maxMessageSize {
                require(message.count <= limit, "message of \(message.count) bytes over the \(limit)-byte limit")
            }
        case .subscribe, .cancel, .join, .leave, .command:
            require(completed, "\(event) before handshakeCompleted")
        case .authenticationRequest:
            require(!completed, "authenticationRequest after handshakeCompleted")
            requests += 1
        case .failed(let error):
            requirePeerBlame(error, timersFired ? .peerOrTransport : .peer, "in failed event")
            if !timersFired {
                require(error.blame != .transport, "transport error without a timer: \(error)")
            }
            failed = error
        }
    }
}

/// One connection under test with what it has produced so far.
struct ConnectionUnderTest {
    var connection: Connection
    let random: ReplayableRandom
    var randomState: UInt64 = 0
    var result = ConnectionRun()
    var checker = EventChecker()
    let now = ZMTPInstant.zero

    /// A fresh connection that has queued the scenario's messages.
    init(_ scenario: ConnectionScenario) {
        random = ReplayableRandom(seed: FuzzSeeds.underTest)
        connection = scenario.make(random)
        for message in scenario.queuedMessages {
            do throws(ZMTPError) {
                try connection.send(message)
            } catch {
                finding("send before any input threw \(error)")
            }
        }
        pump(scenario, budget: Int.max)
        randomState = random.state
    }

    /// Reads one prefix unit in one read.
    mutating func read(_ unit: [UInt8], _ scenario: ConnectionScenario) {
        connection.receive(unit, now: now)
        pump(scenario, budget: Int.max)
    }

    /// A fresh connection that has read the prefix units it can read without completing the
    /// handshake, and the units left to read (the one that completes it, and what follows).
    static func snapshot(_ scenario: ConnectionScenario) -> (ConnectionUnderTest, rest: [[UInt8]]) {
        var test = ConnectionUnderTest(scenario)
        for (index, unit) in scenario.prefixUnits.enumerated() {
            var trial = test
            trial.read(unit, scenario)
            if trial.connection.isReady {
                // Not this one: the copies would share the session's nonce counters.
                test.random.state = test.randomState
                return (test, Array(scenario.prefixUnits[index...]))
            }
            test = trial
            test.randomState = test.random.state
        }
        return (test, [])
    }

    /// Takes every event (answering authentication requests at once), then, if `transmit`, what
    /// is to be sent.
    mutating func pump(_ scenario: ConnectionScenario, budget: Int, transmit: Bool = true) {
        while let event = connection.nextEvent() {
            checker.check(event, maxMessageSize: scenario.maxMessageSize)
            result.events.append(event)
            require(result.events.count <= budget, "more than \(budget) events")
            if case .authenticationRequest(let request) = event {
                let reply = scenario.authenticator(checker.requests - 1, request)
                do throws(ZMTPError) {
                    try connection.completeAuthentication(reply, now: now)
                } catch {
                    // Only the sticky peer error may come back; never "nothing pending".
                    requirePeerBlame(error, .peer, "from completeAuthentication right after the request")
                }
            }
        }
        if transmit {
            connection.pollTransmit(into: &result.output)
        }
    }
}

/// Snapshots and the prefix units still to read, by ``ConnectionScenario/snapshotKey``. libFuzzer
/// runs inputs on one thread.
nonisolated(unsafe) private var snapshots: [Int: (ConnectionUnderTest, rest: [[UInt8]])] = [:]

/// How many snapshots are kept before all are dropped (FuzzConnection has one per pair of
/// set-up bytes, 65,536 in all).
private let maxSnapshots = 4_096

/// Runs `stream` (the fuzz input) into the scenario's connection, after its prefix, read by read
/// as `plan` cuts it, answering authentication requests as soon as they are reported, and
/// checks every event.
public func run(_ scenario: ConnectionScenario, stream: [UInt8], plan: ChunkPlan) -> ConnectionRun {
    var test: ConnectionUnderTest
    var rest: [[UInt8]]
    if let key = scenario.snapshotKey {
        if let cached = snapshots[key] {
            (test, rest) = cached
        } else {
            (test, rest) = ConnectionUnderTest.snapshot(scenario)
            if snapshots.count >= maxSnapshots { snapshots.removeAll(keepingCapacity: true) }
            snapshots[key] = (test, rest)
        }
        test.random.state = test.randomState
    } else {
        (test, rest) = (ConnectionUnderTest(scenario), scenario.prefixUnits)
    }
    for unit in rest {
        test.read(unit, scenario)
    }
    // A connection makes at most one event per byte, plus a handful (completion, a request,
    // failure); more means a loop that never consumes input.
    let budget = test.result.events.count + stream.count + 16

    // Every entry point: `receive([UInt8])` for whole reads and every third random read (the
    // connection may adopt the array); the drivers' fast path, `receive(_:now:delivering:)`, for
    // bytewise reads and another third of the random ones, refusing every seventh part it
    // offers (the part must then come out of nextEvent(), in order); and
    // `receive(UnsafeRawBufferPointer)` for the rest. The last two read from one exactly sized
    // block holding the stream (ASan sees a read past its end).
    withExactCopy(stream[...]) { block in
        var offset = 0
        var offered = 0
        for (index, size) in plan.sizes.enumerated() {
            let bytes = UnsafeRawBufferPointer(rebasing: block[offset..<(offset + size)])
            if plan.kind == .whole || (plan.kind == .random && index % 3 == 1) {
                test.connection.receive(Array(stream[offset..<(offset + size)]), now: test.now)
            } else if plan.kind == .bytewise || (plan.kind == .random && index % 3 == 2) {
                var delivered: [Message] = []
                func take(_ message: Message) -> Bool {
                    offered += 1
                    guard offered % 7 != 0 else { return false }
                    delivered.append(message)
                    return true
                }
                test.connection.receive(bytes, now: test.now, delivering: take)
                // What it buffered, taken in place as an engine does once it has room (nothing
                // while a refused part or an event waits for nextEvent()).
                test.connection.deliverBuffered(take)
                for message in delivered {
                    let event = ConnectionEvent.message(message)
                    test.checker.check(event, maxMessageSize: scenario.maxMessageSize)
                    test.result.events.append(event)
                }
            } else {
                test.connection.receive(bytes, now: test.now)
            }
            offset += size
            // Transmitting between reads is part of the random plan only: what goes out may
            // depend on it (at most one PONG waits in the output, as in libzmq).
            test.pump(scenario, budget: budget, transmit: plan.kind == .random)
        }
    }
    test.connection.pollTransmit(into: &test.result.output)
    // No more input: asking again must give nothing new.
    require(test.connection.nextEvent() == nil, "nextEvent produced an event with no new input")

    // The public state agrees with the events.
    if let failed = test.checker.failed {
        require(test.connection.error == failed, "error property \(String(describing: test.connection.error)) != failed event \(failed)")
        require(!test.connection.isReady && test.connection.peer == nil, "failed connection still ready")
        do throws(ZMTPError) {
            try test.connection.send(Message([1, 2, 3]))
            finding("send after failure did not throw")
        } catch {
            require(error == failed, "send after failure threw \(error), not the sticky \(failed)")
        }
    } else {
        require(test.connection.error == nil, "error property \(test.connection.error!) without a failed event")
        require(test.connection.isReady == test.checker.completed,
                "isReady \(test.connection.isReady) but completed \(test.checker.completed)")
    }

    if scenario.fireTimers {
        test.checker.timersFired = true
        var t = ZMTPInstant.zero
        for hours in [1, 3] {
            t = t.adding(.seconds(hours * 3_600))
            test.connection.handleTimeout(now: t)
            test.pump(scenario, budget: budget + 2)
            if let deadline = test.connection.nextDeadline {
                require(deadline > t, "nextDeadline \(deadline) not after handleTimeout(now: \(t))")
            }
        }
    }
    return test.result
}

/// Runs `stream` through whole, byte-by-byte and one pseudo-random chunking, and requires
/// identical events, and identical output from the whole and byte-by-byte runs, which transmit
/// only at the end. (The random run transmits after every read, which may change what goes
/// out: a PONG is not queued while another waits.)
@discardableResult
public func fuzzConnection(_ scenario: ConnectionScenario, stream: [UInt8]) -> ConnectionRun {
    let plans = ChunkPlan.standard(for: stream)
    let reference = run(scenario, stream: stream, plan: plans[0])
    for plan in plans.dropFirst() {
        let other = run(scenario, stream: stream, plan: plan)
        let compareOutput = plan.kind != .random
        let sameOutput = other.output.withUnsafeBytes { p in reference.output.withUnsafeBytes { q in sameBytes(p, q) } }
        guard other.events != reference.events || (compareOutput && !sameOutput) else { continue }
        var difference: String
        if other.events != reference.events {
            let i = zip(other.events, reference.events).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                ?? min(other.events.count, reference.events.count)
            difference = "event \(i): \(plans[0].name) has \(reference.events.dropFirst(i).first.map { "\($0)" } ?? "nothing"), "
                + "\(plan.name) has \(other.events.dropFirst(i).first.map { "\($0)" } ?? "nothing")"
        } else {
            let i = zip(other.output, reference.output).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                ?? min(other.output.count, reference.output.count)
            difference = "output differs at byte \(i) (\(reference.output.count) vs \(other.output.count) bytes)"
        }
        finding("chunkings disagree: \(difference)\n  \(plans[0]): \(reference.events)\n  \(plan): \(other.events)")
    }
    return reference
}
