#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
import ZMTP
@testable import ZeroMQTransport

/// Waits (bounded) until `condition` holds; the bound only turns a hang into a failure.
func eventually(_ what: String, timeoutMilliseconds: Int = 10_000, _ condition: () -> Bool) -> Bool {
    let deadline = Reactor.now().adding(.milliseconds(timeoutMilliseconds))
    while !condition() {
        if Reactor.now() >= deadline {
            Issue.record("timed out waiting for \(what)")
            return false
        }
        usleep(500)
    }
    return true
}

/// A thread of the test's own (a producer, a second socket): `join()` waits for it.
final class TestThread: @unchecked Sendable {
    private let body: () -> Void
    private var thread = pthread_t()

    /// Starts `body` on a new thread.
    init(_ body: @escaping () -> Void) {
        self.body = body
        let box = Unmanaged.passRetained(self).toOpaque()
        let status = pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            Unmanaged<TestThread>.fromOpaque(raw).takeRetainedValue().body()
            return nil
        }, box)
        precondition(status == 0, "pthread_create failed: \(status)")
    }

    func join() { pthread_join(thread, nil) }
}

/// A value shared between the test thread and the reactor's thread.
final class Shared<Value: Sendable>: Sendable {
    private let lock: Mutex<Value>
    init(_ value: Value) { lock = Mutex(value) }
    func withLock<R: Sendable>(_ body: (inout Value) -> R) -> R { lock.withLock { body(&$0) } }
    var value: Value { lock.withLock { $0 } }
}

/// Records readiness callbacks from the reactor thread.
final class RecordingHandler: IOHandler, @unchecked Sendable {
    let fd: Int32
    let reads = Shared<[UInt8]>([])
    let hangups = Shared(0)
    let onLoopThread = Shared(true)
    weak var reactor: Reactor?

    init(fd: Int32) { self.fd = fd }

    func ready(_ events: IOEvents, hangup: Bool) {
        if reactor?.isOnLoopThread != true { onLoopThread.withLock { $0 = false } }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n > 0 { reads.withLock { $0 += buffer[0..<n] } }
        if n == 0 || hangup { hangups.withLock { $0 += 1 } }
    }
}

@Suite("Reactor")
struct ReactorTests {
    @Test func postedTasksRunOnTheLoopThreadInOrder() throws {
        let reactor = try Reactor()
        try reactor.start()
        defer { reactor.stop() }
        let seen = Shared<[Int]>([])
        let offThread = Shared<Int>(0)
        for i in 0..<1000 {
            reactor.post {
                if !reactor.isOnLoopThread { offThread.withLock { $0 += 1 } }
                seen.withLock { $0.append(i) }
            }
        }
        #expect(eventually("1000 tasks") { seen.withLock { $0.count } == 1000 })
        #expect(seen.withLock { $0 } == Array(0..<1000))
        #expect(offThread.value == 0)
        #expect(!reactor.isOnLoopThread)
    }

    @Test func tasksPostedFromManyThreadsAllRun() throws {
        let reactor = try Reactor()
        try reactor.start()
        defer { reactor.stop() }
        let count = Shared<Int>(0)
        let threads = 4, perThread = 2_000
        let workers = (0..<threads).map { _ in
            TestThread { for _ in 0..<perThread { reactor.post { count.withLock { $0 += 1 } } } }
        }
        for worker in workers { worker.join() }
        #expect(eventually("every posted task") { count.value == threads * perThread })
    }

    @Test func aRegisteredDescriptorIsReportedUntilDeregistered() throws {
        var pair: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
        let fds = pair
        defer { close(fds[0]); close(fds[1]) }
        _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
        let reactor = try Reactor()
        try reactor.start()
        defer { reactor.stop() }
        let handler = RecordingHandler(fd: fds[0])
        handler.reactor = reactor
        let registration = Shared<Reactor.Registration?>(nil)
        reactor.post {
            let r = try? reactor.register(fd: fds[0], events: .readable, handler: handler)
            registration.withLock { $0 = r }
        }
        #expect(eventually("registration") { registration.withLock { $0 != nil } })
        _ = write(fds[1], "hello", 5)
        #expect(eventually("the bytes") { handler.reads.withLock { $0 } == Array("hello".utf8) })
        let removed = Shared<Bool>(false)
        reactor.post {
            if let r = registration.withLock({ $0 }) { reactor.deregister(r) }
            removed.withLock { $0 = true }
        }
        #expect(eventually("deregistration") { removed.value })
        _ = write(fds[1], "more", 4)
        // A task posted after the write runs after the loop has seen the descriptor's readiness,
        // had it still been registered.
        let flushed = Shared<Bool>(false)
        usleep(20_000)
        reactor.post { flushed.withLock { $0 = true } }
        #expect(eventually("a later task") { flushed.value })
        #expect(handler.reads.withLock { $0 } == Array("hello".utf8))
        #expect(handler.onLoopThread.value)
    }

    @Test func aPeerHangupIsReported() throws {
        var pair: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
        let fds = pair
        defer { close(fds[0]) }
        _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
        let reactor = try Reactor()
        try reactor.start()
        defer { reactor.stop() }
        let handler = RecordingHandler(fd: fds[0])
        let registered = Shared<Bool>(false)
        reactor.post {
            if (try? reactor.register(fd: fds[0], events: .readable, handler: handler)) != nil {
                registered.withLock { $0 = true }
            }
        }
        #expect(eventually("registration") { registered.value })
        close(fds[1])
        #expect(eventually("the hangup") { handler.hangups.value > 0 })
    }

    @Test func timersFireInDeadlineOrderAndCancelledOnesNever() throws {
        let reactor = try Reactor()
        try reactor.start()
        defer { reactor.stop() }
        let fired = Shared<[Int]>([])
        reactor.post {
            let base = Reactor.now()
            // Scheduled out of order; deadlines decide.
            _ = reactor.schedule(at: base.adding(.milliseconds(30))) { fired.withLock { $0.append(3) } }
            _ = reactor.schedule(at: base.adding(.milliseconds(10))) { fired.withLock { $0.append(1) } }
            let cancelled = reactor.schedule(at: base.adding(.milliseconds(20))) { fired.withLock { $0.append(99) } }
            _ = reactor.schedule(at: base.adding(.milliseconds(20))) { fired.withLock { $0.append(2) } }
            _ = reactor.schedule(at: base.adding(.milliseconds(30))) { fired.withLock { $0.append(4) } }
            reactor.cancel(cancelled)
        }
        #expect(eventually("four timers") { fired.withLock { $0.count } >= 4 })
        #expect(fired.withLock { $0 } == [1, 2, 3, 4])
    }

    @Test func aTimerCanRescheduleItself() throws {
        let reactor = try Reactor()
        try reactor.start()
        defer { reactor.stop() }
        let ticks = Shared<Int>(0)
        reactor.post {
            func tick() {
                if ticks.withLock({ $0 += 1; return $0 }) < 5 {
                    _ = reactor.schedule(afterMilliseconds: 1, tick)
                }
            }
            _ = reactor.schedule(afterMilliseconds: 1, tick)
        }
        #expect(eventually("five ticks") { ticks.value == 5 })
    }

    @Test func stopIsIdempotentAndLaterPostsAreRefused() throws {
        let reactor = try Reactor()
        try reactor.start()
        let ran = Shared<Bool>(false)
        reactor.post { ran.withLock { $0 = true } }
        reactor.stop()
        reactor.stop()
        #expect(ran.value, "a task posted before stop runs before the loop ends")
        #expect(!reactor.post {})
    }

    @Test func theTimerQueueOrdersTiesBySchedulingOrder() {
        var queue = TimerQueue()
        var order: [Int] = []
        let t = ZMTPInstant(nanoseconds: 1_000)
        for i in 0..<50 { _ = queue.schedule(at: t) { order.append(i) } }
        let early = queue.schedule(at: ZMTPInstant(nanoseconds: 10)) { order.append(-1) }
        queue.cancel(early)
        #expect(queue.nextDeadline() == t)
        #expect(queue.popDue(now: ZMTPInstant(nanoseconds: 999)).isEmpty)
        for action in queue.popDue(now: t) { action() }
        #expect(order == Array(0..<50))
        #expect(queue.count == 0)
    }
}

@Suite("Reactor shutdown")
struct ReactorShutdownTests {
    @Test func aTaskCanStopItsOwnReactor() throws {
        let reactor = try Reactor()
        try reactor.start()
        let stoppedInside = Shared(false)
        reactor.post {
            reactor.stop()
            stoppedInside.withLock { $0 = true }
        }
        #expect(eventually("the task") { stoppedInside.value })
        #expect(eventually("post to be refused") { !reactor.post {} })
        reactor.stop()   // from outside, after the loop ended: returns at once
    }
}
