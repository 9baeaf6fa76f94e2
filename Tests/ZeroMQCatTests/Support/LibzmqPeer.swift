#if Tools  // zmqcat is built with the package trait "Tools" only (Package.swift)
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real libzmq socket in a child process: `Peers/zmq_peer.py` run by Debian's
/// `/usr/bin/python3` (pyzmq on libzmq 4.3), never a pyenv python from PATH. It prints one line
/// per fact (`BOUND`, `RECV`, `SENT`, …; see the script). The process is killed by ``stop()``
/// (call it in a `defer`) and kills itself after ``hardTimeoutSeconds`` whatever happens.
final class LibzmqPeer {
    static let python = "/usr/bin/python3"
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Peers/zmq_peer.py").path
    static let hardTimeoutSeconds = 30

    private let process = Process()
    private let stdinPipe = Pipe()
    private let stdoutPipe = Pipe()
    private let stderrPipe = Pipe()
    private var buffer: [UInt8] = []
    private var stdoutOpen = true
    private(set) var lines: [String] = []
    private var stopped = false

    /// Starts a peer with `arguments` (`--type`, `--bind`/`--connect`, …).
    init(_ arguments: [String]) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.python) else {
            throw PeerFailure("\(Self.python) is missing: install Debian's python3-zmq (scripts/install-deps.sh)")
        }
        signal(SIGPIPE, SIG_IGN)
        process.executableURL = URL(fileURLWithPath: Self.python)
        process.arguments = ["-u", "-B", Self.script, "--timeout", String(Self.hardTimeoutSeconds)] + arguments
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PYTHON") }
        process.standardInput = stdinPipe
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        do {
            try process.run()
        } catch {
            stopped = true
            throw PeerFailure("cannot start \(Self.python) \(Self.script): \(error)")
        }
        let fd = stdoutPipe.fileHandleForReading.fileDescriptor
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    deinit { stop() }

    /// Starts a peer that binds `endpoint` and waits until it has; returns it with the bound
    /// endpoint (a wildcard port resolved).
    static func bound(_ arguments: [String], at endpoint: String = "tcp://127.0.0.1:*") throws -> (LibzmqPeer, String) {
        let peer = try LibzmqPeer(arguments + ["--bind", endpoint])
        let line = try peer.waitForLine("BOUND ")
        return (peer, String(line.dropFirst(6)))
    }

    /// Reads what the peer printed, without waiting.
    private func drain() {
        guard stdoutOpen else { return }
        let fd = stdoutPipe.fileHandleForReading.fileDescriptor
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count > 0 {
                buffer += chunk[0..<count]
            } else {
                if count == 0 { stdoutOpen = false }
                break
            }
        }
        while let newline = buffer.firstIndex(of: 0x0A) {
            lines.append(String(decoding: buffer[..<newline], as: UTF8.self))
            buffer.removeSubrange(...newline)
        }
    }

    /// Waits (bounded) until `condition` holds for the lines printed so far.
    func wait(for what: String, timeoutSeconds: Double = 60, until condition: ([String]) -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while true {
            drain()
            if condition(lines) { return }
            if let missing = lines.first(where: { $0.hasPrefix("NOZMQ") }) {
                throw PeerFailure("\(Self.python) cannot import zmq: \(missing); install Debian's python3-zmq")
            }
            guard stdoutOpen, Date() < deadline else {
                throw PeerFailure("the libzmq peer printed no \(what)\n\(transcript)")
            }
            var descriptor = pollfd(fd: stdoutPipe.fileHandleForReading.fileDescriptor, events: Int16(POLLIN), revents: 0)
            _ = poll(&descriptor, 1, 50)
        }
    }

    /// Waits for the first line starting with `prefix`.
    @discardableResult
    func waitForLine(_ prefix: String) throws -> String {
        try wait(for: "\"\(prefix)\" line") { $0.contains { $0.hasPrefix(prefix) } }
        return lines.first { $0.hasPrefix(prefix) }!
    }

    /// Waits until the peer has received `count` messages, and returns them frame by frame.
    func waitForMessages(_ count: Int) throws -> [[[UInt8]]] {
        try wait(for: "\(count) RECV lines") { $0.filter { $0.hasPrefix("RECV ") }.count >= count }
        return received
    }

    /// The messages received so far (its `RECV` lines), frame by frame.
    var received: [[[UInt8]]] {
        drain()
        return lines.filter { $0.hasPrefix("RECV ") }.map { line in
            line.dropFirst(5).split(separator: "|", omittingEmptySubsequences: false).map { unhex($0) }
        }
    }

    /// Kills the process and reaps it.
    func stop() {
        guard !stopped else { return }
        stopped = true
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        drain()
    }

    /// What the peer said, for failure messages (the peer is stopped first).
    var transcript: String {
        stop()  // so that reading its stderr to the end cannot wait
        let errors = String(decoding: (try? stderrPipe.fileHandleForReading.readToEnd()) ?? Data(), as: UTF8.self)
        return "--- peer stdout ---\n" + lines.joined(separator: "\n") + (errors.isEmpty ? "" : "\n--- peer stderr ---\n" + errors)
    }
}

struct PeerFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Lowercase hex of `bytes`, as the peer reads it.
func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
}

/// Hex digits to bytes.
func unhex(_ text: Substring) -> [UInt8] {
    var bytes: [UInt8] = []
    var index = text.startIndex
    while index < text.endIndex, let next = text.index(index, offsetBy: 2, limitedBy: text.endIndex) {
        bytes.append(UInt8(text[index..<next], radix: 16) ?? 0)
        index = next
    }
    return bytes
}
#endif  // Tools
