#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import ZeroMQTransport

/// Counts live instances, to check that the queue destroys what it holds.
final class Tracked: @unchecked Sendable {
    static let live = Shared(0)
    let value: Int
    init(_ value: Int) { self.value = value; Tracked.live.withLock { $0 += 1 } }
    deinit { Tracked.live.withLock { $0 -= 1 } }
}

@Suite("SPSC queue", .serialized)
struct SPSCQueueTests {
    @Test func itemsAreInvisibleUntilFlushed() {
        let queue = SPSCQueue<Int>()
        queue.write(1)
        queue.write(2)
        #expect(queue.unflushedCount == 2)
        #expect(queue.read() == nil)          // nothing published: the reader goes to sleep
        #expect(queue.flush() == false)       // so this flush must wake it
        #expect(queue.read() == 1)
        #expect(queue.read() == 2)
        queue.write(3)
        #expect(queue.flush() == true)        // the reader had not slept since: no wakeup
        #expect(queue.read() == 3)
        #expect(queue.flush() == true)        // nothing new: nothing to do
    }

    @Test func orderSurvivesManyChunksAndChunkReuse() {
        let queue = SPSCQueue<Int>()
        var next = 0
        for round in 0..<20 {
            let count = 1 + round * 97
            for i in 0..<count { queue.write(next + i) }
            queue.flush()
            var got: [Int] = []
            while let item = queue.read() { got.append(item) }
            #expect(got == Array(next..<(next + count)))
            next += count
        }
    }

    @Test func unreadItemsAreDestroyedWithTheQueue() {
        let before = Tracked.live.value
        do {
            let queue = SPSCQueue<Tracked>()
            for i in 0..<700 { queue.write(Tracked(i)) }
            queue.flush()
            for _ in 0..<300 { _ = queue.read() }
            for i in 0..<50 { queue.write(Tracked(i)) }   // written, never flushed
            #expect(Tracked.live.value == before + 450)
        }
        #expect(Tracked.live.value == before)
    }

    @Test func aProducerAndAConsumerThreadAgreeOnEveryItem() throws {
        let queue = SPSCQueue<Int>()
        let signal = try WakeupSignal()
        let total = 1_000_000
        let wakeups = Shared(0)
        let producer = TestThread {
            for i in 0..<total {
                queue.write(i)
                if i % 64 == 63 || i == total - 1 {
                    if !queue.flush() {
                        wakeups.withLock { $0 += 1 }
                        signal.signal()
                    }
                }
            }
        }

        var expected = 0
        var inOrder = true
        let deadline = Reactor.now().adding(.milliseconds(60_000))
        while expected < total, Reactor.now() < deadline {
            while let item = queue.read() {
                if item != expected { inOrder = false }
                expected += 1
            }
            if expected == total { break }
            // Asleep: only the producer's wakeup (or the bound) gets us going again.
            var pfd = pollfd(fd: signal.fd, events: Int16(POLLIN), revents: 0)
            _ = poll(&pfd, 1, 100)
            signal.drain()
        }
        producer.join()
        #expect(expected == total)
        #expect(inOrder)
        // Batched publication: far fewer wakeups than flushes.
        #expect(wakeups.value <= total / 64 + 1)
    }
}
