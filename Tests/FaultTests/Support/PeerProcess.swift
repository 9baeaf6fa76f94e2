#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import Testing

/// One socket in a process of its own: Swift's (the `FaultPeer` executable built beside the
/// tests) or libzmq's (`Peers/faults.py` under /usr/bin/python3), optionally inside a network
/// namespace. Both speak the same lines (see Tests/FaultPeer/main.swift). A process measured
/// alone is what makes memory figures honest: swift-testing runs other suites in this process.
///
/// Every wait is bounded; the process is killed (SIGKILL) and reaped when this object goes.
final class PeerProcess: @unchecked Sendable {
    /// Which implementation runs the socket.
    enum Implementation: String, Sendable, CustomTestStringConvertible {
        case swift, libzmq
        var testDescription: String { rawValue }
    }

    let pid: pid_t
    let name: String
    private let input: Int32
    private let lines = Mutex<[String]>([])
    private let ended = Atomic<Bool>(false)
    private let reaped = Mutex<Int32?>(nil)
    private var cursor = 0

    /// Starts `implementation`'s peer with `arguments` (`receive ENDPOINT ...` or `send ENDPOINT ...`),
    /// inside `namespace` when given, on the CPUs `cpus` names (taskset's list) when given.
    convenience init(_ implementation: Implementation, _ arguments: [String], namespace: String? = nil, cpus: String? = nil,
                     name: String = "") throws {
        let program: [String]
        switch implementation {
        case .swift: program = [try Self.faultPeerPath()]
        case .libzmq: program = ["/usr/bin/python3", Self.peersDirectory + "/faults.py"]
        }
        let prefix = (cpus.map { ["/usr/bin/taskset", "-c", $0] } ?? []) + (namespace.map { ["/usr/sbin/ip", "netns", "exec", $0] } ?? [])
        try self.init(argv: prefix + program + arguments, name: name.isEmpty ? "\(implementation) \(arguments.first ?? "")" : name)
    }

    init(argv: [String], name: String) throws {
        self.name = name
        var stdinEnds: [Int32] = [0, 0], stdoutEnds: [Int32] = [0, 0]
        guard pipe(&stdinEnds) == 0, pipe(&stdoutEnds) == 0 else { throw FaultError("pipe: errno \(errno)") }
        for end in stdinEnds + stdoutEnds { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdinEnds[0], 0)
        posix_spawn_file_actions_adddup2(&actions, stdoutEnds[1], 1)
        posix_spawn_file_actions_adddup2(&actions, stdoutEnds[1], 2)
        // The peer must not hold this process's sockets open: everything above stderr closes
        // (glibc 2.34's posix_spawn_file_actions_addclosefrom_np, not imported by Swift's Glibc).
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        if let symbol = dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addclosefrom_np") {
            _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
        }
        let arguments = argv.map { strdup($0) } + [nil]
        defer { for pointer in arguments { free(pointer) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, arguments, environ)
        close(stdinEnds[0])
        close(stdoutEnds[1])
        guard spawned == 0 else {
            close(stdinEnds[1])
            close(stdoutEnds[0])
            throw FaultError("posix_spawn \(argv[0]): \(spawned)")
        }
        self.pid = pid
        input = stdinEnds[1]
        let output = stdoutEnds[0]
        // Drains the output at once, so a chatty peer never blocks on a full pipe.
        Thread { [self] in
            var pending: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65_536)
            while true {
                let got = chunk.withUnsafeMutableBytes { read(output, $0.baseAddress, $0.count) }
                if got < 0 && errno == EINTR { continue }
                guard got > 0 else { break }
                pending += chunk[..<got]
                while let newline = pending.firstIndex(of: 10) {
                    let line = String(decoding: pending[..<newline], as: UTF8.self)
                    pending.removeSubrange(...newline)
                    lines.withLock { $0.append(line) }
                }
            }
            close(output)
            ended.store(true, ordering: .releasing)
        }.start()
    }

    deinit {
        stop()
        close(input)
    }

    /// The `FaultPeer` executable: `FAULT_PEER` when set (scripts/faults.sh points it at a release
    /// build, so rates are not a debug build's), else the one built next to the test bundle by
    /// `swift build --build-tests`.
    static func faultPeerPath() throws -> String {
        if let chosen = getenv("FAULT_PEER").map({ String(cString: $0) }), !chosen.isEmpty {
            guard access(chosen, X_OK) == 0 else { throw FaultError("FAULT_PEER=\(chosen) is not an executable") }
            return chosen
        }
        var path = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &path, Int(PATH_MAX))
        guard length > 0 else { throw FaultError("readlink /proc/self/exe: errno \(errno)") }
        var directory = String(decoding: path[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // The bundle's executable is .build/<config>/<package>PackageTests.xctest (a file on Linux).
        while !directory.isEmpty {
            directory = String(directory[..<(directory.lastIndex(of: "/") ?? directory.startIndex)])
            let candidate = directory + "/FaultPeer"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw FaultError("FaultPeer was not built next to the tests (swift build --build-tests)")
    }

    static let peersDirectory: String = {
        let file = #filePath
        let support = file[..<(file.lastIndex(of: "/") ?? file.endIndex)]
        return String(support[..<(support.lastIndex(of: "/") ?? support.endIndex)]) + "/Peers"
    }()

    // MARK: Lines

    /// Every line printed so far.
    var output: [String] { lines.withLock { $0 } }

    /// The next line (after those already consumed) starting with `prefix`, within `timeout`.
    func next(_ prefix: String, within timeout: Duration = .seconds(60)) throws -> String {
        let deadline = ContinuousClock.now + timeout
        while true {
            let found: String? = lines.withLock { all in
                while cursor < all.count {
                    defer { cursor += 1 }
                    if all[cursor].hasPrefix(prefix) { return all[cursor] }
                }
                return nil
            }
            if let found { return String(found.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces) }
            if ended.load(ordering: .acquiring) && lines.withLock({ cursor >= $0.count }) {
                throw FaultError("\(name) ended before printing \(prefix):\n\(tail)")
            }
            guard ContinuousClock.now < deadline else { throw FaultError("\(name) printed no \(prefix) within \(timeout):\n\(tail)") }
            usleep(5_000)
        }
    }

    /// The last line starting with `prefix`, consumed or not.
    func last(_ prefix: String) -> String? {
        lines.withLock { $0.last { $0.hasPrefix(prefix) } }.map { String($0.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces) }
    }

    /// The last lines printed, for failure messages.
    var tail: String { output.suffix(12).joined(separator: "\n") }

    func write(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(input, $0.baseAddress, $0.count) }
    }

    // MARK: Commands

    /// The endpoint the peer bound or connected.
    func endpoint() throws -> String { try next("ENDPOINT ", within: .seconds(30)) }

    /// Its counters now (MARK, answered by STATUS).
    func mark() throws -> PeerStatus {
        write("MARK")
        return PeerStatus(try next("STATUS ", within: .seconds(60)))
    }

    /// Asks it to stop (QUIT) and returns its final counters (DONE); the process is reaped.
    @discardableResult
    func quit(within timeout: Duration = .seconds(30)) throws -> PeerStatus {
        write("QUIT")
        let done = PeerStatus(try next("DONE ", within: timeout))
        _ = waitForExit(within: .seconds(10))
        return done
    }

    /// SIGKILL, and reaps it.
    func kill9() {
        kill(pid, SIGKILL)
        _ = waitForExit(within: .seconds(30))
    }

    /// Waits for it to exit on its own: its exit status, or nil when `timeout` passed first.
    func waitForExit(within timeout: Duration) -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let status = reaped.withLock({ $0 }) { return status }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                reaped.withLock { $0 = status }
                return status
            }
            guard ContinuousClock.now < deadline else { return nil }
            usleep(10_000)
        }
    }

    /// Kills and reaps it if it still runs.
    func stop() {
        guard reaped.withLock({ $0 }) == nil else { return }
        kill(pid, SIGKILL)
        _ = waitForExit(within: .seconds(30))
    }

    // MARK: Memory

    /// Its resident set now and at its peak, in bytes (VmRSS and VmHWM of /proc/PID/status).
    func memory() -> (resident: Int, peak: Int) {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return (0, 0) }
        func field(_ name: String) -> Int {
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return 0 }
            return (Int(line.split(separator: " ").dropFirst().first { !$0.isEmpty }.map(String.init) ?? "") ?? 0) * 1024
        }
        return (field("VmRSS"), field("VmHWM"))
    }
}

/// The counters of a STATUS or DONE line: `key=value` pairs; numbers where numbers are printed
/// (libzmq's peer prints `-` for what it cannot know).
struct PeerStatus: CustomStringConvertible {
    let fields: [String: String]
    let description: String

    init(_ line: String) {
        description = line
        var fields: [String: String] = [:]
        for pair in line.split(separator: " ") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
        }
        self.fields = fields
    }

    subscript(_ key: String) -> Int { Int(fields[key] ?? "") ?? 0 }

    /// Messages received from sender run `run`, and its highest sequence number.
    func run(_ run: Int) -> (received: Int, last: Int)? {
        guard let text = fields["runs"] else { return nil }
        for entry in text.split(separator: ",") {
            let parts = entry.split(separator: ":").compactMap { Int($0) }
            if parts.count == 3 && parts[0] == run { return (parts[1], parts[2]) }
        }
        return nil
    }

    /// How many handshakes or connections ended with the error named `code` (ZMTP code names).
    func errors(_ code: String) -> Int {
        guard let text = fields["errors"] else { return 0 }
        for entry in text.split(separator: ",") where entry.hasPrefix(code + ":") {
            return Int(entry.split(separator: ":").last ?? "") ?? 0
        }
        return 0
    }
}

struct FaultError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Megabytes, one decimal, for figures.
func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1_048_576) }

/// A rate, for figures: 812k msg/s.
func rate(_ count: Int, over seconds: Double) -> String {
    guard seconds > 0 else { return "-" }
    let perSecond = Double(count) / seconds
    return perSecond >= 10_000 ? String(format: "%.0fk msg/s", perSecond / 1000) : String(format: "%.0f msg/s", perSecond)
}

/// Prints one figure line, flushed (the figures are what a CI log is read for).
func figure(_ line: String) {
    print("FAULT " + line)
    fflush(nil)
}
