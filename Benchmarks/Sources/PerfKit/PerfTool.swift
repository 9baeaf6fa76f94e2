import Foundation
import ZeroMQ
import ZMTP

/// The benchmark tools' shared entry: argument checks, error reporting, libzmq's output lines.
///
/// Every tool takes the command line of its libzmq twin (perf/ in libzmq's tree for the classic
/// four and the two inproc ones; Benchmarks/C/ for the others) and prints the same lines, so a
/// script written for libzmq's tools drives these unchanged.
public enum PerfTool {
    /// A failure that ends the tool with status 1 and a one-line reason.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// Runs `body` with the arguments after the program name; prints `usage` on a wrong count.
    public static func main(name: String, _ body: (ArraySlice<String>) throws -> Void) -> Never {
        do {
            try body(CommandLine.arguments.dropFirst())
            exit(0)
        } catch {
            FileHandle.standardError.write(Data("\(name): \(error)\n".utf8))
            exit(1)
        }
    }

    static func arguments(_ args: ArraySlice<String>, _ usage: String, count: Int) throws -> [String] {
        guard args.count == count else { throw Failure("usage: \(usage)") }
        return Array(args)
    }

    static func positive(_ text: String, _ what: String, allowZero: Bool = false) throws -> Int {
        guard let value = Int(text), value > 0 || (allowZero && value == 0) else {
            throw Failure("\(what) must be a positive integer, not \(text)")
        }
        return value
    }

    static func check(_ message: Message, size: Int) throws {
        guard message.count == size else { throw Failure("message of incorrect size received (\(message.count), expected \(size))") }
    }

    /// libzmq local_thr's four lines (throughput measured from the first message on).
    static func printThroughput(size: Int, count: Int, elapsedMicroseconds: UInt64) {
        let elapsed = max(elapsedMicroseconds, 1)
        let perSecond = UInt64(Double(count) * 1_000_000 / Double(elapsed))
        let megabits = Double(perSecond) * Double(size) * 8 / 1_000_000
        print("message size: \(size) [B]")
        print("message count: \(count)")
        print("mean throughput: \(perSecond) [msg/s]")
        print(String(format: "mean throughput: %.3f [Mb/s]", megabits))
    }

    /// libzmq remote_lat's three lines (latency = round trip / 2).
    static func printLatency(size: Int, roundtrips: Int, elapsedMicroseconds: UInt64) {
        let latency = Double(elapsedMicroseconds) / Double(roundtrips * 2)
        print("message size: \(size) [B]")
        print("roundtrip count: \(roundtrips)")
        print(String(format: "average latency: %.3f [us]", latency))
    }

    /// A message of `body.count` bytes, made per send as libzmq's tools do: up to
    /// ``Message/inlineCapacity`` bytes it is stored inline (copied), beyond it owns a fresh
    /// buffer left uninitialised, like `zmq_msg_init_size` (copying 64 KiB or 1 MiB into every
    /// message would measure memcpy, which libzmq's tools do not do).
    @inline(__always)
    static func makeMessage(_ body: UnsafeRawBufferPointer) -> Message {
        if body.count <= Message.inlineCapacity { return Message(copying: body) }
        return Message(unsafeUninitializedCount: body.count) { _ in }
    }
}

/// A monotonic stopwatch in microseconds (`CLOCK_MONOTONIC`, as libzmq's `zmq_stopwatch_start`).
struct Stopwatch {
    private let start = Stopwatch.now()

    static func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000 + UInt64(spec.tv_nsec) / 1_000
    }

    var elapsedMicroseconds: UInt64 { Stopwatch.now() - start }
}
