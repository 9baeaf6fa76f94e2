#if Tools  // zmqcat is built with the package trait "Tools" only (Package.swift)
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import ZeroMQCat

/// What an in-process run of zmqcat left: its exit status and what it wrote.
struct CatResult {
    let status: ExitStatus
    let output: MemorySink
    let errors: MemorySink

    /// Standard output's lines.
    var lines: [String] { output.lines }
    /// Standard error, for failure messages.
    var stderr: String { errors.text }
}

/// Runs `zmqcat arguments` in this process, with `stdin` as its standard input (none: an input
/// that has ended) and standard output and error in memory.
func zmqcat(_ arguments: [String], stdin: String? = nil) async -> CatResult {
    let output = MemorySink()
    let errors = MemorySink()
    var input: Int32 = -1
    if let stdin {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { fatalError("pipe: \(errno)") }
        let bytes = Array(stdin.utf8)
        precondition(bytes.count < 60_000, "the pipe must hold all of stdin")
        let written = bytes.withUnsafeBytes { write(ends[1], $0.baseAddress, $0.count) }
        precondition(written == bytes.count)
        close(ends[1])
        input = ends[0]
    }
    defer { if input >= 0 { close(input) } }
    let status = await Zmqcat.main(arguments, console: Console(input: input, output: output, errors: errors))
    return CatResult(status: status, output: output, errors: errors)
}

/// A fresh ipc endpoint under /tmp, unique to this process and call (``removeIPC(_:)`` it).
func freshIPC() -> String {
    "ipc:///tmp/zmqcat-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).ipc"
}

func removeIPC(_ endpoint: String) {
    unlink(String(endpoint.dropFirst("ipc://".count)))
}

/// The UTF-8 bytes of `text`.
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Runs Debian's python with `code` and `arguments`; its standard output, trimmed.
func python(_ code: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: LibzmqPeer.python)
    process.arguments = ["-c", code] + arguments
    process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PYTHON") }
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}

/// A JSON line as a dictionary (nil when it is not a JSON object).
func jsonObject(_ line: String) -> [String: Any]? {
    (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
}

/// A `public: …` / `secret: …` pair from `zmqcat keygen`.
func keyPair(_ result: CatResult) -> (public: String, secret: String)? {
    let lines = result.lines
    guard lines.count == 2, lines[0].hasPrefix("public: "), lines[1].hasPrefix("secret: ") else { return nil }
    return (String(lines[0].dropFirst(8)), String(lines[1].dropFirst(8)))
}
#endif  // Tools
