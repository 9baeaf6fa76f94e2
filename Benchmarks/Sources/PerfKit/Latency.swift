import Foundation
import ZeroMQ
import ZMTP

extension PerfTool {
    /// `local_lat <bind-to> <message-size> <roundtrip-count>`: a REP that binds and echoes
    /// (libzmq perf/local_lat).
    public static func localLat(_ args: ArraySlice<String>) throws {
        let a = try arguments(args, "local_lat <bind-to> <message-size> <roundtrip-count>", count: 3)
        let size = try positive(a[1], "message size", allowZero: true)
        let roundtrips = try positive(a[2], "roundtrip count")
        let context = try BenchContext.make()
        let socket = try context.socket(.rep)
        try CurveKeys.applyIfRequested(socket, server: true)
        try socket.bind(a[0])
        try echo(socket, size: size, roundtrips: roundtrips).finish()
        socket.close()
        context.terminate()
    }

    /// `remote_lat <connect-to> <message-size> <roundtrip-count>`: a REQ that connects and times
    /// the round trips; prints half the mean round trip (libzmq perf/remote_lat).
    public static func remoteLat(_ args: ArraySlice<String>) throws {
        let a = try arguments(args, "remote_lat <connect-to> <message-size> <roundtrip-count>", count: 3)
        let size = try positive(a[1], "message size", allowZero: true)
        let roundtrips = try positive(a[2], "roundtrip count")
        let context = try BenchContext.make()
        let socket = try context.socket(.req)
        try CurveKeys.applyIfRequested(socket, server: false)
        try socket.connect(a[0])
        let result = try ask(socket, size: size, roundtrips: roundtrips)
        printLatency(size: size, roundtrips: roundtrips, elapsedMicroseconds: result.microseconds)
        result.allocations.finish()
        socket.close()
        context.terminate()
    }

    /// `inproc_lat <message-size> <roundtrip-count>`: the REP on a thread, the REQ timing, over
    /// inproc (libzmq perf/inproc_lat).
    public static func inprocLat(_ args: ArraySlice<String>) throws {
        let a = try arguments(args, "inproc_lat <message-size> <roundtrip-count>", count: 2)
        let size = try positive(a[0], "message size", allowZero: true)
        let roundtrips = try positive(a[1], "roundtrip count")
        let context = try BenchContext.make()
        let socket = try context.socket(.req)
        try socket.bind("inproc://lat_test")
        let server = BenchThread {
            let rep = try context.socket(.rep)
            try rep.connect("inproc://lat_test")
            _ = try echo(rep, size: size, roundtrips: roundtrips, countAllocations: false)
            rep.close()
        }
        let result = try ask(socket, size: size, roundtrips: roundtrips)
        try server.join()
        printLatency(size: size, roundtrips: roundtrips, elapsedMicroseconds: result.microseconds)
        result.allocations.finish()
        socket.close()
        context.terminate()
    }

    static func echo(_ socket: Socket, size: Int, roundtrips: Int, countAllocations: Bool = true) throws -> AllocationWindow {
        var allocations = AllocationWindow(count: countAllocations ? roundtrips : 0)
        for index in 0..<roundtrips {
            allocations.before(index)
            let message = try socket.receive()
            try check(message, size: size)
            try socket.send(message)
        }
        allocations.end()
        return allocations
    }

    static func ask(_ socket: Socket, size: Int, roundtrips: Int) throws -> (microseconds: UInt64, allocations: AllocationWindow) {
        var allocations = AllocationWindow(count: roundtrips)
        // One message made up front, then the reply sent back each time, as libzmq's
        // remote_lat does with its one zmq_msg_t.
        var message = [UInt8](repeating: 0, count: size).withUnsafeBytes { makeMessage($0) }
        let watch = Stopwatch()
        for index in 0..<roundtrips {
            allocations.before(index)
            try socket.send(message)
            message = try socket.receive()
            try check(message, size: size)
        }
        let elapsed = watch.elapsedMicroseconds
        allocations.end()
        return (elapsed, allocations)
    }
}
