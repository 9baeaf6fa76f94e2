#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// A program that sends its last message and reaches the end of main.swift delivers it, bounded
/// by LINGER (``Context/lingerLimitAtExit`` when LINGER is forever): Tests/ExitPeer against
/// pyzmq, each in a process of its own.
@Suite(.serialized)
struct ExitDeliveryTests {
    @Test func replyOfAServerThatSimplyEndsArrivesEveryTime() throws {
        for run in 1...20 {
            let server = try Child(Child.exitPeerPath(), ["rep", "tcp://127.0.0.1:*"])
            let endpoint = try server.line(startingWith: "ENDPOINT ").dropFirst("ENDPOINT ".count)
            let client = try Child("/usr/bin/python3", [Child.peer("exit_client.py"), "req", String(endpoint)])
            let reply = try client.line(startingWith: "")
            #expect(reply == "reply to hello", "run \(run)")
            #expect(try client.exitStatus() == 0, "run \(run)")
            #expect(try server.exitStatus() == 0, "run \(run)")
        }
    }

    @Test func messageOfAConnectingPushThatSimplyEndsArrivesEveryTime() throws {
        for run in 1...10 {
            let receiver = try Child("/usr/bin/python3", [Child.peer("exit_client.py"), "pull", "tcp://127.0.0.1:*"])
            let endpoint = try receiver.line(startingWith: "ENDPOINT ").dropFirst("ENDPOINT ".count)
            let sender = try Child(Child.exitPeerPath(), ["push", String(endpoint)])
            #expect(try receiver.line(startingWith: "") == "last words", "run \(run)")
            #expect(try sender.exitStatus() == 0, "run \(run)")
            #expect(try receiver.exitStatus() == 0, "run \(run)")
        }
    }

    /// Nobody listens: the message can never go, and LINGER (forever by default) is bounded at
    /// exit. The bound checked is generous (the limit is 1 s): the point is that it ends.
    @Test func programWhosePeerIsGoneStillEnds() throws {
        let port = try Child.closedPort()
        let sender = try Child(Child.exitPeerPath(), ["push", "tcp://127.0.0.1:\(port)"])
        #expect(try sender.exitStatus(within: .seconds(60)) == 0)
    }
}

/// A child process whose stdout the test reads line by line, bounded.
final class Child {
    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    private let process = Process()
    private let output = Pipe()
    private var buffered: [UInt8] = []

    init(_ executable: String, _ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = output
        try process.run()
    }

    deinit {
        if process.isRunning { process.terminate() }
    }

    /// The next line beginning with `prefix`, waiting up to `timeout` for it.
    func line(startingWith prefix: String, timeout: Duration = .seconds(60)) throws -> String {
        let deadline = ContinuousClock.now + timeout
        let fd = output.fileHandleForReading.fileDescriptor
        while true {
            while let newline = buffered.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffered[..<newline], as: UTF8.self)
                buffered.removeSubrange(...newline)
                if line.hasPrefix(prefix) { return line }
            }
            guard ContinuousClock.now < deadline else { throw Failure("no line starting with \"\(prefix)\" within \(timeout)") }
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 100) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let got = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if got == 0 { throw Failure("the process ended before a line starting with \"\(prefix)\"") }
            if got > 0 { buffered += chunk[..<got] }
        }
    }

    /// The exit status, waiting up to `timeout` (then the process is killed and this throws).
    func exitStatus(within timeout: Duration = .seconds(60)) throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                throw Failure("still running after \(timeout)")
            }
            usleep(10_000)
        }
        return process.terminationStatus
    }

    /// `ExitPeer`, built next to the test bundle by `swift build --build-tests`.
    static func exitPeerPath() throws -> String {
        var path = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &path, Int(PATH_MAX))
        guard length > 0 else { throw Failure("readlink /proc/self/exe: errno \(errno)") }
        var directory = String(decoding: path[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        while !directory.isEmpty {
            directory = String(directory[..<(directory.lastIndex(of: "/") ?? directory.startIndex)])
            let candidate = directory + "/ExitPeer"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw Failure("ExitPeer was not built next to the tests (swift build --build-tests)")
    }

    static func peer(_ name: String) -> String {
        let file = #filePath
        return String(file[..<(file.lastIndex(of: "/") ?? file.endIndex)]) + "/Peers/" + name
    }

    /// A loopback port nobody listens on (bound, then closed, by us).
    static func closedPort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw Failure("bind: errno \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return UInt16(bigEndian: address.sin_port)
    }
}
