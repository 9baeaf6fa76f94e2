import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real libzmq socket in a child process: `Peers/peer.py` run by Debian's `/usr/bin/python3`
/// (pyzmq 24 on libzmq 4.3.4), never the pyenv python on PATH.
///
/// The peer prints one line per fact (`PORT`, `RECV`, `EVENT`, `ZAP`, ...; see the script's
/// docstring) and reads commands (`SEND`, `COUNT`, `QUIT`) on stdin. Its output is read with
/// poll() on the same thread that drives the Swift connection (``BlockingDriver`` polls the
/// peer's pipes too), so nothing here is shared between threads. The process is killed when
/// the test calls ``stop()`` or drops the peer; it also kills itself after a hard timeout.
final class LibzmqPeer {
    static let python = "/usr/bin/python3"
    /// `Tests/InteropTests/Peers/peer.py`, found from this file's path.
    static let script: String = {
        let support = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        return support.deletingLastPathComponent().appendingPathComponent("Peers/peer.py").path
    }()
    /// The peer's own alarm: it exits by itself after this many seconds, whatever happens.
    static let hardTimeoutSeconds = 20

    private let process = Process()
    private let stdinPipe = Pipe()
    private let stdoutPipe = Pipe()
    private let stderrPipe = Pipe()
    private var stdoutBuffer: [UInt8] = []
    private var stdoutOpen = true
    private var stderrOpen = true
    /// Every complete line the peer printed, in order.
    private(set) var lines: [String] = []
    /// Everything the peer wrote to stderr (tracebacks).
    private(set) var stderrText = ""
    private var stopped = false

    /// Starts `peer.py` with `arguments`.
    init(_ arguments: [String]) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.python) else {
            throw InteropFailure(
                "\(Self.python) is missing: the interop tests need Debian's python3 with python3-zmq (scripts/install-deps.sh)")
        }
        // A write to the stdin of a peer that already exited must not kill the test process.
        signal(SIGPIPE, SIG_IGN)
        process.executableURL = URL(fileURLWithPath: Self.python)
        process.arguments = ["-u", "-B", Self.script, "--timeout", String(Self.hardTimeoutSeconds)] + arguments
        // Debian's interpreter with its own modules: no pyenv or virtualenv settings leak in.
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PYTHON") }
        process.standardInput = stdinPipe
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        do {
            try process.run()
        } catch {
            stopped = true  // nothing to reap
            throw InteropFailure("cannot start \(Self.python) \(Self.script): \(error)")
        }
        for fd in [stdoutFD, stderrFD] {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
    }

    deinit { stop() }

    private var stdoutFD: Int32 { stdoutPipe.fileHandleForReading.fileDescriptor }
    private var stderrFD: Int32 { stderrPipe.fileHandleForReading.fileDescriptor }

    // MARK: Output

    /// The pipes still worth polling.
    var pollDescriptors: [Int32] {
        (stdoutOpen ? [stdoutFD] : []) + (stderrOpen ? [stderrFD] : [])
    }

    /// Reads whatever the peer has printed, without waiting.
    func drain() {
        if stdoutOpen {
            stdoutOpen = readAvailable(stdoutFD) { stdoutBuffer.append(contentsOf: $0) }
            while let newline = stdoutBuffer.firstIndex(of: 0x0A) {
                lines.append(String(decoding: stdoutBuffer[..<newline], as: UTF8.self))
                stdoutBuffer.removeSubrange(...newline)
            }
        }
        if stderrOpen {
            stderrOpen = readAvailable(stderrFD) { stderrText += String(decoding: $0, as: UTF8.self) }
        }
    }

    /// Reads `fd` until it would block; returns false at end of file.
    private func readAvailable(_ fd: Int32, _ sink: (ArraySlice<UInt8>) -> Void) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<256 {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                sink(buffer[0..<n])
            } else if n == 0 {
                return false
            } else {
                return errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK
            }
        }
        return true
    }

    /// Whether the peer closed its stdout (it exited or crashed).
    var hasExited: Bool { !stdoutOpen }

    /// Fails when the peer reported that it cannot run, or died.
    func checkAlive() throws {
        if let missing = lines.first(where: { $0.hasPrefix("NOZMQ") }) {
            throw InteropFailure(
                "\(Self.python) cannot import zmq (\(missing)); install Debian's python3-zmq (scripts/install-deps.sh)")
        }
        if hasExited && !stopped {
            throw InteropFailure("the libzmq peer exited early\n\(transcript)")
        }
    }

    /// The lines that start with `prefix` + " " (or equal `prefix`).
    func lines(_ prefix: String) -> [String] {
        lines.filter { $0 == prefix || $0.hasPrefix(prefix + " ") }
    }

    /// Whether a line starts with `prefix`.
    func has(_ prefix: String) -> Bool { lines.contains { $0.hasPrefix(prefix) } }

    /// Waits (pumping only the peer) for the first line starting with `prefix`.
    @discardableResult
    func waitForLine(_ prefix: String, after index: Int = 0, timeoutMs: Int = 10_000) throws -> String {
        let deadline = monotonicNow().adding(.milliseconds(timeoutMs))
        while true {
            drain()
            if let line = lines[min(index, lines.count)...].first(where: { $0.hasPrefix(prefix) }) { return line }
            try checkAlive()
            let remaining = milliseconds(until: deadline)
            guard remaining > 0 else {
                throw InteropFailure("the libzmq peer printed no \"\(prefix)\" line within \(timeoutMs) ms\n\(transcript)")
            }
            var fds = pollDescriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            _ = poll(&fds, nfds_t(fds.count), Int32(min(remaining, 50)))
        }
    }

    // MARK: Commands

    /// Sends one command line (`SEND a|b`, `COUNT`, `QUIT`).
    func command(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        let fd = stdinPipe.fileHandleForWriting.fileDescriptor
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return }  // the peer is gone; checkAlive() reports it
            offset += n
        }
    }

    /// Asks libzmq to send one multipart message.
    func send(_ parts: [[UInt8]]) {
        command("SEND " + parts.map(hex).joined(separator: "|"))
    }

    /// The multipart messages libzmq received (`RECV` lines), frame by frame.
    var received: [[[UInt8]]] {
        lines("RECV").map { line in
            line.dropFirst(5).split(separator: "|", omittingEmptySubsequences: false).map { bytes(hex: $0) }
        }
    }

    /// The message properties libzmq printed (`META name hex`), last value wins.
    var metadata: [String: [UInt8]] {
        var result: [String: [UInt8]] = [:]
        for line in lines("META") {
            let fields = line.dropFirst(5).split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
            result[String(fields[0])] = fields.count > 1 ? bytes(hex: fields[1]) : []
        }
        return result
    }

    /// The monitor events printed so far, as (name, value).
    var events: [(name: String, value: UInt32)] {
        lines("EVENT").map { line in
            let fields = line.split(separator: " ")
            return (String(fields[1]), fields.count > 2 ? UInt32(fields[2]) ?? 0 : 0)
        }
    }

    /// Asks for the received-message count and waits for the answer.
    func receivedCount() throws -> Int {
        let index = lines.count
        command("COUNT")
        let line = try waitForLine("COUNT", after: index)
        return Int(line.dropFirst(6)) ?? -1
    }

    /// Kills the process (SIGKILL: it holds nothing worth a clean exit) and reaps it.
    func stop() {
        guard !stopped else { return }
        stopped = true
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        drain()
    }

    /// Everything the peer said, for failure messages.
    var transcript: String {
        "--- libzmq peer stdout ---\n" + lines.map { $0.count > 400 ? $0.prefix(400) + "…" : $0 }.joined(separator: "\n")
            + (stderrText.isEmpty ? "" : "\n--- libzmq peer stderr ---\n" + stderrText)
    }
}
