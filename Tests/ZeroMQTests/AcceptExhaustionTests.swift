#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
@testable import ZeroMQ
@testable import ZeroMQTransport

/// Out of file descriptors, a listener must neither spin nor stop for good: the listening socket
/// stays readable while `accept` fails with EMFILE, so a loop that keeps watching it calls
/// `accept` again at once, forever (one core at 100%, hundreds of thousands of events). The
/// lowered RLIMIT_NOFILE would break every other test running in parallel, so the exhaustion
/// runs in a child process that runs this test alone (``HeapProbe/runChild(_:environment:executable:timeout:)``);
/// the parent asserts that the child passed and prints its figures.
@Suite("Descriptor exhaustion")
struct AcceptExhaustionTests {
    /// Set in the child's environment.
    static let variable = "ZEROMQ_TESTS_EXHAUSTION_PROBE"
    /// Raw connections opened against the PULL while its descriptors are exhausted (as many as
    /// the issue's operator run: `ulimit -n 256` and 400 clients).
    static let hostileClients = 400
    /// Descriptors left free for the server to accept with before it runs out.
    static let freeDescriptors: Int32 = 16
    /// Rounds of one message from the good client while the hostile clients hold their
    /// connections, 10 ms apart (about two seconds on an idle machine).
    static let holdRounds = 200
    /// A listener that pauses fails a few accepts per pause; one that spins fails one per loop
    /// turn, hundreds of thousands over the same rounds.
    static let failedAcceptBound: UInt64 = 200

    @Test("Out of descriptors, a tcp PULL stops accepting for a while instead of spinning: one event per episode, few failed accepts, its peer served throughout, and it accepts again by itself")
    func tcpDescriptorExhaustion() async throws {
        if getenv(Self.variable) != nil {
            try await Self.exhaust("tcp://127.0.0.1:*")
            return
        }
        let line = try Self.runAlone("tcpDescriptorExhaustion")
        print("descriptor exhaustion (Swift PULL over tcp, alone in a child process): \(line)")

        // libzmq in the same setup, for comparison only: it calls accept again at once, so its
        // figure is whatever share of a core the machine leaves it.
        let libzmq = try HeapProbe.runChild(["-B", Self.libzmqScript], environment: "PYTHONDONTWRITEBYTECODE=1",
                                            executable: "/usr/bin/python3", timeout: .seconds(150))
        #expect(libzmq.status == 0, "the libzmq run failed:\n\(libzmq.output)")
        let figures = try #require(libzmq.output.split(separator: "\n").first { $0.hasPrefix("LIBZMQ ") },
                                   "the libzmq run printed no figures:\n\(libzmq.output)")
        print("descriptor exhaustion (libzmq 4.3.4 PULL through pyzmq, same setup): \(figures.dropFirst("LIBZMQ ".count)); "
              + "load average \(Self.loadAverage())")
    }

    @Test("Out of descriptors, an ipc PULL pauses the same way and accepts again by itself")
    func ipcDescriptorExhaustion() async throws {
        if getenv(Self.variable) != nil {
            try await Self.exhaust("ipc://*")
            return
        }
        let line = try Self.runAlone("ipcDescriptorExhaustion")
        print("descriptor exhaustion (Swift PULL over ipc, alone in a child process): \(line)")
    }

    /// Runs `test` alone in a child process, expects it to pass, and returns the figures it printed.
    static func runAlone(_ test: String) throws -> Substring {
        let child = try HeapProbe.runChild(["--testing-library", "swift-testing", "--filter", "AcceptExhaustionTests/\(test)"],
                                           environment: "\(Self.variable)=1")
        #expect(child.status == 0, "the exhausting child failed:\n\(child.output)")
        let line = try #require(child.output.split(separator: "\n").first { $0.hasPrefix("EXHAUSTION ") },
                                "the child printed no figures:\n\(child.output)")
        return line.dropFirst("EXHAUSTION ".count)
    }

    /// `Peers/libzmq_accept_exhaustion.py`, next to this file.
    static let libzmqScript: String = {
        let folder = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        return folder + "/Peers/libzmq_accept_exhaustion.py"
    }()

    /// The one-minute load average: a CPU share means little without it.
    static func loadAverage() -> String {
        guard let file = fopen("/proc/loadavg", "r") else { return "?" }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 128)
        guard fgets(&buffer, Int32(buffer.count), file) != nil else { return "?" }
        let line = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: line, as: UTF8.self).split(separator: " ").first.map(String.init) ?? "?"
    }

    // MARK: The exhaustion (run in the child)

    static func exhaust(_ endpoint: String) async throws {
        let serverContext = try Context()
        let clientContext = try Context()
        let pull = try Fixture.bound(serverContext, .pull, endpoint)
        let monitor = pull.monitor(capacity: 1 << 20)
        let target = pull.lastEndpoint
        let ioThreadStat = try openStat(try ioThreadID(serverContext))
        defer { close(ioThreadStat) }
        let good = try Fixture.connected(clientContext, .push, to: pull)
        var sequence = 0
        try deliver(from: good, to: pull, &sequence)

        // Every descriptor number up to the limit is taken but `freeDescriptors`: the hostile
        // clients' own sockets sit above the limit (made before it was lowered), so only the
        // server's accepts run out.
        let limit = highestDescriptor() + 1 + freeDescriptors
        let original = try descriptorLimit()
        // Made now: a socket needs a descriptor for its mailbox.
        let newcomer = try Fixture.socket(clientContext, .push)
        let family = target.hasPrefix("ipc://") ? AF_UNIX : AF_INET
        let clients = try (0..<hostileClients).map { _ in try unconnectedSocket(family, above: limit + 64) }
        try setDescriptorLimit(limit)
        let acceptedBefore = pull.statistics.connectionsAccepted
        let start = threadCPU(ioThreadStat)
        for client in clients { try connect(client, to: target) }
        for _ in 0..<holdRounds {
            try deliver(from: good, to: pull, &sequence)
            usleep(10_000)
        }
        let end = threadCPU(ioThreadStat)
        let acceptedDuring = pull.statistics.connectionsAccepted - acceptedBefore
        #expect(acceptedDuring <= UInt64(freeDescriptors), "accepted \(acceptedDuring) with \(freeDescriptors) descriptors free")

        // The hostile clients leave: the server's engines close their descriptors, and the
        // listener must accept again by itself (the limit stays where it is).
        for client in clients { close(client) }
        try newcomer.connect(target)
        try await newcomer.send("newcomer")
        #expect(try await pull.receive().string == "newcomer", "a new connection was not served after the exhaustion")
        try deliver(from: good, to: pull, &sequence)
        try setDescriptorLimit(original)

        let statistics = pull.statistics
        pull.close()
        var acceptFailedEvents: [MonitorEvent] = []
        for await event in monitor {
            if case .acceptFailed = event { acceptFailedEvents.append(event) }
        }
        let cpu = 100 * Double(end.ticks - start.ticks) / Double(sysconf(Int32(_SC_CLK_TCK))) / end.seconds(since: start)
        print("EXHAUSTION I/O thread CPU \(String(format: "%.1f", cpu))% of a core over \(String(format: "%.1f", end.seconds(since: start))) s; "
              + "accept-failed events \(acceptFailedEvents.count); failed accepts \(statistics.acceptFailures) in \(statistics.acceptExhaustions) episode(s); "
              + "good messages \(sequence); accepted during \(acceptedDuring), in all \(statistics.connectionsAccepted); "
              + "load average \(loadAverage())")
        fflush(nil)

        #expect(acceptFailedEvents.count == 1, "\(acceptFailedEvents.count) accept-failed events for one episode")
        if case .acceptFailed(_, let error) = acceptFailedEvents.first {
            #expect(error.code == EMFILE)
            #expect(MonitorEvent.acceptFailed(endpoint: "", error: error).libzmqEvent == (.acceptFailed, UInt32(EMFILE)))
        }
        #expect(statistics.acceptFailures >= 1 && statistics.acceptFailures < failedAcceptBound,
                "\(statistics.acceptFailures) failed accepts")
        #expect(statistics.acceptExhaustions == 1)
        good.close()
        newcomer.close()
    }

    /// One message from the good client, received by the PULL (in order: nothing is lost).
    static func deliver(from push: Socket, to pull: Socket, _ sequence: inout Int) throws {
        try push.send("good \(sequence)")
        let received = try pull.receive().string
        #expect(received == "good \(sequence)")
        sequence += 1
    }

    // MARK: Descriptors

    static func highestDescriptor() -> Int32 {
        var highest: Int32 = 2
        for fd in Int32(0)..<4096 where fcntl(fd, F_GETFD) != -1 { highest = fd }
        return highest
    }

    /// A non-blocking stream socket numbered at least `floor`.
    static func unconnectedSocket(_ family: Int32, above floor: Int32) throws -> Int32 {
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw LoopbackError("socket: errno \(errno)") }
        defer { close(fd) }
        let moved = fcntl(fd, F_DUPFD_CLOEXEC, floor)
        guard moved >= 0 else { throw LoopbackError("F_DUPFD: errno \(errno)") }
        return moved
    }

    /// Starts a non-blocking connect to the PULL's `endpoint`. Its backlog may be full: a tcp
    /// connection then waits, or its SYN is retried, without blocking the test; a Unix domain
    /// connect is refused with EAGAIN, and that client simply stays out.
    static func connect(_ fd: Int32, to endpoint: String) throws {
        let status: Int32
        if endpoint.hasPrefix("ipc://") {
            let address = try IPCAddress(String(endpoint.dropFirst("ipc://".count)))
            status = address.withSockaddr { Glibc.connect(fd, $0, $1) }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = try RawZMTP.port(of: endpoint).bigEndian
            address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
            status = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        guard status == 0 || errno == EINPROGRESS || errno == EAGAIN else { throw LoopbackError("connect: errno \(errno)") }
    }

    static func descriptorLimit() throws -> Int32 {
        var limit = rlimit()
        try #require(getrlimit(HandshakeResourceTests.openFilesResource, &limit) == 0)
        return Int32(clamping: limit.rlim_cur)
    }

    static func setDescriptorLimit(_ value: Int32) throws {
        var limit = rlimit()
        try #require(getrlimit(HandshakeResourceTests.openFilesResource, &limit) == 0)
        limit.rlim_cur = rlim_t(value)
        try #require(setrlimit(HandshakeResourceTests.openFilesResource, &limit) == 0, "setrlimit: errno \(errno)")
    }

    // MARK: The I/O thread's CPU time

    /// The kernel's id of the context's (only) I/O thread, asked on that thread.
    static func ioThreadID(_ context: Context) throws -> pid_t {
        let id = Atomic<Int32>(0)
        context.drivers[0].post { id.store(currentThreadID(), ordering: .releasing) }
        _ = Fixture.eventually { id.load(ordering: .acquiring) != 0 }
        return try #require(Optional(id.load(ordering: .acquiring)).flatMap { $0 == 0 ? nil : $0 }, "the I/O thread never ran the task")
    }

    /// The calling thread's kernel id, from `/proc/thread-self` (`<pid>/task/<tid>`): Swift's
    /// Glibc does not import `gettid`.
    static func currentThreadID() -> Int32 {
        var path = [CChar](repeating: 0, count: 64)
        let length = readlink("/proc/thread-self", &path, path.count - 1)
        guard length > 0 else { return 0 }
        let text = String(decoding: path[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return Int32(text.split(separator: "/").last ?? "") ?? 0
    }

    struct CPUSample {
        /// utime + stime, in clock ticks.
        var ticks: Int
        var monotonic: timespec

        func seconds(since start: CPUSample) -> Double {
            Double(monotonic.tv_sec - start.monotonic.tv_sec) + Double(monotonic.tv_nsec - start.monotonic.tv_nsec) / 1e9
        }
    }

    /// A thread's `/proc/self/task/<tid>/stat`, opened while descriptors are still there to
    /// open it with.
    static func openStat(_ thread: pid_t) throws -> Int32 {
        let fd = open("/proc/self/task/\(thread)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw LoopbackError("open stat: errno \(errno)") }
        return fd
    }

    /// A thread's CPU time so far, from its stat file (fields 14 and 15).
    static func threadCPU(_ stat: Int32) -> CPUSample {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        var buffer = [UInt8](repeating: 0, count: 1024)
        let count = buffer.withUnsafeMutableBytes { pread(stat, $0.baseAddress, $0.count, 0) }
        let text = String(decoding: buffer[..<max(0, count)], as: UTF8.self)
        // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
        let fields = text[(text.lastIndex(of: ")").map { text.index(after: $0) } ?? text.startIndex)...].split(separator: " ")
        let utime = fields.count > 12 ? Int(fields[11]) ?? 0 : 0
        let stime = fields.count > 12 ? Int(fields[12]) ?? 0 : 0
        return CPUSample(ticks: utime + stime, monotonic: now)
    }
}
