#if canImport(Glibc)
import Glibc
#endif
import Testing
import ZMTPConformance

/// The live runner against real implementations, as CI runs it: libzmq 4.3.4 through the
/// pyzmq shim (with the vectors' notes for libzmq), and this implementation through
/// `zmqcat shim`. Both must end with no failure, and with enough cases passed that a shim
/// which skips everything cannot pass for a conforming one.
@Suite("Live conformance")
struct LiveConformanceTests {
    /// The repository root, from this file's path.
    static let root: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }()

    // The floors are the counts of a quiet run (libzmq 122, zmqcat 145) less 4 and 5: the
    // margin covers the 8 passing cases that wait real time (advanceMs, heartbeats), which a busy
    // machine may push to a skip. The CURVE cases wait on events only and have no margin.
    @Test("libzmq 4.3.4 passes every live case, or differs where a vector notes it")
    func libzmq() {
        play(command: ["/usr/bin/python3", Self.root + "/Vectors/shims/libzmq-shim.py"], implementation: "libzmq", atLeast: 118)
    }

    @Test("this implementation (zmqcat shim) passes every live case")
    func zmqcat() throws {
        let zmqcat = try #require(Self.productNextToTests("zmqcat"), "zmqcat was not built next to the tests (swift build --build-tests)")
        play(command: [zmqcat, "shim"], implementation: nil, atLeast: 140)
    }

    func play(command: [String], implementation: String?, atLeast minimum: Int) {
        signal(SIGPIPE, SIG_IGN)
        var options = ConformanceRunner.Options()
        options.command = command
        options.implementation = implementation
        // The cases mostly wait on other processes: four at a time keep two cores busy.
        options.jobs = 4
        // What must happen is waited for 15 s, three times the runner's default, for a busy
        // machine; and no more: past the targets' 30 s handshake interval a case that libzmq
        // answers by staying open would end in its handshake timeout and pass for a close.
        options.timing.patience = 15_000
        let cases: [LiveCase]
        do {
            cases = try ConformanceRunner.load(Self.root + "/Vectors")
        } catch {
            Issue.record("cannot load the vectors: \(error)")
            return
        }
        let results = ConformanceRunner.run(cases, options: options, report: { _ in })
        let failures = results.filter { if case .fail = $0.outcome { return true }; return false }
        for failure in failures { Issue.record(Comment(rawValue: failure.line(json: false))) }
        let passed = results.filter { $0.outcome == .pass }.count
        #expect(passed >= minimum, "only \(passed) of \(results.count) cases passed (skips: \(results.filter { if case .skip = $0.outcome { return true }; return false }.prefix(3).map { $0.line(json: false) }))")
    }

    /// An executable built beside the test bundle (.build/<config>/).
    static func productNextToTests(_ name: String) -> String? {
        var candidates: [String] = []
        let executable = CommandLine.arguments.first ?? ""
        if let slash = executable.lastIndex(of: "/") {
            var directory = String(executable[..<slash])
            // On Linux the bundle is .build/<config>/<package>PackageTests.xctest (a file).
            candidates.append(directory + "/" + name)
            if let up = directory.lastIndex(of: "/") { directory = String(directory[..<up]); candidates.append(directory + "/" + name) }
        }
        candidates.append(root + "/.build/debug/" + name)
        return candidates.first { access($0, X_OK) == 0 }
    }
}
