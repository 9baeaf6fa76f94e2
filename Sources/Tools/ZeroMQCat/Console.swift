#if Tools  // zmqcat is built with the package trait "Tools" only (Package.swift)
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Where zmqcat writes: a file descriptor in the executable, memory in tests. Nothing in
/// ZeroMQCat calls `print()`.
public protocol OutputSink: AnyObject, Sendable {
    /// Writes all of `bytes`, in order.
    func write(_ bytes: [UInt8])
    /// Whether a person is watching (a terminal): only then is a progress line drawn.
    var isTerminal: Bool { get }
}

/// A file descriptor (standard output or error) as a sink.
public final class FileDescriptorSink: OutputSink {
    /// The descriptor written to (not closed by the sink).
    public let fileDescriptor: Int32
    /// Whether the descriptor is a terminal (`isatty`).
    public let isTerminal: Bool

    /// A sink for `fileDescriptor`.
    public init(_ fileDescriptor: Int32) {
        self.fileDescriptor = fileDescriptor
        isTerminal = isatty(fileDescriptor) == 1
    }

    /// Writes all of `bytes`, retrying partial writes; stops quietly at a closed pipe.
    public func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(fileDescriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return  // a closed pipe or a full disk: nothing better to do than stop writing
                }
            }
        }
    }
}

/// Everything written, kept in memory (for tests). Safe to read from another thread while a
/// command writes.
public final class MemorySink: OutputSink {
    private let bytes = Mutex<[UInt8]>([])
    /// What the sink pretends to be (a terminal shows the progress line).
    public let isTerminal: Bool

    /// An empty sink.
    public init(isTerminal: Bool = false) { self.isTerminal = isTerminal }

    /// Appends `bytes`.
    public func write(_ bytes: [UInt8]) {
        self.bytes.withLock { $0.append(contentsOf: bytes) }
    }

    /// Everything written so far.
    public var data: [UInt8] { bytes.withLock { $0 } }

    /// Everything written so far, as UTF-8 text.
    public var text: String { String(decoding: data, as: UTF8.self) }

    /// The complete lines written so far, without their newlines.
    public var lines: [String] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines.removeLast()  // what follows the last newline: "" or an unfinished line
        return lines
    }
}

/// The standard streams a command uses, injectable so that tests run commands in-process.
public struct Console: Sendable {
    /// The descriptor messages are read from (-1: none).
    public var input: Int32
    /// Whether `input` is a terminal (someone typing): no progress line then.
    public var inputIsTerminal: Bool
    /// Received messages, keys, events.
    public var output: any OutputSink
    /// Diagnostics, the progress line and the rate summary.
    public var errors: any OutputSink
    /// Polled while waiting: true once the user asked to stop (SIGINT, SIGTERM).
    public var interrupted: @Sendable () -> Bool

    public init(input: Int32, inputIsTerminal: Bool = false, output: any OutputSink, errors: any OutputSink,
                interrupted: @escaping @Sendable () -> Bool = { false }) {
        self.input = input
        self.inputIsTerminal = inputIsTerminal
        self.output = output
        self.errors = errors
        self.interrupted = interrupted
    }

    /// Standard input, output and error, and the signal flag set by ``Signals/install()``.
    public static var standard: Console {
        Console(input: STDIN_FILENO, inputIsTerminal: isatty(STDIN_FILENO) == 1,
                output: FileDescriptorSink(STDOUT_FILENO), errors: FileDescriptorSink(STDERR_FILENO),
                interrupted: { Signals.received != 0 })
    }
}

/// SIGINT and SIGTERM as a flag that the loops poll (they never wait longer than a fraction of
/// a second), so an interrupted run still closes its socket and prints its summary. A second
/// signal gets the default action: it kills the process.
public enum Signals {
    private static let flag = Atomic<Int32>(0)

    /// The signal received, or 0.
    public static var received: Int32 { flag.load(ordering: .relaxed) }

    /// Installs the handlers (the executable does; tests do not).
    public static func install() {
        _ = received  // initialise the static before a handler can touch it
        for number in [SIGINT, SIGTERM] {
            signal(number) { number in
                Signals.flag.store(number, ordering: .relaxed)
                signal(number, SIG_DFL)
            }
        }
    }
}

/// Buffers what a command writes to a sink, and hands it over in large writes: before every
/// wait, and when 64 KiB have gathered.
final class Writer {
    let sink: any OutputSink
    private var buffer: [UInt8] = []
    private static let flushThreshold = 1 << 16

    init(_ sink: any OutputSink) {
        self.sink = sink
        buffer.reserveCapacity(Self.flushThreshold)
    }

    deinit { flush() }

    func write(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= Self.flushThreshold { flush() }
    }

    func write(_ text: String) { write(text.utf8) }

    func flush() {
        guard !buffer.isEmpty else { return }
        sink.write(buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}

/// Lines from a descriptor, read only when `poll` said it is readable (so a read never blocks,
/// and the descriptor's flags, shared with the shell that started us, stay untouched).
final class LineReader {
    let fileDescriptor: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    private(set) var atEnd = false

    init(_ fileDescriptor: Int32) {
        self.fileDescriptor = fileDescriptor
        atEnd = fileDescriptor < 0
    }

    /// One read of what is available.
    /// - Throws: ``ZmqcatFailure`` when the read fails.
    func fill() throws(ZmqcatFailure) {
        guard !atEnd else { return }
        if start > 0 && start * 2 >= buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        let count = chunk.withUnsafeMutableBytes { read(fileDescriptor, $0.baseAddress, $0.count) }
        if count > 0 {
            buffer.append(contentsOf: chunk[0..<count])
        } else if count == 0 {
            atEnd = true
        } else if errno != EINTR && errno != EAGAIN {
            throw ZmqcatFailure(.failure, "cannot read standard input: \(String(cString: strerror(errno)))")
        }
    }

    /// The next complete line without its newline; at the end of input, the last unterminated
    /// line. Nil when no whole line is buffered yet (or nothing is left).
    func nextLine() -> ArraySlice<UInt8>? {
        if let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
            defer { start = newline + 1 }
            return buffer[start..<newline]
        }
        if atEnd && start < buffer.count {
            defer { start = buffer.count }
            return buffer[start...]
        }
        return nil
    }

    /// Whether every line has been taken and the input ended.
    var isExhausted: Bool { atEnd && start >= buffer.count }

    /// Everything buffered and not yet taken (for `--input raw`, once at the end of input).
    func takeRest() -> [UInt8] {
        defer { start = buffer.count }
        return Array(buffer[start...])
    }
}
#endif  // Tools
