#if canImport(Glibc)
import Glibc
#endif
import Testing
import ZMTP
@testable import ZeroMQTransport

/// Records wakeups, and signals an eventfd so a thread can wait for them.
final class RecordingSink: PipeEventSink, @unchecked Sendable {
    let readable = Shared(0)
    let writable = Shared(0)
    let signal: WakeupSignal?

    init(signal: WakeupSignal? = nil) { self.signal = signal }

    func pipeBecameReadable(_ pipe: PipeID) { readable.withLock { $0 += 1 }; signal?.signal() }
    func pipeBecameWritable(_ pipe: PipeID) { writable.withLock { $0 += 1 }; signal?.signal() }
}

@Suite("Pipes")
struct PipeTests {
    /// How many single-part messages an end accepts before its high-water mark stops it.
    static func capacity(hwm: Int, limit: Int = 10_000) -> Int {
        let (a, _) = PipeEnd.makePair(hwmAB: hwm, hwmBA: hwm)
        var sent = 0
        while sent < limit, a.checkWrite() {
            a.write(Message(string: "x"))
            sent += 1
        }
        return sent
    }

    @Test("an end made at the address of a freed one has another id, so a stale wakeup cannot name it")
    func idsAreNeverReused() {
        var seen: [ObjectIdentifier: PipeID] = [:]
        var reusedAnAddress = false
        for _ in 0..<200 {
            let (a, b) = PipeEnd.makePair(hwmAB: 1, hwmBA: 1)
            for end in [a, b] {
                if let earlier = seen[end.id.object] {
                    reusedAnAddress = true
                    #expect(earlier != end.id)
                }
                seen[end.id.object] = end.id
            }
        }
        // The allocator hands freed addresses out again, which is the case this guards against.
        #expect(reusedAnAddress)
        #expect(Set(seen.values.map(\.serial)).count == seen.count)
    }

    @Test("libzmq's test_hwm counts: 2000 with the inproc sum of default HWMs, 2 with 1+1, no limit with 0")
    func highWaterMarks() {
        #expect(Self.capacity(hwm: 2000) == 2000)
        #expect(Self.capacity(hwm: 2) == 2)
        #expect(Self.capacity(hwm: 0) == 10_000)
    }

    @Test func aMultipartMessageIsNeverCutAndAppearsWhole() {
        let (a, b) = PipeEnd.makePair(hwmAB: 1, hwmBA: 1)
        #expect(a.checkWrite())
        a.write(Message(string: "1", more: true))
        a.flush()
        #expect(b.read() == nil, "a partial message is not published")
        #expect(a.checkWrite(), "parts after the first are always accepted")
        a.write(Message(string: "2", more: true))
        a.write(Message(string: "3"))
        a.flush()
        #expect(!a.checkWrite(), "the high-water mark of 1 is reached by one whole message")
        #expect(b.read() == Message(string: "1", more: true))
        #expect(b.read() == Message(string: "2", more: true))
        #expect(b.read() == Message(string: "3"))
        #expect(b.read() == nil)
    }

    @Test func aSleepingReaderIsWokenOnceAndAWaitingWriterWhenThereIsRoom() {
        let (a, b) = PipeEnd.makePair(hwmAB: 4, hwmBA: 4)
        let aSink = RecordingSink()
        let bSink = RecordingSink()
        a.setSink(aSink)
        b.setSink(bSink)
        #expect(b.read() == nil)                     // b sleeps
        for i in 0..<4 { a.write(Message(string: "\(i)")) }
        a.flush()
        #expect(bSink.readable.value == 1)
        #expect(!a.checkWrite())                     // full: a waits
        #expect(b.read() != nil)
        #expect(aSink.writable.value == 0, "one message read is below the low-water mark of 2")
        #expect(b.read() != nil)
        #expect(aSink.writable.value == 1)
        #expect(a.checkWrite())
        a.write(Message(string: "4"))
        a.flush()
        #expect(bSink.readable.value == 1, "b never slept since: no second wakeup")
    }

    @Test func aBlockedWriterAndAReaderOnTwoThreadsMoveEveryMessageInOrder() throws {
        let (a, b) = PipeEnd.makePair(hwmAB: 100, hwmBA: 100)
        let writerSignal = try WakeupSignal()
        let readerSignal = try WakeupSignal()
        // Pipes hold sinks weakly (their owners keep them): keep these alive for the test.
        let writerSink = RecordingSink(signal: writerSignal)
        let readerSink = RecordingSink(signal: readerSignal)
        a.setSink(writerSink)
        b.setSink(readerSink)
        defer { withExtendedLifetime((writerSink, readerSink)) {} }
        let total = 200_000
        let writer = TestThread {
            var i = 0
            let deadline = Reactor.now().adding(.milliseconds(60_000))
            while i < total, Reactor.now() < deadline {
                if a.checkWrite() {
                    a.write(Message(string: "\(i)", more: true))
                    a.write(Message(string: "end"))
                    i += 1
                    if i % 32 == 0 || i == total { a.flush() }
                } else {
                    a.flush()
                    var pfd = pollfd(fd: writerSignal.fd, events: Int16(POLLIN), revents: 0)
                    _ = poll(&pfd, 1, 100)
                    writerSignal.drain()
                }
            }
            a.flush()
        }
        var expected = 0
        var intact = true
        let deadline = Reactor.now().adding(.milliseconds(60_000))
        while expected < total, Reactor.now() < deadline {
            while let first = b.read() {
                let last = b.read()
                if first != Message(string: "\(expected)", more: true) || last != Message(string: "end") { intact = false }
                expected += 1
            }
            if expected == total { break }
            var pfd = pollfd(fd: readerSignal.fd, events: Int16(POLLIN), revents: 0)
            _ = poll(&pfd, 1, 100)
            readerSignal.drain()
        }
        writer.join()
        #expect(expected == total)
        #expect(intact)
    }

    @Test("rollback takes back a message cut short, and the reader never sees its parts")
    func rollbackDropsAPartialMessage() {
        let (a, b) = PipeEnd.makePair(hwmAB: 10, hwmBA: 10)
        a.write(Message(string: "head", more: true))
        a.write(Message(string: "middle", more: true))
        a.flush()
        #expect(b.read() == nil)
        a.rollback()
        #expect(!a.isWritingMultipart)
        a.write(Message(string: "whole"))
        a.flush()
        #expect(b.read() == Message(string: "whole"))
        #expect(b.read() == nil)
    }

    @Test("a closed pipe is read to the end, then reports closed")
    func closingDrainsThenCloses() {
        let (a, b) = PipeEnd.makePair(hwmAB: 10, hwmBA: 10)
        a.write(Message(string: "last"))
        a.write(Message(string: "cut", more: true))
        a.close()
        guard case .message(let message) = b.readState() else {
            Issue.record("the message written before close must arrive")
            return
        }
        #expect(message == Message(string: "last"))
        guard case .closed = b.readState() else {
            Issue.record("then the pipe is closed, with no partial message")
            return
        }
        #expect(b.peerClosed)
        #expect(a.checkWrite())
    }
}
