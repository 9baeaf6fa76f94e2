#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// Examples/FirstHour, a package of its own that depends on swift-zeromq as a user's package
/// does, built once with `swift build --package-path` and its programs run as processes against
/// pyzmq peers (Peers/zguide.py), each program in both directions.
@Suite(.serialized)
struct FirstHourTests {
    /// The REP server that sends its last reply and simply ends (no close, no terminate): the
    /// reply arrives every time.
    @Test func helloWorldServerThatSimplyEndsDeliversItsLastReply() throws {
        for run in 1...10 {
            let endpoint = try freeEndpoint()
            let server = try Program.firstHour("hwserver", [endpoint, "3"])
            let client = try Program.pyzmq("hwclient", [endpoint, "3"])
            let (clientStatus, replies) = try client.finish()
            #expect(clientStatus == 0 && replies == "World\nWorld\nWorld\n", "run \(run): \(replies)")
            let (serverStatus, log) = try server.finish()
            #expect(serverStatus == 0, "run \(run)")
            #expect(log.components(separatedBy: "Received Hello").count == 4, "run \(run): \(log)")
        }
    }

    @Test func helloWorldClientAgainstPyzmq() throws {
        let server = try Program.pyzmq("hwserver", ["5"])
        let endpoint = try server.endpoint()
        let (status, log) = try Program.firstHour("hwclient", [endpoint, "5"]).finish()
        #expect(status == 0)
        #expect(log.contains("Received World 4"), "\(log)")
        #expect(try server.finish().status == 0)
    }

    @Test func weatherServerToPyzmqSubscriber() throws {
        let endpoint = try freeEndpoint()
        let server = try Program.firstHour("wuserver", [endpoint])
        defer { server.stop() }
        let (status, log) = try Program.pyzmq("wuclient", [endpoint, "10003", "20"]).finish()
        #expect(status == 0 && log.hasPrefix("AVERAGE "), "\(log)")
    }

    @Test func weatherClientFromPyzmqPublisher() throws {
        let server = try Program.pyzmq("wuserver", [])
        defer { server.stop() }
        let endpoint = try server.endpoint()
        let (status, log) = try Program.firstHour("wuclient", [endpoint, "10001", "20"]).finish()
        #expect(status == 0)
        #expect(log.contains("Average temperature for zipcode '10001' was "), "\(log)")
    }

    /// The Swift ventilator and sink, pyzmq's workers.
    @Test func pipelineVentilatorAndSinkWithPyzmqWorkers() throws {
        let tasks = try freeEndpoint(), sink = try freeEndpoint()
        let collector = try Program.firstHour("tasksink", [sink, "20"])
        let workers = try (1...2).map { _ in try Program.pyzmq("taskwork", [tasks, sink]) }
        defer { workers.forEach { $0.stop() } }
        let (ventilatorStatus, ventilatorLog) = try Program.firstHour("taskvent", [tasks, sink, "20"]).finish()
        #expect(ventilatorStatus == 0 && ventilatorLog.contains("Total expected cost: "), "\(ventilatorLog)")
        let (status, log) = try collector.finish()
        #expect(status == 0 && log.contains("Collected 20 results"), "\(log)")
    }

    /// pyzmq's ventilator and sink, the Swift workers.
    @Test func pipelineWorkersWithPyzmqVentilatorAndSink() throws {
        let collector = try Program.pyzmq("tasksink", ["20"])
        let sink = try collector.endpoint()
        let ventilator = try Program.pyzmq("taskvent", [sink, "20"])
        let tasks = try ventilator.endpoint()
        let workers = try (1...2).map { _ in try Program.firstHour("taskwork", [tasks, sink]) }
        defer { workers.forEach { $0.stop() } }
        let (status, log) = try collector.finish()
        #expect(status == 0 && log.contains("DONE 20"), "\(log)")
        #expect(try ventilator.finish().status == 0)
    }

    @Test func asyncServerInATaskGroupServesPyzmqClients() throws {
        let endpoint = try freeEndpoint()
        let server = try Program.firstHour("asyncsrv", [endpoint, "5"])
        defer { server.stop() }
        let (status, log) = try Program.pyzmq("asyncclient", [endpoint, "3", "5"]).finish()
        #expect(status == 0 && log == "REPLIES 15\n", "\(log)")
    }

    @Test func asyncClientsInATaskGroupAgainstPyzmq() throws {
        let server = try Program.pyzmq("asyncsrv", [])
        defer { server.stop() }
        let endpoint = try server.endpoint()
        let (status, log) = try Program.firstHour("asyncclient", [endpoint, "3", "5"]).finish()
        #expect(status == 0 && log.contains("Received 15 replies"), "\(log)")
    }

    @Test func curveServerWithAnAuthenticatorAdmitsThePyzmqClient() throws {
        let (serverPublic, serverSecret) = try keyPair()
        let (clientPublic, clientSecret) = try keyPair()
        let endpoint = try freeEndpoint()
        let server = try Program.firstHour("curveserver", [endpoint, serverSecret, clientPublic])
        let (status, reply) = try Program.pyzmq("curveclient", [endpoint, serverPublic, clientPublic, clientSecret]).finish()
        #expect(status == 0 && reply == "World\n", "\(reply)")
        let (serverStatus, log) = try server.finish()
        #expect(serverStatus == 0 && log.contains("Received Hello from \(clientPublic)"), "\(log)")
    }

    @Test func curveClientAgainstPyzmqServerWithZAP() throws {
        let (serverPublic, serverSecret) = try keyPair()
        let (clientPublic, clientSecret) = try keyPair()
        let server = try Program.pyzmq("curveserver", [serverPublic, serverSecret, clientPublic])
        let endpoint = try server.endpoint()
        let (status, log) = try Program.firstHour("curveclient", [endpoint, serverPublic, clientSecret]).finish()
        #expect(status == 0 && log.contains("Received World"), "\(log)")
        #expect(try server.finish().status == 0)
    }

    @Test func brokerBetweenPyzmqClientAndWorker() throws {
        let frontend = try freeEndpoint(), backend = try freeEndpoint()
        let broker = try Program.firstHour("rrbroker", [frontend, backend])
        defer { broker.stop() }
        let worker = try Program.pyzmq("rrworker", [backend])
        defer { worker.stop() }
        let (status, log) = try Program.pyzmq("rrclient", [frontend, "10"]).finish()
        #expect(status == 0 && log == "REPLIES 10\n", "\(log)")
    }

    @Test func clientAndWorkerThroughPyzmqBroker() throws {
        let broker = try Program.pyzmq("rrbroker", [])
        defer { broker.stop() }
        let endpoints = try broker.line(startingWith: "ENDPOINTS ").split(separator: " ").dropFirst().map(String.init)
        try #require(endpoints.count == 2)
        let worker = try Program.firstHour("rrworker", [endpoints[1]])
        defer { worker.stop() }
        let (status, log) = try Program.firstHour("rrclient", [endpoints[0], "10"]).finish()
        #expect(status == 0 && log.contains("Received reply 9 [World]"), "\(log)")
    }
}

// MARK: - Processes

/// A program of Examples/FirstHour or a pyzmq peer, its standard output (and error) read through
/// a pipe. Whatever is still running when the value goes away is killed.
final class Program {
    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    private let process = Process()
    private let output = Pipe()
    private var buffered: [UInt8] = []
    private var ended = false

    init(_ executable: String, _ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice   // taskvent's "press Enter" reads the end at once
        try process.run()
    }

    deinit { stop() }

    static func firstHour(_ name: String, _ arguments: [String]) throws -> Program {
        try Program(FirstHourBuild.shared.get() + "/" + name, arguments)
    }

    static func pyzmq(_ role: String, _ arguments: [String], script: String = "zguide.py") throws -> Program {
        let file = #filePath
        let peers = String(file[..<(file.lastIndex(of: "/") ?? file.endIndex)]) + "/Peers/" + script
        return try Program("/usr/bin/python3", [peers, role] + arguments)
    }

    /// A program of Examples/HTTPGateway.
    static func httpGateway(_ name: String, _ arguments: [String]) throws -> Program {
        try Program(FirstHourBuild.httpGateway.get() + "/" + name, arguments)
    }

    /// The endpoint a binding pyzmq peer printed.
    func endpoint() throws -> String {
        String(try line(startingWith: "ENDPOINT ").dropFirst("ENDPOINT ".count))
    }

    /// The next line beginning with `prefix`, waiting up to `timeout` for it.
    func line(startingWith prefix: String, timeout: Duration = .seconds(60)) throws -> String {
        let deadline = ContinuousClock.now + timeout
        while true {
            while let newline = buffered.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffered[..<newline], as: UTF8.self)
                buffered.removeSubrange(...newline)
                if line.hasPrefix(prefix) { return line }
            }
            guard ContinuousClock.now < deadline else { throw Failure("no line starting with \"\(prefix)\" within \(timeout)") }
            guard try read(waiting: 100) else { throw Failure("the process ended before a line starting with \"\(prefix)\"") }
        }
    }

    /// Waits up to `timeout` for the process to end (then kills it and throws), and returns its
    /// exit status and what it printed that was not read yet.
    func finish(within timeout: Duration = .seconds(120)) throws -> (status: Int32, output: String) {
        let deadline = ContinuousClock.now + timeout
        while try read(waiting: 100) {
            guard ContinuousClock.now < deadline else {
                stop()
                throw Failure("still running after \(timeout); printed: \(String(decoding: buffered, as: UTF8.self))")
            }
        }
        process.waitUntilExit()
        ended = true
        return (process.terminationStatus, String(decoding: buffered, as: UTF8.self))
    }

    /// Stops a program that runs until stopped.
    func stop() {
        guard !ended else { return }
        ended = true
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// Reads what is there (waiting up to `milliseconds`); false at the end of the output.
    private func read(waiting milliseconds: Int32) throws -> Bool {
        var descriptor = pollfd(fd: output.fileHandleForReading.fileDescriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, milliseconds) > 0 else { return true }
        var chunk = [UInt8](repeating: 0, count: 4096)
        let got = chunk.withUnsafeMutableBytes { Glibc.read(descriptor.fd, $0.baseAddress, $0.count) }
        if got > 0 { buffered += chunk[..<got] }
        return got != 0
    }
}

/// `swift build --package-path Examples/FirstHour`, once for the whole suite; its bin path.
enum FirstHourBuild {
    static let shared: Result<String, Program.Failure> = build("FirstHour")
    /// Examples/HTTPGateway, built the same way.
    static let httpGateway: Result<String, Program.Failure> = build("HTTPGateway")

    private static func build(_ example: String) -> Result<String, Program.Failure> {
        let file = #filePath
        let root = String(file[..<(file.range(of: "/Tests/FirstHourTests/")?.lowerBound ?? file.endIndex)])
        let package = root + "/Examples/" + example
        do {
            let build = try Program("/usr/bin/env", ["swift", "build", "--package-path", package])
            let (status, log) = try build.finish(within: .seconds(3600))
            guard status == 0 else { return .failure(Program.Failure("swift build of \(package) failed:\n\(log)")) }
            let path = try Program("/usr/bin/env", ["swift", "build", "--package-path", package, "--show-bin-path"]).finish()
            guard path.status == 0 else { return .failure(Program.Failure("--show-bin-path failed: \(path.output)")) }
            return .success(path.output.trimmingCharacters(in: .whitespacesAndNewlines))
        } catch {
            return .failure(Program.Failure("\(error)"))
        }
    }
}

/// A loopback endpoint nobody listens on, for a program that binds where it is told. The port is
/// below Linux's ephemeral range (32768-60999), so that no outgoing connection of another process
/// takes it between this check and the program's bind.
func freeEndpoint() throws -> String {
    for _ in 0..<100 {
        let port = UInt16.random(in: 20000..<32768)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Program.Failure("socket: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if bound == 0 { return "tcp://127.0.0.1:\(port)" }
    }
    throw Program.Failure("no free port between 20000 and 32767 in 100 tries")
}

/// A CURVE key pair from pyzmq, as Z85 text.
func keyPair() throws -> (public: String, secret: String) {
    let (status, output) = try Program.pyzmq("keypair", []).finish()
    let keys = output.split(whereSeparator: \.isWhitespace).map(String.init)
    guard status == 0, keys.count == 2 else { throw Program.Failure("keypair: \(output)") }
    return (keys[0], keys[1])
}
