#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization

/// `zmtp-conformance`: plays the connection and handshake vectors over TCP against a live
/// implementation behind a shim, one line per case, and a closing count.
public enum ConformanceRunner {
    public static let usage = """
        usage: zmtp-conformance [options] -- <shim command> [<shim arguments>...]
               zmtp-conformance [options] --endpoint tcp://HOST:PORT -- --type T [<set-up>...]

        Plays the connection and handshake vectors of Vectors/ over real TCP against a live
        ZeroMQ implementation. The runner listens on 127.0.0.1 and, for each case, starts the
        shim command with the case's socket set-up appended (--type, --connect, --mechanism, ...);
        the shim's socket connects, and the runner plays the peer the vector describes, byte
        for byte; CURVE frames after the greeting it builds with its own transient keys and
        judges by what they open to. The shim contract is in Vectors/README.md ("Live runs").

        With --endpoint, the runner connects to a peer that is already running (bound there)
        instead; the words after -- describe that peer's socket in the shim contract's
        arguments (--type, --mechanism, --zap-reply, ...). Only the cases that need that very
        set-up are played, judged on the wire alone; the others are skipped with the difference.

        options:
          --vectors <dir>          the vector folder (default: ./Vectors)
          --filter <text>          only cases whose file or name contains <text> (repeatable)
          --endpoint <tcp://host:port>  play against a running peer (see above)
          --implementation <name>  apply the vectors' notes for <name> ("differs": {"<name>": ...}):
                                   a noted case that fails is skipped with the note, one that
                                   passes fails (the note is stale)
          --json                   one JSON object per line instead of text
          --jobs <n>               cases run in parallel (default 1)
          --patience <ms>          how long to wait for what must happen (default 5000)
          --quiet <ms>             silence that counts as "nothing more" (default 150)

        Exit status: 0 when no case failed, 1 when one did, 2 for a usage or vector-folder error.
        """

    /// The parsed command line.
    public struct Options: Equatable, Sendable {
        public var vectors = "Vectors"
        public var filters: [String] = []
        public var implementation: String?
        public var json = false
        public var jobs = 1
        public var timing = TimingValues()
        public var command: [String] = []
        /// `--endpoint`: `command` then describes the running peer's set-up.
        public var endpoint: String?

        /// `Timing`, comparable.
        public struct TimingValues: Equatable, Sendable {
            public var patience = 5_000
            public var quiet = 150
        }

        public init() {}

        /// Parses the arguments (without the program name).
        public init(parsing arguments: [String]) throws(FormatError) {
            var index = 0
            func value(_ option: String) throws(FormatError) -> String {
                index += 1
                guard index < arguments.count else { throw FormatError("\(option) needs a value") }
                return arguments[index]
            }
            func number(_ option: String, _ range: ClosedRange<Int>) throws(FormatError) -> Int {
                let text = try value(option)
                guard let n = Int(text), range.contains(n) else { throw FormatError("\(option) takes a number from \(range.lowerBound) to \(range.upperBound)") }
                return n
            }
            while index < arguments.count {
                let argument = arguments[index]
                switch argument {
                case "--": command = Array(arguments[(index + 1)...]); index = arguments.count; continue
                case "--vectors": vectors = try value(argument)
                case "--filter": filters.append(try value(argument))
                case "--implementation": implementation = try value(argument)
                case "--endpoint": endpoint = try value(argument)
                case "--json": json = true
                case "--jobs": jobs = try number(argument, 1...64)
                case "--patience": timing.patience = try number(argument, 100...600_000)
                case "--quiet": timing.quiet = try number(argument, 10...10_000)
                default: throw FormatError("unknown option \(argument)")
                }
                index += 1
            }
            guard !command.isEmpty else {
                throw FormatError(endpoint == nil ? "give the shim command after --" : "describe the running endpoint after -- (--type T ...)")
            }
        }

        /// What the cases are played against.
        public func target() throws(FormatError) -> Target {
            guard let endpoint else { return .command(command) }
            return .endpoint(try RunningEndpoint(endpoint: endpoint, describedBy: command))
        }
    }

    /// What the cases are played against.
    public enum Target: Sendable {
        /// A shim command: started once per case, with the case's set-up appended.
        case command([String])
        /// A peer already running, with a fixed set-up.
        case endpoint(RunningEndpoint)
    }

    /// One case's result line.
    public struct Result: Sendable {
        public var file: String
        public var name: String
        public var outcome: Outcome

        public func line(json: Bool) -> String {
            let (word, detail): (String, String?) = {
                switch outcome {
                case .pass: return ("PASS", nil)
                case .fail(let why): return ("FAIL", why)
                case .skip(let why): return ("SKIP", why)
                }
            }()
            if json {
                var members: [(key: String, value: JSON)] = [("result", .string(word.lowercased())), ("file", .string(file)), ("case", .string(name))]
                if let detail { members.append(("detail", .string(detail))) }
                return JSON.object(members).compact
            }
            return "\(word) \(file): \(name)" + (detail.map { ": \($0)" } ?? "")
        }
    }

    /// Runs the command line; returns the exit status.
    public static func main(_ arguments: [String], write: @escaping @Sendable (String) -> Void) -> Int32 {
        if arguments.contains("--help") || arguments.contains("-h") {
            write(usage)
            return 0
        }
        let options: Options
        do throws(FormatError) {
            options = try Options(parsing: arguments)
            _ = try options.target()
        } catch {
            write("zmtp-conformance: \(error.message)\n\n\(usage)")
            return 2
        }
        let cases: [LiveCase]
        do throws(FormatError) {
            cases = try load(options.vectors).filter { live in
                options.filters.isEmpty || options.filters.contains { live.file.contains($0) || live.name.contains($0) }
            }
        } catch {
            write("zmtp-conformance: \(error.message)")
            return 2
        }
        let results = run(cases, options: options, report: { write($0.line(json: options.json)) })
        let passed = results.filter { $0.outcome == .pass }.count
        let failed = results.filter { if case .fail = $0.outcome { return true }; return false }.count
        let summary = "\(passed) passed, \(failed) failed, \(results.count - passed - failed) skipped"
        write(options.json ? JSON.object([("summary", .string(summary)), ("passed", .int(passed)), ("failed", .int(failed)),
                                          ("skipped", .int(results.count - passed - failed))]).compact : summary)
        return failed == 0 ? 0 : 1
    }

    /// Every live case of every `.json` file under `folder` (sorted by path); a file that does
    /// not parse becomes one invalid case, so that it is reported and counted as failed.
    public static func load(_ folder: String) throws(FormatError) -> [LiveCase] {
        let files = try jsonFiles(folder)
        guard !files.isEmpty else { throw FormatError("no .json vector files under \(folder)") }
        var out: [LiveCase] = []
        var texts: [(name: String, text: String?)] = []
        var references: [String: JSON] = [:]
        for path in files {
            let name = String(path.dropFirst(folder.count + 1))
            let text = readFile(path)
            texts.append((name, text))
            // CURVE connection cases cite handshake transcripts in other files.
            if let text { references.merge(Self.references(file: name, text: text)) { first, _ in first } }
        }
        for (name, text) in texts {
            guard let text else {
                out.append(LiveCase(file: name, name: "(file)", differences: [:], content: .invalid(FormatError("cannot read \(folder)/\(name)"))))
                continue
            }
            out += cases(file: name, text: text, references: references)
        }
        return out
    }

    /// The handshake cases of one file's text, keyed as CURVE connection cases cite them
    /// (`"from": {"handshake": file, "case": name}`); none when the text does not parse.
    public static func references(file: String, text: String) -> [String: JSON] {
        guard let json = try? JSON.parse(text) else { return [:] }
        return CurveTranslation.references(file: file, json: json)
    }

    /// The live cases of one file's text; `references` are the handshake cases CURVE
    /// connection cases may cite.
    public static func cases(file: String, text: String, references: [String: JSON] = [:]) -> [LiveCase] {
        do {
            return LivePlanner.cases(file: file, json: try JSON.parse(text), references: references)
        } catch {
            return [LiveCase(file: file, name: "(file)", differences: [:], content: .invalid(FormatError("\(file): \(error)")))]
        }
    }

    /// Plays the cases, `options.jobs` at a time; `report` gets each result in case order.
    public static func run(_ cases: [LiveCase], options: Options, report: @escaping @Sendable (Result) -> Void) -> [Result] {
        var configured = Timing()
        configured.patience = options.timing.patience
        configured.quiet = options.timing.quiet
        let timing = configured
        let slots = Mutex<[Result?]>(Array(repeating: nil, count: cases.count))
        let next = Atomic<Int>(0)
        let reported = Mutex<Int>(0)
        let target: Target
        do throws(FormatError) {
            target = try options.target()
        } catch {
            let failed = cases.map { Result(file: $0.file, name: $0.name, outcome: .fail(error.message)) }
            failed.forEach(report)
            return failed
        }
        let implementation = options.implementation
        DispatchQueue.concurrentPerform(iterations: min(options.jobs, max(cases.count, 1))) { _ in
            while true {
                let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard index < cases.count else { return }
                let result = judge(cases[index], target: target, implementation: implementation, timing: timing)
                slots.withLock { $0[index] = result }
                // Report in case order: whoever completes the next pending case reports the run.
                reported.withLock { count in
                    while count < cases.count, let ready = slots.withLock({ $0[count] }) {
                        report(ready)
                        count += 1
                    }
                }
            }
        }
        return slots.withLock { $0.compactMap { $0 } }
    }

    /// Plays one case and applies the vector's note for `implementation`.
    static func judge(_ live: LiveCase, target: Target, implementation: String?, timing: Timing) -> Result {
        var outcome: Outcome
        switch (live.content, target) {
        case (.invalid(let error), _): outcome = .fail("invalid vector: \(error.message)")
        case (.skip(let reason), _): outcome = .skip(reason)
        case (.live(let plan), .command): outcome = Player.play(plan, target: target, timing: timing)
        case (.live(let plan), .endpoint(let endpoint)):
            if let mismatch = endpoint.mismatch(plan.setup) {
                outcome = .skip(mismatch)
            } else {
                outcome = Player.play(RunningEndpoint.adapt(plan), target: target, timing: timing)
            }
        }
        if let implementation, let note = live.differences[implementation] {
            switch (outcome, target) {
            case (.fail(let observed), _): outcome = .skip("\(implementation) differs (noted in the vector): \(note) Observed: \(observed)")
            case (.pass, .command): outcome = .fail("the vector notes that \(implementation) differs, but the case passed: the note is stale")
            case (.pass, .endpoint):
                // Judged on the wire alone, a case may pass while the noted difference lies in
                // what the target reports: that says nothing about the note.
                outcome = .skip("\(implementation) differs (noted in the vector): \(note) Against a running endpoint the wire part passed; the rest cannot be seen")
            case (.skip, _): break
            }
        }
        return Result(file: live.file, name: live.name, outcome: outcome)
    }

    // MARK: Files

    static func jsonFiles(_ folder: String) throws(FormatError) -> [String] {
        guard let directory = opendir(folder) else { throw FormatError("cannot open the vector folder \(folder)") }
        defer { closedir(directory) }
        var out: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasPrefix(".") { continue }
            let path = folder + "/" + name
            if entry.pointee.d_type == UInt8(DT_DIR) {
                out += try jsonFiles(path)
            } else if name.hasSuffix(".json") {
                out.append(path)
            }
        }
        return out.sorted()
    }

    /// The text of a file of at most 16 MiB.
    static func readFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while bytes.count <= 1 << 24 {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return count == 0 ? String(decoding: bytes, as: UTF8.self) : nil }
            bytes += chunk[0..<count]
        }
        return nil
    }
}
