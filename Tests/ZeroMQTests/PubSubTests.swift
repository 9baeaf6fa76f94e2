#if canImport(Glibc)
import Glibc
#endif
import Testing
import ZeroMQ

/// Publish-subscribe (RFC 29) against real sockets: libzmq's test_pubsub, test_xpub_*,
/// test_hwm_pubsub and test_pub_invert_matching, reproduced.
///
/// Subscriptions travel asynchronously, so a subscriber that just connected misses what is
/// published before its subscription arrives (the slow joiner). The tests publish a marker until
/// every subscriber has it, as libzmq's tests do, and skip markers that arrive late afterwards.
@Suite("Publish-subscribe")
struct PubSubTests {
    static let transports = ["inproc", "tcp", "ipc"]

    /// A fresh endpoint to bind to on `transport`; connect to `lastEndpoint`.
    static func endpoint(_ transport: String) -> String {
        switch transport {
        case "inproc": return "inproc://\(Fixture.unique("pubsub"))"
        case "ipc": return "ipc://@\(Fixture.unique("pubsub"))"
        default: return "tcp://127.0.0.1:*"
        }
    }

    /// Publishes `marker` until each subscriber has received it (a bounded number of tries).
    static func synchronise(_ publisher: Socket, _ subscribers: [Socket], marker: String = "sync") throws -> Bool {
        var waiting = Array(subscribers.indices)
        for _ in 0..<500 {
            try publisher.send(marker)
            waiting.removeAll { index in
                guard let received = try? subscribers[index].receive(timeout: .milliseconds(20)) else { return false }
                return received.string == marker
            }
            if waiting.isEmpty { return true }
        }
        return false
    }

    /// The next message's parts as text, skipping late copies of `markers`.
    static func next(_ subscriber: Socket, skipping markers: Set<String> = ["sync"]) throws -> [String] {
        while true {
            let parts = try subscriber.receiveMultipart().parts.map(\.string)
            if parts.count == 1, markers.contains(parts[0]) { continue }
            return parts
        }
    }

    /// A subscription message as XPUB passes it up and XSUB sends it: 1 (or 0) and the topic.
    static func subscription(_ topic: String, subscribe: Bool = true) -> [UInt8] {
        [subscribe ? 1 : 0] + Array(topic.utf8)
    }

    // MARK: Filtering

    @Test("SUBs get what matches their prefixes, the empty prefix gets everything, multipart messages arrive whole",
          arguments: transports)
    func prefixFiltering(transport: String) throws {
        let context = try Fixture.context()
        let publisher = try Fixture.bound(context, .pub, Self.endpoint(transport))
        let subscribers = try ["A", "B", ""].map { topic in
            let subscriber = try Fixture.connected(context, .sub, to: publisher)
            try subscriber.subscribe(topic)
            try subscriber.subscribe("sync")
            return subscriber
        }
        #expect(try Self.synchronise(publisher, subscribers))

        try publisher.send("A1")
        try publisher.send("B1")
        try publisher.send("C1")
        try publisher.send([Message(string: "Apple"), Message(string: "two"), Message(string: "three")])
        try publisher.send([Message(string: "Banana"), Message(string: "Apple")])
        try publisher.send("end")
        // "end" matches only the empty prefix: A and B get their own end markers.
        try publisher.send("A-end")
        try publisher.send("B-end")

        #expect(try Self.next(subscribers[0]) == ["A1"])
        #expect(try Self.next(subscribers[0]) == ["Apple", "two", "three"])
        #expect(try Self.next(subscribers[0]) == ["A-end"])
        #expect(try Self.next(subscribers[1]) == ["B1"])
        #expect(try Self.next(subscribers[1]) == ["Banana", "Apple"])
        #expect(try Self.next(subscribers[1]) == ["B-end"])
        for expected in [["A1"], ["B1"], ["C1"], ["Apple", "two", "three"], ["Banana", "Apple"], ["end"], ["A-end"], ["B-end"]] {
            #expect(try Self.next(subscribers[2]) == expected)
        }
    }

    @Test("Unsubscribing stops delivery", arguments: transports)
    func unsubscribeStopsDelivery(transport: String) throws {
        let context = try Fixture.context()
        let publisher = try Fixture.bound(context, .pub, Self.endpoint(transport))
        let subscriber = try Fixture.connected(context, .sub, to: publisher)
        try subscriber.subscribe("A")
        #expect(try Self.synchronise(publisher, [subscriber], marker: "A-sync"))

        // The cancel and the next subscription travel in order on one pipe: once "Y" is in
        // effect, so is the cancel of "A".
        try subscriber.unsubscribe("A")
        try subscriber.subscribe("Y")
        #expect(try Self.synchronise(publisher, [subscriber], marker: "Y-sync"))
        try publisher.send("A-late")
        try publisher.send("Y-end")
        #expect(try Self.next(subscriber, skipping: ["A-sync", "Y-sync"]) == ["Y-end"])
    }

    @Test("Unsubscribing from a topic never subscribed to does nothing, as in libzmq 4.3")
    func unsubscribeUnknownTopic() throws {
        let context = try Fixture.context()
        let subscriber = try Fixture.socket(context, .sub)
        try subscriber.unsubscribe("nothing")
    }

    @Test("test_pub_invert_matching: INVERT_MATCHING delivers what does not match", arguments: transports)
    func invertMatching(transport: String) throws {
        let context = try Fixture.context()
        let publisher = try Fixture.socket(context, .pub)
        publisher.options.invertMatching = true
        try publisher.bind(Self.endpoint(transport))
        let subscriber = try Fixture.socket(context, .sub)
        subscriber.options.invertMatching = true
        try subscriber.connect(publisher.lastEndpoint)
        try subscriber.subscribe("A")
        #expect(try Self.synchronise(publisher, [subscriber]))
        try publisher.send("A1")
        try publisher.send("B1")
        try publisher.send("Apple")
        try publisher.send("end")
        #expect(try Self.next(subscriber) == ["B1"])
        #expect(try Self.next(subscriber) == ["end"])
    }

    @Test("PUB cannot receive, SUB cannot send, XPUB subscribes only in manual mode")
    func refusedOperations() throws {
        let context = try Fixture.context()
        let publisher = try Fixture.socket(context, .pub)
        let subscriber = try Fixture.socket(context, .sub)
        let xpub = try Fixture.socket(context, .xpub)
        let receiving = #expect(throws: ZeroMQError.self) { _ = try publisher.tryReceive() }
        #expect(receiving?.code == .notSupported)
        let sending = #expect(throws: ZeroMQError.self) { try subscriber.send("x") }
        #expect(sending?.code == .notSupported)
        let subscribing = #expect(throws: ZeroMQError.self) { try xpub.subscribe("A") }
        #expect(subscribing?.code == .invalidArgument)
        #expect(publisher.events == [.send])
        #expect(subscriber.events == [])
    }

    // MARK: XPUB

    enum Verbosity: String, CaseIterable, Sendable { case quiet, verbose, verboser }

    @Test("test_xpub_verbose(r): duplicate subscribes pass up with VERBOSE, duplicate unsubscribes with VERBOSER",
          arguments: Verbosity.allCases)
    func verbosity(_ verbosity: Verbosity) throws {
        let context = try Fixture.context()
        let xpub = try Fixture.socket(context, .xpub)
        xpub.options.xpubVerbose = verbosity == .verbose
        xpub.options.xpubVerboser = verbosity == .verboser
        try xpub.bind("tcp://127.0.0.1:*")
        let first = try Fixture.socket(context, .sub)
        let second = try Fixture.socket(context, .sub)
        try first.connect(xpub.lastEndpoint)
        try second.connect(xpub.lastEndpoint)

        try first.subscribe("A")
        #expect(try xpub.receiveBytes() == Self.subscription("A"))
        // Each subscriber's messages arrive in order, so "B" shows whether "A" was passed up.
        try second.subscribe("A")
        try second.subscribe("B")
        if verbosity != .quiet { #expect(try xpub.receiveBytes() == Self.subscription("A")) }
        #expect(try xpub.receiveBytes() == Self.subscription("B"))

        // Not the last subscriber of "A": its cancel passes up only with VERBOSER.
        try first.unsubscribe("A")
        try first.subscribe("C")
        if verbosity == .verboser { #expect(try xpub.receiveBytes() == Self.subscription("A", subscribe: false)) }
        #expect(try xpub.receiveBytes() == Self.subscription("C"))

        // The last one: always.
        try second.unsubscribe("A")
        try second.subscribe("D")
        #expect(try xpub.receiveBytes() == Self.subscription("A", subscribe: false))
        #expect(try xpub.receiveBytes() == Self.subscription("D"))
    }

    @Test("test_xpub_manual: the application decides which subscription applies to the subscriber", arguments: transports)
    func manual(transport: String) throws {
        let context = try Fixture.context()
        let xpub = try Fixture.socket(context, .xpub)
        xpub.options.xpubManual = true
        try xpub.bind(Self.endpoint(transport))
        // An XSUB, which does not filter: what arrives is what the XPUB chose to send.
        let xsub = try Fixture.connected(context, .xsub, to: xpub)
        try xsub.send(Self.subscription("A"))
        #expect(try xpub.receiveBytes() == Self.subscription("A"))
        try xpub.subscribe("B")
        try xpub.send("A-message")
        try xpub.send("B-message")
        #expect(try xsub.receiveString() == "B-message")

        // Manual subscriptions are also undone by the application; the subscriber's cancel
        // passes up.
        try xsub.send(Self.subscription("A", subscribe: false))
        #expect(try xpub.receiveBytes() == Self.subscription("A", subscribe: false))
        try xpub.unsubscribe("B")
        try xpub.subscribe("C")
        try xpub.send("B-late")
        try xpub.send("C-message")
        #expect(try xsub.receiveString() == "C-message")

        // On disconnect the subscriptions the subscriber had asked for (and not cancelled) are
        // cancelled for it.
        try xsub.send(Self.subscription("D"))
        #expect(try xpub.receiveBytes() == Self.subscription("D"))
        xsub.close()
        #expect(try xpub.receiveBytes() == Self.subscription("D", subscribe: false))
    }

    @Test("test_xpub_welcome_msg: a SUB subscribed to the welcome's prefix receives it on connect", arguments: transports)
    func welcomeMessage(transport: String) throws {
        let context = try Fixture.context()
        let xpub = try Fixture.socket(context, .xpub)
        xpub.options.xpubWelcomeMessage = Array("W-welcome".utf8)
        try xpub.bind(Self.endpoint(transport))
        let subscriber = try Fixture.socket(context, .sub)
        try subscriber.subscribe("W")
        try subscriber.connect(xpub.lastEndpoint)
        #expect(try xpub.receiveBytes() == Self.subscription("W"))
        #expect(try subscriber.receiveString() == "W-welcome")
    }

    @Test("XPUB passes up the cancels of a subscriber that went away", arguments: transports)
    func unsubscribesOnDisconnect(transport: String) throws {
        let context = try Fixture.context()
        let xpub = try Fixture.bound(context, .xpub, Self.endpoint(transport))
        let staying = try Fixture.socket(context, .sub)
        let leaving = try Fixture.socket(context, .sub)
        try staying.connect(xpub.lastEndpoint)
        try leaving.connect(xpub.lastEndpoint)
        try staying.subscribe("B")
        #expect(try xpub.receiveBytes() == Self.subscription("B"))
        try leaving.subscribe("A")
        try leaving.subscribe("B")
        #expect(try xpub.receiveBytes() == Self.subscription("A"))
        leaving.close()
        // "B" still has a subscriber: only "A" is cancelled.
        #expect(try xpub.receiveBytes() == Self.subscription("A", subscribe: false))
        staying.close()
        #expect(try xpub.receiveBytes() == Self.subscription("B", subscribe: false))
    }

    // MARK: High-water marks

    @Test("test_xpub_nodrop: at the HWM the send would block instead of dropping, and everything sent arrives",
          arguments: ["inproc", "tcp"])
    func noDrop(transport: String) throws {
        let context = try Fixture.context()
        let xpub = try Fixture.socket(context, .xpub)
        xpub.options.xpubNoDrop = true
        xpub.options.sendHighWaterMark = 20
        xpub.options.sendTimeout = .zero
        try xpub.bind(Self.endpoint(transport))
        let subscriber = try Fixture.socket(context, .sub)
        subscriber.options.receiveHighWaterMark = 20
        try subscriber.connect(xpub.lastEndpoint)
        try subscriber.subscribe("")
        #expect(try xpub.receiveBytes() == Self.subscription(""))

        // Large enough that the kernel's socket buffers fill after a few thousand messages.
        let body = [UInt8](repeating: 0x2A, count: 16 * 1024)
        var sent = 0
        var blocked = false
        while sent < 100_000 {
            do throws(ZeroMQError) {
                try xpub.send(Message(body))
                sent += 1
            } catch {
                #expect(error.code == .wouldBlock)
                blocked = true
                break
            }
        }
        #expect(blocked)
        #expect(xpub.droppedMessages == 0)
        for _ in 0..<sent { #expect(try subscriber.receive().count == body.count) }
        // Room again once the subscriber read.
        xpub.options.sendTimeout = .seconds(10)
        try xpub.send("after")
        #expect(try subscriber.receiveString() == "after")
    }

    @Test("test_hwm_pubsub: PUB never blocks at the HWM; what a full subscriber cannot take is dropped and counted")
    func publisherDropsAtHighWaterMark() throws {
        let context = try Fixture.context()
        let publisher = try Fixture.socket(context, .pub)
        publisher.options.sendHighWaterMark = 10
        publisher.options.sendTimeout = .zero
        let endpoint = Self.endpoint("inproc")
        try publisher.bind(endpoint)
        let subscriber = try Fixture.socket(context, .sub)
        subscriber.options.receiveHighWaterMark = 10
        try subscriber.connect(endpoint)
        try subscriber.subscribe("")
        #expect(try Self.synchronise(publisher, [subscriber]))
        for i in 0..<10_000 { try publisher.send("m\(i)") }
        #expect(publisher.droppedMessages > 0)
        #expect(publisher.events.contains(.send))
    }

    // MARK: Reconnection and forwarding

    @Test("A SUB sends its subscriptions again to a publisher restarted on the same endpoint")
    func subscriptionsReplayedOnReconnect() throws {
        let context = try Fixture.context()
        let first = try Fixture.bound(context, .pub, "tcp://127.0.0.1:*")
        let endpoint = first.lastEndpoint
        let subscriber = try Fixture.socket(context, .sub)
        subscriber.options.reconnectInterval = .milliseconds(50)
        try subscriber.connect(endpoint)
        try subscriber.subscribe("T")
        #expect(try Self.synchronise(first, [subscriber], marker: "T-first"))
        first.close()

        let second = try Fixture.socket(context, .pub)
        // The old port may linger briefly in the kernel; retry the bind.
        #expect(Fixture.eventually { (try? second.bind(endpoint)) != nil })
        #expect(try Self.synchronise(second, [subscriber], marker: "T-second"))
        try second.send("U-other")
        try second.send("T-end")
        #expect(try Self.next(subscriber, skipping: ["T-first", "T-second"]) == ["T-end"])
    }

    @Test("A bound SUB sends what it subscribed to before a publisher connected", arguments: transports)
    func boundSubscriber(transport: String) throws {
        let context = try Fixture.context()
        let subscriber = try Fixture.socket(context, .sub)
        try subscriber.subscribe("A")
        try subscriber.bind(Self.endpoint(transport))
        let xpub = try Fixture.connected(context, .xpub, to: subscriber)
        // As in libzmq, a socket takes in a new connection when the application next calls it:
        // the subscriber is polled while the publisher waits.
        var received: Message?
        #expect(try Fixture.eventually {
            _ = subscriber.events
            received = try xpub.tryReceive()
            return received != nil
        })
        #expect(received?.bytes == Self.subscription("A"))
        try xpub.send("B-data")
        try xpub.send("A-data")
        #expect(try subscriber.receiveString() == "A-data")
    }

    @Test("XSUB to XPUB: subscriptions and messages go upstream, matching messages come back", arguments: transports)
    func extendedForwarding(transport: String) throws {
        let context = try Fixture.context()
        let xpub = try Fixture.bound(context, .xpub, Self.endpoint(transport))
        let xsub = try Fixture.connected(context, .xsub, to: xpub)
        try xsub.send(Self.subscription("T"))
        #expect(try xpub.receiveBytes() == Self.subscription("T"))
        try xpub.send("T-data")
        try xpub.send("U-data")
        try xpub.send([Message(string: "T-multi"), Message(string: "part")])
        #expect(try xsub.receiveString() == "T-data")
        #expect(try xsub.receiveMultipart().parts.map(\.string) == ["T-multi", "part"])

        // Any other message an XSUB sends reaches the XPUB application as it is.
        try xsub.send("hello upstream")
        try xsub.send([Message(string: "\u{1}not"), Message(string: "a subscription")])
        #expect(try xpub.receiveString() == "hello upstream")
        #expect(try xpub.receiveMultipart().parts.map(\.string) == ["\u{1}not", "a subscription"])

        try xsub.send(Self.subscription("T", subscribe: false))
        #expect(try xpub.receiveBytes() == Self.subscription("T", subscribe: false))
    }

    @Test("A proxy of XSUB and XPUB carries subscriptions up and messages down", arguments: ["inproc", "tcp"])
    func proxyChain(transport: String) throws {
        let context = try Fixture.context()
        let publisher = try Fixture.bound(context, .xpub, Self.endpoint(transport))
        let upstream = try Fixture.connected(context, .xsub, to: publisher)
        let downstream = try Fixture.bound(context, .xpub, Self.endpoint(transport))
        let subscriber = try Fixture.connected(context, .sub, to: downstream)
        try subscriber.subscribe("news")

        // One step of a proxy loop each way, driven by hand.
        let forwarded = try downstream.receive()
        try upstream.send(forwarded)
        #expect(try publisher.receiveBytes() == Self.subscription("news"))
        try publisher.send("news: proxied")
        try downstream.send(try upstream.receive())
        #expect(try subscriber.receiveString() == "news: proxied")
    }

    @Test("CONFLATE on a SUB keeps only the newest matching message")
    func conflate() throws {
        let context = try Fixture.context()
        let publisher = try Fixture.socket(context, .pub)
        let endpoint = Self.endpoint("inproc")
        try publisher.bind(endpoint)
        let subscriber = try Fixture.socket(context, .sub)
        subscriber.options.conflate = true
        try subscriber.connect(endpoint)
        try subscriber.subscribe("sync")
        try subscriber.subscribe("n")
        #expect(try Self.synchronise(publisher, [subscriber]))
        for i in 0..<20 { try publisher.send("n\(i)") }
        try publisher.send("other")
        // Everything is queued in the inproc pipe by now.
        #expect(Fixture.eventually { subscriber.events.contains(.receive) })
        #expect(try Self.next(subscriber) == ["n19"])
    }
}
