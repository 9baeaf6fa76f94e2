import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A pyzmq peer in a child process: a short script run by Debian's `/usr/bin/python3` (pyzmq
/// on libzmq 4.3.4), given the endpoint as its argument. The script exits 0 when everything it
/// expected happened; it has its own alarm, and ``finish(within:)`` kills it after a generous
/// bound, so a failed exchange fails the test instead of hanging it.
final class PyzmqScript: @unchecked Sendable {
    static let python = "/usr/bin/python3"
    /// The script's own alarm, in seconds.
    static let alarmSeconds = 150

    fileprivate let process = Process()
    fileprivate let output = Pipe()

    /// Starts `source` with `arguments` (`sys.argv[1...]`); `import zmq, sys, signal` and the
    /// alarm come first.
    init(_ source: String, arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: Self.python)
        let prologue = "import zmq, sys, signal\nsignal.alarm(\(Self.alarmSeconds))\n"
        process.arguments = ["-B", "-c", prologue + source] + arguments
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PYTHON") }
        process.standardOutput = output
        process.standardError = output
        try process.run()
    }

    /// Waits for the script to end (killing it after `bound`); its exit status and output.
    func finish(within bound: Duration = .seconds(180)) async -> (status: Int32, output: String) {
        let deadline = ContinuousClock.now + bound
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (process.terminationStatus, text)
    }

    deinit {
        if process.isRunning { process.terminate() }
    }
}

extension PyzmqScript {
    /// Whether the script has exited.
    var hasEnded: Bool { !process.isRunning }

    /// ``finish(within:)`` for a synchronous test: waits on the calling thread.
    func finishBlocking(within bound: Duration = .seconds(180)) -> (status: Int32, output: String) {
        let deadline = ContinuousClock.now + bound
        while process.isRunning, ContinuousClock.now < deadline { usleep(20_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (process.terminationStatus, text)
    }
}
