import Foundation
import ZeroMQ
import ZMTP

extension PerfTool {
    /// `local_thr <bind-to> <message-size> <message-count>`: a PULL that binds and measures from
    /// the first message it receives (libzmq perf/local_thr).
    public static func localThr(_ args: ArraySlice<String>) throws {
        let a = try arguments(args, "local_thr <bind-to> <message-size> <message-count>", count: 3)
        let size = try positive(a[1], "message size", allowZero: true)
        let count = try positive(a[2], "message count")
        let context = try BenchContext.make()
        let socket = try context.socket(.pull)
        try CurveKeys.applyIfRequested(socket, server: true)
        try socket.bind(a[0])
        let elapsed = try receiveAll(socket, size: size, count: count)
        printThroughput(size: size, count: count, elapsedMicroseconds: elapsed.microseconds)
        elapsed.allocations.finish()
        socket.close()
        context.terminate()
    }

    /// `remote_thr <connect-to> <message-size> <message-count>`: a PUSH that connects, sends, and
    /// closes with the default LINGER, so every message is delivered (libzmq perf/remote_thr).
    public static func remoteThr(_ args: ArraySlice<String>) throws {
        let a = try arguments(args, "remote_thr <connect-to> <message-size> <message-count>", count: 3)
        let size = try positive(a[1], "message size", allowZero: true)
        let count = try positive(a[2], "message count")
        let context = try BenchContext.make()
        let socket = try context.socket(.push)
        try CurveKeys.applyIfRequested(socket, server: false)
        try socket.connect(a[0])
        try sendAll(socket, size: size, count: count).finish()
        // Caller-driven I/O writes a burst's last sends at the next call; the wait below makes
        // no call, so write them now (``Socket/flush()``; nothing to do with I/O threads).
        socket.flush()
        // BENCH_HOLD=1 (set by Benchmarks/run): stay connected until stdin closes, which the
        // runner does once the receiver has everything (libzmq issue #4660: a libzmq receiver
        // over ipc loses what is still queued when its sender closes first).
        if ProcessInfo.processInfo.environment["BENCH_HOLD"] == "1" {
            _ = FileHandle.standardInput.readDataToEndOfFile()
        }
        socket.close()
        context.terminate()
    }

    /// `inproc_thr <message-size> <message-count>`: local_thr and remote_thr in one process over
    /// inproc, the sender on a thread of its own (libzmq perf/inproc_thr).
    public static func inprocThr(_ args: ArraySlice<String>) throws {
        let a = try arguments(args, "inproc_thr <message-size> <message-count>", count: 2)
        let size = try positive(a[0], "message size", allowZero: true)
        let count = try positive(a[1], "message count")
        let context = try BenchContext.make()
        let socket = try context.socket(.pull)
        try socket.bind("inproc://thr_test")
        let sender = BenchThread {
            let push = try context.socket(.push)
            try push.connect("inproc://thr_test")
            _ = try sendAll(push, size: size, count: count, countAllocations: false)
            push.close()
        }
        let elapsed = try receiveAll(socket, size: size, count: count)
        try sender.join()
        printThroughput(size: size, count: count, elapsedMicroseconds: elapsed.microseconds)
        elapsed.allocations.finish()
        socket.close()
        context.terminate()
    }

    /// Receives `count` messages of `size`; the clock starts when the first has arrived.
    static func receiveAll(_ socket: Socket, size: Int, count: Int) throws -> (microseconds: UInt64, allocations: AllocationWindow) {
        try check(try socket.receive(), size: size)
        let watch = Stopwatch()
        var allocations = AllocationWindow(count: count)
        for index in 1..<count {
            allocations.before(index)
            try check(try socket.receive(), size: size)
        }
        let elapsed = watch.elapsedMicroseconds
        allocations.end()
        return (elapsed, allocations)
    }

    /// Sends `count` messages of `size`, each made afresh as libzmq's tools do.
    static func sendAll(_ socket: Socket, size: Int, count: Int, countAllocations: Bool = true) throws -> AllocationWindow {
        var allocations = AllocationWindow(count: countAllocations ? count : 0)
        try [UInt8](repeating: 0, count: size).withUnsafeBytes { bytes in
            for index in 0..<count {
                allocations.before(index)
                try socket.send(makeMessage(bytes))
            }
        }
        allocations.end()
        return allocations
    }
}
