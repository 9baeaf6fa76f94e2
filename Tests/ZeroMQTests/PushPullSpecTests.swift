import Testing
import ZeroMQ

/// libzmq's test_spec_pushpull (RFC 30), over inproc, tcp and ipc.
@Suite("Spec: PUSH/PULL")
struct PushPullSpecTests {
    static let services = 5

    @Test("push_round_robin_out: each PULL gets one message of each round, in order", arguments: Fixture.endpoints("rr"))
    func roundRobinOut(endpoint: String) throws {
        let context = try Fixture.context()
        let push = try Fixture.bound(context, .push, endpoint)
        var pulls: [Socket] = []
        for _ in 0..<Self.services {
            let pull = try Fixture.connected(context, .pull, to: push)
            pulls.append(pull)
        }
        // Every connection must be up, or the first ones would get more than their share.
        #expect(Fixture.eventually { push.peerCount == Self.services })
        for _ in 0..<Self.services { try push.send("ABC") }
        for _ in 0..<Self.services { try push.send("DEF") }
        for pull in pulls {
            #expect(try pull.receiveString() == "ABC")
            #expect(try pull.receiveString() == "DEF")
        }
    }

    @Test("pull_fair_queue_in: one message from each PUSH before anyone's second (inproc, where arrival is immediate)")
    func fairQueueIn() throws {
        let context = try Fixture.context()
        let endpoint = "inproc://\(Fixture.unique("fq"))"
        let pull = try Fixture.bound(context, .pull, endpoint)
        var pushes: [Socket] = []
        for index in 0..<Self.services {
            let push = try Fixture.socket(context, .push)
            try push.connect(endpoint)
            try push.send("\(index)-first")
            try push.send("\(index)-second")
            pushes.append(push)
        }
        var firsts: Set<String> = []
        for _ in 0..<Self.services { firsts.insert(try pull.receiveString()) }
        #expect(firsts == Set((0..<Self.services).map { "\($0)-first" }))
        var seconds: Set<String> = []
        for _ in 0..<Self.services { seconds.insert(try pull.receiveString()) }
        #expect(seconds == Set((0..<Self.services).map { "\($0)-second" }))
    }

    @Test("pull_fair_queue_in over the wire: every message arrives once, each PUSH's in its order", arguments: Fixture.endpoints("fq-wire"))
    func fairQueueInOverTheWire(endpoint: String) throws {
        let context = try Fixture.context()
        let pull = try Fixture.bound(context, .pull, endpoint)
        var pushes: [Socket] = []
        for index in 0..<Self.services {
            let push = try Fixture.connected(context, .push, to: pull)
            for n in 0..<20 { try push.send("\(index) \(n)") }
            pushes.append(push)
        }
        var next = [Int](repeating: 0, count: Self.services)
        for _ in 0..<(Self.services * 20) {
            let words = try pull.receiveString().split(separator: " ").compactMap { Int($0) }
            guard words.count == 2, words[0] < Self.services else {
                Issue.record("unexpected message \(words)")
                return
            }
            #expect(words[1] == next[words[0]])
            next[words[0]] += 1
        }
        #expect(next == [Int](repeating: 20, count: Self.services))
    }

    @Test("push_block_on_send_no_peers, over each transport", arguments: Fixture.endpoints("block"))
    func blockWithNoPeers(endpoint: String) throws {
        let context = try Fixture.context()
        let push = try Fixture.bound(context, .push, endpoint)
        #expect(throws: ZeroMQError.self) { try push.send(Message(string: "x"), timeout: .zero) }
    }
}
