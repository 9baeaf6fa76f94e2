#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing

/// The C heap's size, measured honestly: in a process of its own.
///
/// swift-testing runs suites in parallel in one process, so heap figures taken in a test see every
/// other test's allocations. A measuring test therefore re-runs the test binary as a child that
/// runs that one test alone (``runAlone(_:test:bound:_:)``), and asserts on the figures the child
/// prints. Every figure is bytes in use: what malloc has handed out and not yet got back.
enum HeapProbe {
    /// Set in the child's environment to the name of the probe it runs.
    static let variable = "ZEROMQ_TESTS_HEAP_PROBE"

    struct Figures {
        var baseline: Int
        var peak: Int
        var after: Int
    }

    /// Bytes in use across every arena plus the mmapped chunks: glibc's `malloc_info` totals,
    /// system current − free fast − free rest (which holds the top chunk) + mmap. These are
    /// mallinfo2's `uordblks + hblkhd`; Swift's Glibc module imports neither `malloc.h` function,
    /// so `malloc_info` is looked up by name (its C signature is plain ints and pointers).
    static func inUse() -> Int {
        typealias MallocInfo = @convention(c) (Int32, UnsafeMutablePointer<FILE>?) -> Int32
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "malloc_info") else { return -1 }
        let mallocInfo = unsafeBitCast(symbol, to: MallocInfo.self)
        var text: UnsafeMutablePointer<CChar>?
        var length = 0
        guard let stream = open_memstream(&text, &length) else { return -1 }
        _ = mallocInfo(0, stream)
        fclose(stream)
        guard let text else { return -1 }
        defer { free(text) }
        // The totals follow the last heap's block.
        let lines = String(cString: text).split(separator: "\n")
        let totals = lines[((lines.lastIndex { $0.contains("</heap>") } ?? -1) + 1)...]
        func size(_ tag: String) -> Int {
            guard let line = totals.first(where: { $0.contains(tag) }), let field = line.firstRange(of: "size=\"") else { return 0 }
            return Int(line[field.upperBound...].prefix { $0 != "\"" }) ?? 0
        }
        return size("<system type=\"current\"") - size("<total type=\"fast\"") - size("<total type=\"rest\"")
            + size("<total type=\"mmap\"")
    }

    /// The heap once background teardown has finished: samples 200 ms apart until two agree within
    /// 16 KiB (at most 25), the last one.
    static func settled() -> Int {
        var previous = inUse()
        for _ in 0..<25 {
            usleep(200_000)
            let sample = inUse()
            defer { previous = sample }
            if abs(sample - previous) < 16 * 1024 { return sample }
        }
        return previous
    }

    /// In the child (the variable names `probe`): runs `measure` and prints its figures. In
    /// the parent: runs this binary again with only `test` selected, checks it passed and printed
    /// figures, and asserts that the heap after the attack is within `bound` of the baseline.
    static func runAlone(_ probe: String, test: String, bound: Int,
                         _ measure: () async throws -> Figures) async throws {
        if let role = getenv(variable) {
            guard String(cString: role) == probe else { return }
            let figures = try await measure()
            print("HEAP-PROBE \(probe) baseline=\(figures.baseline) peak=\(figures.peak) after=\(figures.after)")
            fflush(nil)  // every stream, stdout included
            return
        }
        let child = try runChild(["--testing-library", "swift-testing", "--filter", "HandshakeResourceTests/\(test)"],
                                 environment: "\(variable)=\(probe)")
        #expect(child.status == 0, "the measuring child failed:\n\(child.output)")
        let line = try #require(child.output.split(separator: "\n").first { $0.contains("HEAP-PROBE \(probe) ") },
                                "the child ran no measurement:\n\(child.output)")
        var values: [String: Int] = [:]
        for field in line.split(separator: " ") {
            let pair = field.split(separator: "=")
            if pair.count == 2, let value = Int(pair[1]) { values[String(pair[0])] = value }
        }
        let baseline = try #require(values["baseline"]), peak = try #require(values["peak"]), after = try #require(values["after"])
        #expect(baseline > 0 && peak > 0 && after > 0, "malloc_info gave no figures: \(line)")
        func change(_ value: Int) -> String { value < 0 ? "\(value)" : "+\(value)" }
        print("heap in use (\(probe), alone in a child process): baseline \(baseline) B, peak \(peak) B (\(change(peak - baseline))), "
              + "after \(after) B (\(change(after - baseline))); bound +\(bound)")
        #expect(after - baseline < bound, "the heap grew by \(after - baseline) B and stayed")
    }

    /// Runs this test binary (or `executable`) with `arguments` and one more environment
    /// variable; its output (stdout and stderr) and exit status. Bounded: killed after `timeout`.
    static func runChild(_ arguments: [String], environment: String, executable: String? = nil,
                         timeout: Duration = .seconds(300)) throws -> (status: Int32, output: String)
    {
        var path = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &path, Int(PATH_MAX))
        guard length > 0 else { throw LoopbackError("readlink /proc/self/exe: errno \(errno)") }
        let executable = executable ?? String(decoding: path[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw LoopbackError("pipe: errno \(errno)") }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, ends[1], 1)
        posix_spawn_file_actions_adddup2(&actions, ends[1], 2)
        // The child must not hold other tests' sockets open: close everything above stderr
        // (glibc 2.34's posix_spawn_file_actions_addclosefrom_np, not imported by Swift's Glibc).
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        if let symbol = dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addclosefrom_np") {
            _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
        }
        var environmentList: [String] = []
        var cursor = environ
        while let entry = cursor.pointee {
            environmentList.append(String(cString: entry))
            cursor += 1
        }
        environmentList.append(environment)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environmentList.map { strdup($0) } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        close(ends[1])
        defer { close(ends[0]) }
        guard spawned == 0 else { throw LoopbackError("posix_spawn: \(spawned)") }

        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let deadline = ContinuousClock.now + timeout
        var ended = false
        while !ended, ContinuousClock.now < deadline {
            var descriptor = pollfd(fd: ends[0], events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 100) > 0 else { continue }
            let got = chunk.withUnsafeMutableBytes { read(ends[0], $0.baseAddress, $0.count) }
            if got > 0 { output += chunk[..<got] } else if got == 0 || errno != EINTR { ended = true }
        }
        if !ended {
            kill(pid, SIGKILL)
            Issue.record("the measuring child ran past \(timeout) and was killed")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        // WIFEXITED / WEXITSTATUS: the low 7 bits are the signal, the next 8 the exit code.
        let code = status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return (code, String(decoding: output, as: UTF8.self))
    }
}
