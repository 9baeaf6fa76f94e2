#if Tools  // zmqcat is built with the package trait "Tools" only (Package.swift)
#if canImport(Glibc)
import Glibc
#endif
import ZeroMQ
import ZeroMQPGM
import ZMTPSodium

/// One run of `zmqcat <type>`: a single-threaded loop that polls the socket's descriptor and
/// standard input together, so a dealer can print what arrives while the user types, and
/// nothing ever blocks inside the socket. The loop sends and receives while it can, and only
/// when it can do neither waits (at most ``CatSession/slice``, to notice signals and print
/// events).
final class CatSession {
    let socket: Socket
    let type: SocketKind
    let console: Console
    let output: Writer
    let errors: Writer
    let progress: ProgressLine
    let clock = ContinuousClock()

    // The step being run (the command line's first part, then each `--then` part).
    var role: Role
    var arguments: MessageArguments
    var codec: MessageCodec
    var outgoing: OutgoingSource
    var timeout: Duration?
    var notBefore: ContinuousClock.Instant
    /// The steps still to run after this one.
    var laterSteps: [MessageArguments]
    /// Messages sent and received before this step (its -n counts from there).
    var sentBefore = 0
    var receivedBefore = 0

    var watch = ConnectionWatch()
    var sent = Meter()
    var received = Meter()
    /// The message being sent (a REP's reply, an echo, a line waiting for room at the HWM).
    var pending: [[UInt8]]?
    /// REQ: a request went out and its reply has not come.
    var awaitingReply = false
    /// REP: replies sent; --echo: messages sent back (what -n counts for them).
    var replies = 0
    /// --interval: the next send waits until then.
    var nextSend: ContinuousClock.Instant
    /// A PUB's wait for its first subscriber.
    var subscribers: SubscriberGate
    /// The last time a message moved, or we were not waiting for the network.
    var lastActivity: ContinuousClock.Instant

    /// The longest wait before the loop looks at signals and events again.
    static let slice = Duration.milliseconds(100)
    /// How long a PUB waits for a first subscriber without --timeout.
    static let defaultSubscriberWait = Duration.seconds(10)

    /// A PUB runs as an XPUB so that it sees subscriptions, and sends nothing before the first.
    enum SubscriberGate {
        /// Not a PUB, or --no-wait: nothing to wait for.
        case notWatched
        /// No subscription yet.
        case waiting
        /// A subscriber is (or was) there.
        case open
    }

    /// How a loop ended.
    enum Outcome {
        case completed
        case timedOut
        case interrupted
    }

    init(socket: Socket, command: ZmqcatCommand, steps: [MessageArguments], console: Console, outgoing: OutgoingSource) {
        self.socket = socket
        type = command.type
        role = command.role
        arguments = command.messages
        codec = command.messages.codec
        laterSteps = steps
        self.console = console
        self.outgoing = outgoing
        output = Writer(console.output)
        errors = Writer(console.errors)
        timeout = arguments.timeout.map(seconds)
        let now = clock.now
        notBefore = now + (arguments.delay.map(seconds) ?? .zero)
        nextSend = now
        subscribers = Self.watchesSubscribers(command) ? .waiting : .notWatched
        lastActivity = now
        let printing = !arguments.quiet && role != .send
        let showProgress = !arguments.noProgress && console.errors.isTerminal
            && !(printing && console.output.isTerminal) && !(outgoing.readsInput && console.inputIsTerminal)
        progress = ProgressLine(errors: errors, enabled: showProgress, started: now)
    }

    // MARK: The whole run

    /// Sets up the socket, runs the loop, closes, and reports.
    static func run(_ command: ZmqcatCommand, steps: [MessageArguments], console: Console) -> ExitStatus {
        let errors = Writer(console.errors)
        let context: Context
        let socket: Socket
        do {
            (context, socket) = try makeSocket(command.type, command.socket, command.security,
                                               timeout: command.messages.timeout.map(seconds), errors: errors,
                                               seeingSubscriptions: watchesSubscribers(command))
        } catch {
            Zmqcat.complain(error.message, errors)
            return error.status
        }
        let outgoing: OutgoingSource
        do {
            outgoing = try OutgoingSource(arguments: command.messages, role: command.role, console: console)
        } catch {
            Zmqcat.complain(error.message, errors)
            return error.status
        }
        do {
            try command.socket.attach(socket, report: { Zmqcat.complain($0, errors) }, verbose: command.messages.verbose)
        } catch {
            socket.options.linger = .zero
            socket.close()
            context.terminate()
            Zmqcat.complain(error.message, errors)
            return error.status
        }
        let session = CatSession(socket: socket, command: command, steps: steps, console: console, outgoing: outgoing)
        return session.finish(session.loop(), context: context)
    }

    /// Whether the run is a PUB that waits for a subscriber (an XPUB underneath).
    static func watchesSubscribers(_ command: ZmqcatCommand) -> Bool {
        command.type == .pub && !command.messages.noWait
    }

    /// Moves on to the next `--then` step, if there is one.
    private func startNextStep() throws(ZmqcatFailure) -> Bool {
        guard !laterSteps.isEmpty else { return false }
        arguments = laterSteps.removeFirst()
        role = ZmqcatCommand.role(type, arguments)
        codec = arguments.codec
        outgoing = try OutgoingSource(arguments: arguments, role: role, console: console)
        timeout = arguments.timeout.map(seconds)
        sentBefore = sent.messages
        receivedBefore = received.messages
        replies = 0
        let now = clock.now
        notBefore = now + (arguments.delay.map(seconds) ?? .zero)
        nextSend = now
        lastActivity = now
        return true
    }

    /// Closes the socket (waiting up to LINGER for queued messages), ends the context, and
    /// turns the outcome into an exit status with its message.
    private func finish(_ result: Result<Outcome, ZmqcatFailure>, context: Context) -> ExitStatus {
        output.flush()
        progress.clear()
        // What was sent still gets LINGER to go out, unless the user asked to stop now.
        if case .success(.interrupted) = result { socket.options.linger = .zero }
        let dropped = socket.droppedMessages
        socket.close()
        context.terminate()
        takeEvents()
        output.flush()
        if arguments.rate {
            if sent.messages > 0 || role == .send { errors.write("zmqcat: " + sent.summary("sent") + "\n") }
            if received.messages > 0 || role != .send { errors.write("zmqcat: " + received.summary("received") + "\n") }
        }
        if type == .pub && sent.messages > 0 && watch.handshakes == 0 {
            // --no-wait: the user chose not to wait, but a script should still see that every
            // message went to nobody.
            errors.write("zmqcat: no subscriber was connected: \(sent.messages) message(s) went to nobody\n")
        }
        if dropped > 0 && (arguments.rate || arguments.verbose) {
            errors.write("zmqcat: the socket dropped \(dropped) message(s): no subscriber with room, or no route\n")
        }
        let failure: ZmqcatFailure?
        switch result {
        case .failure(let error): failure = error
        case .success(.interrupted): failure = ZmqcatFailure(.interrupted, "interrupted")
        case .success(.timedOut): failure = timeoutFailure()
        case .success(.completed): failure = nil
        }
        // Sends that no peer ever took: every connect or handshake failed.
        let undelivered = failure == nil && sent.messages > 0 && watch.failedWithoutPeer
        if let failure {
            Zmqcat.complain(failure.message, errors)
            return failure.status
        }
        if undelivered, let reason = watch.lastFailure {
            Zmqcat.complain("no peer connected, \(sent.messages) message(s) not delivered: \(reason)", errors)
            return .connectionFailed
        }
        errors.flush()
        return .success
    }

    /// Why waiting ran out, if that is a failure: something was still expected.
    private func timeoutFailure() -> ZmqcatFailure? {
        let limit = "\(fixed(activeTimeout?.seconds ?? 0, 3)) s"
        let reason: String
        if isWaitingForSubscriber {
            reason = "no subscriber within \(limit): nothing sent (--no-wait sends without waiting)"
        } else if pending != nil {
            reason = role == .reply ? "the reply could not be sent within \(limit)" : "no peer took the message within \(limit)"
        } else if awaitingReply {
            reason = "no reply within \(limit)"
        } else if let count = arguments.count, countedMessages < count, role != .send {
            reason = "received \(countedMessages) of \(count) messages; nothing more within \(limit)"
        } else if role != .send && received.messages == 0 {
            reason = "nothing received within \(limit)"
        } else {
            return nil
        }
        if watch.failedWithoutPeer, let failure = watch.lastFailure {
            return ZmqcatFailure(.connectionFailed, "\(reason): no peer connected: \(failure)")
        }
        return ZmqcatFailure(.timeout, reason)
    }

    // MARK: The loop

    private func loop() -> Result<Outcome, ZmqcatFailure> {
        do throws(ZmqcatFailure) {
            var iterations = 0
            while true {
                if console.interrupted() { return .success(.interrupted) }
                var moved = false
                if case .notWatched = subscribers {} else {
                    while let subscription = try receiveOne() {
                        noteSubscription(subscription)
                        moved = true
                    }
                }
                while wantsToReceive && !isComplete, let message = try receiveOne() {
                    handle(message)
                    moved = true
                }
                if !isComplete, try sendOne() { moved = true }
                if isComplete {
                    guard try startNextStep() else { return .success(.completed) }
                    continue
                }
                iterations &+= 1
                if moved {
                    lastActivity = clock.now
                    // A busy run still shows its progress and events now and then.
                    if iterations & 0xFF == 0 { housekeeping(now: lastActivity) }
                    continue
                }
                let now = clock.now
                housekeeping(now: now)
                if !waitingForNetwork || now < notBefore || (now < nextSend && !wantsToReceive) { lastActivity = now }
                if let timeout = activeTimeout, now - lastActivity >= timeout { return .success(.timedOut) }
                try wait(now: now)
            }
        } catch {
            return .failure(error)
        }
    }

    /// What -n counts in this step: replies sent by a REP and by --echo, messages received by
    /// the others (that receive).
    private var countedMessages: Int {
        switch role {
        case .reply, .echo: return replies
        case .send, .receive, .both, .request: return received.messages - receivedBefore
        }
    }

    /// Messages sent in this step.
    private var stepSent: Int { sent.messages - sentBefore }

    private var isComplete: Bool {
        let countReached = arguments.count.map { count in
            role == .send ? stepSent >= count : countedMessages >= count
        } ?? false
        // -n ends receiving, not sending: the -m values still waiting on --delay or --interval
        // go out first.
        if countReached && pending == nil && (role != .both || !outgoing.sendsEachValueOnce || outgoing.isExhausted) {
            return true
        }
        switch role {
        case .send: return pending == nil && outgoing.isExhausted
        case .request: return pending == nil && !awaitingReply && outgoing.isExhausted
        case .receive, .both, .reply, .echo: return false
        }
    }

    private var wantsToReceive: Bool {
        switch role {
        case .send: return false
        case .receive, .both: return true
        case .request: return awaitingReply
        case .reply, .echo: return pending == nil
        }
    }

    /// Whether the run is waiting for a peer (where --timeout applies) rather than for input.
    private var waitingForNetwork: Bool { isWaitingForSubscriber || pending != nil || wantsToReceive }

    /// A PUB that has seen no subscription yet: it sends nothing, and reads no input (which
    /// would pile up in memory meanwhile).
    private var isWaitingForSubscriber: Bool {
        if case .waiting = subscribers { return true }
        return false
    }

    /// --timeout, or a PUB's bound on waiting for a first subscriber.
    private var activeTimeout: Duration? {
        if isWaitingForSubscriber { return timeout ?? Self.defaultSubscriberWait }
        return timeout
    }

    /// An XPUB's subscription message (`1` or `0`, then the topic): the first subscribe lets
    /// a PUB send.
    private func noteSubscription(_ message: Multipart) {
        guard let frame = message.parts.first?.bytes, let kind = frame.first else { return }
        if kind == 1 { subscribers = .open }
        if arguments.verbose {
            progress.clear()
            let topic = String(decoding: frame.dropFirst(), as: UTF8.self)
            errors.write("zmqcat: \(kind == 1 ? "subscribe" : "unsubscribe") '\(topic)'\n")
        }
    }

    private func receiveOne() throws(ZmqcatFailure) -> Multipart? {
        do throws(ZeroMQError) {
            return try socket.receiveMultipart()
        } catch where error.code == .wouldBlock || error.code == .timedOut {
            return nil
        } catch {
            throw ZmqcatFailure(error, while: "receive")
        }
    }

    private func handle(_ message: Multipart) {
        received.record(bytes: message.parts.reduce(0) { $0 + $1.count }, at: clock.now)
        if !arguments.quiet { output.write(codec.line(for: message)) }
        switch role {
        case .request:
            awaitingReply = false
        case .reply:
            pending = outgoing.reply(to: message)
        case .echo:
            // A STREAM's connect and disconnect notices ([id][]) are not data: sending one back
            // would close the connection.
            let frames = message.parts.map(\.bytes)
            if !(type == .stream && frames.count == 2 && frames[1].isEmpty) { pending = frames }
        case .send, .receive, .both:
            break
        }
    }

    /// Sends the pending message, or the next one from the input, if the socket takes it now.
    private func sendOne() throws(ZmqcatFailure) -> Bool {
        if isWaitingForSubscriber { return false }
        switch role {
        case .receive: return false
        case .request where awaitingReply: return false
        case .reply, .echo: break
        case .send, .both, .request:
            let now = clock.now
            guard now >= notBefore, now >= nextSend else { return false }
            if pending == nil { pending = try outgoing.next() }
        }
        guard let frames = pending else { return false }
        do throws(ZeroMQError) {
            guard try socket.trySend(Message(frames[0], more: frames.count > 1)) else { return false }
            // A message goes whole once its first part went: the rest are taken at once.
            for index in frames.indices.dropFirst() {
                try socket.send(Message(frames[index], more: index < frames.count - 1), timeout: timeout)
            }
        } catch {
            throw ZmqcatFailure(error, while: "send")
        }
        pending = nil
        let now = clock.now
        sent.record(bytes: frames.reduce(0) { $0 + $1.count }, at: now)
        if let interval = arguments.interval?.duration { nextSend = now + interval }
        switch role {
        case .request: awaitingReply = true
        case .reply, .echo: replies += 1
        case .send, .receive, .both: break
        }
        return true
    }

    /// Waits until the socket or standard input may have something, a signal may have come, or
    /// the delay or the timeout ends.
    private func wait(now: ContinuousClock.Instant) throws(ZmqcatFailure) {
        output.flush()
        errors.flush()
        var limit = Self.slice
        if now < notBefore { limit = min(limit, notBefore - now) }
        if now < nextSend { limit = min(limit, nextSend - now) }
        if let timeout = activeTimeout, waitingForNetwork { limit = min(limit, max(.zero, lastActivity + timeout - now)) }
        var descriptors = [pollfd(fd: socket.fileDescriptor, events: Int16(POLLIN), revents: 0)]
        let readInput = pending == nil && outgoing.readsInput && !outgoing.atEndOfInput && role != .reply && role != .echo
            && !(role == .request && awaitingReply) && !isWaitingForSubscriber
        if readInput, let reader = outgoing.reader {
            descriptors.append(pollfd(fd: reader.fileDescriptor, events: Int16(POLLIN), revents: 0))
        }
        let milliseconds = Int32(clamping: Int((limit.seconds * 1000).rounded(.up)))
        let ready = poll(&descriptors, nfds_t(descriptors.count), milliseconds)
        if ready > 0, descriptors.count > 1, descriptors[1].revents != 0 {
            try outgoing.reader?.fill()
        }
        // The socket's readiness is consumed by the next send or receive; reading `events`
        // here consumes it when this role does neither now, so the next poll does not spin.
        if !wantsToReceive && pending == nil, case .notWatched = subscribers { _ = socket.events }
    }

    /// Prints new connection events (with --verbose) and redraws the progress line.
    private func housekeeping(now: ContinuousClock.Instant) {
        takeEvents()
        progress.update(sent: sent, received: received, now: now)
    }

    private func takeEvents() {
        let (events, _) = socket.takeEvents()
        guard !events.isEmpty else { return }
        for event in events {
            watch.observe(event)
            if arguments.verbose {
                progress.clear()
                errors.write("zmqcat: " + EventLine(event).text + "\n")
            }
        }
        errors.flush()
    }
}

/// Makes the context and the socket with its options and security (not yet bound or
/// connected, so that a monitor made now sees everything).
/// `seeingSubscriptions` makes a PUB an XPUB, which sends as a PUB does and also tells the
/// application of its subscriptions.
func makeSocket(_ type: SocketKind, _ socketArguments: SocketArguments, _ securityArguments: SecurityArguments,
                timeout: Duration?, errors: Writer, seeingSubscriptions: Bool = false) throws(ZmqcatFailure) -> (Context, Socket) {
    let (security, decide, generated) = try securityArguments.security()
    let context: Context
    let socket: Socket
    do throws(ZeroMQError) {
        context = try Context()
        // Multicast, as any libzmq peer has it: epgm:// and pgm:// (PUB/XPUB, SUB/XSUB).
        context.register(PGMTransport.epgm)
        context.register(PGMTransport.pgm)
        socket = try context.socket(seeingSubscriptions ? .xpub : type.socketType)
    } catch {
        throw ZmqcatFailure(error, while: "create the socket")
    }
    if let decide {
        // A ZAP handler for the context; it runs until the context shuts down.
        do throws(ZeroMQError) {
            try Authenticator(context: context).decide = decide
        } catch {
            throw ZmqcatFailure(error, while: "start the ZAP handler")
        }
    }
    socket.options.security = security
    try socketArguments.configure(socket, type: type, timeout: timeout)
    if let generated, let key = try? CurveKeys.z85(generated.publicKey) {
        Zmqcat.complain("CURVE server public key: \(key)", errors)
    }
    return (context, socket)
}
#endif  // Tools
